import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Migration } from './index.js';

/** Governance: role definitions, per-recipient mail state, soft-deleted messages, namespaced versioned facts, document history. */
export const governance: Migration = {
  version: 3,
  name: 'governance',
  async up(db: Kysely<any>) {
    const text = async (table: string, column: string) =>
      db.schema.alterTable(table).addColumn(column, 'text', (c) => c.notNull().defaultTo('')).execute();

    await text('persistent_agents', 'role_definition');
    await db.schema
      .createTable('team_roles')
      .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('actions', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('prefers', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('escalates_to', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('team_roles_pk', ['team_id', 'name'])
      .execute();

    // Read and archived state belongs to each recipient's copy; deletion to the message itself.
    await text('team_pending_messages', 'read_at');
    await text('team_pending_messages', 'archived_at');
    await text('team_messages', 'deleted_at');
    // Copies fetched by mention_check before read state existed were seen: they must not come back unread.
    await sql`update team_pending_messages set read_at = delivered_at where delivered = 1`.execute(db);
    await db.schema.createIndex('pending_inbox').on('team_pending_messages').columns(['to_agent', 'archived_at', 'created_at']).execute();
    await db.schema.createIndex('messages_by_date').on('team_messages').columns(['team_id', 'created_at']).execute();

    await db.schema.alterTable('team_facts').addColumn('namespace', 'text', (c) => c.notNull().defaultTo('default')).execute();
    await db.schema.alterTable('team_facts').addColumn('version', 'integer', (c) => c.notNull().defaultTo(1)).execute();
    await text('team_facts', 'expires_at');
    await db.schema.dropIndex('facts_by_key').execute();
    await db.schema.createIndex('facts_by_key').on('team_facts').columns(['team_id', 'namespace', 'key']).unique().execute();
    await db.schema.createIndex('facts_by_expiry').on('team_facts').columns(['expires_at']).execute();
    await db.schema
      .createTable('team_fact_versions')
      .addColumn('fact_id', 'text', (c) => c.notNull())
      .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
      .addColumn('namespace', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('author', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('team_fact_versions_pk', ['fact_id', 'version'])
      .execute();
    await sql`insert into team_fact_versions (fact_id, team_id, namespace, key, version, value, author, expires_at, created_at)
      select id, team_id, namespace, key, version, value, author, expires_at, updated_at from team_facts`.execute(db);

    await db.schema
      .createTable('team_document_versions')
      .addColumn('doc_id', 'text', (c) => c.notNull().references('team_documents.id').onDelete('cascade'))
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('doc_type', 'text', (c) => c.notNull())
      .addColumn('format', 'text', (c) => c.notNull())
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('author', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('team_document_versions_pk', ['doc_id', 'version'])
      .execute();
    await sql`insert into team_document_versions (doc_id, version, title, doc_type, format, content, author, created_at)
      select id, version, title, doc_type, format, content, author, updated_at from team_documents`.execute(db);
  },
};
