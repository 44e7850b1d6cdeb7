import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * The condition of the partial index `deliveries_due`: the deliveries still to send. A query reads that index only
 * if its WHERE names this very condition (SQLite proves a partial index usable by matching terms, and cannot match
 * `state = ?` against it), so the sender's queries add it as it is written here.
 */
export const UNSENT_DELIVERIES = sql<boolean>`state in ('pending', 'held')`;

/**
 * `deliveries_due` keeps only the deliveries still to send (pending, held). A sent, failed or dropped delivery
 * leaves it: recording a send removes an entry instead of moving it to the end of another state's range, and the
 * index stays the size of the backlog however long the outbox grows. A notifying call still adds its entry.
 */
export const unsentDeliveries: Migration = {
  version: 13,
  name: 'unsent_deliveries',
  async up(db: Kysely<any>) {
    await db.schema.dropIndex('deliveries_due').execute();
    await db.schema.createIndex('deliveries_due').on('notification_deliveries').columns(['state', 'next_attempt_at', 'created_at']).where(UNSENT_DELIVERIES).execute();
  },
};
