import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION } from '../../src/store/migrate.js';
import { Store } from '../../src/store/store.js';
import { OWNER, openCore, seedTeam, tempDbPath } from '../helpers.js';

/**
 * The store conformance suite, one entry per dialect. SQLite runs on a real file; the PostgreSQL entry joins
 * when that dialect is built.
 */
const dialects = [{ name: 'sqlite', location: () => tempDbPath() }];

describe.each(dialects)('store on $name', ({ location }) => {
  it('migrates a new database to the latest schema version, once', async () => {
    const path = location();
    const store = await Store.open(path);
    const versions = await store.db.selectFrom('schema_version').select('version').orderBy('version').execute();
    expect(versions.map((v) => v.version)).toEqual(Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
    await store.close();
    const again = await Store.open(path);
    expect(await again.db.selectFrom('schema_version').selectAll().execute()).toHaveLength(LATEST_SCHEMA_VERSION);
    await again.close();
  });

  it('opens a database created by migration 1 with the latest code, keeping its data', async () => {
    const old = await openCore({ schemaVersion: 1 });
    const team = await seedTeam(old);
    const task = await old.call(OWNER, 'team_task', { action: 'create', title: 'Survives the upgrade', assignees: ['loki'] });
    await old.store.close();
    const upgraded = await openCore({ path: old.path });
    expect(await upgraded.call(OWNER, 'team_task', { action: 'get', task_id: task.id })).toMatchObject({ title: 'Survives the upgrade', assignees: ['loki'], team_id: team.id });
    const max = await upgraded.store.db.selectFrom('schema_version').select(sql<number>`max(version)`.as('v')).executeTakeFirstOrThrow();
    expect(max.v).toBe(LATEST_SCHEMA_VERSION);
  });

  it('refuses, clearly, a database written by a newer team-table', async () => {
    const path = location();
    const store = await Store.open(path);
    await store.db.insertInto('schema_version').values({ version: LATEST_SCHEMA_VERSION + 1, applied_at: 'later' }).execute();
    await store.close();
    await expect(Store.open(path)).rejects.toMatchObject({ code: 'SCHEMA_TOO_NEW', message: expect.stringMatching(/newer than this team-table understands.*upgrade team-table/) });
  });

  it('keeps the event log append-only in the database itself, even against raw SQL', async () => {
    const t = await openCore();
    await seedTeam(t);
    const before = await t.store.db.selectFrom('team_events').selectAll().orderBy('seq').execute();
    expect(before.length).toBeGreaterThan(0);
    await expect(sql`update team_events set message = 'rewritten'`.execute(t.store.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from team_events`.execute(t.store.db)).rejects.toThrow(/append-only/);
    expect(await t.store.db.selectFrom('team_events').selectAll().orderBy('seq').execute()).toEqual(before);
    // a global, increasing sequence
    expect(before.map((e) => e.seq)).toEqual([...before.map((e) => e.seq)].sort((a, b) => a - b));
  });

  it('runs with WAL, foreign keys and a busy timeout', async () => {
    const t = await openCore();
    const pragma = async (name: string) => Object.values((await sql.raw(`pragma ${name}`).execute(t.store.db)).rows[0] as object)[0];
    expect(await pragma('journal_mode')).toBe('wal');
    expect(await pragma('foreign_keys')).toBe(1);
    expect(Number(await pragma('busy_timeout'))).toBeGreaterThanOrEqual(5000);
  });
});
