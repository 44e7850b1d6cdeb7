import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { TeamTableError } from '../core/errors.js';
import type { StoreDialect } from './dialect.js';
import { MIGRATIONS } from './migrations/index.js';
import type { MigrationProgress } from './migrations/index.js';
import type { Database } from './schema.js';

export const LATEST_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the schema up to `target` (default: the latest), one migration per transaction. Each step re-reads the
 * version under the write lock, so processes opening a new database at the same moment apply each step once.
 * A database written by a newer team-table is refused rather than misread.
 */
export async function migrate(dialect: StoreDialect, target = LATEST_SCHEMA_VERSION, progress?: MigrationProgress): Promise<number> {
  const { db } = dialect;
  // An up-to-date database opens without taking the write lock (and a read-only one opens at all).
  const settled = await currentVersion(db).catch(() => undefined);
  if (settled !== undefined && settled === target) return settled;
  await db.transaction().execute(async (tx) => {
    // Replicas starting together on PostgreSQL would race even on "if not exists": the write lock orders them.
    await dialect.untimed(tx);
    await dialect.serializeWrite(tx, 'exclusive');
    await tx.schema
      .createTable('schema_version')
      .ifNotExists()
      .addColumn('version', 'integer', (c) => c.primaryKey())
      .addColumn('applied_at', 'text', (c) => c.notNull())
      .execute();
  });

  for (;;) {
    const applied = await db.transaction().execute(async (tx) => {
      await dialect.untimed(tx);
    await dialect.serializeWrite(tx, 'exclusive');
      const current = await currentVersion(tx);
      if (current > LATEST_SCHEMA_VERSION) {
        throw new TeamTableError(
          'SCHEMA_TOO_NEW',
          `the database has schema version ${current}, newer than this team-table understands ` +
            `(${LATEST_SCHEMA_VERSION}); upgrade team-table to open it`,
          { version: current, supported: LATEST_SCHEMA_VERSION },
        );
      }
      const next = MIGRATIONS[current];
      if (current >= target || !next) return current;
      await next.up(tx, dialect, progress);
      await tx.insertInto('schema_version').values({ version: next.version, applied_at: new Date().toISOString() }).execute();
      return null;
    });
    if (applied !== null) return applied;
  }
}

async function currentVersion(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('schema_version').select(sql<number | null>`max(version)`.as('version')).executeTakeFirst();
  return Number(row?.version ?? 0);
}
