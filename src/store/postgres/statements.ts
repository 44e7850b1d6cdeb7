import type pg from 'pg';

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
 * PostgreSQL kept it, its estimate being cheap.
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
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || rest.length || LIMITED.test(text)) return unnamed(text, values, ...rest);
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
 * Sends a transaction's BEGIN with its first statement when that statement has no parameters (the write lock every
 * write takes first, `set local` in a migration): one round trip instead of two. PostgreSQL runs the two as one
 * simple query, in order, and answers once; a parameterized first statement cannot share it (the extended protocol
 * carries one statement), so BEGIN then goes alone, as before.
 */
export function beginWithFirstStatement(client: pg.PoolClient): void {
  const send = client.query.bind(client) as (...args: unknown[]) => Promise<pg.QueryResult | pg.QueryResult[]>;
  let beginPending = false;
  const query = async (text: unknown, values?: unknown, ...rest: unknown[]) => {
    if (text === 'begin' && !rest.length) {
      beginPending = true;
      return { command: 'BEGIN', rowCount: null, rows: [] };
    }
    if (!beginPending) return send(text, values, ...rest);
    beginPending = false;
    const parameterless = typeof text === 'string' && !(Array.isArray(values) && values.length) && !rest.length;
    if (!parameterless) {
      await send('begin');
      return send(text, values, ...rest);
    }
    const answers = await send(`begin; ${text}`);
    return Array.isArray(answers) ? answers[answers.length - 1] : answers;
  };
  client.query = query as typeof client.query;
}
