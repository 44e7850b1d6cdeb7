import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Migration } from './index.js';
import { runRowSteps } from './steps.js';
import type { RowStep } from './steps.js';

/**
 * Fills the label rows' copy of their task's list order (team, priority, creation) from the tasks. Also what an
 * import of an export made before this schema needs: its label rows come without it (src/store/dump.ts).
 */
export async function copyTaskOrderToLabels(db: Kysely<any>, where = sql`true`): Promise<void> {
  await sql`update team_task_labels set (team_id, priority, created_at) =
    (select t.team_id, t.priority, t.created_at from team_tasks t where t.id = team_task_labels.task_id) where ${where}`.execute(db);
}

/**
 * Fills mailbox copies' task_id: a message's copy from its message; a notification's copy (no message behind it) from
 * its thread, which is the notification's task. Also what an import of an export made before this schema needs.
 */
export async function copyTaskIdsToCopies(db: Kysely<any>, where = sql`true`): Promise<void> {
  await sql`update team_pending_messages set task_id = m.task_id from team_messages m
    where m.id = team_pending_messages.message_id and m.task_id <> '' and ${where}`.execute(db);
  await sql`update team_pending_messages set task_id = thread_id where message_id = '' and thread_id <> '' and ${where}`.execute(db);
}

/**
 * The reads still slower with a long history than on the first day (issue 8, BENCHMARKS.md "At 1M messages")
 * become reads of what their answer needs, whatever the history:
 * - an agent's unread count counts its mailbox copies in one index: a deleted message's copies are removed (a
 *   deleted message is in nobody's mailbox), so the count need not look each copy's message up;
 * - an inbox page reads the copies alone: each carries its message's task_id, as it carries its thread, author and
 *   content, instead of being joined to its message for it;
 * - a list by label walks the tasks carrying the label in list order: each label row carries its task's team,
 *   priority and creation time (src/core/tasks.ts keeps them in step), instead of every task of the team being
 *   probed for the label;
 * - the unread notifications left: the team's notifications by audience in one index, each probed in the reader's
 *   own read state — read state keyed reader first, so that the probes stay in one small part of the table.
 */
const STEPS: RowStep[] = [
  {
    doing: "removing deleted messages' mailbox copies, looking through",
    table: 'team_messages',
    async run(db) {
      await sql`delete from team_pending_messages where message_id in (select id from team_messages where deleted_at <> '')`.execute(db);
    },
  },
  {
    doing: "copying each message's task to its mailbox copies,",
    table: 'team_pending_messages',
    async run(db) {
      await db.schema.alterTable('team_pending_messages').addColumn('task_id', 'text', (c) => c.notNull().defaultTo('')).execute();
      await copyTaskIdsToCopies(db);
    },
  },
  {
    doing: "copying each task's list order to its labels,",
    table: 'team_task_labels',
    async run(db) {
      await db.schema.alterTable('team_task_labels').addColumn('team_id', 'text', (c) => c.notNull().defaultTo('')).execute();
      await db.schema.alterTable('team_task_labels').addColumn('priority', 'integer', (c) => c.notNull().defaultTo(3)).execute();
      await db.schema.alterTable('team_task_labels').addColumn('created_at', 'text', (c) => c.notNull().defaultTo('')).execute();
      await copyTaskOrderToLabels(db);
    },
  },
  {
    doing: 'adding index labels_in_list_order to',
    table: 'team_task_labels',
    async run(db) {
      await db.schema.createIndex('labels_in_list_order').on('team_task_labels').columns(['team_id', 'label', 'priority', 'created_at', 'task_id']).execute();
    },
  },
  {
    doing: 'adding index notifications_by_audience to',
    table: 'team_notifications',
    async run(db) {
      await db.schema.createIndex('notifications_by_audience').on('team_notifications').columns(['team_id', 'to_agent', 'created_at', 'id']).execute();
    },
  },
  {
    doing: 'keying read state by reader,',
    table: 'team_notification_reads',
    async run(db, dialect) {
      if (dialect.name === 'postgres') {
        await sql`alter table team_notification_reads drop constraint team_notification_reads_pk,
          add constraint team_notification_reads_pk primary key (reader, notification_id)`.execute(db);
      } else {
        // SQLite cannot change a primary key: the table is made again. Nothing refers to it.
        await db.schema
          .createTable('team_notification_reads_by_reader')
          .addColumn('notification_id', 'text', (c) => c.notNull().references('team_notifications.id').onDelete('cascade'))
          .addColumn('reader', 'text', (c) => c.notNull())
          .addColumn('read_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('team_notification_reads_pk', ['reader', 'notification_id'])
          .execute();
        await sql`insert into team_notification_reads_by_reader (notification_id, reader, read_at)
          select notification_id, reader, read_at from team_notification_reads`.execute(db);
        await db.schema.dropTable('team_notification_reads').execute();
        await db.schema.alterTable('team_notification_reads_by_reader').renameTo('team_notification_reads').execute();
      }
      // Deleting a notification (purge) finds its read state by this index, for the cascade.
      await db.schema.createIndex('reads_by_notification').on('team_notification_reads').columns(['notification_id']).execute();
    },
  },
];

/** Each step says how many rows it goes through and about how long is left (see runRowSteps). */
export const flatReads: Migration = {
  version: 14,
  name: 'flat_reads',
  async up(db: Kysely<any>, dialect, progress) {
    await runRowSteps(db, dialect, STEPS, 'flat reads', progress);
  },
};
