import { accessSync, closeSync, constants, existsSync, fstatSync, openSync, readSync, statSync, statfsSync } from 'node:fs';
import { endianness } from 'node:os';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver, SqliteQueryCompiler, ValueNode, sql } from 'kysely';
import type { DatabaseConnection, Driver, LimitNode, QueryCompiler, SqliteDatabase } from 'kysely';
import { TeamTableError } from '../../core/errors.js';
import { Lru } from '../../core/lru.js';
import type { StoreDialect } from '../dialect.js';
import type { Database } from '../schema.js';
import { sqliteLeases } from './leases.js';

/** How long a writer waits for another process's write lock before giving up (ordinary contention never does). */
const BUSY_TIMEOUT_MS = 30_000;
const STATEMENT_CACHE_SIZE = 256;
/**
 * SQLite's page cache per connection, in KiB (better-sqlite3's default is 16 MiB). team-table runs a process per
 * agent, each with its own connection: with others committing several times a second, a connection's cache is
 * dropped at the start of nearly every read (WAL mode discards it when the file changed), so a big one buys little
 * but resident memory — 16 MiB × every agent process, filling up over the first minutes. What a call reads again
 * within itself fits in 2 MiB, and pages it misses come from the operating system's cache, which all the processes
 * share. Measured: BENCHMARKS.md (scale, soak).
 */
const PAGE_CACHE_KIB = 2048;
/**
 * Frames of the write-ahead log at which a commit checkpoints it (SQLite's default is 1,000). That commit copies the
 * log's pages into the database file and waits for two disk syncs; under a steady stream of writes it is also the
 * only way the log starts over. At 1,000 frames that is every ~47 claims (a claim's p99 20–35× its median). At 8,000
 * it is an eighth as often and a page written again in between is copied once: in-process, the mean claim 0.9×
 * (0.69–0.98×), p95 down by a third to a half, p99 by a quarter to a third; the cost, a log file of up to 32 MiB, a
 * last close that takes 40–50 ms to checkpoint it, and one claim in ~370 waiting 30–55 ms. Rejected: 16,000 (64 MiB,
 * 50–130 ms waits, 0.8×); a worker thread checkpointing in the background, which gave the mean of a raised threshold
 * alone (the log still starts over only in a writer's commit) with more disk syncs, a slower median, and a thread in
 * every agent's process. BENCHMARKS.md, "The WAL checkpoint".
 */
const WAL_CHECKPOINT_FRAMES = 8000;
/** How long a checkpoint waits for another process's reader or writer before it settles for what it could copy. */
const CHECKPOINT_WAIT_MS = 100;
/**
 * The write-ahead log's index (the `-shm` file) starts with a header whose version and frame count SQLite documents
 * (https://www.sqlite.org/walformat.html, "The WAL-Index Header"): a u32 version at offset 0, 3007000 since SQLite
 * 3.7.0, and `mxFrame`, the log's last valid frame, a u32 at offset 16, both in the machine's byte order.
 */
const WAL_INDEX_VERSION = 3007000;
const WAL_INDEX_MAX_FRAME_OFFSET = 16;
const readU32 = endianness() === 'LE' ? (b: Buffer, offset: number) => b.readUInt32LE(offset) : (b: Buffer, offset: number) => b.readUInt32BE(offset);

/**
 * Checkpoints the write-ahead log after a commit that leaves it at WAL_CHECKPOINT_FRAMES or more, in RESTART mode,
 * instead of SQLite's automatic checkpoint (switched off). SQLite's is PASSIVE: it copies only what no process is
 * still reading, and the log starts over only when a writer finds it all copied with no reader in it — which, with
 * agent processes reading and writing all the time, may never happen: one process reading in a loop beside a writer
 * grew the log to 137 MiB, sixteen claiming to 190 MiB, and every commit past the threshold ran another checkpoint
 * with its two disk syncs (BENCHMARKS.md, "A log that never started over"). RESTART waits (briefly: a reader's call
 * lasts milliseconds) for the readers to move on, so that the next writer starts the log over; the file keeps its
 * size (writing over its blocks costs less than growing a file anew). The log's length is read off its index's
 * header, a 4-byte read; should that header ever not be the documented one, SQLite's own checkpoint stays on. A
 * checkpoint kept from finishing (a long export reading an old snapshot) is tried again once the log has grown by as
 * much again.
 */
