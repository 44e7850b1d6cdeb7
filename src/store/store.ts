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

  /** Opens (creating if needed) the database at `location` — a file path — and migrates it. */
  static async open(location: string, options: OpenOptions = {}): Promise<Store> {
    let dialect: StoreDialect;
    try {
      dialect = openSqlite(location);
    } catch (error) {
      throw new TeamTableError('STORE_UNAVAILABLE', `cannot open the database ${location}: ${(error as Error).message}`, { location });
    }
    try {
      await migrate(dialect, options.schemaVersion);
    } catch (error) {
      await dialect.close();
      throw error;
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

  close(): Promise<void> {
    return this.dialect.close();
  }
}
