import type { CreateTableBuilder, Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * Notifications that leave the table: the rules that route them (the seed's "Notification Rules"), and the outbox —
 * one row per delivery of a notification to a destination, written in the notification's own transaction and sent
 * after commit by the sender (src/outbox). A notification also records where it came from (`origin`).
 */
export const notificationDelivery: Migration = {
  version: 9,
  name: 'notification_delivery',
  async up(db: Kysely<any>) {
    const text = (name: string) => (t: CreateTableBuilder<any, any>) => t.addColumn(name, 'text', (c) => c.notNull().defaultTo(''));

    await db.schema.alterTable('team_notifications').addColumn('origin', 'text', (c) => c.notNull().defaultTo('')).execute();

    // No foreign key to teams: '' is a global rule, for every team.
    await db.schema
      .createTable('notification_rules')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('team_id', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('events', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('conditions', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('destinations', 'text', (c) => c.notNull().defaultTo('[]'))
      .$call(text('template'))
      .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(5))
      .addColumn('rate_limit', 'integer', (c) => c.notNull().defaultTo(0))
      .$call(text('quiet_hours'))
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('notification_rules_by_team').on('notification_rules').columns(['team_id', 'created_at']).execute();

    await db.schema
      .createTable('notification_deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('notification_id', 'text', (c) => c.notNull().references('team_notifications.id').onDelete('cascade'))
      .addColumn('team_id', 'text', (c) => c.notNull())
      // '' for the config's defaults (defaults.owner).
      .$call(text('rule_id'))
      .addColumn('destination', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .$call(text('last_error'))
      .addColumn('next_attempt_at', 'text', (c) => c.notNull())
      .$call(text('lease_holder'))
      .$call(text('lease_expires_at'))
      // 1 on the one row that counts a routed notification against its rule's hourly limit.
      .addColumn('counted', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .$call(text('sent_at'))
      .execute();
    // The sender reads due rows off the first; notify_list a notification's rows off the second; the rate limits
    // count a rule's recent rows off the third (the global one a range per rule), as notify_rule_list's counts do.
    // Every index is paid for by each notifying call (a fourth, for the global limit, cost 10 µs of some 320).
    await db.schema.createIndex('deliveries_due').on('notification_deliveries').columns(['state', 'next_attempt_at', 'created_at']).execute();
    await db.schema.createIndex('deliveries_by_notification').on('notification_deliveries').columns(['notification_id']).execute();
    await db.schema.createIndex('deliveries_by_rule').on('notification_deliveries').columns(['rule_id', 'counted', 'created_at']).execute();
  },
};
