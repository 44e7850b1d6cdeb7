import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { OWNER, openCore, seedTeam } from '../helpers.js';

/** The SQL of every statement better-sqlite3 prepares while the test watches. */
const prepared: string[] = [];
const prepare = Database.prototype.prepare;
afterEach(() => {
  Database.prototype.prepare = prepare;
  prepared.length = 0;
});

describe('fact versions query plan (SQLite)', () => {
  it('reads a fact\'s versions by its key: saving, history and an earlier version never go through every version', async () => {
    const t = await openCore();
    await seedTeam(t);
    Database.prototype.prepare = function (this: Database.Database, source: string) {
      prepared.push(source);
      return prepare.call(this, source);
    } as typeof prepare;
    await t.call(OWNER, 'team_memory', { action: 'fact_save', key: 'region', value: 'eu' });
    await t.call(OWNER, 'team_memory', { action: 'fact_save', key: 'region', value: 'us' });
    await t.call(OWNER, 'team_memory', { action: 'fact_history', key: 'region' });
    await t.call(OWNER, 'team_memory', { action: 'fact_get', key: 'region', version: 1 });
    Database.prototype.prepare = prepare;
    const reads = prepared.filter((source) => /^select .* from "team_fact_versions"/i.test(source));
    expect(reads.length).toBeGreaterThanOrEqual(3);
    for (const source of reads) {
      const slots = source.match(/\?/g)?.length ?? 0;
      const plan = await t.store.db.executeQuery<{ detail: string }>({ sql: `explain query plan ${source}`, parameters: Array(slots).fill('x'), query: undefined as never, queryId: undefined as never });
      expect(plan.rows.map((r) => r.detail).join('\n'), source).toMatch(/USING (COVERING )?INDEX fact_versions_by_key/);
    }
  });
});