/**
 * The `-shm` files this process's checkpointers read, by path, each opened once and kept open. Closing any
 * descriptor of a file drops every POSIX lock the process holds on that file, and SQLite keeps its WAL locks on the
 * `-shm` file: a store closing its descriptor would take them from every other connection of this process to the
 * same database (another store, a backup's copy), and another process could then restart the log under their reads.
 * SQLite itself holds such descriptors back until the file's last connection closes; a process here opens one or two
 * databases, so one descriptor each for the process's life costs nothing.
 *
 * But the file at a path is not always the same file: the last connection to close a database deletes its `-shm`,
 * and the next to open it makes a new one. A descriptor kept from before reads the deleted file's last header —
 * the log's length when it was closed, frozen: 30,000 frames after a bulk insert had every commit after a reopen
 * checkpoint (7× the claim's cost with 100,000 done tasks, on a disk that syncs for real), and a short one would have
 * let the log grow unchecked. So a checkpointer takes the descriptor only if it is the file now at the path, and
 * otherwise opens that one; the old one is closed once its file is deleted, when no connection can hold it any more.
 */
const walIndexes = new Map<string, number>();

/** A descriptor of the `-shm` file now at `path`, reusing the process's own when it is still that file. */
function walIndexAt(path: string): number {
  const kept = walIndexes.get(path);
  if (kept !== undefined) {
    const { ino, dev, nlink } = fstatSync(kept);
    const now = statSync(path);
    if (ino === now.ino && dev === now.dev) return kept;
    // Out of the map first: a number closed while still in it could be reused by another file and closed again.
    walIndexes.delete(path);
    // Another file in its place, not deleted, may still be another connection's: left open (a descriptor, not a lock).
    if (nlink === 0) closeSync(kept);
  }
  const index = openSync(path, 'r');
  walIndexes.set(path, index);
  return index;
}

class WalCheckpointer {
  private readonly header = Buffer.alloc(WAL_INDEX_MAX_FRAME_OFFSET + 4);
  private nextAtFrames = WAL_CHECKPOINT_FRAMES;
  private index: number | undefined;
  /** Set when the index's header is not the documented one: SQLite's own checkpoint is back on. */
  private sqliteCheckpoints = false;

  constructor(
    private readonly raw: BetterSqlite3.Database,
    private readonly indexPath: string,
  ) {
    raw.pragma('wal_autocheckpoint = 0');
  }

  /** Frames in the log, or undefined when its index cannot be read as documented. */
  private framesInLog(): number | undefined {
    try {
      // Checked once per store: while its connection is open, the file is not deleted.
      this.index ??= walIndexAt(this.indexPath);
      if (readSync(this.index, this.header, 0, this.header.length, 0) < this.header.length) return undefined;
    } catch {
      return undefined;
    }
    return readU32(this.header, 0) === WAL_INDEX_VERSION ? readU32(this.header, WAL_INDEX_MAX_FRAME_OFFSET) : undefined;
  }

