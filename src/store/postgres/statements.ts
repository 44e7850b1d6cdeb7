import type { CompiledQuery } from 'kysely';
import { createHash } from 'node:crypto';
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
 * length is a statement of its own). The bound (the function answered takes one of its places) counts the statements
 * `commitInGroups` PREPAREs in SQL too, which PostgreSQL keeps beside these. A statement whose
 * result columns changed under it (`select *` after a newer version added a column) fails once with PostgreSQL's
 * "cached plan must not change result type"; it is prepared afresh under a new name at its next run.
 *
 * Statements without parameters (BEGIN, COMMIT, DDL) keep the simple protocol.
 */
export function prepareStatements(client: pg.PoolClient, limit: number): TakePlace {
  const names = new Map<string, string>();
  let prepared = 0;
  const takePlace = () => {
    if (prepared >= limit) return false;
    prepared++;
    return true;
  };
  const unnamed = client.query.bind(client) as (...args: unknown[]) => Promise<pg.QueryResult>;
  const query = (text: unknown, values?: unknown, ...rest: unknown[]) => {
    if (typeof text !== 'string' || !Array.isArray(values) || !preparable(text, values) || rest.length) return unnamed(text, values, ...rest);
    let name = names.get(text);
    if (name === undefined) {
      if (!takePlace()) return unnamed(text, values);
      names.set(text, (name = `tt${prepared - 1}`));
    }
    return unnamed({ name, text, values }).catch((error: unknown) => {
      if (STALE_PLAN.test(String((error as Error | undefined)?.message))) names.delete(text);
      throw error;
    });
  };
  client.query = query as typeof client.query;
  return takePlace;
}

/**
 * Takes one of the places of a connection's bound on prepared statements; false when none is left. A statement
 * PREPAREd in SQL (`commitInGroups`) and one prepared by the extended protocol count alike.
 */
export type TakePlace = () => boolean;

/**
 * The name a statement PREPAREd in SQL goes by: its text's digest (and how many times it was prepared afresh on the
 * connection), never a connection's own count. Behind a pooler in transaction mode (which keeps SQL's PREPAREs with
 * the server's connection, not the client's) a name met on another client's connection then names the same text:
 * an EXECUTE runs the statement meant, or fails for want of it — never another statement with these values.
 */
const sqlName = (text: string, afresh: number) => `tx${afresh}_${createHash('sha1').update(text).digest('hex')}`;

/** Whether a statement is worth preparing: one with parameters, and with a LIMIT only if opened by `PLAN_ONCE`. */
const preparable = (text: string, values: readonly unknown[]) => values.length > 0 && (!LIMITED.test(text) || text.startsWith(PLAN_ONCE));

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
 * A value written into SQL text, as an EXECUTE's argument or in place of its parameter (a simple query carries no
 * parameters), or undefined for one that cannot be: a string with a NUL would end the query's text there.
 */
function literal(value: unknown): string | undefined {
  if (value === null) return 'null';
  // Quoted as a parameter is untyped: its column or its context types it (`-5` is not left to read as `--5`).
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return `'${value}'`;
  if (typeof value === 'string' && !value.includes('\0')) return pg.escapeLiteral(value);
  return undefined;
}

/**
 * Kysely's compiled `sql` with its `$n` parameters replaced by `literals`, for a simple query, which carries no
 * parameters. A `$n` inside a quoted literal or identifier stays as it is (claim_next writes a role's task types
 * into its SQL).
 */
function inlined(sql: string, literals: readonly string[]): string {
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\$(\d+)/g, (match, n: string | undefined) => (n === undefined ? match : literals[Number(n) - 1]!));
}

/** `values` written as literals (`literal`), or undefined when one cannot be. */
function literals(values: readonly unknown[]): string[] | undefined {
  const written = values.map(literal);
  return written.includes(undefined) ? undefined : (written as string[]);
}

/**
 * `query` marked to be held back, on a connection `commitInGroups` wraps, and sent in the round trip of the
 * transaction's next statement or its COMMIT; undefined when a parameter cannot be written as a literal (the query
 * then runs on its own, as any).
 */
