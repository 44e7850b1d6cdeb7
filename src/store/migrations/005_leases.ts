import type { Kysely } from 'kysely';
import type { Migration } from './index.js';

/** Named leases for the background work one process per database does at a time (see src/store/leader.ts). */
export const leases: Migration = {
  version: 5,
  name: 'leases',
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('leases')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
