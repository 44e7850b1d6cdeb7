import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderReference } from '../src/mcp/reference.js';

describe('docs/tools.md', () => {
  it('matches the code (run `npm run docs` after changing an action)', () => {
    expect(readFileSync(new URL('../docs/tools.md', import.meta.url), 'utf8')).toBe(renderReference());
  });
});