export function held(query: CompiledQuery): CompiledQuery | undefined {
  return literals(query.parameters) && { ...query, sql: HELD + query.sql };
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
 * Also sends the BEGIN with the transaction's first statement when that statement has no parameters (`set local` in
 * a migration; the write lock every write takes first is held, below, and goes with the statement after it): one
 * round trip instead of two. PostgreSQL runs them as one
 * simple query, in order, and answers once; a parameterized first statement cannot share it (the extended protocol
 * carries one statement), so BEGIN then goes alone. A multi-statement query's COMMIT ends its transaction, and what
 * follows runs in one of its own.
 *
 * And a statement marked `held` — a write whose answer nobody reads — is answered at once, empty, and sent in
 * the round trip of the transaction's next statement, in one simple query with it and before it (a next statement
 * whose values cannot be written as literals goes on its own, after the held ones); or in the COMMIT's, before it.
 * A write's events go with the COMMIT, so that their insert's numbering lock is held from the insert to the commit
 * inside PostgreSQL, with no round trip to a busy node process in between. A ROLLBACK drops them.
 *
 * In such a query each statement with parameters runs as `execute <name>(<its values as literals>)` of a statement
 * prepared on the connection, the query that first carries it PREPAREing it before (`prepare <name> as <its SQL>`,
 * the name its text's digest, `sqlName`):
 * written into the text, PostgreSQL parsed, analyzed and planned each of them on every claim (18% of its CPU in a
 * 16-claimer drain); so it spends 10–20% less CPU a claim. A literal is untyped and takes the type PREPARE inferred
 * for its parameter, as a bound value does. A statement past `prepareStatements`' bound, or with a LIMIT (unless
 * opened by `PLAN_ONCE`), has its values written in instead, as does one first met in a query longer than
 * `PREPARING_AT_MOST` bytes, and one whose PREPARE PostgreSQL refused for want of a parameter's type (that call
 * fails; the next write it in). A query opening its transaction sends its PREPAREs alone first (`prepareAlone`):
 * with nothing open yet, a refusal there fails nothing.
 *
 * A PREPARE lasts for the session, whatever becomes of the transaction it ran in, but one in a query that failed
 * may have run before the failure or not: the next query that needs it asks pg_prepared_statements first. An
 * EXECUTE whose statement's result columns changed under it fails as in `prepareStatements`, and the query's
 * statements are prepared afresh under new names. Session-level, these statements do not survive a pooler in
 * transaction mode: PgBouncer keeps protocol-level prepared statements since 1.21, not SQL's PREPARE
 * (`prepared_statements=0` there; without it, calls fail, for the names say the text, rather than write amiss).
 */
