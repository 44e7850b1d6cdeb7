import type { Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * The HTTP server's request budgets per caller, shared by every replica of a PostgreSQL database
 * (src/store/postgres/rateLimits.ts). A single server on SQLite keeps its buckets in memory and leaves it empty.
 */
export const rateLimits: Migration = {
  version: 12,
  name: 'rate_limits',
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('rate_limits')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('tokens', 'double precision', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('allowed', 'boolean', (c) => c.notNull())
      .execute();
  },
};
