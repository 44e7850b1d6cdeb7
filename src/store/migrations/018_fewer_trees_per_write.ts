import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { StoreDialect } from '../dialect.js';
import type { Migration } from './index.js';
import { runRowSteps } from './steps.js';
import type { RowStep } from './steps.js';

/**
 * Fewer B-trees written by the commonest writes. Every B-tree a transaction changes is at least one page more
 * written at its commit (on SQLite a WAL frame, copied again at the next checkpoint), so a claim wrote 24 pages
 * (BENCHMARKS.md, "Pages a claim writes"):
 * - a thread subscription is found by (team, thread, agent) and never by its id: that is its key, and the table
 *   with the key and the unique index on the id was three B-trees on SQLite (a rowid table and two indexes), one now
 *   (`WITHOUT ROWID`); two on PostgreSQL (its table and that key);
 * - a task's assignees on SQLite the same way: a rowid table and the (task_id, agent_id) key were two B-trees;
 * - `events_by_time` goes: a time window's first event is found by a binary search over the log's numbers
 *   (src/core/eventWindow.ts), which follow the events' times closely enough, instead of one more index written by
 *   every event of every call.
 */
const STEPS: RowStep[] = [
  {
    doing: 'keying by thread',
    table: 'team_thread_subscriptions',
    async run(db, dialect) {
      if (dialect.name === 'postgres') {
        await sql`alter table team_thread_subscriptions drop constraint subscriptions_unique, drop constraint team_thread_subscriptions_pkey,
          add constraint team_thread_subscriptions_pkey primary key (team_id, thread_id, agent_id)`.execute(db);
        return;
      }
      await sql`create table team_thread_subscriptions_keyed (
        id text not null,
        team_id text not null references teams (id) on delete cascade,
        thread_id text not null,
        agent_id text not null references persistent_agents (id) on delete cascade,
        subscribed_at text not null,
        reason text default 'auto' not null,
        primary key (team_id, thread_id, agent_id)) without rowid`.execute(db);
      await sql`insert into team_thread_subscriptions_keyed (id, team_id, thread_id, agent_id, subscribed_at, reason)
        select id, team_id, thread_id, agent_id, subscribed_at, reason from team_thread_subscriptions order by team_id, thread_id, agent_id`.execute(db);
      await db.schema.dropTable('team_thread_subscriptions').execute();
      await db.schema.alterTable('team_thread_subscriptions_keyed').renameTo('team_thread_subscriptions').execute();
    },
  },
  {
    doing: 'keying',
    table: 'team_task_assignees',
    async run(db, dialect) {
      if (dialect.name === 'postgres') return;
      await sql`create table team_task_assignees_keyed (
        task_id text not null references team_tasks (id) on delete cascade,
        agent_id text not null references persistent_agents (id) on delete cascade,
        position integer not null,
        primary key (task_id, agent_id)) without rowid`.execute(db);
      await sql`insert into team_task_assignees_keyed (task_id, agent_id, position)
        select task_id, agent_id, position from team_task_assignees order by task_id, agent_id`.execute(db);
      await db.schema.dropTable('team_task_assignees').execute();
      await db.schema.alterTable('team_task_assignees_keyed').renameTo('team_task_assignees').execute();
      await db.schema.createIndex('assignees_by_agent').on('team_task_assignees').columns(['agent_id']).execute();
    },
  },
  {
    doing: 'dropping events_by_time from',
    table: 'team_events',
    async run(db) {
      await db.schema.dropIndex('events_by_time').execute();
    },
  },
];

export const fewerTreesPerWrite: Migration = {
  version: 18,
  name: 'fewer_trees_per_write',
  async up(db: Kysely<any>, dialect: StoreDialect, progress) {
    await runRowSteps(db, dialect, STEPS, 'fewer trees per write', progress);
  },
};
