import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Migration } from './index.js';

/** The tables whose rows most calls read and few calls change (see src/core/definitions.ts). */
export const DEFINITION_TABLES = ['teams', 'team_roles', 'team_rules', 'notification_rules'] as const;

/**
 * One row whose `stamp` is redrawn at random by every change to the definition tables, in the changing transaction
 * itself (triggers): a process keeps what it read of those tables while the stamp it reads is the one they were read
 * under, and so reads one short row instead of each of them on every call. The stamp is random rather than counted:
 * a change rolled back and another one committed can never leave the same value behind.
 */
export const definitionsStamp: Migration = {
  version: 15,
  name: 'definitions_stamp',
  async up(db: Kysely<any>, dialect) {
    await db.schema
      .createTable('definitions_stamp')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('stamp', 'text', (c) => c.notNull())
      .execute();
    await sql`insert into definitions_stamp (id, stamp) values (1, 'initial')`.execute(db);
    if (dialect.name === 'postgres') {
      await sql`create function team_table_redraw_definitions_stamp() returns trigger language plpgsql as $$
        begin update definitions_stamp set stamp = md5(random()::text || clock_timestamp()::text); return null; end $$`.execute(db);
      for (const table of DEFINITION_TABLES) {
        await sql
          .raw(`create trigger ${table}_redraw_definitions_stamp after insert or update or delete on ${table} for each statement execute function team_table_redraw_definitions_stamp()`)
          .execute(db);
      }
      return;
    }
    for (const table of DEFINITION_TABLES) {
      for (const op of ['insert', 'update', 'delete']) {
        await sql.raw(`create trigger ${table}_${op}_redraws_definitions_stamp after ${op} on ${table} begin update definitions_stamp set stamp = hex(randomblob(8)); end`).execute(db);
      }
    }
  },
};
