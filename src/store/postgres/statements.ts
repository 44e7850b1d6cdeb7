import type { CompiledQuery } from 'kysely';
import pg from 'pg';
import { PLAN_ONCE } from '../dialect.js';

/** How many distinct statements a connection prepares by default (the `prepared_statements` URL parameter). */
export const DEFAULT_PREPARED_STATEMENTS = 200;

const LIMITED = /\blimit (\$\d|\d)/;

/** PostgreSQL's refusal to run a prepared statement whose result columns changed since it was prepared. */
export const STALE_PLAN = /cached plan must not change result type/;

/**
 * Sends `client`'s statements with parameters as server-side prepared statements, so PostgreSQL parses each once
 * per connection and, after five runs, plans it once (a generic plan) instead of on every run. Kysely sends every
 * query unnamed; on the bench machine a claim's statements without a LIMIT cost about 0.1 ms less each prepared
 * (0.17–0.38 against 0.25–0.50 ms; `bench/scenarios/pg-claim-cost.mjs`, BENCHMARKS.md's PostgreSQL section).
 *
 * Statements with a LIMIT stay unnamed, planned with their values on every run: a generic plan cannot know how
 * soon the LIMIT stops it. claim_next's read of the tasks assigned to an agent got, as a generic plan, a walk of
 * the whole task table's primary key (41 ms with 20,000 done tasks, against 0.15 ms planned with its values), and
 * PostgreSQL kept it, its estimate being cheap. Except a statement opened by `PLAN_ONCE`, whose conditions name the
 * index it reads in order: claim_next's read of its queue, which cost 1.5–2.5 ms of planning on every claim for
 * 0.1 ms of work.
 *
 * Bounded: the first `limit` distinct statements a connection runs are prepared and the rest run unnamed as
 * before, so the server's memory per connection stays bounded whatever SQL is built (an `in (…)` list of every
 * length is a statement of its own). A statement whose result columns changed under it (`select *` after a newer
 * version added a column) fails once with PostgreSQL's "cached plan must not change result type"; it is prepared
 * afresh under a new name at its next run.
 *
 * Statements without parameters (BEGIN, COMMIT, DDL) keep the simple protocol.
 */
export function prepareStatements(client: pg.PoolClient, limit: number): void {
  const names = new Map<string, string>();
  let prepared = 0;
  const unnamed = client.query.bind(client) as (...args: unknown[]) => Promise<pg.QueryResult>;
  const query = (text: unknown, values?: unknown, ...rest: unknown[]) => {
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || rest.length || (LIMITED.test(text) && !text.startsWith(PLAN_ONCE))) return unnamed(text, values, ...rest);
    let name = names.get(text);
    if (name === undefined) {
      if (prepared >= limit) return unnamed(text, values);
      name = `tt${prepared++}`;
      names.set(text, name);
    }
    return unnamed({ name, text, values }).catch((error: unknown) => {
      if (STALE_PLAN.test(String((error as Error | undefined)?.message))) names.delete(text);
      throw error;
    });
  };
  client.query = query as typeof client.query;
}

/**
 * A transaction's BEGIN as the store sends it: its commit does not wait for the WAL flush (see `commitInGroups`).
 * Local to the transaction, so reads and sessions keep the server's setting.
 */
const BEGIN = 'begin; set local synchronous_commit = off';
/**
 * Waits until the WAL is flushed past everything committed before it: an autocommit statement that writes a WAL
 * record (a transactional logical message, which takes a transaction id), so that its commit is synchronous and
 * PostgreSQL answers only once the WAL is flushed past its commit record, hence past every commit before it. A
 * statement that only takes an id (`select pg_current_xact_id()`) would not do: a transaction that wrote no WAL before
 * its commit record commits without waiting for the flush (xact.c, RecordTransactionCommit), and 198 of 200 such
 * answers came before the flush. Logical decoding, where it runs, sees these messages, empty, under the prefix
 * `team-table`.
 */
export const FLUSH = "select pg_logical_emit_message(true, 'team-table', '')";
/**
 * A transaction's COMMIT as the store sends it: the commit, then the flush, in one round trip. The flush runs in a
 * transaction of its own (the rest of the query after a COMMIT), untimed like the commit it waits for: PostgreSQL
 * does not time a commit's flush, and a write that lifted the limit for itself (a migration, `StoreDialect.untimed`)
 * must not fail past its commit for a limit shorter than a statement takes on a busy machine.
 */
const COMMIT = `commit; set local statement_timeout = 0; ${FLUSH}`;

/**
 * Marks a statement the connection holds back and sends in the round trip of its transaction's next statement or its
 * COMMIT (`held`).
 */
const HELD = '/* held */ ';

/**
 * A value written into SQL text (the commit's round trip is a simple query, which carries no parameters), or
 * undefined for one that cannot be: a string with a NUL would end the query's text there.
 */
function literal(value: unknown): string | undefined {
  if (value === null) return 'null';
  // Quoted as a parameter is untyped: its column or its context types it (`-5` is not left to read as `--5`).
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return `'${value}'`;
  if (typeof value === 'string' && !value.includes('\0')) return pg.escapeLiteral(value);
  return undefined;
}