export function commitInGroups(client: pg.PoolClient, takePlace?: TakePlace): void {
  const send = client.query.bind(client) as (...args: unknown[]) => Promise<pg.QueryResult | pg.QueryResult[]>;
  const last = (answers: pg.QueryResult | pg.QueryResult[]) => (Array.isArray(answers) ? answers[answers.length - 1]! : answers);
  let beginPending = false;
  let waiting: Statement[] = [];
  /**
   * The statements this connection runs by EXECUTE, by text: `prepared` once the query carrying its PREPARE succeeded,
   * false while that PREPARE is yet to be sent, undefined when its query failed (the PREPARE may have run before the
   * failure, or not: the next query that needs it first asks pg_prepared_statements).
   */
  const executed = new Map<string, Executed>();
  /** How many times a statement was prepared afresh, its result columns having changed under it (by text). */
  const afresh = new Map<string, number>();
  /** Statements whose PREPARE PostgreSQL refused, unable to type a parameter without its value: written with it. */
  const literalOnly = new Set<string>();
  /** The name `text` is PREPAREd under on this connection now. */
  const nameOf = (text: string) => sqlName(text, afresh.get(text) ?? 0);
  /** `text` is never PREPAREd again on this connection: PostgreSQL cannot type one of its parameters without its value. */
  const writeIn = (text: string) => {
    executed.delete(text);
    literalOnly.add(text);
  };
  /**
   * `statement` in a query's text: an EXECUTE of it, after its PREPARE if the query is to carry that (`preparing`
   * given: the statements the query PREPAREs); else its values written in.
   */
  const written = ({ text, args }: Statement, preparing?: Executed[]) => {
    if (!args.length) return text;
    let statement = executed.get(text);
    if (!statement && preparing && takePlace && preparable(text, args) && !literalOnly.has(text) && takePlace()) {
      executed.set(text, (statement = { name: nameOf(text), prepared: false }));
    }
    if (!statement) return inlined(text, args);
    const execute = `execute ${statement.name}(${args.join(', ')})`;
    if (statement.prepared || preparing?.includes(statement)) return execute;
    if (!preparing) return inlined(text, args);
    preparing.push(statement);
    return `prepare ${statement.name} as ${text}; ${execute}`;
  };
  /**
   * PREPAREs, each in a query of its own, what a query opening a transaction would PREPARE in it: no transaction is
   * open yet, so a PREPARE PostgreSQL refuses (a parameter it cannot type without its value) fails nothing, and the
   * statement is written with its values from then on. A statement's first run costs a round trip more.
   */
  const prepareAlone = async (statements: Statement[]) => {
    for (const { text, args } of statements) {
      if (!args.length || literalOnly.has(text) || !takePlace || !preparable(text, args)) continue;
      // Known to the connection, or known not to be (a failed query's PREPARE, asked since): PREPAREd alone too.
      let statement = executed.get(text);
      if (statement?.prepared) continue;
      if (!statement) {
        const name = nameOf(text);
        if (Buffer.byteLength(`prepare ${name} as ${text}`) > PREPARING_AT_MOST || !takePlace()) continue;
        executed.set(text, (statement = { name, prepared: false }));
      }
      try {
        await send(`prepare ${statement.name} as ${text}`);
        statement.prepared = true;
      } catch (error) {
        const code = (error as { code?: unknown } | undefined)?.code;
        if (code === UNTYPED_PARAMETER || code === AMBIGUOUS_PARAMETER) writeIn(text);
        else if (code === STATEMENT_EXISTS) {
          // There already: its name says its text (a pooler's server connection, where another client prepared it).
          statement.prepared = true;
        }
        // Anything else (a timeout, a lost connection) is left to the query itself, which PREPAREs it inside, as it
        // did before: its failure then fails the transaction, and nothing runs outside it.
      }
    }
  };
  /** Sends `statements` as one simple query, after the BEGIN if it is still to be sent; answers with the last's result. */
  const together = async (statements: Statement[]) => {
    const opening = beginPending;
    beginPending = false;
    const unknown = statements.flatMap(({ text }) => executed.get(text) ?? []).filter((statement) => statement.prepared === undefined);
    if (unknown.length) {
      const { rows } = (await send(`select name from pg_prepared_statements where name in (${unknown.map(({ name }) => `'${name}'`).join(', ')})`)) as pg.QueryResult;
      for (const statement of unknown) statement.prepared = rows.some((row) => row.name === statement.name);
    }
    if (opening) await prepareAlone(statements);
    const render = (preparing?: Executed[]) => [...(opening ? [BEGIN] : []), ...statements.map((statement) => written(statement, preparing))].join('; ');
    let preparing: Executed[] = [];
    let query = render(preparing);
    if (preparing.length && Buffer.byteLength(query) > PREPARING_AT_MOST) {
      preparing = [];
      query = render();
    }
    try {
      const answers = await send(query);
      for (const statement of preparing) statement.prepared = true;
      return last(answers);
    } catch (error) {
      const code = (error as { code?: unknown } | undefined)?.code;
      for (const statement of preparing) statement.prepared = undefined;
      if (STALE_PLAN.test(String((error as Error | undefined)?.message))) {
        for (const { text } of statements) if (executed.delete(text)) afresh.set(text, (afresh.get(text) ?? 0) + 1);
      } else if (code === UNKNOWN_STATEMENT || code === STATEMENT_EXISTS) {
        // What the connection holds is not what was believed (a DEALLOCATE, a pooler's other server connection): the
        // next query asks it again, and PREPAREs what is missing.
        for (const { text } of statements) {
          const statement = executed.get(text);
          if (statement) statement.prepared = undefined;
        }
      } else if (code === UNTYPED_PARAMETER || code === AMBIGUOUS_PARAMETER) {
        // One of those it PREPAREd needs its values to type a parameter (`select $1 is null`): which, PostgreSQL does
        // not say, so none of them is prepared again.
        for (const { text } of statements) {
          const statement = executed.get(text);
          if (statement && preparing.includes(statement)) writeIn(text);
        }
      }
      throw error;
    }
  };
  const query = async (text: unknown, values?: unknown, ...rest: unknown[]) => {
    const parameterless = typeof text === 'string' && !(Array.isArray(values) && values.length) && !rest.length;
    if (text === 'begin' && parameterless) {
      beginPending = true;
      return { command: 'BEGIN', rowCount: null, rows: [] };
    }
    if (typeof text === 'string' && text.startsWith(HELD) && !rest.length) {
      // `held` marks only statements whose values can be written as literals.
      waiting.push(writable(text.slice(HELD.length), values)!);
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
      return together([...before, { text: COMMIT, args: [] }]);
    }
    if (before.length) {
      const next = typeof text === 'string' && !rest.length ? writable(text, values) : undefined;
      if (next) return together([...before, next]);
      await together(before);
    }
    if (!beginPending) return send(text, values, ...rest);
    if (!parameterless) {
      await together([]);
      return send(text, values, ...rest);
    }
    return together([{ text: text as string, args: [] }]);
  };
  client.query = query as typeof client.query;
}

/** PostgreSQL's errors of an EXECUTE or a PREPARE that `commitInGroups` recovers from at the next query. */
const UNKNOWN_STATEMENT = '26000';
const STATEMENT_EXISTS = '42P05';
const UNTYPED_PARAMETER = '42P18';
const AMBIGUOUS_PARAMETER = '42P08';

/**
 * The longest simple query that PREPAREs a statement: PostgreSQL keeps the whole text of the query a PREPARE came in
 * (pg_prepared_statements shows it) for as long as the statement, so a longer one writes its values in this time.
 */
const PREPARING_AT_MOST = 8_192;

/** A statement as Kysely compiled it, `$n` parameters, and their values written as literals (once). */
interface Statement {
  text: string;
  args: readonly string[];
}

/** `text` with `values` as a Statement, or undefined when a value cannot be written as a literal. */
function writable(text: string, values: unknown): Statement | undefined {
  const args = literals(Array.isArray(values) ? values : []);
  return args && { text, args };
}

/** A statement run by EXECUTE on a connection (see `commitInGroups`). */
interface Executed {
  name: string;
  prepared: boolean | undefined;
}
