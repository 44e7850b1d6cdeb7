import type { CreateTableBuilder, Kysely } from 'kysely';
import type { Migration } from './index.js';

/** The seed's tables: teams, agents, tasks, messages and mailboxes, facts, documents, subscriptions, working state. */
export const core: Migration = {
  version: 1,
  name: 'core',
  async up(db: Kysely<any>, dialect) {
    /** A text column that is never null and defaults to '' (the seed's `TEXT DEFAULT ''`). */
    const text = (name: string) => (t: CreateTableBuilder<any, any>) =>
      t.addColumn(name, 'text', (c) => c.notNull().defaultTo(''));

    await db.schema
      .createTable('teams')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('slug', 'text', (c) => c.notNull().unique())
      .$call(text('description'))
      .addColumn('owner_jid', 'text', (c) => c.notNull())
      .$call(text('default_model'))
      .$call(text('workspace_path'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .execute();

    await db.schema
      .createTable('persistent_agents')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .$call(text('role'))
      .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
      .addColumn('level', 'text', (c) => c.notNull().defaultTo('mid'))
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('idle'))
      .$call(text('personality'))
      .$call(text('instructions'))
      .$call(text('model'))
      .addColumn('skills', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('heartbeat_schedule', 'text', (c) => c.notNull().defaultTo('*/15 * * * *'))
      .$call(text('current_task_id'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .$call(text('last_active_at'))
      .$call(text('last_heartbeat_at'))
      .execute();
    await db.schema.createIndex('agents_by_team').on('persistent_agents').columns(['team_id', 'id']).execute();

    await db.schema
      .createTable('team_tasks')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
      .addColumn('title', 'text', (c) => c.notNull())
      .$call(text('description'))
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('inbox'))
      .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(3))
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .$call(text('completed_at'))
      .$call(text('blocked_reason'))
      .$call(text('blocked_from'))
      .execute();
    await db.schema.createIndex('tasks_by_team_status').on('team_tasks').columns(['team_id', 'status']).execute();

    await db.schema
      .createTable('team_task_assignees')
      .addColumn('task_id', 'text', (c) => c.notNull().references('team_tasks.id').onDelete('cascade'))
      .addColumn('agent_id', 'text', (c) => c.notNull().references('persistent_agents.id').onDelete('cascade'))
      .addColumn('position', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('team_task_assignees_pk', ['task_id', 'agent_id'])
      .execute();
    await db.schema.createIndex('assignees_by_agent').on('team_task_assignees').columns(['agent_id']).execute();

    await db.schema
      .createTable('team_task_labels')
      .addColumn('task_id', 'text', (c) => c.notNull().references('team_tasks.id').onDelete('cascade'))
      .addColumn('label', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('team_task_labels_pk', ['task_id', 'label'])
      .execute();
    await db.schema.createIndex('labels_by_label').on('team_task_labels').columns(['label']).execute();

    await db.schema
      .createTable('team_messages')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
      .$call(text('thread_id'))
      .$call(text('from_agent'))
      .$call(text('from_user'))
      .$call(text('to_agent'))
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('mentions', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('delivered', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('messages_by_thread').on('team_messages').columns(['team_id', 'thread_id', 'created_at']).execute();

    await db.schema
      .createTable('team_pending_messages')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
      .$call(text('message_id'))
      .addColumn('to_agent', 'text', (c) => c.notNull().references('persistent_agents.id').onDelete('cascade'))
      .$call(text('from_agent'))
      .$call(text('from_user'))
      .addColumn('content', 'text', (c) => c.notNull())
      .$call(text('thread_id'))
      .addColumn('reason', 'text', (c) => c.notNull().defaultTo('direct'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('delivered', 'integer', (c) => c.notNull().defaultTo(0))
      .$call(text('delivered_at'))
      .execute();
    await db.schema.createIndex('pending_by_recipient').on('team_pending_messages').columns(['to_agent', 'delivered', 'created_at']).execute();
    await db.schema.createIndex('pending_by_message').on('team_pending_messages').columns(['message_id']).execute();

    await db.schema
      .createTable('team_facts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('author', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    // A separate index, not a table constraint, so a later migration can widen the key (namespaces).
    await db.schema.createIndex('facts_by_key').on('team_facts').columns(['team_id', 'key']).unique().execute();

    await db.schema
      .createTable('team_documents')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
      .$call(text('task_id'))
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('doc_type', 'text', (c) => c.notNull().defaultTo('deliverable'))
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('format', 'text', (c) => c.notNull().defaultTo('markdown'))
      .$call(text('file_path'))
      .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('author', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('documents_by_team').on('team_documents').columns(['team_id', 'doc_type']).execute();

    await db.schema
      .createTable('team_thread_subscriptions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
      .addColumn('thread_id', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'text', (c) => c.notNull().references('persistent_agents.id').onDelete('cascade'))
      .addColumn('subscribed_at', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull().defaultTo('auto'))
      .addUniqueConstraint('subscriptions_unique', ['team_id', 'thread_id', 'agent_id'])
      .execute();

    await db.schema
      .createTable('agent_working_state')
      .addColumn('agent_id', 'text', (c) => c.primaryKey().references('persistent_agents.id').onDelete('cascade'))
      .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
      .$call(text('current_task_id'))
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('idle'))
      .$call(text('next_steps'))
      .$call(text('context'))
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('team_notifications')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      .$call(text('task_id'))
      .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(3))
      .$call(text('agent_id'))
      .$call(text('to_agent'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .$call(text('read_at'))
      .execute();
    await db.schema.createIndex('notifications_by_team').on('team_notifications').columns(['team_id', 'created_at']).execute();

    // No foreign key to teams: the log outlives what it records (a deleted team's history stays auditable).
    await db.schema
      .createTable('team_events')
      .addColumn('seq', dialect.sequenceType, (c) =>
        dialect.name === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
      )
      .addColumn('id', 'text', (c) => c.notNull().unique())
      .$call(text('team_id'))
      .addColumn('type', 'text', (c) => c.notNull())
      .$call(text('agent_id'))
      .addColumn('message', 'text', (c) => c.notNull())
      .$call(text('related_id'))
      .addColumn('data', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('events_by_team').on('team_events').columns(['team_id', 'seq']).execute();
    await db.schema.createIndex('events_by_related').on('team_events').columns(['related_id', 'seq']).execute();
    await dialect.appendOnly(db, 'team_events');
    await dialect.orderedLog(db, 'team_events', 'seq');
  },
};
