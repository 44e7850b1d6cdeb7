import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { APPLICATION_ID } from '../../src/store/sqlite/open.js';
import { CLI, OWNER, openCore, tempDbPath } from '../helpers.js';

const run = promisify(execFile);
/** The CLI, as `uid` when given (root ignores file permissions, so read-only files are tried as nobody). */
const cli = (args: string[], options: { env?: Record<string, string>; cwd?: string; uid?: number } = {}) =>
  run(process.execPath, [CLI, ...args], { env: { ...process.env, ...options.env }, cwd: options.cwd, ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }) }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

/** A database made by someone else: a table named like one of ours, with data, in rollback-journal mode. */
function foreignDatabase(path: string, applicationId = 0) {
  const raw = new BetterSqlite3(path);
  raw.exec("create table teams (id integer primary key, city text); insert into teams (city) values ('Lyon'), ('Oslo')");
  if (applicationId) raw.pragma(`application_id = ${applicationId}`);
  raw.close();
}

describe('the store refuses what would lose or damage data', () => {
  it('refuses an empty path (SQLite would open a temporary database whose writes vanish), from the API and the CLI', async () => {
    await expect(Store.open('')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringMatching(/no path was given.*temporary database/) });
    const flag = await cli(['call', 'team_manage', '{"action":"create","name":"Lost"}', '--db', '']);
    expect(flag.code).toBe(6);
    expect(flag.stderr).toMatch(/STORE_UNAVAILABLE: .*no path was given/);
    const env = await cli(['call', 'team_manage', '{"action":"create","name":"Lost"}'], { env: { TEAM_TABLE_DB: '' } });
    expect(env.code).toBe(6);
    expect(env.stderr).toMatch(/no path was given \(--db or TEAM_TABLE_DB is empty\)/);
  });

  it.each([
    ['with tables of its own', 0, /another application's SQLite database \(its tables are teams\)/],
    ['marked by its application_id', 0x12345678, /another application's SQLite database \(its application_id is 305419896\)/],
  ])("refuses another application's database %s before changing a byte of it, naming the file", async (_name, applicationId, message) => {
    const path = tempDbPath();
    foreignDatabase(path, applicationId);
    const before = readFileSync(path);
    await expect(Store.open(path)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringMatching(message) });
    await expect(Store.open(path)).rejects.toThrow(path);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dirname(path))).toEqual(['team.db']); // no -wal, no -journal: nothing was written
    const viaCli = await cli(['call', 'team_manage', '{"action":"list"}', '--db', path]);
    expect(viaCli.code).toBe(6);
    expect(viaCli.stderr).not.toMatch(/\n\s+at /); // a sentence, not a stack trace
  });

  it('refuses a file that is not a database at all, as malformed', async () => {
    const path = tempDbPath();
    writeFileSync(path, 'name,city\nana,Lyon\n'.repeat(200));
    await expect(Store.open(path)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringMatching(/malformed: it is not an SQLite database/), details: { cause: 'not_a_database' } });
    expect(readFileSync(path, 'utf8')).toBe('name,city\nana,Lyon\n'.repeat(200));
  });

  it('marks its own databases, and still opens one made before the mark existed', async () => {
    const fresh = tempDbPath();
    await (await Store.open(fresh)).close();
    const applicationId = (path: string) => {
      const raw = new BetterSqlite3(path, { readonly: true });
      try {
        return raw.pragma('application_id', { simple: true });
      } finally {
        raw.close();
      }
    };
    expect(applicationId(fresh)).toBe(APPLICATION_ID);

    const old = tempDbPath();
    const t = await openCore({ path: old });
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Before the mark' });
    await t.store.close();
    const raw = new BetterSqlite3(old);
    raw.pragma('application_id = 0'); // as every team-table database was until now
    raw.close();
    const reopened = await openCore({ path: old });
    expect((await reopened.call(OWNER, 'team_manage', { action: 'list' })).teams.map((team: any) => team.name)).toEqual(['Before the mark']);
    expect(applicationId(old)).toBe(APPLICATION_ID);
  });

  it('refuses an explicit path whose folder does not exist, and opens it once the folder is there', async () => {
    const path = join(dirname(tempDbPath()), 'typo', 'team.db');
    await expect(Store.open(path)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringMatching(/its folder .*typo does not exist/) });
    const viaCli = await cli(['call', 'team_manage', '{"action":"list"}', '--db', path]);
    expect(viaCli.code).toBe(6);
    expect(existsSync(dirname(path))).toBe(false);
    execFileSync('mkdir', [dirname(path)]);
    await (await Store.open(path)).close();
  });

  it('creates the default ./.team-table/ folder on first use', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'team-table-cwd-'));
    try {
      const env = { ...process.env } as Record<string, string>;
      delete env.TEAM_TABLE_DB;
      const created = await run(process.execPath, [CLI, 'call', 'team_manage', '{"action":"create","name":"Here"}'], { cwd, env });
      expect(JSON.parse(created.stdout).name).toBe('Here');
      expect(existsSync(join(cwd, '.team-table', 'team.db'))).toBe(true);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('reports a full database as STORE_UNAVAILABLE naming the cause — not "cannot rollback" — writes nothing, and recovers', async () => {
    const t = await openCore();
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Full' });
    const pages = Number((await sql<{ page_count: number }>`pragma page_count`.execute(t.store.db)).rows[0]!.page_count);
    await sql.raw(`pragma max_page_count = ${pages}`).execute(t.store.db);
    const big = 'x'.repeat(19_000);
    const attempt = () => t.call(OWNER, 'team_task', { action: 'create', title: 'too much', description: big });
    let error: any;
    for (let i = 0; i < 50 && !error; i++) error = await attempt().then(() => undefined, (e) => e);
    expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', details: { cause: 'disk_full' } });
    expect(error.message).toMatch(/database or disk is full/);
    expect(error.message).not.toMatch(/cannot rollback/);
    const tasks = await t.call(OWNER, 'team_task', { action: 'list', limit: 500 });
    await sql.raw(`pragma max_page_count = ${pages * 100}`).execute(t.store.db);
    const after = await attempt();
    expect((await t.call(OWNER, 'team_task', { action: 'list', limit: 500 })).tasks.map((x: any) => x.id)).toEqual([...tasks.tasks.map((x: any) => x.id), after.id]);
  });

  it('reports corruption as STORE_UNAVAILABLE "malformed" (CLI exit 6), never a raw SqliteError', async () => {
    const path = tempDbPath();
    const t = await openCore({ path });
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Damaged' });
    for (let i = 0; i < 30; i++) await t.call(OWNER, 'team_task', { action: 'create', title: `task ${i}`, description: 'd'.repeat(3000) });
    await t.store.close();
    const copy = join(dirname(path), 'copy.db');
    copyFileSync(path, copy);
    const fd = openSync(copy, 'r+');
    for (let page = 2; page < 40; page++) writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, page * 4096);
    closeSync(fd);
    const failure = await Store.open(copy).then(
      async (store) => {
        try {
          const core = await openCore({ path: copy });
          return await core.call(OWNER, 'team_task', { action: 'list' }).then(() => undefined, (e) => e);
        } finally {
          await store.close();
        }
      },
      (e) => e,
    );
    expect(failure).toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringMatching(/malformed/) });
    const viaCli = await cli(['call', 'team_task', '{"action":"list"}', '--db', copy]);
    expect(viaCli.code).toBe(6);
    expect(viaCli.stderr).toMatch(/^team-table: STORE_UNAVAILABLE: .*malformed/);
    expect(viaCli.stderr).not.toMatch(/SqliteError|\n\s+at /);
  });

  it('refuses writes to a read-only file as STORE_UNAVAILABLE "read-only" (exit 6), still reads it, and recovers once it is writable', async () => {
    const path = tempDbPath();
    await cli(['call', 'team_manage', '{"action":"create","name":"Frozen"}', '--db', path]);
    chmodSync(dirname(path), 0o777);
    chmodSync(path, 0o444);
    const as = isRoot ? { uid: NOBODY } : {};
    const write = await cli(['call', 'team_task', '{"action":"create","title":"thaw"}', '--db', path], as);
    expect(write.code).toBe(6);
    expect(write.stderr).toMatch(/STORE_UNAVAILABLE: the database .* is unavailable: the file is read-only/);
    const read = await cli(['call', 'team_manage', '{"action":"list"}', '--db', path], as);
    expect(read.code).toBe(0);
    expect(JSON.parse(read.stdout).teams.map((team: any) => team.name)).toEqual(['Frozen']);
    for (const file of readdirSync(dirname(path))) chmodSync(join(dirname(path), file), 0o666);
    const retried = await cli(['call', 'team_task', '{"action":"create","title":"thaw"}', '--db', path], as);
    expect(retried.code).toBe(0);
  });
});