  afterCommit(): void {
    if (this.sqliteCheckpoints) return;
    const frames = this.framesInLog();
    if (frames === undefined) {
      this.sqliteCheckpoints = true;
      this.raw.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_FRAMES}`);
      return;
    }
    if (frames < this.nextAtFrames) return;
    this.raw.pragma(`busy_timeout = ${CHECKPOINT_WAIT_MS}`);
    let finished = false;
    try {
      // A checkpoint that had to wait for a reader copies everything it can but then no longer waits for the readers
      // to leave the log; a second one, with nothing left to copy, waits for them (new readers read the database file).
      for (let attempt = 0; attempt < 2 && !finished; attempt++) {
        const [result] = this.raw.pragma('wal_checkpoint(RESTART)') as { busy: number }[];
        finished = result?.busy === 0;
      }
    } catch {
      // The commit stands whatever happens here; a checkpoint that failed (a full disk) is tried again later.
    } finally {
      this.nextAtFrames = (finished ? 0 : frames) + WAL_CHECKPOINT_FRAMES;
      this.raw.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }

}

/**
 * `PRAGMA application_id` of a team-table database ("TTab"), written in the file's header: how a file says it is
 * ours before anything in it is read or changed. Databases made before it existed carry 0 and are recognised by
 * their tables.
 */
export const APPLICATION_ID = 0x54546162;
/** Tables every team-table database has had since schema version 1. */
const OUR_TABLES = ['schema_version', 'teams', 'persistent_agents', 'team_tasks', 'team_events'];

/**
 * Kysely's SQLite driver opens transactions with a deferred `BEGIN`, which takes the write lock only at the first
 * write; two processes that both read first then deadlock on the upgrade and one gets SQLITE_BUSY at once, with no
 * busy-wait. `BEGIN IMMEDIATE` takes the lock up front, so a second writer waits on the busy timeout instead.
 *
 * SQLite itself rolls a transaction back on some errors (a full disk, an I/O error); Kysely's own rollback would
 * then fail with "cannot rollback - no transaction is active" and hide the cause, so it is skipped when SQLite has
 * already done it.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  constructor(
    config: ConstructorParameters<typeof SqliteDriver>[0],
    private readonly inTransaction: () => boolean,
    private readonly committed: () => void,
  ) {
    super(config);
  }
  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await super.commitTransaction(connection);
    this.committed();
  }
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (this.inTransaction()) await super.rollbackTransaction(connection);
  }
}

/**
 * Writes an integer LIMIT into the SQL text instead of binding it. This SQLite build (with STAT4) re-plans a
 * statement whose LIMIT is a bound parameter on every run: `… order by … limit ?` cost 5× `limit 1` (20 against 4 µs
 * for a one-row read off an index; 50–80 µs for claim_next's ready-queue reads). A LIMIT is one of a few values per
 * query, so the statement cache still holds each.
 */
class LiteralLimitCompiler extends SqliteQueryCompiler {
  protected override visitLimit(node: LimitNode): void {
    const { limit } = node;
    if (ValueNode.is(limit) && Number.isSafeInteger(limit.value)) this.append(`limit ${limit.value as number}`);
    else super.visitLimit(node);
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDialect>[0];
  readonly #inTransaction: () => boolean;
  readonly #committed: () => void;
  constructor(config: ConstructorParameters<typeof SqliteDialect>[0], inTransaction: () => boolean, committed: () => void) {
    super(config);
    this.#config = config;
    this.#inTransaction = inTransaction;
    this.#committed = committed;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config, this.#inTransaction, this.#committed);
  }
  override createQueryCompiler(): QueryCompiler {
    return new LiteralLimitCompiler();
  }
}

/**
 * better-sqlite3 compiles a statement on every `prepare`; Kysely prepares each query anew. A small cache keyed by
 * SQL text makes repeated use cases (claims, mailbox checks) skip the compile.
 */
function withStatementCache(raw: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Lru<string, BetterSqlite3.Statement>(STATEMENT_CACHE_SIZE);
  return {
    close: () => raw.close(),
    prepare: (text: string) => cache.use(text, () => raw.prepare(text)),
  };
}

/** A STORE_UNAVAILABLE error naming the file and the cause; `opening` says whether it happened while opening it. */
const unavailable = (path: string, why: string, cause: string, details: Record<string, unknown> = {}, opening = true) =>
  new TeamTableError('STORE_UNAVAILABLE', `${opening ? 'cannot open the database' : 'the database'} ${path}${opening ? '' : ' is unavailable'}: ${why}`, {
    location: path,
    cause,
    ...details,
  });

/** What an SQLite failure means to the person who has to fix it, by SQLite's primary result code. */
const CAUSES: [prefix: string, cause: string, why: string][] = [
  ['SQLITE_FULL', 'disk_full', 'database or disk is full; free space, then retry'],
  ['SQLITE_READONLY', 'read_only', 'the file is read-only for this process; make it writable, then retry'],
  ['SQLITE_CORRUPT', 'corrupt', 'the file is malformed (corrupt); restore it from a backup'],
  ['SQLITE_NOTADB', 'not_a_database', 'the file is malformed: it is not an SQLite database'],
  ['SQLITE_IOERR', 'io_error', 'disk I/O error'],
  ['SQLITE_CANTOPEN', 'cannot_open', 'unable to open database file'],
  ['SQLITE_PERM', 'permission', 'permission denied'],
  ['SQLITE_BUSY', 'busy', `another process held the write lock for ${BUSY_TIMEOUT_MS / 1000} s`],
  ['SQLITE_LOCKED', 'busy', 'the database is locked'],
];

/** A file system mounted read-only: SQLite says only that it cannot open the file (it cannot make the -shm and -wal files). */
const READ_ONLY_FILE_SYSTEM: (typeof CAUSES)[number] = ['', 'read_only', 'the file system holding it is read-only; remount it writable, then retry'];

/** Whether `path`'s folder is on a file system mounted read-only. */
function onReadOnlyFileSystem(path: string): boolean {
  try {
    accessSync(dirname(path), constants.W_OK);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EROFS';
  }
}

/** Whether the filesystem holding `path` has (next to) no space left. */
function diskIsFull(path: string): boolean {
  try {
    const fs = statfsSync(dirname(path));
    return fs.bavail * fs.bsize < 64 * 1024;
  } catch {
    return false;
  }
}

/** A storage failure as a STORE_UNAVAILABLE error naming the file and the cause; undefined for anything else. */
export function sqliteFailure(error: unknown, path: string, opening = false): TeamTableError | undefined {
  const code = (error as { code?: unknown })?.code;
  if (!(error instanceof BetterSqlite3.SqliteError) || typeof code !== 'string') return undefined;
  // SQLite reports a full disk as an I/O error where it fails to grow the shared-memory file (on open, mostly).
  const match =
    code.startsWith('SQLITE_IOERR') && diskIsFull(path)
      ? CAUSES[0]
      : /^SQLITE_(CANTOPEN|IOERR|READONLY)/.test(code) && onReadOnlyFileSystem(path)
        ? READ_ONLY_FILE_SYSTEM
        : CAUSES.find(([prefix]) => code === prefix || code.startsWith(`${prefix}_`));
  if (!match) return undefined;
  return unavailable(path, `${match[2]} (${error.message})`, match[1], { sqlite_code: code }, opening);
}

/**
 * Refuses, before anything in it changes, a file that is another application's SQLite database: ours carries our
 * application_id, or (made before it existed) our tables; an empty database becomes ours.
 */
function claimAsOurs(raw: BetterSqlite3.Database, path: string): void {
  const applicationId = raw.pragma('application_id', { simple: true }) as number;
  if (applicationId === APPLICATION_ID) return;
  const tables = raw.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\'").pluck().all() as string[];
  // A crash right after the first open can leave the version table alone, still empty.
  const fresh = tables.length === 0 || (tables.length === 1 && tables[0] === 'schema_version' && !raw.prepare('select 1 from schema_version').get());
  const previousVersion = OUR_TABLES.every((t) => tables.includes(t));
  if (applicationId === 0 && (fresh || previousVersion)) {
    raw.pragma(`application_id = ${APPLICATION_ID}`);
    return;
  }
  const whose = applicationId ? `its application_id is ${applicationId}` : `its tables are ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}`;
  throw unavailable(path, `it is another application's SQLite database (${whose}); nothing was changed — give --db a new file or a team-table database`, 'foreign_database');
}

