#!/usr/bin/env node
// Claim storm on PostgreSQL: a backlog of BACKLOG inbox tasks drained by 1, 4 and 16 concurrent claimers, in one
// run on the same database (BENCH_PG, else TEAM_TABLE_TEST_PG; each variant its own fresh schema):
//   - team-table: claim_next through the core in this process (a pool of 20), each claimer an agent of its own,
//     looping until the answer is task null. The whole call: validation, the shared write lock, the SKIP LOCKED
//     read, the claim's writes and events, rules and notification routing.
//   - bare SKIP LOCKED: one statement per claim on a pg pool, `UPDATE team_tasks … WHERE id = (SELECT id …
//     ORDER BY priority, created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id`: the floor of a claim.
//   - graphile-worker: its own worker draining as many jobs with a task that does nothing (its claim, its
//     completion), concurrency 1, 4, 16; migrations outside the timing.
// team-table's claimers first drain BENCH_CLAIM_WARMUP (default 1,000) tasks of a team of their own, untimed (reported
// apart as the cold rate): a connection's first runs of a statement plan it with its values before PostgreSQL keeps one
// plan, and V8 compiles the claim's code, so a drain of a thousand tasks from cold measures mostly that.
// team-table's drains with the fewest and the most claimers run ROUNDS times (BENCH_CLAIM_ROUNDS, default 3; the
// order reversed in turn), and the goals take medians: one claimer's rate moves up to 2× from run to run with the
// time a WAL flush takes on this kind of machine, which alone decided the side of the scaling goal.
// Each drain is checked: every task (job) taken exactly once. During team-table's drains, pg_stat_activity of its
// connections is sampled every 10 ms: how many, on average, wait on a lock (the log's numbering lock is `advisory`),
// on node to send their next statement (`idle in transaction`), on the WAL flush, or run.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { ROOT, describeMachine, fmt, passFail, printTable, quantile, runIfMain, writeResult } from '../lib.mjs';

export const name = 'pg-claim-storm';
const URL_BASE = process.env.BENCH_PG ?? process.env.TEAM_TABLE_TEST_PG;
const BACKLOG = Number(process.env.BENCH_CLAIM_BACKLOG) || 1_000;
const COUNTS = (process.env.BENCH_CLAIM_PROCESSES ?? '1,4,16').split(',').map(Number);
const WARMUP = Number(process.env.BENCH_CLAIM_WARMUP ?? 1_000);
const ROUNDS = Math.max(1, Math.floor(Number(process.env.BENCH_CLAIM_ROUNDS)) || 3);
const GOALS = { scaling: 3, vsGraphile: 1.5, vsBare: 0.8 };
const OWNER = { kind: 'owner', name: 'bench' };
const load = (...path) => import(pathToFileURL(join(ROOT, 'dist', ...path)).href);

const schemaName = (what) => `bench_${what}_${randomBytes(4).toString('hex')}`;
const urlFor = (schema, pool) => {
  const url = new URL(URL_BASE);
  url.searchParams.set('schema', schema);
  url.searchParams.set('pool_size', String(pool));
  return url.toString();
};

async function dropSchemas(schemas) {
  const admin = new pg.Client({ connectionString: URL_BASE });
  await admin.connect();
  for (const schema of schemas) await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
}

/** A team of `agents` agents named `${prefix}1…` with `size` inbox tasks, inserted with SQL in one transaction. */
async function teamWithBacklog(store, core, name, prefix, agents, size) {
  const team = await core.call(OWNER, 'team_manage', { action: 'create', name });
  for (let k = 1; k <= agents; k++) await core.call(OWNER, 'team_agent', { action: 'create', team_id: team.id, name: `${prefix}${k}` });
  const base = Date.now() - size - 60_000;
  const at = (i) => new Date(base + i).toISOString();
  const rows = Array.from({ length: size }, (_, i) => ({
    id: `${prefix}${String(i).padStart(7, '0')}`,
    team_id: team.id,
    title: `t${i}`,
    status: 'inbox',
    priority: 1 + (i % 5),
    created_by: OWNER.name,
    created_at: at(i),
    updated_at: at(i),
  }));
  await store.write(async (tx) => {
    for (let i = 0; i < rows.length; i += 1_000) await tx.insertInto('team_tasks').values(rows.slice(i, i + 1_000)).execute();
  });
  return team.id;
}

