import { sql } from 'kysely';
import { SENDER_CURSOR } from '../store/migrations/019_fresh_deliveries.js';
import type { Db } from '../store/store.js';

/**
 * A fresh delivery, as a condition written out, not bound: SQLite plans a statement again on every run when a bound
 * column is one a partial index's condition names (`NOT_FRESH`).
 */
export const FRESH = sql<boolean>`fresh = 1`;

/**
 * A fresh delivery a sender may take: still pending. During a rolling upgrade a sender of a version before 019 finds
 * fresh rows through its own query of the due ones, leases and sends them and leaves them fresh; a newer sender must
 * not take them again (with the lease, checked where they are taken).
 */
export const FRESH_TO_TAKE = sql<boolean>`fresh = 1 and state = 'pending'`;

/**
 * The fresh deliveries: routed, never taken by a sender (migration 019). No index but the outbox's key holds them, so
 * they are read by their notifications: those the log announced after the sender's stored cursor (the sender's
 * backlog, a few), and `unannounced` — those of the transaction asking, whose events the log gets at its commit.
 * Counting a rule's deliveries adds these to those its index holds.
 */
export function freshDeliveries(db: Db, unannounced: Iterable<string> = []) {
  let notifications = db
    .selectFrom('team_events')
    .select('related_id')
    .where('seq', '>', (eb) => eb.selectFrom('runner_cursors').select('seq').where('name', '=', SENDER_CURSOR))
    .where('type', '=', 'notification_sent');
  for (const id of unannounced) notifications = notifications.unionAll(db.selectNoFrom((eb) => eb.val(id).as('related_id')));
  return db.selectFrom('notification_deliveries').where(FRESH).where('notification_id', 'in', notifications);
}