/**
 * Opens the SQLite file at `path`, refusing what would lose or damage data: an empty path (SQLite's throw-away
 * temporary database, whose every write vanishes), a folder that does not exist (a typo must not give one agent a
 * team of its own), and a file that is another application's database.
 */
export function openSqlite(path: string): StoreDialect {
  if (path === '') {
    throw unavailable("''", 'no path was given (--db or TEAM_TABLE_DB is empty); an empty path would open a temporary database whose writes vanish', 'empty_path');
  }
  if (path !== ':memory:') {
    const folder = dirname(path);
    if (!existsSync(folder)) throw unavailable(path, `its folder ${folder} does not exist; create it, or check the path for a typo`, 'no_folder');
    if (existsSync(path) && statSync(path).isDirectory()) throw unavailable(path, 'it is a folder, not a file (unable to open database file)', 'cannot_open');
  }
  let raw: BetterSqlite3.Database | undefined;
  let checkpointer: WalCheckpointer | undefined;
  try {
    raw = new BetterSqlite3(path, { timeout: BUSY_TIMEOUT_MS });
    claimAsOurs(raw, path);
    raw.pragma('journal_mode = WAL');
    // NORMAL in WAL mode is durable across process crashes (kill -9); only a power loss can drop the last commits.
    raw.pragma('synchronous = NORMAL');
    raw.pragma('foreign_keys = ON');
    raw.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    checkpointer = path === ':memory:' ? undefined : new WalCheckpointer(raw, `${resolve(path)}-shm`);
  } catch (error) {
    raw?.close();
    throw sqliteFailure(error, path, true) ?? (error instanceof TeamTableError ? error : unavailable(path, (error as Error).message, 'cannot_open'));
  }
  const connection = raw;
  const statements = withStatementCache(connection);
  const db = new Kysely<Database>({
    dialect: new ImmediateSqliteDialect({ database: statements }, () => connection.inTransaction, () => checkpointer?.afterCommit()),
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
    // One writer at a time already (BEGIN IMMEDIATE): the rowid numbers the log in commit order.
    orderedLog: async () => {},
    serializeWrite: async () => {},
    sharedWrites: false,
    // SQLite has no statement time limit (only the busy timeout on the lock).
    untimed: async () => {},
    storeError: (error) => sqliteFailure(error, path),
    // What Kysely's SQLite connection does with a query, minus its promises. Synchronous: nothing can begin a
    // transaction on the connection between the check and the statement.
    runNow(query, inWrite) {
      if (!inWrite && connection.inTransaction) return undefined;
      const statement = statements.prepare(query.sql);
      if (statement.reader) return { rows: statement.all(query.parameters) };
      const { changes, lastInsertRowid } = statement.run(query.parameters);
      return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
    },
    // data_version changes whenever another connection commits to the file; this connection's own commits wake
    // the feed directly (Store.write). A pragma read costs about a microsecond, so polling it often is cheap.
    commits: { version: async () => connection.pragma('data_version', { simple: true }), pollMs: 25 },
    leases: sqliteLeases(db),
    async close() {
      await db.destroy();
    },
  };
}
