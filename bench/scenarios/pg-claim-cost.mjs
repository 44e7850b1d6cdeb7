#!/usr/bin/env node
// What one claim_next costs on PostgreSQL (BENCH_PG, else TEAM_TABLE_TEST_PG), statement by statement:
//   - round trips (simple queries and extended-protocol syncs on the wire) and Parse messages per claim, counted
//     on pg's connection over 40 claims, with prepared_statements=0 and with the default;
//   - one claim's statements, captured and rolled back, replayed inside BEGIN … ROLLBACK (no commit flush, so the
//     disk does not blur it) on one connection sending them unnamed and one preparing them as the store does; blocks
//     of 100 replays alternating, median of the blocks;
//   - BEGIN and the write lock as two round trips, and as one.
// The claim storm (pg-claim-storm) measures throughput; this says where a claim's time goes.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { ROOT, describeMachine, fmt, printTable, quantile, runIfMain, writeResult } from '../lib.mjs';

export const name = 'pg-claim-cost';
const URL_BASE = process.env.BENCH_PG ?? process.env.TEAM_TABLE_TEST_PG;
const BLOCKS = Number(process.env.BENCH_BLOCKS) || 8;
const REPLAYS = 100;
const OWNER = { kind: 'owner', name: 'bench' };
const AGENT = { kind: 'agent', id: 'a1' };
const load = (...path) => import(pathToFileURL(join(ROOT, 'dist', ...path)).href);

/** Counts what claims send on the wire while `work` runs. */
async function onTheWire(work) {
  const wire = pg.Connection.prototype;
  const counts = { trips: 0, parses: 0 };
  const originals = { query: wire.query, sync: wire.sync, parse: wire.parse };
  wire.query = function (...args) {
    counts.trips++;
    return originals.query.apply(this, args);
  };
  wire.sync = function (...args) {
    counts.trips++;
    return originals.sync.apply(this, args);
  };
  wire.parse = function (...args) {
    counts.parses++;
    return originals.parse.apply(this, args);
  };
  try {
    await work();
  } finally {
    Object.assign(wire, originals);
  }
  return counts;
}

async function openTeam(Store, Core, schema, prepared) {
  const url = new URL(URL_BASE);
  url.searchParams.set('schema', schema);
  url.searchParams.set('pool_size', '1');
  if (prepared !== undefined) url.searchParams.set('prepared_statements', String(prepared));
  const store = await Store.open(url.toString());
  const core = new Core(store);
  const team = await core.call(OWNER, 'team_manage', { action: 'create', name: 'Bench' });
  await core.call(OWNER, 'team_agent', { action: 'create', name: 'a1' });
  for (let i = 0; i < 80; i++) await core.call(OWNER, 'team_task', { action: 'create', team_id: team.id, title: `t${i}` });
  const claim = () => core.call(AGENT, 'team_task', { action: 'claim_next', team_id: team.id });
  for (let i = 0; i < 10; i++) await claim();
  return { store, claim };
}

/** One claim's statements with their values, captured on the wire as Bind messages and rolled back. */
async function captureClaim(claim) {
  const wire = pg.Connection.prototype;
  const originals = { query: wire.query, bind: wire.bind };
  const statements = [];
  wire.query = function (text) {
    // The store's COMMIT travels with its flush (`commit; select …`), after the write's events if it has any.
    const commit = text.search(/(^|; )commit; /);
    if (commit !== 0) statements.push({ text: commit < 0 ? text : text.slice(0, commit) });
    // Rolled back, so the replays find the same rows.
    return originals.query.call(this, commit < 0 ? text : 'rollback');
  };
  wire.bind = function (message) {
    statements.push({ text: this.parsedStatements[message.statement] ?? this.lastParsed, values: message.values });
    return originals.bind.call(this, message);
  };
  const parse = wire.parse;
  wire.parse = function (message) {
    this.lastParsed = message.text;
    return parse.call(this, message);
  };
  try {
    await claim().catch(() => {});
  } finally {
    Object.assign(wire, originals, { parse });
  }
  return statements.filter((s) => s.text && !/^begin\b/.test(s.text) && !s.text.includes('pg_advisory_xact_lock'));
}

