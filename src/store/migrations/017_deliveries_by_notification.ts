import { sql } from 'kysely';
import type { CreateTableBuilder, Kysely } from 'kysely';
import type { StoreDialect } from '../dialect.js';
import type { Migration } from './index.js';
import { UNSENT_DELIVERIES } from './013_unsent_deliveries.js';
import { runRowSteps } from './steps.js';
import type { RowStep } from './steps.js';

/** The outbox's columns, as migration 9 made them (SQLite makes the table again to change its key). */
function deliveryColumns(table: CreateTableBuilder<any, any>): CreateTableBuilder<any, any> {
  const text = (name: string) => (t: CreateTableBuilder<any, any>) => t.addColumn(name, 'text', (c) => c.notNull().defaultTo(''));
  return table
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('notification_id', 'text', (c) => c.notNull().references('team_notifications.id').onDelete('cascade'))
    .addColumn('team_id', 'text', (c) => c.notNull())
    .$call(text('rule_id'))
    .addColumn('destination', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .$call(text('last_error'))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .$call(text('lease_holder'))
    .$call(text('lease_expires_at'))
    .addColumn('counted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .$call(text('sent_at'))
    .addPrimaryKeyConstraint('notification_deliveries_pkey', ['notification_id', 'id']);
}

const DELIVERY_COLUMNS = 'id, notification_id, team_id, rule_id, destination, payload, state, attempts, last_error, next_attempt_at, lease_holder, lease_expires_at, counted, created_at, updated_at, sent_at';

/**
 * The outbox keyed by notification, then delivery: one index serves a delivery by its id (its notification named
 * too), a notification's deliveries (notify_list, notify_retry, the cascade when notifications are deleted), where
 * the key on the id alone and `deliveries_by_notification` were two — each a page more written at the commit of
 * every notifying call a rule routes (BENCHMARKS.md, "Notify outbox"). A delivery's id names its notification
 * (`<notification id>.<n>`, src/core/notificationRouting.ts); ids made before keep their form.
 */
const STEPS: RowStep[] = [
  {
    doing: 'keying by notification,',
    table: 'notification_deliveries',
    async run(db, dialect) {
      if (dialect.name === 'postgres') {
        await sql`alter table notification_deliveries drop constraint notification_deliveries_pkey,
          add constraint notification_deliveries_pkey primary key (notification_id, id)`.execute(db);
        await db.schema.dropIndex('deliveries_by_notification').execute();
        return;
      }
      // SQLite cannot change a primary key: the table is made again, rows copied in key order.
      await deliveryColumns(db.schema.createTable('notification_deliveries_by_notification')).execute();
      await sql.raw(`insert into notification_deliveries_by_notification (${DELIVERY_COLUMNS}) select ${DELIVERY_COLUMNS} from notification_deliveries order by notification_id, id`).execute(db);
      await db.schema.dropTable('notification_deliveries').execute();
      await db.schema.alterTable('notification_deliveries_by_notification').renameTo('notification_deliveries').execute();
      await db.schema.createIndex('deliveries_due').on('notification_deliveries').columns(['state', 'next_attempt_at', 'created_at']).where(UNSENT_DELIVERIES).execute();
      await db.schema.createIndex('deliveries_by_rule').on('notification_deliveries').columns(['rule_id', 'counted', 'created_at']).execute();
    },
  },
];

/** Each step says how many rows it goes through and about how long is left (see runRowSteps). */
export const deliveriesByNotification: Migration = {
  version: 17,
  name: 'deliveries_by_notification',
  async up(db: Kysely<any>, dialect: StoreDialect, progress) {
    await runRowSteps(db, dialect, STEPS, 'deliveries keyed by notification', progress);
  },
};
