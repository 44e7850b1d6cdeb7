import type { Kysely } from 'kysely';
import type { Migration } from './index.js';
import { runRowSteps } from './steps.js';
import type { RowStep } from './steps.js';

interface IndexStep {
  name: string;
  table: string;
  columns: string[];
  /** An index this one makes redundant (its columns are this one's first ones), dropped after it is built. */
  replaces?: string;
}

/**
 * Indexes that keep every read of a heartbeat as fast with months of history as on the first day (issue 8; the
 * `scale` benchmark found them with the query plans, see docs/architecture.md "Flat as history grows"). Each one
 * is what a query seeks and then reads in order, stopping after one page, instead of reading the whole history of
 * an agent, a team or the event log.
 */
const STEPS: IndexStep[] = [
  // Mailbox: the page of inbox, the unread ones, and what mention_check hands out, each in the order it is read.
  { name: 'pending_inbox_page', table: 'team_pending_messages', columns: ['to_agent', 'archived_at', 'created_at', 'id'], replaces: 'pending_inbox' },
  { name: 'pending_unread', table: 'team_pending_messages', columns: ['to_agent', 'read_at', 'archived_at', 'created_at', 'id'] },
  { name: 'pending_unacknowledged', table: 'team_pending_messages', columns: ['to_agent', 'delivered', 'archived_at', 'created_at', 'id'], replaces: 'pending_by_recipient' },
  // The event log by time (summary, audit since: where to start reading by seq) and by type (audit of one type).
  { name: 'events_by_time', table: 'team_events', columns: ['team_id', 'created_at'] },
  { name: 'events_by_type', table: 'team_events', columns: ['team_id', 'type', 'seq'] },
  // A task's feed: the messages linked to it, newest first (its comments are its thread, messages_by_thread).
  { name: 'messages_by_task_page', table: 'team_messages', columns: ['team_id', 'task_id', 'created_at', 'id'], replaces: 'messages_by_task' },
  // Tasks in list order (no filter, or by priority), and those done on one day (standup).
  { name: 'tasks_in_list_order', table: 'team_tasks', columns: ['team_id', 'priority', 'created_at', 'id'] },
  { name: 'tasks_children_in_order', table: 'team_tasks', columns: ['team_id', 'parent_id', 'priority', 'created_at', 'id'] },
  { name: 'tasks_done_by_day', table: 'team_tasks', columns: ['team_id', 'status', 'completed_at'] },
];

/** Adding an index reads its whole table: each step reports its rows (see runRowSteps). */
export const scaleIndexes: Migration = {
  version: 11,
  name: 'scale_indexes',
  async up(db: Kysely<any>, dialect, progress) {
    const steps = STEPS.map((step): RowStep => ({
      doing: `adding index ${step.name} to`,
      table: step.table,
      async run(tx) {
        await tx.schema.createIndex(step.name).on(step.table).columns(step.columns).execute();
        if (step.replaces) await tx.schema.dropIndex(step.replaces).execute();
      },
    }));
    await runRowSteps(db, dialect, steps, 'adding indexes', progress);
  },
};