/** A fresh team-table schema with the backlog's team (agents a1…) and, when warming up, the warm-up's (w1…). */
async function backlogDatabase(Store, Core, agents) {
  const schema = schemaName('tt');
  const store = await Store.open(urlFor(schema, 20));
  const core = new Core(store);
  const teamId = await teamWithBacklog(store, core, 'Bench', 'a', agents, BACKLOG);
  const warmupTeamId = WARMUP ? await teamWithBacklog(store, core, 'Warmup', 'w', agents, WARMUP) : undefined;
  return { schema, store, core, teamId, warmupTeamId };
}

/**
 * Runs `claimers` loops of `claim` (resolving to an id, or undefined when none is left); returns claims/s and whether
 * each of the `size` tasks was taken exactly once.
 */
async function drain(claimers, claim, size = BACKLOG) {
  const taken = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: claimers }, async (_, k) => {
      for (;;) {
        const id = await claim(k);
        if (id === undefined) return;
        taken.push(id);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { rate: taken.length / seconds, exactlyOnce: taken.length === size && new Set(taken).size === size };
}

/** Samples what `schema`'s connections are doing until `stop` is called; resolves to the mean count per state. */
function sampleBackends(schema) {
  const client = new pg.Client({ connectionString: URL_BASE });
  const counts = new Map();
  let samples = 0;
  let sampling = true;
  const done = (async () => {
    await client.connect();
    while (sampling) {
      const { rows } = await client.query(
        `select state || coalesce(' ' || wait_event_type || ':' || wait_event, '') as what from pg_stat_activity where application_name = $1`,
        [`team-table/${schema}`],
      );
      samples++;
      for (const { what } of rows) counts.set(what, (counts.get(what) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await client.end();
    return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).map(([what, n]) => [what, Number((n / samples).toFixed(1))]));
  })();
  return () => ((sampling = false), done);
}

async function teamTable(Store, Core, claimers) {
  const { schema, store, core, teamId, warmupTeamId } = await backlogDatabase(Store, Core, claimers);
  const claimFrom = (team, prefix) => async (k) => (await core.call({ kind: 'agent', id: `${prefix}${k + 1}` }, 'team_task', { action: 'claim_next', team_id: team })).task?.id;
  try {
    const cold = warmupTeamId ? (await drain(claimers, claimFrom(warmupTeamId, 'w'), WARMUP)).rate : undefined;
    const stop = sampleBackends(schema);
    const result = await drain(claimers, claimFrom(teamId, 'a'));
    const backends = await stop();
    const events = await store.db.selectFrom('team_events').select((eb) => eb.fn.countAll().as('n')).where('type', '=', 'task_claimed').where('team_id', '=', teamId).executeTakeFirstOrThrow();
    return { ...result, exactlyOnce: result.exactlyOnce && Number(events.n) === BACKLOG, schema, backends, cold };
  } finally {
    await store.close();
  }
}

async function bare(Store, Core, claimers) {
  const { schema, store, teamId, warmupTeamId } = await backlogDatabase(Store, Core, claimers);
  await store.close();
  const pool = new pg.Pool({ connectionString: URL_BASE, max: claimers, options: `-c search_path=${schema}` });
  const claimFrom = (team, prefix) => async (k) => {
    const { rows } = await pool.query(
      `update team_tasks set status = 'in_progress', claimed_by = $1, version = version + 1
       where id = (select id from team_tasks where team_id = $2 and status = 'inbox' and claimed_by = ''
                   order by priority, created_at, id limit 1 for update skip locked)
       returning id`,
      [`${prefix}${k + 1}`, team],
    );
    return rows[0]?.id;
  };
  try {
    const cold = warmupTeamId ? (await drain(claimers, claimFrom(warmupTeamId, 'w'), WARMUP)).rate : undefined;
    const result = await drain(claimers, claimFrom(teamId, 'a'));
    return { ...result, schema, cold };
  } finally {
    await pool.end();
  }
}

async function graphile(claimers) {
  const { makeWorkerUtils, run, runMigrations } = await import('graphile-worker');
  const schema = schemaName('gw');
  const options = { connectionString: URL_BASE, schema, logger: quietLogger(await import('graphile-worker')) };
  await runMigrations(options);
  const utils = await makeWorkerUtils(options);
  // Its own SQL API, in one statement: add_job once per job.
  await utils.withPgClient((client) => client.query(`select ${schema}.add_job('claim', json_build_object('i', g)) from generate_series(0, $1 - 1) g`, [BACKLOG]));
  await utils.release();
  const seen = [];
  let finished;
  const done = new Promise((resolve) => (finished = resolve));
  const started = performance.now();
  const runner = await run({
    ...options,
    concurrency: claimers,
    noHandleSignals: true,
    pollInterval: 1_000,
    taskList: {
      claim: async (payload) => {
        seen.push(payload.i);
      },
    },
  });
  runner.events.on('job:complete', () => {
    if (seen.length === BACKLOG) finished();
  });
  await done;
  const seconds = (performance.now() - started) / 1000;
  await runner.stop();
  return { rate: BACKLOG / seconds, exactlyOnce: new Set(seen).size === BACKLOG && seen.length === BACKLOG, schema };
}

const quietLogger = ({ Logger }) => new Logger(() => () => {});

export async function run() {
  if (!URL_BASE) {
    console.log('pg-claim-storm: skipped (set BENCH_PG or TEAM_TABLE_TEST_PG to a PostgreSQL URL)');
    return;
  }
  const { Store } = await load('store', 'store.js');
  const { Core } = await load('core', 'core.js');
  console.log(`pg-claim-storm: ${BACKLOG} tasks, claimers ${COUNTS.join('/')}, on ${new URL(URL_BASE).host}; ${describeMachine()}`);
  const variants = { 'team-table claim_next (core)': teamTable, 'bare SKIP LOCKED statement': bare, 'graphile-worker': (_s, _c, n) => graphile(n) };
  const results = {};
  const schemas = [];
  for (const claimers of COUNTS) {
    for (const [variant, measure] of Object.entries(variants)) {
      const result = await measure(Store, Core, claimers);
      schemas.push(result.schema);
      (results[variant] ??= {})[claimers] = result;
    }
  }
  const most = Math.max(...COUNTS);
  const least = Math.min(...COUNTS);
  const ours = results['team-table claim_next (core)'];
  const rounds = [{ [least]: ours[least].rate, [most]: ours[most].rate }];
  for (let round = 2; round <= ROUNDS; round++) {
    const order = round % 2 === 0 ? [most, least] : [least, most];
    const rates = {};
    for (const claimers of order) {
      const result = await teamTable(Store, Core, claimers);
      schemas.push(result.schema);
      if (!result.exactlyOnce) ours[claimers].exactlyOnce = false;
      rates[claimers] = result.rate;
    }
    rounds.push(rates);
  }
  await dropSchemas(schemas);
  const rows = [];
  for (const [variant, byCount] of Object.entries(results)) {
    for (const claimers of COUNTS) {
      const r = byCount[claimers];
      rows.push([variant, claimers, r.rate, r.cold === undefined ? '–' : r.cold, fmt(ours[claimers].rate / r.rate, 2), passFail(r.exactlyOnce)]);
    }
  }
  printTable(`claims/s on PostgreSQL (after ${WARMUP} claims of warm-up; graphile-worker from its start)`, ['variant', 'claimers', 'claims/s', 'warm-up claims/s', 'team-table ÷ this', 'exactly once'], rows);
  console.log("\nteam-table's connections during its drains, how many on average in each state (wait):");
  for (const claimers of COUNTS) {
    const states = Object.entries(ours[claimers].backends).filter(([, n]) => n >= 0.1);
    console.log(`  ${claimers} claimers: ${states.map(([what, n]) => `${what} ${n}`).join('; ')}`);
  }
  const median = (values) => quantile(values, 0.5);
  const roundScalings = rounds.map((rates) => rates[most] / rates[least]);
  const oursAtMost = median(rounds.map((rates) => rates[most]));
  console.log(`\nteam-table's rounds, claims/s at ${least} / ${most} claimers: ${rounds.map((rates) => `${fmt(rates[least], 0)} / ${fmt(rates[most], 0)}`).join(', ')}`);
  const goals = {
    scaling: median(roundScalings),
    vsGraphile: oursAtMost / results['graphile-worker'][most].rate,
    vsBare: oursAtMost / results['bare SKIP LOCKED statement'][most].rate,
  };
  console.log(`\n  team-table ${most} ÷ ${least} claimers: ${fmt(goals.scaling, 2)} (median of rounds ${roundScalings.map((r) => fmt(r, 2)).join(', ')}; goal ≥ ${GOALS.scaling}) ${passFail(goals.scaling >= GOALS.scaling)}`);
  console.log(`  team-table (median of rounds) ÷ graphile-worker at ${most}: ${fmt(goals.vsGraphile, 2)} (goal ≥ ${GOALS.vsGraphile}) ${passFail(goals.vsGraphile >= GOALS.vsGraphile)}`);
  console.log(`  team-table (median of rounds) ÷ bare SKIP LOCKED at ${most}: ${fmt(goals.vsBare, 2)} (goal ≥ ${GOALS.vsBare}) ${passFail(goals.vsBare >= GOALS.vsBare)}`);
  const file = writeResult(name, { backlog: BACKLOG, results, rounds, goals });
  console.log(`  → ${file}`);
}

runIfMain(import.meta.url, run);
