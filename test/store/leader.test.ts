import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Leader } from '../../src/store/leader.js';
import { Store } from '../../src/store/store.js';
import { TEST_DIALECT, tempDbPath } from '../helpers.js';

async function eventually(condition: () => boolean, what: string) {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 20_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Two connections to one file stand for two processes: SQLite's locking is per connection. */
async function twoConnections() {
  const path = tempDbPath();
  const a = await Store.open(path);
  const b = await Store.open(path);
  return { a, b, path, close: async () => Promise.all([a.close(), b.close()]) };
}

describe('leader leases', () => {
  it('gives a lease to one holder at a time, and to another once it is released or has run out', async () => {
    const { a, b, close } = await twoConnections();
    expect(await a.leases.acquire('scheduler', 'one', 60_000)).toBe(true);
    expect(await b.leases.acquire('scheduler', 'two', 60_000)).toBe(false);
    expect(await a.leases.acquire('scheduler', 'one', 60_000)).toBe(true); // renewal
    expect(await b.leases.acquire('sender', 'two', 60_000)).toBe(true); // another name is another lease
    await a.leases.release('scheduler', 'two'); // not its to release
    expect(await b.leases.acquire('scheduler', 'two', 60_000)).toBe(false);
    await a.leases.release('scheduler', 'one');
    expect(await b.leases.acquire('scheduler', 'two', 1)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 5));
    // On PostgreSQL the lease is the holder's connection: it runs out when the connection goes, not with time.
    if (TEST_DIALECT === 'sqlite') expect(await a.leases.acquire('scheduler', 'one', 60_000)).toBe(true); // 'two' let it run out
    await close();
  });

  it('tells a follower that another leads without waiting for a write in progress (SQLite)', async () => {
    if (TEST_DIALECT !== 'sqlite') return;
    const { a, b, path, close } = await twoConnections();
    expect(await a.leases.acquire('scheduler', 'one', 60_000)).toBe(true);
    // Another process's long write holds the database's write lock; asking used to wait for it (up to 30 s).
    const writer = new BetterSqlite3(path);
    writer.exec('begin immediate');
    try {
      expect(await b.leases.acquire('scheduler', 'two', 60_000)).toBe(false);
    } finally {
      writer.exec('rollback');
      writer.close();
    }
    expect(await a.leases.acquire('scheduler', 'one', 60_000)).toBe(true);
    await close();
  });

  it('lets exactly one of many racing holders lead', async () => {
    const { a, b, close } = await twoConnections();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).leases.acquire('race', `h${i}`, 60_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
    await close();
  });

  it('hands leadership over when the leader stops, and when it dies without a word', async () => {
    const { a, b, close } = await twoConnections();
    const first = new Leader(a.leases, 'scheduler', 'first', { ttlMs: 400, renewMs: 50 });
    const second = new Leader(b.leases, 'scheduler', 'second', { ttlMs: 400, renewMs: 50 });
    const changes: string[] = [];
    first.onChange((leading) => changes.push(`first ${leading}`));
    second.onChange((leading) => changes.push(`second ${leading}`));
    await first.start();
    await second.start();
    expect([first.isLeader, second.isLeader]).toEqual([true, false]);

    await first.stop(); // releases: the other takes over at its next attempt
    await eventually(() => second.isLeader, 'the second to lead');
    expect(changes).toEqual(['first true', 'first false', 'second true']);

    const third = new Leader(a.leases, 'scheduler', 'third', { ttlMs: 400, renewMs: 50 });
    await third.start();
    expect(third.isLeader).toBe(false);
    // The leader dies without releasing (its connection closes): the lease runs out and the third takes over.
    await b.close().catch(() => {});
    await eventually(() => third.isLeader, 'the third to lead after the lease ran out');
    await eventually(() => !second.isLeader, 'the second to stop leading'); // its renewals fail: it stops believing it leads
    await third.stop();
    await second.stop();
    await close().catch(() => {});
  });
});
