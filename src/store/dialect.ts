import type { CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { TeamTableError } from '../core/errors.js';
import type { CommitSignal } from './feed.js';
import type { LeaseStore } from './leader.js';
import type { RateLimitStore } from './rateLimits.js';
import type { Database } from './schema.js';

export type DialectName = 'sqlite' | 'postgres';

/**
 * Opens a statement whose best plan does not depend on its values — its conditions name the index it reads, in the
 * order it reads it — so that PostgreSQL may plan it once per connection although it has a LIMIT (see
 * `prepareStatements`). Set by `prepared(…, { planOnce: true })`.
 */
export const PLAN_ONCE = '/* plan once */ ';
export type WriteMode = 'exclusive' | 'shared';

/**
 * What differs between the databases, and nothing else: how to open them, the few DDL statements Kysely's
 * schema builder cannot express portably, and how another process's commits are noticed. The store and the
 * core are written once against Kysely above this seam.
 */
export interface StoreDialect {
  readonly name: DialectName;
  readonly db: Kysely<Database>;
  /** Column type of the event log's global sequence. */
  readonly sequenceType: 'integer' | 'bigint';
  /** Makes a table refuse UPDATE and DELETE inside the database itself. */
  appendOnly(db: Kysely<any>, table: string): Promise<void>;
  /**
   * Numbers the rows of `table` in `column` in commit order, so that a reader past number n never sees a smaller one
   * commit later (SQLite's one writer does this by itself), and tells other connections after each commit.
   */
  orderedLog(db: Kysely<any>, table: string, column: string): Promise<void>;
  /**
   * Called first in every write transaction: makes it wait for the writes it must not interleave with, as SQLite's
   * single writer does. `shared` writes (claims, which lock their own rows) may run beside each other, never beside
   * an exclusive one. `byKey`: the write reads only rows an index finds (a claim), whatever plan the database kept.
   */
  serializeWrite(tx: Kysely<any>, mode: WriteMode, byKey?: boolean): Promise<void>;
  /** Whether `shared` writes do run beside each other (PostgreSQL); on SQLite every write holds the file's one lock. */
  readonly sharedWrites: boolean;
  /**
   * Lifts the per-statement time limit for the rest of this transaction: work that legitimately runs long (a
   * migration indexing a big database, an import) and waiting for it must not fail at the limit and be redone forever.
   */
  untimed(tx: Kysely<any>): Promise<void>;
  /**
   * A storage failure (disk full, read-only, corrupt, I/O) as a STORE_UNAVAILABLE error naming the file and the
   * cause; undefined for any other error.
   */
  storeError(error: unknown): TeamTableError | undefined;
  /**
   * Runs a compiled query at once on the connection, without Kysely's executor (its connection hand-off costs a few
   * µs a statement), where that cannot interleave with another call's transaction: inside a write transaction, which
   * holds SQLite's one connection for its whole length (`inWrite`), or while no transaction holds it. Undefined
   * when it cannot (the query then goes through Kysely, which waits for the connection). Only SQLite has it.
   */
  readonly runNow?: (query: CompiledQuery, inWrite: boolean) => QueryResult<unknown> | undefined;
  /**
   * Sends `query`, a write of the transaction `tx` whose answer nobody reads, in the round trip of the transaction's
   * next statement or of its COMMIT, before it; its failure fails that statement (or the commit), and so the
   * transaction. Undefined where a statement costs no round trip (SQLite): it then runs at once.
   */
  holdWrite?(tx: Kysely<any>, query: CompiledQuery): Promise<void>;
  /** How this process notices commits of other connections (the event feed polls it). */
  readonly commits: CommitSignal;
  /** Leases on background work that one process per database does at a time. */
  readonly leases: LeaseStore;
  /** Request budgets shared by every server on the database; absent where one server keeps them in memory. */
  readonly rateLimits?: RateLimitStore;
  close(): Promise<void>;
}
