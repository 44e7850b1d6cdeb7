import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toolDefinitions } from '../../src/mcp/tools.js';

describe('dist/mcp/tools.json', () => {
  it('is what the code derives (the build writes it; serve answers tools/list from it)', () => {
    const built = JSON.parse(readFileSync(new URL('../../dist/mcp/tools.json', import.meta.url), 'utf8'));
    expect(built).toEqual(toolDefinitions());
  });
});
