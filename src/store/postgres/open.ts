import { Kysely, PostgresDialect, sql } from 'kysely';
import type { CompiledQuery } from 'kysely';
import pg from 'pg';
import { TeamTableError } from '../../core/errors.js';
import type { StoreDialect } from '../dialect.js';
import type { Database } from '../schema.js';
import { postgresCommits } from './commits.js';
import { postgresLeases } from './leases.js';
import { postgresRateLimits } from './rateLimits.js';
import { DEFAULT_PREPARED_STATEMENTS, STALE_PLAN, commitInGroups, held, prepareStatements } from './statements.js';

const DEFAULT_POOL_SIZE = 10;
const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
/** How long opening a connection may take before the database counts as unreachable. */
const CONNECT_TIMEOUT_MS = 10_000;
const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** What the URL says, with our own query parameters taken out of what pg sees. */
export interface PostgresTarget {
  /** The URL pg connects with (no password shown anywhere else). */
  connectionString: string;
  /** host:port/database, for messages. */
  label: string;
  schema: string;
  poolSize: number;
  statementTimeoutMs: number;
  /** Distinct statements each connection prepares on the server (0: none, for a pooler that cannot keep them). */
  preparedStatements: number;
}

/**
 * Reads `postgres://user@host:port/db?pool_size=10&statement_timeout=30000&schema=public&prepared_statements=200`.
 * The four parameters are ours: the pool's size, the longest a statement may run (ms), the schema that holds the
 * tables (made on open), and how many statements each connection prepares on the server.
 */
export function parseTarget(location: string): PostgresTarget {
  const url = new URL(location);
  const take = (name: string) => {
    const value = url.searchParams.get(name);
    url.searchParams.delete(name);
    return value;
  };
  const whole = (name: string, fallback: number, least = 1) => {
    const value = take(name);
    if (value === null) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < least) throw unavailableAt(`${url.hostname}`, `${name} must be a whole number of at least ${least}, not '${value}'`, 'bad_url');
    return n;
  };
  const poolSize = whole('pool_size', DEFAULT_POOL_SIZE);
  const statementTimeoutMs = whole('statement_timeout', DEFAULT_STATEMENT_TIMEOUT_MS);
  const preparedStatements = whole('prepared_statements', DEFAULT_PREPARED_STATEMENTS, 0);
  const schema = take('schema') ?? 'public';
  // At most 51 characters: the commit notifications' channel, `<schema>.team_events`, must fit PostgreSQL's 63.
  if (!/^[a-z_][a-z0-9_]{0,50}$/.test(schema)) throw unavailableAt(url.hostname, `schema must be a lower-case SQL name of at most 51 characters, not '${schema}'`, 'bad_url');
  const label = `${url.hostname}:${url.port || 5432}${url.pathname}`;
  return { connectionString: url.toString(), label, schema, poolSize, statementTimeoutMs, preparedStatements };
}

const unavailableAt = (label: string, why: string, cause: string, details: Record<string, unknown> = {}) =>
  new TeamTableError('STORE_UNAVAILABLE', `the PostgreSQL database ${label} is unavailable: ${why}`, { location: label, cause, ...details });

/** SQLSTATE classes and codes that say the database, not the request, is at fault. */
const CAUSES: [prefix: string, cause: string, why: string][] = [
  ['08', 'unreachable', 'the connection failed'],
  ['57P', 'unreachable', 'the server is shutting down or restarting'],
  ['53', 'resources', 'the server is out of resources (disk, memory or connections)'],
  ['25006', 'read_only', 'the database is read-only (a standby?)'],
  ['57014', 'timeout', 'a statement ran past statement_timeout'],
  ['3D000', 'no_database', 'the database does not exist; create it (createdb), then retry'],
  ['28', 'auth', 'authentication failed'],
];
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** A failure of the database itself (unreachable, restarting, full) as STORE_UNAVAILABLE naming it; else undefined. */
export function postgresFailure(error: unknown, label: string): TeamTableError | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: string };
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return unavailableAt(label, `cannot reach it (${code}); is PostgreSQL running there?`, 'unreachable', { pg_code: code });
  const text = message ?? String(error);
  if (STALE_PLAN.test(text)) return unavailableAt(label, `a newer team-table changed the schema under a prepared statement (${text}); retry`, 'schema_changed');
  if (/Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed/i.test(text)) {
    return unavailableAt(label, `cannot reach it (${text})`, 'unreachable');
  }
  if (typeof code !== 'string') return undefined;
  const match = CAUSES.find(([prefix]) => code.startsWith(prefix));
  return match && unavailableAt(label, `${match[2]} (${text})`, match[1], { pg_code: code });
}

/** Keys of the transaction-scoped advisory locks that stand in for SQLite's one writer, per schema. */
export const WRITE_LOCK = 1;

/**
 * Opens a pool on the PostgreSQL database at `location` (nothing connects until the first query). bigint columns
 * (the event sequence, counts) come back as numbers, as they do from SQLite: sequences stay far below 2^53.
 */
