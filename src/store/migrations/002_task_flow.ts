import type { Kysely } from 'kysely';
import type { Migration } from './index.js';

/** Tasks that flow: versions, claims with leases, reviewers, subtasks, dependencies, typed comments, workflow rules. */
export const taskFlow: Migration = {
  version: 2,
  name: 'task_flow',
  async up(db: Kysely<any>) {
    const columns: [string, 'text' | 'integer', string | number][] = [
      ['version', 'integer', 1],
      ['reviewer', 'text', ''],
      ['parent_id', 'text', ''],
      ['task_type', 'text', ''],
      ['claimed_by', 'text', ''],
      ['lease_expires_at', 'text', ''],
    ];
    for (const [name, type, fallback] of columns) {
      await db.schema.alterTable('team_tasks').addColumn(name, type, (c) => c.notNull().defaultTo(fallback)).execute();
    }
    // claim_next reads ready work of one team in priority order straight off this index: done tasks never enter it.
    await db.schema.createIndex('tasks_ready_queue').on('team_tasks').columns(['team_id', 'status', 'priority', 'created_at']).execute();
    await db.schema.createIndex('tasks_by_lease').on('team_tasks').columns(['status', 'lease_expires_at']).execute();
    await db.schema.createIndex('tasks_by_parent').on('team_tasks').columns(['parent_id']).execute();
    await db.schema.dropIndex('tasks_by_team_status').execute();

    await db.schema
      .createTable('team_task_dependencies')
      .addColumn('task_id', 'text', (c) => c.notNull().references('team_tasks.id').onDelete('cascade'))
      .addColumn('depends_on', 'text', (c) => c.notNull().references('team_tasks.id').onDelete('cascade'))
      .addPrimaryKeyConstraint('team_task_dependencies_pk', ['task_id', 'depends_on'])
      .execute();
    await db.schema.createIndex('dependencies_by_target').on('team_task_dependencies').columns(['depends_on']).execute();

    await db.schema.alterTable('team_messages').addColumn('task_id', 'text', (c) => c.notNull().defaultTo('')).execute();
    await db.schema.alterTable('team_messages').addColumn('type', 'text', (c) => c.notNull().defaultTo('')).execute();
    await db.schema.createIndex('messages_by_task').on('team_messages').columns(['task_id', 'created_at']).execute();

    await db.schema.alterTable('teams').addColumn('lease_minutes', 'integer', (c) => c.notNull().defaultTo(15)).execute();

    await db.schema
      .createTable('team_rules')
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('trigger', 'text', (c) => c.notNull())
      .addColumn('condition', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('builtin', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('team_rules_pk', ['team_id', 'id'])
      .execute();
  },
};
