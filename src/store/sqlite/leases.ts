import type { LeaseStore } from '../leader.js';
import type { Db } from '../store.js';

/**
 * Leases as rows of `leases`: taking one is a single conditional upsert — insert it, or take it over when it is
 * ours already or has run out — so processes racing for it on one file get it once. While another holder's lease
 * runs, a read answers instead of the upsert. Times are milliseconds of the
 * machine's clock, which every process on one SQLite file shares.
 */
export function sqliteLeases(db: Db, now: () => number = Date.now): LeaseStore {
  return {
    async acquire(name, holder, ttlMs) {
      const at = now();
      // A follower asks by reading: the upsert would answer the same after waiting for the database's write lock,
      // which claims and other writes hold (every server asks every few seconds).
      const lease = await db.selectFrom('leases').select(['holder', 'expires_at']).where('name', '=', name).executeTakeFirst();
      if (lease && lease.holder !== holder && lease.expires_at > at) return false;
      const result = await db
        .insertInto('leases')
        .values({ name, holder, expires_at: at + ttlMs })
        .onConflict((c) =>
          c
            .column('name')
            .doUpdateSet({ holder, expires_at: at + ttlMs })
            .where((eb) => eb.or([eb('leases.holder', '=', holder), eb('leases.expires_at', '<=', at)])),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async release(name, holder) {
      await db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
    },
  };
}
