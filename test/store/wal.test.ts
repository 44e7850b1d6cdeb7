import { execFileSync, fork } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, statSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { OWNER, TEST_DIALECT, openCore, tempFilePath } from '../helpers.js';

/** Frames in the write-ahead log file of the database at `path`: a 32-byte header, then 24 bytes and a 4 KiB page each. */
const walFrames = (path: string) => (existsSync(`${path}-wal`) ? (statSync(`${path}-wal`).size - 32) / (24 + 4096) : 0);

/** Tasks in the database file at `path` alone, as a copy without its write-ahead log shows them. */
function tasksInDatabaseFile(path: string): number {
  const copy = tempFilePath();
  copyFileSync(path, copy);
  const raw = new BetterSqlite3(copy, { readonly: true });
  try {
    const table = raw.prepare("select 1 from sqlite_master where name = 'team_tasks'").get();
    return table ? (raw.prepare('select count(*) as n from team_tasks').get() as { n: number }).n : 0;
  } finally {
    raw.close();
  }
}

describe.runIf(TEST_DIALECT === 'sqlite')('the write-ahead log', () => {
  it("is checkpointed by a commit every 8,000 frames, not SQLite's 1,000, and then starts over rather than grow", async () => {
    const t = await openCore({ path: tempFilePath() });
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Busy' });
    let created = 0;
    const create = () => t.call(OWNER, 'team_task', { action: 'create', title: `task ${created++}` });
    const createUntil = async (frames: number) => {
      while (walFrames(t.path) < frames && created < 3000) await create();
      expect(walFrames(t.path)).toBeGreaterThanOrEqual(frames);
    };
    // Past SQLite's default threshold, no commit has stopped to copy the log into the database file.
    await createUntil(1500);
    expect(tasksInDatabaseFile(t.path)).toBe(0);
    await createUntil(7900);
    const createsPerLog = created;
    // As many writes again: without the log starting over, its file would hold twice as many frames.
    while (created < 2 * createsPerLog) await create();
    expect(walFrames(t.path)).toBeLessThan(8100);
    expect(tasksInDatabaseFile(t.path)).toBeGreaterThan(createsPerLog / 2);
  });
});

describe.runIf(TEST_DIALECT === 'sqlite')('the write-ahead log of a database opened again in the same process', () => {
  it('is still checkpointed every 8,000 frames, not by every commit, after the last close deleted its index', async () => {
    const path = tempFilePath();
    const first = await openCore({ path });
    const team = await first.call(OWNER, 'team_manage', { action: 'create', name: 'Bulk' });
    // One commit past the threshold (an import, a bulk insert): its checkpoint leaves the index's header at its length.
    const page = 'x'.repeat(4000);
    await first.store.write(async (tx) => {
      for (let i = 0; i < 9000; i += 500) {
        const rows = Array.from({ length: 500 }, (_, k) => ({ id: `bulk${i + k}`, team_id: team.id, type: 'bulk', message: '', data: page, created_at: new Date().toISOString() }));
        await tx.insertInto('team_events').values(rows).execute();
      }
    });
    // The last connection to close deletes the `-shm` file; opening the database again makes a new one.
    await first.store.close();
    const second = await openCore({ path });
    for (let i = 0; i < 20; i++) await second.call(OWNER, 'team_task', { action: 'create', team_id: team.id, title: `task ${i}` });
    // Short of the threshold, no commit has copied the log into the database file (read as the closed index's
    // 9,000 frames, every commit did).
    expect(walFrames(path)).toBeLessThan(8000);
    expect(tasksInDatabaseFile(path)).toBe(0);
    expect((await second.call(OWNER, 'team_task', { action: 'list', team_id: team.id })).tasks).toHaveLength(20);
  });
});

/** A process that reads the database at `path` over and over, each read a transaction of about a millisecond. */
function startReader(path: string) {
  const script = `
    const db = new (require('better-sqlite3'))(process.argv[1], { timeout: 30000 });
    const read = db.prepare('select count(*) from teams');
    process.send('reading');
    for (;;) { db.exec('begin'); read.get(); for (const until = Date.now() + 1; Date.now() < until;); db.exec('commit'); }`;
  const reader = fork('-e', [script, path], { execArgv: [], cwd: process.cwd(), stdio: 'ignore' });
  return { ready: once(reader, 'message'), stop: () => reader.kill('SIGKILL') };
}

describe.runIf(TEST_DIALECT === 'sqlite')('the write-ahead log beside processes that are always reading', () => {
  it('still starts over: checkpoints wait for the readers to move on instead of letting it grow', async () => {
    const t = await openCore({ path: tempFilePath() });
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Busy' });
    // Two, so that one is nearly always in a read.
    const readers = [startReader(t.path), startReader(t.path)];
    try {
      await Promise.all(readers.map((r) => r.ready));
      let largest = 0;
      // SQLite's own (passive) checkpoint never found a moment without a reader: the log grew and grew.
      const description = 'x'.repeat(12_000);
      for (let i = 0; i < 2500; i++) {
        await t.call(OWNER, 'team_task', { action: 'create', title: `task ${i}`, description });
        if (i % 50 === 0) largest = Math.max(largest, walFrames(t.path));
      }
      expect(largest).toBeLessThan(2 * 8000);
      expect(tasksInDatabaseFile(t.path)).toBeGreaterThan(500);
    } finally {
      for (const reader of readers) reader.stop();
    }
  });
});

describe.runIf(TEST_DIALECT === 'sqlite')('a store that closes', () => {
  it("leaves another connection of its process its hold on the log: another process cannot empty the log under that connection's read", async () => {
    const t = await openCore({ path: tempFilePath() });
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Busy' });
    const reader = new BetterSqlite3(t.path);
    try {
      reader.exec('begin');
      reader.prepare('select count(*) from teams').get();
      const truncateElsewhere = () =>
        JSON.parse(execFileSync(process.execPath, ['-e', `const d = new (require('better-sqlite3'))(process.argv[1], { timeout: 50 }); console.log(JSON.stringify(d.pragma('wal_checkpoint(TRUNCATE)')))`, t.path]).toString())[0];
      expect(truncateElsewhere().busy).toBe(1);
      await t.store.close();
      expect(truncateElsewhere().busy).toBe(1);
      reader.exec('commit');
    } finally {
      reader.close();
    }
  });
});