export function openPostgres(location: string): StoreDialect {
  const target = parseTarget(location);
  const parse = (oid: number, format?: any) => (oid === INT8_OID || oid === NUMERIC_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format));
  const clientConfig: pg.ClientConfig = {
    connectionString: target.connectionString,
    statement_timeout: target.statementTimeoutMs,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    // Names the deployment in pg_stat_activity (and lets an operator, or a test, find its connections).
    application_name: `team-table/${target.schema}`,
    // Quoted: a schema may be named like a keyword (`order`, `user`). Standard strings: values written into SQL as
    // literals (a role's task types, held writes) are escaped for them, a backslash being no escape there.
    options: `-c search_path="${target.schema}" -c standard_conforming_strings=on`,
    types: { getTypeParser: parse as typeof pg.types.getTypeParser },
  };
  const pool = new pg.Pool({ ...clientConfig, max: target.poolSize });
  // A connection that dies while idle (a restart, pg_terminate_backend) is dropped by the pool; the next query
  // opens a fresh one, so a replica recovers without a restart.
  pool.on('error', () => {});
  // A checked-out connection that dies between statements emits an error too: the statement waiting on it fails,
  // and the pool drops it on release; unheard, the event would end the process.
  const heard = new WeakSet<pg.PoolClient>();
  let schemaReady: Promise<void> | undefined;
  const ensureSchema = async (connection: pg.PoolClient) => {
    // The schema is made once per process, before the first query (the default 'public' always exists).
    if (target.schema === 'public') return;
    // Untimed, as the migrations are: making it is part of opening, whatever limit the calls keep (under load a
    // short one cancelled it). Replicas starting together race even on "if not exists": losing that race means the
    // schema is there.
    await connection.query(`begin; set local statement_timeout = 0; create schema if not exists "${target.schema}"; commit`).catch(async (error) => {
      await connection.query('rollback').catch(() => {});
      if ((error as { code?: string }).code !== '23505') throw error;
    });
  };
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: {
        async connect() {
          const connection = await pool.connect();
          if (!heard.has(connection)) {
            heard.add(connection);
            connection.on('error', () => {});
            commitInGroups(connection, target.preparedStatements ? prepareStatements(connection, target.preparedStatements) : undefined);
          }
          try {
            schemaReady ??= ensureSchema(connection).catch((error) => {
              schemaReady = undefined;
              throw error;
            });
            await schemaReady;
          } catch (error) {
            connection.release(true);
            throw error;
          }
          return connection;
        },
        end: () => pool.end(),
      },
    }),
  });
  const commits = postgresCommits(db, clientConfig, target.schema);
  const leases = postgresLeases(clientConfig, target.schema);
  const lockKey = sql`hashtext(current_schema())`;
  /** Sends `query`, a write whose answer nobody reads, held for the next statement's round trip (`held`). */
  const holdWrite = async (tx: Kysely<any>, query: CompiledQuery) => {
    await tx.executeQuery(held(query) ?? query);
  };
  return {
    name: 'postgres',
    db,
    sequenceType: 'bigint',
    async appendOnly(target, table) {
      await sql
        .raw(
          `create function ${table}_append_only() returns trigger language plpgsql as $$ begin ` +
            `raise exception '% is append-only: % refused', tg_table_name, lower(tg_op) using errcode = 'P0001'; end $$`,
        )
        .execute(target);
      await sql.raw(`create trigger ${table}_no_change before update or delete on ${table} for each row execute function ${table}_append_only()`).execute(target);
      await sql.raw(`create trigger ${table}_no_truncate before truncate on ${table} for each statement execute function ${table}_append_only()`).execute(target);
    },
    async orderedLog(target, table, column) {
      // A number is taken under a lock held to commit, so numbers commit in order: a reader that has seen n never
      // sees a smaller one appear later (concurrent claims would otherwise commit 11 before 10). Rows given a
      // number (an import into an empty log) keep it, and the sequence moves past it.
      await sql.raw(`create sequence ${table}_${column}_seq owned by ${table}.${column}`).execute(target);
      await sql
        .raw(
          `create function ${table}_number() returns trigger language plpgsql as $$ begin
             perform pg_advisory_xact_lock(hashtext(tg_table_schema), hashtext(tg_table_name));
             if new.${column} is null then new.${column} := nextval('${table}_${column}_seq');
             else perform setval('${table}_${column}_seq', greatest(new.${column}, (select last_value from ${table}_${column}_seq)));
             end if;
             return new; end $$`,
        )
        .execute(target);
      await sql.raw(`create trigger ${table}_numbered before insert on ${table} for each row execute function ${table}_number()`).execute(target);
      // After commit, once per transaction (identical notifications coalesce): a hint for the feeds of every replica.
      await sql
        .raw(`create function ${table}_notify() returns trigger language plpgsql as $$ begin perform pg_notify(tg_table_schema || '.${table}', ''); return null; end $$`)
        .execute(target);
      await sql.raw(`create trigger ${table}_notify after insert on ${table} for each statement execute function ${table}_notify()`).execute(target);
    },
    async untimed(tx) {
      await sql`set local statement_timeout = 0`.execute(tx);
    },
    async serializeWrite(tx, mode, byKey) {
      // Held, its answer unread: it travels with the transaction's BEGIN and its next statement, in one round trip,
      // and runs before that statement (commitInGroups): no round trip of its own. A write that reads by
      // key (a claim) reads by index wherever one serves, local to its transaction: the plan PostgreSQL keeps for a
      // claim's queue read was made for the tables' sizes of that moment, and made while the assignees were a page it
      // scanned them all for every assigned task once thousands had arrived (1.3 s a claim with 5,000). Not every
      // write: one reading a table no index serves would only be slower for it.
      const lock = sql`select ${sql.raw(mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock')}(${lockKey}, ${sql.lit(WRITE_LOCK)})`;
      await holdWrite(tx, (byKey ? sql`set local enable_seqscan = off; ${lock}` : lock).compile(tx));
    },
    sharedWrites: true,
    holdWrite,
    storeError: (error) => postgresFailure(error, target.label),
    commits,
    leases,
    rateLimits: postgresRateLimits(db),
    async close() {
      await commits.close?.();
      await leases.close?.();
      await db.destroy();
    },
  };
}
