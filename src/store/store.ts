import type { CompiledQuery, Kysely, QueryResult } from 'kysely';
import { TeamTableError } from '../core/errors.js';
import type { StoreDialect, WriteMode } from './dialect.js';
import { LogFeed } from './feed.js';
import type { EventFeed } from './feed.js';
import type { LeaseStore } from './leader.js';
import { migrate } from './migrate.js';
import type { MigrationProgress } from './migrations/index.js';
import type { Database } from './schema.js';
import { isPostgresUrl } from './location.js';
import { openSqlite } from './sqlite/open.js';

export type Db = Kysely<Database>;

/** How to run a statement at once on the connection, by database or write transaction (see `runCompiled`). */
const direct = new WeakMap<Db, (query: CompiledQuery) => QueryResult<unknown> | undefined>();

/**
 * Runs a compiled query on `db`: at once on the connection where the dialect can (SQLite, see
 * `StoreDialect.runNow`); through Kysely otherwise. The core's prepared statements go this way.
 */
export function runCompiled<R>(db: Db, query: CompiledQuery<R>): Promise<QueryResult<R>> {
  try {
    const result = direct.get(db)?.(query) as QueryResult<R> | undefined;
    return result ? Promise.resolve(result) : db.executeQuery(query);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** What a write's use case left to do just before its commit, by transaction (see `beforeCommit`). */
const finishing = new WeakMap<Db, (() => Promise<void>)[]>();

/**
 * Has `finish` run at the end of the write transaction `tx`, after its work and before its commit, in the order
 * registered; a failure rolls the transaction back like any of its statements.
 */
export function beforeCommit(tx: Db, finish: () => Promise<void>): void {
  const list = finishing.get(tx);
  if (list) list.push(finish);
  else finishing.set(tx, [finish]);
}

/** How to hold a write back for the next statement's round trip, by write transaction (see `writeUnanswered`). */
const holding = new WeakMap<Db, (query: CompiledQuery) => Promise<void>>();

/**
 * Runs `query` in the write transaction `tx`, a write whose answer nobody reads (no affected-row count, no rows):
 * where a statement costs a round trip (PostgreSQL), it travels in the round trip of the transaction's next
 * statement, or of its commit (`StoreDialect.holdWrite`); at once elsewhere. Statements keep their order; its
 * failure rolls the transaction back like any of its statements.
 */
export function writeUnanswered(tx: Db, query: CompiledQuery): Promise<void> {
  const hold = holding.get(tx);
  return hold ? hold(query) : runCompiled(tx, query).then(() => {});
}

/** The statement a write sends last, with its commit, by transaction (see `sendWithCommit`). */
const last = new WeakMap<Db, CompiledQuery>();

/**
 * Has `query`, a statement whose answer nobody reads, sent last in the write transaction `tx`, after the work and
 * what was to be done before the commit (`beforeCommit`): in the COMMIT's round trip where the dialect can
 * (`StoreDialect.holdWrite`), else just before it. A failure rolls the transaction back like any of its
 * statements. One a transaction (the call's events).
 */
export function sendWithCommit(tx: Db, query: CompiledQuery): void {
  if (last.has(tx)) throw new Error('a write sends one statement with its commit');
  last.set(tx, query);
}

export interface OpenOptions {
  /** Stop migrating at this version (tests of upgrades); the default is the latest. */
  schemaVersion?: number;
  /** Hears of long migration work (indexing a big database for search), e.g. to show progress. */
  progress?: MigrationProgress;
}

/** The database behind the core: one schema, one transaction per use case, whichever dialect. */
export class Store {
  private tail: LogFeed | undefined;

  private constructor(
    readonly dialect: StoreDialect,
    /** The schema version the database was migrated to: the latest, except in tests of upgrades. */
    readonly schemaVersion: number,
  ) {
    const { runNow } = dialect;
    if (runNow) direct.set(dialect.db, (query) => runNow(query, false));
  }

  /**
   * Opens the database at `location` — a file path, in a folder that exists, or a `postgres://` URL — and migrates
   * it. Whatever fails is a STORE_UNAVAILABLE (or SCHEMA_TOO_NEW) error naming the file or host and the cause, and
   * leaves nothing open: a caller may simply try again once the cause is fixed.
   */
  static async open(location: string, options: OpenOptions = {}): Promise<Store> {
    // Loaded only for a postgres:// URL: the pg driver costs a SQLite server's start some 70 ms.
    const dialect = isPostgresUrl(location) ? (await import('./postgres/open.js')).openPostgres(location) : openSqlite(location);
    try {
      return new Store(dialect, await migrate(dialect, options.schemaVersion, options.progress));
    } catch (error) {
      await dialect.close().catch(() => {});
      throw dialect.storeError(error) ?? error;
    }
  }

  get db(): Db {
    return this.dialect.db;
  }

  /** The event log as this process tails it; it reads nothing until someone subscribes. */
  get feed(): EventFeed {
    return (this.tail ??= new LogFeed(this.db, this.dialect.commits));
  }

  get leases(): LeaseStore {
    return this.dialect.leases;
  }

  /**
   * Runs `work` in one write transaction: all of it commits, with its events, or none of it does. A commit wakes
   * this process's feed at once (other processes notice it through the dialect's commit signal). Writes are
   * serialized as on SQLite, except `shared` ones (claims that lock their own rows), which only wait for the others.
   * `byKey`: the work reads only rows an index finds (see `StoreDialect.serializeWrite`).
   */
  async write<T>(work: (tx: Db) => Promise<T>, mode: WriteMode = 'exclusive', byKey = false): Promise<T> {
    const result = await this.dialect.db.transaction().execute(async (tx) => {
      await this.dialect.serializeWrite(tx, mode, byKey);
      const { runNow, holdWrite } = this.dialect;
      if (runNow) direct.set(tx, (query) => runNow(query, true));
      if (holdWrite) holding.set(tx, (query) => holdWrite(tx, query));
      try {
        const value = await work(tx);
        for (const finish of finishing.get(tx) ?? []) await finish();
        const query = last.get(tx);
        if (query) await writeUnanswered(tx, query);
        return value;
      } finally {
        // Past its commit or rollback, the transaction's statements must not reach the connection directly.
        direct.delete(tx);
        holding.delete(tx);
      }
    });
    this.tail?.wake();
    return result;
  }

  /** `error` as the caller should see it: a storage failure becomes STORE_UNAVAILABLE naming its cause. */
  explain(error: unknown): unknown {
    if (error instanceof TeamTableError) return error;
    return this.dialect.storeError(error) ?? error;
  }

  async close(): Promise<void> {
    await this.tail?.close();
    await this.dialect.close();
  }
}