/**
 * Kysely's compiled `sql` with its `$n` parameters written in as literals (`pg.escapeLiteral`, as libpq's
 * PQescapeLiteral), for a simple query, which carries no parameters; undefined when one cannot be written so. A `$n`
 * inside a quoted literal or identifier stays as it is (claim_next writes a role's task types into its SQL).
 */
function inlined(sql: string, parameters: readonly unknown[]): string | undefined {
  const literals = parameters.map(literal);
  if (literals.includes(undefined)) return undefined;
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\$(\d+)/g, (match, n: string | undefined) => (n === undefined ? match : literals[Number(n) - 1]!));
}

/**
 * `query` as the text that, run on a connection `commitInGroups` wraps, is held back and sent in the round trip of
 * the transaction's next statement or its COMMIT, its parameters written in as literals; undefined when a parameter
 * cannot be written so (the query then runs on its own, as any).
 */
export function held(query: CompiledQuery): string | undefined {
  const text = inlined(query.sql, query.parameters);
  return text === undefined ? undefined : HELD + text;
}

/**
 * Lets transactions share the flushes of their commits (group commit), in the round trips they took before.
 *
 * Every write holds a lock to its commit — the event log's numbering lock, the write lock — and a synchronous commit
 * holds it through its WAL flush (an fdatasync, 0.2–4 ms on the bench machine): writes then commit one flush after
 * another, each alone, however many run side by side. So each transaction commits without waiting for the flush
 * (`synchronous_commit = off`, sent with its BEGIN), which releases its locks as soon as its commit record is in the
 * WAL buffers, and the same round trip as the COMMIT then waits for a flush past it: the connection's answer, hence
 * the caller's, still leaves only once the write is durable, and commits waiting at once share one flush. Between
 * the two, other connections may already see the write (docs/postgres.md, "What PostgreSQL does for each
 * guarantee", says what that allows, and how the event feed keeps to durable events).
 *
 * Also sends the BEGIN with the transaction's first statement when that statement has no parameters (the write lock
 * every write takes first, `set local` in a migration): one round trip instead of two. PostgreSQL runs them as one
 * simple query, in order, and answers once; a parameterized first statement cannot share it (the extended protocol
 * carries one statement), so BEGIN then goes alone. A multi-statement query's COMMIT ends its transaction, and what
 * follows runs in one of its own.
 *
 * And a statement marked `held` — a write whose answer nobody reads — is answered at once, empty, and sent in
 * the round trip of the transaction's next statement, in one simple query with it and before it, that statement's
 * values then written in as literals (one that cannot be goes on its own, after the held ones); or in the COMMIT's,
 * before it. A write's events go with the COMMIT, so that their insert's numbering lock is held from the insert to
 * the commit inside PostgreSQL, with no round trip to a busy node process in between. A ROLLBACK drops them.
 */
export function commitInGroups(client: pg.PoolClient): void {
  const send = client.query.bind(client) as (...args: unknown[]) => Promise<pg.QueryResult | pg.QueryResult[]>;
  const last = (answers: pg.QueryResult | pg.QueryResult[]) => (Array.isArray(answers) ? answers[answers.length - 1]! : answers);
  let beginPending = false;
  let waiting: string[] = [];
  /** Sends `texts` as one simple query, after the BEGIN if it is still to be sent; answers with the last's result. */
  const together = async (texts: string[]) => {
    const opening = beginPending;
    beginPending = false;
    return last(await send([...(opening ? [BEGIN] : []), ...texts].join('; ')));
  };
  const query = async (text: unknown, values?: unknown, ...rest: unknown[]) => {
    const parameterless = typeof text === 'string' && !(Array.isArray(values) && values.length) && !rest.length;
    if (text === 'begin' && parameterless) {
      beginPending = true;
      return { command: 'BEGIN', rowCount: null, rows: [] };
    }
    if (parameterless && text.startsWith(HELD)) {
      waiting.push(text);
      // Not an answer PostgreSQL gave: Kysely reads an affected-row count from INSERT, UPDATE and DELETE only.
      return { command: 'HELD', rowCount: null, rows: [] };
    }
    const before = waiting;
    waiting = [];
    if (text === 'rollback' && parameterless) {
      // What was held is dropped; a transaction that sent nothing has nothing to roll back.
      if (!beginPending) return send(text);
      beginPending = false;
      return { command: 'ROLLBACK', rowCount: null, rows: [] };
    }
    if (text === 'commit' && parameterless) {
      // A transaction that sent nothing has nothing to commit (its BEGIN must not be left for the connection's next
      // query); one whose only statements were held back opens with them.
      if (beginPending && !before.length) {
        beginPending = false;
        return { command: 'COMMIT', rowCount: null, rows: [] };
      }
      return together([...before, COMMIT]);
    }
    if (before.length) {
      const inline = typeof text === 'string' && !rest.length ? (parameterless ? text : inlined(text, values as unknown[])) : undefined;
      if (inline !== undefined) return together([...before, inline]);
      await together(before);
    }
    if (!beginPending) return send(text, values, ...rest);
    if (!parameterless) {
      await together([]);
      return send(text, values, ...rest);
    }
    return together([text as string]);
  };
  client.query = query as typeof client.query;
}
