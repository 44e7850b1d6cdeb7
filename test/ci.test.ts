import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const files = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));

describe('.ci/run', () => {
  it('sets no environment variable that nothing reads: what it says about the suites is true', () => {
    const script = readFileSync(join(ROOT, '.ci/run'), 'utf8');
    const exported = [...script.matchAll(/^\s*export\s+([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
    const code = [...files('src'), ...files('test'), ...files('scripts')]
      .filter((f) => f !== join('test', 'ci.test.ts'))
      .map((f) => readFileSync(join(ROOT, f), 'utf8'))
      .join('\n');
    for (const name of exported) expect(code, `${name} is exported by .ci/run but read nowhere`).toContain(name);
    if (!code.includes('TEAM_TABLE_TEST_PG')) expect(script).not.toMatch(/PostgreSQL suite (is )?enabled/i);
  });
});
