import type { Kysely } from 'kysely';
import { TeamTableError } from '../core/errors.js';
import type { StoreDialect } from './dialect.js';
import { migrate } from './migrate.js';
import type { Database } from './schema.js';
import { openSqlite } from './sqlite/open.js';

export type Db = Kysely<Database>;

export interface OpenOptions {
  /** Stop migrating at this version (tests of upgrades); the default is the latest. */
  schemaVersion?: number;
}

/** The database behind the core: one schema, one transaction per use case, whichever dialect. */
export class Store {
  private constructor(readonly dialect: StoreDialect) {}

  /**
   * Opens the database at `location` — a file path, in a folder that exists — and migrates it. Whatever fails is a
   * STORE_UNAVAILABLE (or SCHEMA_TOO_NEW) error naming the file and the cause, and leaves nothing open: a caller
   * may simply try again once the cause is fixed.
   */
  static async open(location: string, options: OpenOptions = {}): Promise<Store> {
    const dialect = openSqlite(location);
    try {
      await migrate(dialect, options.schemaVersion);
    } catch (error) {
      await dialect.close().catch(() => {});
      throw dialect.storeError(error) ?? error;
    }
    return new Store(dialect);
  }

  get db(): Db {
    return this.dialect.db;
  }

  /** Runs `work` in one write transaction: all of it commits, with its events, or none of it does. */
  write<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    return this.dialect.db.transaction().execute(work);
  }

  /** `error` as the caller should see it: a storage failure becomes STORE_UNAVAILABLE naming its cause. */
  explain(error: unknown): unknown {
    if (error instanceof TeamTableError) return error;
    return this.dialect.storeError(error) ?? error;
  }

  close(): Promise<void> {
    return this.dialect.close();
  }
}
