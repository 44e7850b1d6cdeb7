import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { RateBudget, RateLimitStore } from '../rateLimits.js';
import type { Database } from '../schema.js';

/** Buckets idle this long are full again: deleting them keeps the table as small as the set of active callers. */
const IDLE_MS = 10 * 60_000;

/**
 * Token buckets as rows of `rate_limits`, each taken with one upsert that refills and spends atomically under the
 * row's lock, on the database's clock (replicas' clocks may differ). It runs outside the writes' serialization: a
 * request's budget never waits for another agent's write.
 */
export function postgresRateLimits(db: Kysely<Database>): RateLimitStore {
  let lastSweep = 0;
  return {
    async take(key: string, { perMinute, burst }: RateBudget) {
      const perMs = perMinute / 60_000;
      const refilled = sql`least(${burst}::float8, r.tokens + (excluded.at - r.at) * ${perMs}::float8)`;
      const { rows } = await sql<{ tokens: number; allowed: boolean; at: string }>`
        insert into rate_limits as r (key, tokens, at, allowed)
        values (${key}, ${burst - 1}::float8, (extract(epoch from clock_timestamp()) * 1000)::bigint, true)
        on conflict (key) do update set
          tokens = case when ${refilled} >= 1 then ${refilled} - 1 else ${refilled} end,
          allowed = ${refilled} >= 1,
          at = excluded.at
        returning tokens, allowed, at`.execute(db);
      const { tokens, allowed, at } = rows[0]!;
      const now = Number(at);
      if (now - lastSweep > IDLE_MS) {
        lastSweep = now;
        await db.deleteFrom('rate_limits').where('at', '<', now - IDLE_MS).execute();
      }
      return allowed ? 0 : Math.max(1, Math.ceil((1 - tokens) / perMs / 1000));
    },
  };
}