async function replayCost(schema, statements, { prepareStatements, commitInGroups }) {
  const connect = async () => {
    const client = new pg.Client({ connectionString: URL_BASE, options: `-c search_path=${schema}` });
    await client.connect();
    return client;
  };
  const unnamed = await connect();
  const prepared = await connect();
  prepareStatements(prepared, 200);
  const folded = await connect();
  commitInGroups(folded);
  // Each statement's times, per connection: which statements preparing helps.
  const times = new Map([unnamed, prepared].map((client) => [client, []]));
  const replay = async (client) => {
    await client.query('begin');
    for (const [i, s] of statements.entries()) {
      const started = performance.now();
      await client.query(s.text, s.values);
      (times.get(client)[i] ??= []).push(performance.now() - started);
    }
    await client.query('rollback');
  };
  const lock = 'select pg_advisory_xact_lock_shared(hashtext(current_schema()), 1)';
  const variants = {
    'claim statements, unnamed': () => replay(unnamed),
    'claim statements, prepared as the store does': () => replay(prepared),
    'BEGIN, write lock, ROLLBACK: three round trips': async () => {
      await unnamed.query('begin');
      await unnamed.query(lock);
      await unnamed.query('rollback');
    },
    'BEGIN with the write lock, ROLLBACK: two': async () => {
      await folded.query('begin');
      await folded.query(lock);
      await folded.query('rollback');
    },
  };
  const blocks = Object.fromEntries(Object.keys(variants).map((v) => [v, []]));
  for (let i = 0; i < 10; i++) for (const run of Object.values(variants)) await run();
  for (let b = 0; b < BLOCKS; b++) {
    for (const [variant, run] of Object.entries(variants)) {
      const started = performance.now();
      for (let i = 0; i < REPLAYS; i++) await run();
      blocks[variant].push((performance.now() - started) / REPLAYS);
    }
  }
  for (const client of [unnamed, prepared, folded]) await client.end();
  const median = (client, i) => quantile(times.get(client)[i], 0.5);
  return {
    ms: Object.fromEntries(Object.entries(blocks).map(([variant, ms]) => [variant, quantile(ms, 0.5)])),
    perStatement: statements.map((s, i) => ({ sql: s.text.replace(/\s+/g, ' '), unnamed: median(unnamed, i), prepared: median(prepared, i) })),
  };
}

export async function run() {
  if (!URL_BASE) {
    console.log('pg-claim-cost: skipped (set BENCH_PG or TEAM_TABLE_TEST_PG to a PostgreSQL URL)');
    return;
  }
  const { Store } = await load('store', 'store.js');
  const { Core } = await load('core', 'core.js');
  const statementsModule = await load('store', 'postgres', 'statements.js');
  console.log(`pg-claim-cost: on ${new URL(URL_BASE).host}; ${describeMachine()}`);
  const schemas = [];
  const wire = {};
  let replayed;
  for (const prepared of [0, undefined]) {
    const schema = `bench_cost_${randomBytes(4).toString('hex')}`;
    schemas.push(schema);
    const { store, claim } = await openTeam(Store, Core, schema, prepared);
    const claims = 40;
    const counts = await onTheWire(async () => {
      for (let i = 0; i < claims; i++) await claim();
    });
    wire[prepared === 0 ? 'prepared_statements=0' : 'default'] = { trips: counts.trips / claims, parses: counts.parses / claims };
    if (prepared === 0) {
      const statements = await captureClaim(claim);
      replayed = { statements: statements.length, ...(await replayCost(schema, statements, statementsModule)) };
    }
    await store.close();
  }
  printTable('one claim_next on the wire (per claim, 40 claims)', ['store', 'round trips', 'Parse messages'], Object.entries(wire).map(([k, v]) => [k, v.trips, v.parses]));
  printTable(
    `replayed in BEGIN … ROLLBACK, median of ${BLOCKS} blocks of ${REPLAYS} (${replayed.statements} statements of one claim)`,
    ['variant', 'ms', 'ms a statement'],
    Object.entries(replayed.ms).map(([k, ms]) => [k, ms, k.startsWith('claim') ? fmt(ms / (replayed.statements + 2), 3) : '']),
  );
  printTable(
    'each statement replayed: median ms',
    ['statement', 'unnamed', 'prepared'],
    replayed.perStatement.map((s) => [s.sql.slice(0, 70), fmt(s.unnamed, 3), fmt(s.prepared, 3)]),
  );
  const admin = new pg.Client({ connectionString: URL_BASE });
  await admin.connect();
  for (const schema of schemas) await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
  const file = writeResult(name, { wire, replayed });
  console.log(`  → ${file}`);
}

runIfMain(import.meta.url, run);