/**
 * A tmpfs of `size` mounted for the describe block it is called in, unmounted after it; `mounted` is false where it
 * cannot be (mounting needs root).
 */
function tmpfs(size: string) {
  const mountPoint = mkdtempSync(join(tmpdir(), 'team-table-tmpfs-'));
  let mounted = false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mountPoint], { stdio: 'ignore' });
    mounted = true;
  } catch {
    mounted = false;
  }
  afterAll(() => {
    if (mounted) execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });
  return { mountPoint, mounted };
}

/** A real full disk: a 4 MiB tmpfs (the migrated schema and its write-ahead log take about 1 MiB) (mounting needs root; elsewhere the max_page_count test above stands in). */
describe.skipIf(!isRoot)('on a full filesystem', () => {
  const { mountPoint, mounted } = tmpfs('4m');

  it.skipIf(!mounted)('answers STORE_UNAVAILABLE "database or disk is full" with exit 6, and works again once space is freed', async () => {
    const db = join(mountPoint, 'team.db');
    expect((await cli(['call', 'team_manage', '{"action":"create","name":"Tiny"}', '--db', db])).code).toBe(0);
    const filler = join(mountPoint, 'filler');
    const fd = openSync(filler, 'w');
    try {
      for (;;) writeSync(fd, Buffer.alloc(4096));
    } catch {
      // the filesystem is full
    } finally {
      closeSync(fd);
    }
    const description = 'y'.repeat(19_000);
    let full: { code: number; stderr: string } | undefined;
    for (let i = 0; i < 20 && !full; i++) {
      const attempt = await cli(['call', 'team_task', JSON.stringify({ action: 'create', title: `t${i}`, description }), '--db', db]);
      if (attempt.code !== 0) full = attempt;
    }
    expect(full?.code).toBe(6);
    expect(full?.stderr).toMatch(/STORE_UNAVAILABLE: .*database or disk is full/);
    expect(full?.stderr).not.toMatch(/cannot rollback|SqliteError/);
    unlinkSync(filler);
    expect((await cli(['call', 'team_task', '{"action":"create","title":"room again"}', '--db', db])).code).toBe(0);
  });
});

/** A file system mounted read-only under a team's database (mounting needs root). */
describe.skipIf(!isRoot)('on a file system mounted read-only', () => {
  const { mountPoint, mounted } = tmpfs('8m');

  it.skipIf(!mounted)('answers STORE_UNAVAILABLE naming the read-only file system with exit 6, and works again once it is writable', async () => {
    const db = join(mountPoint, 'team.db');
    expect((await cli(['call', 'team_manage', '{"action":"create","name":"Frozen"}', '--db', db])).code).toBe(0);
    execFileSync('mount', ['-o', 'remount,ro', mountPoint]);
    const refused = await cli(['call', 'team_task', '{"action":"create","title":"while frozen"}', '--db', db]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toMatch(/STORE_UNAVAILABLE: .*the file system holding it is read-only/);
    execFileSync('mount', ['-o', 'remount,rw', mountPoint]);
    expect((await cli(['call', 'team_task', '{"action":"create","title":"thawed"}', '--db', db])).code).toBe(0);
  });
});
