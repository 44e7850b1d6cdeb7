import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver, sql } from 'kysely';
import type { DatabaseConnection, Driver, SqliteDatabase } from 'kysely';
import type { StoreDialect } from '../dialect.js';
import type { Database } from '../schema.js';
import { sqliteLeases } from './leases.js';

/** How long a writer waits for another process's write lock before giving up (ordinary contention never does). */
const BUSY_TIMEOUT_MS = 30_000;
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely's SQLite driver opens transactions with a deferred `BEGIN`, which takes the write lock only at the first
 * write; two processes that both read first then deadlock on the upgrade and one gets SQLITE_BUSY at once, with no
 * busy-wait. `BEGIN IMMEDIATE` takes the lock up front, so a second writer waits on the busy timeout instead.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDialect>[0];
  constructor(config: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

/**
 * better-sqlite3 compiles a statement on every `prepare`; Kysely prepares each query anew. A small cache keyed by
 * SQL text makes repeated use cases (claims, mailbox checks) skip the compile.
 */
function withStatementCache(raw: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => raw.close(),
    prepare(text: string) {
      let statement = cache.get(text);
      if (statement) {
        cache.delete(text);
      } else {
        statement = raw.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(text, statement);
      return statement;
    },
  };
}

export function openSqlite(path: string): StoreDialect {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const raw = new BetterSqlite3(path, { timeout: BUSY_TIMEOUT_MS });
  raw.pragma('journal_mode = WAL');
  // NORMAL in WAL mode is durable across process crashes (kill -9); only a power loss can drop the last commits.
  raw.pragma('synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({
    dialect: new ImmediateSqliteDialect({ database: withStatementCache(raw) }),
  });
  return {
    name: 'sqlite',
    db,
    sequenceType: 'integer',
    async appendOnly(target, table) {
      for (const op of ['update', 'delete'] as const) {
        await sql
          .raw(
            `create trigger if not exists ${table}_no_${op} before ${op} on ${table} ` +
              `begin select raise(abort, '${table} is append-only: ${op} refused'); end`,
          )
          .execute(target);
      }
    },
    // data_version changes whenever another connection commits to the file; this connection's own commits wake
    // the feed directly (Store.write). A pragma read costs about a microsecond, so polling it often is cheap.
    commits: { version: async () => raw.pragma('data_version', { simple: true }), pollMs: 25 },
    leases: sqliteLeases(db),
    async close() {
      await db.destroy();
    },
  };
}
