import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import { createQueryId } from 'kysely';
import { PLAN_ONCE } from '../store/dialect.js';
import type { DialectName } from '../store/dialect.js';
import { runCompiled, writeUnanswered } from '../store/store.js';
import type { Db } from '../store/store.js';

/** Where a parameter goes while a prepared query is compiled; each run puts that parameter's value in its place. */
class Slot {
  constructor(readonly name: string) {}
}

/**
 * A query built and compiled once per dialect, then run with each call's parameters. Kysely builds and compiles a
 * query anew on every execution, which costs a call several µs per statement; the statements every call runs (the
 * actor, the team's roles and rules, the events) and a claim's are prepared instead.
 *
 * `build` must give a query of the same shape whatever the parameters: each parameter is used as a value only (not
 * as a LIMIT or a condition on whether to add a clause). A query whose shape follows its parameters — the columns
 * an update sets, the length of an `in` list — names the shape with `shapeOf`, and is compiled once per shape; the
 * parameters' names must then say it too (`type0`, `type1` …), since they are its slots.
 *
 * `planOnce` says the query's best plan does not depend on its values although it has a LIMIT (`PLAN_ONCE`).
 *
 * @example
 *   const agentById = prepared((db, p: { id: string }) => db.selectFrom('persistent_agents').selectAll().where('id', '=', p.id));
 *   const [agent] = (await agentById(ctx, { id })).rows;
 */
export function prepared<P extends Record<string, unknown>, R>(
  build: (db: Db, params: P, dialect: DialectName) => Compilable<R>,
  shapeOf: (params: P) => string = () => '',
  { planOnce = false } = {},
) {
  const compiled = new Map<string, { query: CompiledQuery<R>; slots: (string | undefined)[] }>();
  /** The query with `params` in its slots, to run or to hand to the store (`sendWithCommit`, `writeUnanswered`). */
  const query = (target: { db: Db; dialect: DialectName }, params: P): CompiledQuery<R> => {
    const key = `${target.dialect}:${shapeOf(params)}`;
    let shape = compiled.get(key);
    if (!shape) {
      const slots = Object.fromEntries(Object.keys(params).map((name) => [name, new Slot(name)])) as unknown as P;
      const built = build(target.db, slots, target.dialect).compile();
      const query = planOnce ? { ...built, sql: PLAN_ONCE + built.sql } : built;
      shape = { query, slots: query.parameters.map((value) => (value instanceof Slot ? value.name : undefined)) };
      compiled.set(key, shape);
    }
    const { query, slots } = shape;
    const parameters = new Array<unknown>(slots.length);
    for (let i = 0; i < slots.length; i++) parameters[i] = slots[i] === undefined ? query.parameters[i] : params[slots[i]!];
    return { ...query, parameters, queryId: createQueryId() };
  };
  const run = async (target: { db: Db; dialect: DialectName }, params: P): Promise<QueryResult<R>> => runCompiled<R>(target.db, query(target, params));
  /** Runs a write whose answer nobody reads; on PostgreSQL it travels with the next statement (`writeUnanswered`). */
  const unanswered = (target: { db: Db; dialect: DialectName }, params: P): Promise<void> => writeUnanswered(target.db, query(target, params));
  return Object.assign(run, { query, unanswered });
}

/**
 * The parameters of an `in` list (non-empty), its last item repeated up to the next power of two: a list of any
 * length takes one of a few shapes, so its query is compiled (and, on PostgreSQL, prepared on the server) a few
 * times, not once per length.
 */
export function numberedSet<T>(prefix: string, items: readonly T[]): Record<string, T> {
  const size = 2 ** Math.ceil(Math.log2(items.length));
  const params: Record<string, T> = {};
  for (let i = 0; i < size; i++) params[`${prefix}${i}`] = items[Math.min(i, items.length - 1)]!;
  return params;
}
