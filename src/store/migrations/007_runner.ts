import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * The runner: how each agent is woken (its wake adapter), where its heartbeats stand, every run it had, the
 * conversation the `openai` adapter keeps for it, and how far the scheduler has read the event log.
 */
export const runner: Migration = {
  version: 7,
  name: 'runner',
  async up(db: Kysely<any>) {
    const text = async (table: string, column: string) =>
      db.schema.alterTable(table).addColumn(column, 'text', (c) => c.notNull().defaultTo('')).execute();

    await text('persistent_agents', 'wake_adapter');
    await text('persistent_agents', 'timezone');
    await text('persistent_agents', 'heartbeat_slot');
    await db.schema.alterTable('persistent_agents').addColumn('missed_heartbeats', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await text('persistent_agents', 'unresponsive_since');
    await text('teams', 'timezone');

    await db.schema
      .createTable('agent_runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
      .addColumn('agent_id', 'text', (c) => c.notNull().references('persistent_agents.id').onDelete('cascade'))
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('reasons', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('adapter', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('session_id', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('queued_at', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('ended_at', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('exit_code', 'integer')
      .addColumn('output', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('stderr', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('error', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('runner', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    await db.schema.createIndex('runs_by_agent').on('agent_runs').columns(['agent_id', 'queued_at', 'id']).execute();
    await db.schema.createIndex('runs_by_status').on('agent_runs').columns(['status', 'queued_at']).execute();
    // One run per agent at a time and one waiting behind it: the database refuses a second, whatever the code does.
    await db.schema.createIndex('runs_one_queued').on('agent_runs').column('agent_id').unique().where(sql.ref('status'), '=', 'queued').execute();
    await db.schema.createIndex('runs_one_running').on('agent_runs').column('agent_id').unique().where(sql.ref('status'), '=', 'running').execute();

    await db.schema
      .createTable('agent_sessions')
      .addColumn('agent_id', 'text', (c) => c.primaryKey().references('persistent_agents.id').onDelete('cascade'))
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('history', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('runner_cursors')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .execute();
  },
};
