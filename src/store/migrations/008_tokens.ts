import type { Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * Bearer tokens for the HTTP server (src/core/tokens.ts), stored as SHA-256 hashes. An agent's tokens go with the
 * agent (and its team): a new agent that takes a deleted one's name never inherits them.
 */
export const tokens: Migration = {
  version: 8,
  name: 'tokens',
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('agent_id', 'text', (c) => c.references('persistent_agents.id').onDelete('cascade'))
      .addColumn('team_id', 'text', (c) => c.references('teams.id').onDelete('cascade'))
      .addColumn('owner_name', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('name', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('revoked_by', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    await db.schema.createIndex('tokens_by_agent').on('tokens').columns(['agent_id', 'created_at']).execute();
    await db.schema.createIndex('tokens_by_team').on('tokens').columns(['team_id', 'created_at']).execute();
  },
};
