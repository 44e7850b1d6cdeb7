import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { StoreDialect } from '../dialect.js';
import type { Migration } from './index.js';
import { runRowSteps } from './steps.js';
import type { RowStep } from './steps.js';

/**
 * The conditions of the partial indexes from migration 18 — `deliveries_by_rule`: every delivery but the fresh ones;
 * `deliveries_due`: the deliveries still to send that a sender has taken once, or that wait for a time (quiet
 * hours). As with migration 13's, a query reads an index only if its WHERE names the condition as written here.
 */
export const NOT_FRESH = sql<boolean>`fresh = 0`;
export const DUE_DELIVERIES = sql<boolean>`state in ('pending', 'held') and fresh = 0`;

/** Where the notification sender has read the event log to: `runner_cursors`' row of this name. */
export const SENDER_CURSOR = 'notification-sender';

/**
 * A fresh delivery — pending, never taken by a sender — is in no index but the outbox's key: it is found through its
 * notification's `notification_sent` event, read from the event log after the sender's stored cursor, by the sender
 * and by what counts a rule's deliveries (rate limits, notify_rule_list). A routed notification's delivery writes two
 * index entries fewer at its commit (BENCHMARKS.md, "Notify outbox"). The sender's first take clears `fresh` and so
 * enters the delivery in `deliveries_due`, where a retry, a lease that ran out and the quiet hours find it, and in
 * `deliveries_by_rule`. Deliveries made before keep `fresh` 0 and stay in both; the cursor starts at the log's head,
 * after their events.
 */
const STEPS: RowStep[] = [
  {
    doing: 'leaving fresh deliveries out of the indexes of',
    table: 'notification_deliveries',
    async run(db) {
      await db.schema.alterTable('notification_deliveries').addColumn('fresh', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.dropIndex('deliveries_due').execute();
      await db.schema.createIndex('deliveries_due').on('notification_deliveries').columns(['state', 'next_attempt_at', 'created_at']).where(DUE_DELIVERIES).execute();
      await db.schema.dropIndex('deliveries_by_rule').execute();
      await db.schema.createIndex('deliveries_by_rule').on('notification_deliveries').columns(['rule_id', 'counted', 'created_at']).where(NOT_FRESH).execute();
      const head = await db.selectFrom('team_events').select(sql<number | null>`max(seq)`.as('seq')).executeTakeFirstOrThrow();
      await db.insertInto('runner_cursors').values({ name: SENDER_CURSOR, seq: Number(head.seq ?? 0) }).execute();
    },
  },
];

export const freshDeliveries: Migration = {
  version: 19,
  name: 'fresh_deliveries',
  async up(db: Kysely<any>, dialect: StoreDialect, progress) {
    await runRowSteps(db, dialect, STEPS, 'fresh deliveries left out of the indexes', progress);
  },
};
