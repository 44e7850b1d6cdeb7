#!/usr/bin/env node
// Claim storm: atomic task claims under contention, and what a claim costs as done work piles up.
//
// 1. Drains a backlog of BACKLOG inbox tasks with 1, 4 and 16 agents, each its own `team-table serve --agent aN`
//    process driven by an SDK client from this process (each client's loop sequential, the loops concurrent),
//    calling team_task(action='claim_next') until it answers task null. Startup and connect are outside the
//    timing, and so is each server's warm-up: first every server claims WARMUP_CLAIMS tasks of their own (older,
//    priority 1, so the queue gives them out first), timed apart as the cold rate. A server's first claims run in
//    V8's interpreter and baseline code while its compiler catches up: 1.9 ms of server CPU a claim for its first
//    400, 1.4 for the next 400, 0.7 after 3,000 (BENCHMARKS.md), so a cold drain of 10,000 claims shared by
//    sixteen servers measures mostly their warm-up, not the write lock. Afterwards the database and the answers
//    are checked: every task claimed exactly once. The drains run in ROUNDS rounds (every count in the first, the
//    fewest and the most processes in the others, in turn reversed); the scaling goal is the median of the rounds'
//    ratios.
// 2. Baseline, same run, same kind of database: a bare better-sqlite3 claim loop (BEGIN IMMEDIATE; SELECT the
//    best inbox task; UPDATE it; COMMIT) in 1, 4 and 16 processes (bench/fixtures/bare-claimer.mjs).
// 3. The plan SQLite chooses for claim_next's read of the inbox (EXPLAIN QUERY PLAN of the built `inboxHead` query).
// 4. claim_next through the core in-process (no MCP), median over FLAT_CLAIMS claims after FLAT_WARMUPS (V8 has
//    optimized a claim's code by then; the first claims of a process cost twice as much), with FLAT_READY ready
//    tasks plus 0, 10k and 100k done tasks, the three databases measured in rotating blocks; beside it, in blocks
//    alternating with it on the same file, the bare conditional claim (the bare-claimer's BEGIN IMMEDIATE; SELECT;
//    UPDATE; COMMIT through better-sqlite3).
// Each variant gets a fresh temp database; the backlog is inserted with SQL in one transaction, not via MCP.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import Database from 'better-sqlite3';
import { BENCH_DIR, CLI, ROOT, describeMachine, fmt, runIfMain, passFail, printTable, stats, writeResult } from '../lib.mjs';

export const name = 'claim-storm';
const BACKLOG = Number(process.env.BENCH_CLAIM_BACKLOG) || 10_000;
const PROCESS_COUNTS = (process.env.BENCH_CLAIM_PROCESSES ?? '1,4,16').split(',').map(Number);
const GOAL_SCALING = 0.85; // team-table claims/s with 16 processes ÷ with 1, each server warmed up
// Per server, before the timed drain. At 1,000 the sixteen servers were still compiling their claim code through
// the timed drain (each takes ~600 of its claims): V8's optimizing compiler and unoptimized code 5× what they are
// after 3,000, the cores 80% busy against 65%, and the 16 ÷ 1 ratio 0.82× against 1.02× (BENCHMARKS.md).
const WARMUP_CLAIMS = Number(process.env.BENCH_CLAIM_WARMUP ?? 3_000);
// The team-table drains run this many rounds, each over every process count (in turn forwards and backwards), and
// the scaling goal takes the median of the rounds' ratios: one drain's rate moved by ±10% from run to run here.
const ROUNDS = Math.max(1, Math.floor(Number(process.env.BENCH_CLAIM_ROUNDS)) || 3);
const FLAT_READY = 2_000;
const FLAT_DONE = [0, 10_000, 100_000];
const FLAT_CLAIMS = 400;
const FLAT_WARMUPS = 500; // with the bare claims beside them, 1,800 of the FLAT_READY tasks are taken
const GOAL_FLAT = 1.5; // median claim with 100k done ÷ with 0 done
const GOAL_CLAIM_MS = 0.3; // median claim_next in-process, 0 done tasks
const FLAT_BLOCK = 20; // claims per block; core and bare blocks alternate
const BARE_CLAIMER = join(BENCH_DIR, 'fixtures', 'bare-claimer.mjs');
const DIST = join(ROOT, 'dist');
const OWNER = { kind: 'owner', name: 'bench' };
const INSERT_BATCH = 1_000; // rows per INSERT: 18 columns × 1000 stays under SQLite's 32766 variables

// The build under test, loaded by loadBuild() from a private copy of dist/ (see there).
let Store, Core, Ctx, claims, SERVE_CLI;

/**
 * Copies dist/ (with package.json beside it, which dist/version.js reads, and a node_modules link) to a temp
 * directory and loads the core from there; the servers run from there too. The scenario takes minutes and
 * dist/ may be rebuilt meanwhile (`npm test` builds first): without the copy, servers started after a rebuild
 * would run another build than the bench process, against a database the old build migrated.
 */
async function loadBuild() {
  const dir = mkdtempSync(join(tmpdir(), 'tt-bench-build-'));
  cpSync(DIST, join(dir, 'dist'), { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const load = (...path) => import(pathToFileURL(join(dir, 'dist', ...path)).href);
  ({ Store } = await load('store', 'store.js'));
  ({ Core } = await load('core', 'core.js'));
  ({ Ctx } = await load('core', 'context.js'));
  claims = await load('core', 'claims.js');
  SERVE_CLI = join(dir, 'dist', 'cli', 'main.js');
  const { MIGRATIONS } = await load('store', 'migrations', 'index.js');
  return { dir, copied_at: new Date().toISOString(), dist_mtime: statSync(join(DIST, 'cli', 'main.js')).mtime.toISOString(), migrations: MIGRATIONS.map((m) => `${m.version}_${m.name}`) };
}

const freshDir = () => mkdtempSync(join(tmpdir(), 'tt-bench-'));

/**
 * Busy and total jiffies of the whole machine (Linux /proc/stat), to report how busy all cores were during a
 * timed section: other work on the machine shows up as more than this scenario's own processes can explain.
 */
function cpuTimes() {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    const idle = fields[3] + (fields[4] ?? 0);
    const total = fields.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}
const busyPercent = (a, b) => (a && b && b.total > a.total ? (100 * (b.busy - a.busy)) / (b.total - a.total) : null);

/** Unique random 8-hex ids, like the core's newId(). */
function newIds(n, taken = new Set()) {
  const ids = [];
  while (ids.length < n) {
    const id = randomBytes(4).toString('hex');
    if (taken.has(id)) continue;
    taken.add(id);
    ids.push(id);
  }
  return ids;
}

/**
 * A fresh database in `dir` with team Bench, agents a1..aN (created through the core, as the owner), `ready`
 * inbox tasks and `done` done tasks inserted with SQL in one transaction. Priorities cycle 1..5; created_at
 * increases by 1 ms per task, the done tasks being the older ones. Returns { db, teamId, readyIds }.
 */
async function makeDb(dir, { agents, ready, done = 0, warmup = 0 }) {
  const db = join(dir, 'team.db');
  const store = await Store.open(db);
  try {
    const core = new Core(store);
    const team = await core.call(OWNER, 'team_manage', { action: 'create', name: 'Bench' });
    for (let k = 1; k <= agents; k++) await core.call(OWNER, 'team_agent', { action: 'create', name: `a${k}` });
    const taken = new Set();
    const doneIds = newIds(done, taken);
    const warmupIds = newIds(warmup, taken);
    const readyIds = newIds(ready, taken);
    const base = Date.now() - (done + warmup + ready) - 60_000;
    const at = (i) => new Date(base + i).toISOString();
    const row = (id, i, status) => ({
      id,
      team_id: team.id,
      title: `t${i}`,
      description: '',
      status,
      priority: 1 + (i % 5),
      created_by: OWNER.name,
      created_at: at(i),
      updated_at: at(i),
      completed_at: status === 'done' ? at(i) : '',
      blocked_reason: '',
      blocked_from: '',
      version: 1,
      reviewer: '',
      parent_id: '',
      task_type: '',
      claimed_by: '',
      lease_expires_at: '',
    });
    const rows = [
      ...doneIds.map((id, i) => row(id, i, 'done')),
      ...warmupIds.map((id, i) => ({ ...row(id, done + i, 'inbox'), priority: 1 })),
      ...readyIds.map((id, i) => row(id, done + warmup + i, 'inbox')),
    ];
    await store.write(async (tx) => {
      for (let i = 0; i < rows.length; i += INSERT_BATCH) await tx.insertInto('team_tasks').values(rows.slice(i, i + INSERT_BATCH)).execute();
    });
    return { db, teamId: team.id, readyIds };
  } finally {
    await store.close();
  }
}

/**
 * Checks a drain against the database: each backlog task in_progress with one claimed_by, equal to the agent
 * whose answer returned it; no id returned twice; the answers add up to the backlog; for team-table, at most one
 * task_claimed event per task. `claims` maps agent id → the ids its claims returned.
 */
function verify(dbPath, readyIds, claims, { events }) {
  const raw = new Database(dbPath, { readonly: true });
  try {
    const returnedTo = new Map(); // id → agents it was returned to (one entry per claim)
    for (const [agent, ids] of claims) for (const id of ids) returnedTo.set(id, [...(returnedTo.get(id) ?? []), agent]);
    const rows = new Map(raw.prepare("SELECT id, status, claimed_by FROM team_tasks WHERE status != 'done'").all().map((r) => [r.id, r]));
    const double = new Set([...returnedTo].filter(([, agents]) => agents.length > 1).map(([id]) => id));
    if (events) {
      const twice = raw.prepare("SELECT related_id FROM team_events WHERE type = 'task_claimed' GROUP BY related_id HAVING count(*) > 1").all();
      for (const { related_id } of twice) double.add(related_id);
    }
    const backlog = new Set(readyIds);
    const unclaimed = new Set();
    const mismatched = new Set();
    for (const id of readyIds) {
      const row = rows.get(id);
      if (!row || row.status !== 'in_progress' || row.claimed_by === '' || !returnedTo.has(id)) unclaimed.add(id);
      else if (!returnedTo.get(id).includes(row.claimed_by)) mismatched.add(id);
    }
    const returned = [...claims.values()].reduce((n, ids) => n + ids.length, 0);
    return {
      returned_claims: returned,
      claims_add_up: returned === readyIds.length,
      double_claims: double.size,
      unclaimed: unclaimed.size,
      holder_mismatch: mismatched.size,
      foreign_rows: [...rows.keys()].filter((id) => !backlog.has(id)).length,
      ok: returned === readyIds.length && double.size === 0 && unclaimed.size === 0 && mismatched.size === 0,
    };
  } finally {
    raw.close();
  }
}

/** Bare SQL: `processes` forked bare-claimers, released together once all are ready. */
async function drainBare(processes) {
  const dir = freshDir();
  try {
    const { db, teamId, readyIds } = await makeDb(dir, { agents: processes, ready: BACKLOG });
    const children = [];
    for (let k = 1; k <= processes; k++) {
      const child = fork(BARE_CLAIMER, [db, teamId, `a${k}`], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const ready = new Promise((resolve, reject) => {
        child.once('error', reject);
        child.on('message', (m) => m.ready && resolve());
        child.once('exit', (code) => reject(new Error(`bare-claimer a${k} exited with ${code} before it was ready`)));
      });
      const done = new Promise((resolve, reject) => {
        child.on('message', (m) => m.done && resolve(m));
        child.once('exit', (code) => code !== 0 && reject(new Error(`bare-claimer a${k} exited with ${code}`)));
      });
      done.catch(() => {}); // observed below; avoid an unhandled rejection while waiting for `ready`
      children.push({ agent: `a${k}`, child, ready, done });
    }
    await Promise.all(children.map((c) => c.ready));
    const cpu0 = cpuTimes();
    const t0 = performance.now();
    for (const c of children) c.child.send('go');
    const results = await Promise.all(children.map((c) => c.done));
    const wallMs = performance.now() - t0;
    const machineBusy = busyPercent(cpu0, cpuTimes());
    await Promise.all(children.map((c) => (c.child.exitCode === null ? new Promise((r) => c.child.once('exit', r)) : null)));
    const claims = new Map(children.map((c, i) => [c.agent, results[i].ids]));
    const errors = results.flatMap((r) => r.errors);
    return { ...summarize('bare', processes, wallMs, claims, errors, verify(db, readyIds, claims, { events: false })), machine_busy_percent: machineBusy };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** team-table: `processes` servers, one per agent, each driven by an SDK client; all connected before timing. */
async function drainTeamTable(processes) {
  const dir = freshDir();
  const sessions = [];
  try {
    const { db, readyIds } = await makeDb(dir, { agents: processes, ready: BACKLOG, warmup: processes * WARMUP_CLAIMS });
    for (let k = 1; k <= processes; k++) {
      const agent = `a${k}`;
      const transport = new StdioClientTransport({ command: process.execPath, args: [SERVE_CLI, 'serve', '--db', db, '--agent', agent], stderr: 'pipe' });
      const session = { agent, transport, stderr: '', client: new Client({ name: `bench-${agent}`, version: '0' }) };
      transport.stderr?.on('data', (d) => (session.stderr += d));
      sessions.push(session);
    }
    await Promise.all(
      sessions.map(async (s) => {
        try {
          await s.client.connect(s.transport);
          await s.client.listTools(); // the client caches the output schemas it validates answers against
        } catch (error) {
          throw new Error(`serve --agent ${s.agent}: ${error.message}\n${s.stderr}`);
        }
      }),
    );

    const loop = async (s, count = Infinity) => {
      const ids = [];
      const errors = [];
      while (ids.length < count) {
        let result;
        try {
          result = await s.client.callTool({ name: 'team_task', arguments: { action: 'claim_next' } }, { timeout: 120_000 });
        } catch (error) {
          errors.push(`request: ${error.message}`);
          if (errors.length > 100) break;
          continue;
        }
        if (result.isError) {
          errors.push(result.content?.[0]?.text ?? JSON.stringify(result));
          if (errors.length > 100) break;
          continue;
        }
        const task = result.structuredContent?.task;
        if (!task) break;
        ids.push(task.id);
      }
      return { ids, errors };
    };
    const warm0 = performance.now();
    const warmups = await Promise.all(sessions.map((s) => loop(s, WARMUP_CLAIMS)));
    const warmupMs = performance.now() - warm0;
    const warmupErrors = warmups.flatMap((r) => r.errors);
    if (warmupErrors.length) throw new Error(`warm-up claims failed: ${warmupErrors.slice(0, 3).join('; ')}`);
    const cpu0 = cpuTimes();
    const t0 = performance.now();
    const results = await Promise.all(sessions.map((s) => loop(s)));
    const wallMs = performance.now() - t0;
    const machineBusy = busyPercent(cpu0, cpuTimes());
    const claims = new Map(sessions.map((s, i) => [s.agent, results[i].ids]));
    const errors = results.flatMap((r) => r.errors);
    await Promise.all(sessions.map((s) => s.client.close().catch(() => {})));
    // What the servers that answered errors logged (unexpected errors are logged with their stack).
    const stderr = sessions.filter((s, i) => results[i].errors.length).map((s) => ({ agent: s.agent, stderr: s.stderr.slice(0, 4000) }));
    sessions.length = 0;
    return {
      ...summarize('team-table', processes, wallMs, claims, errors, verify(db, readyIds, claims, { events: true })),
      machine_busy_percent: machineBusy,
      cold_claims_per_s: WARMUP_CLAIMS ? (processes * WARMUP_CLAIMS * 1000) / warmupMs : null,
      server_stderr: stderr,
    };
  } finally {
    await Promise.all(sessions.map((s) => s.client.close().catch(() => {})));
    rmSync(dir, { recursive: true, force: true });
  }
}

function summarize(variant, processes, wallMs, claims, errors, check) {
  const perAgent = [...claims].map(([agent, ids]) => ({ agent, claims: ids.length }));
  const counts = perAgent.map((a) => a.claims);
  const busy = errors.filter((e) => /BUSY|locked/i.test(e)).length;
  return {
    variant,
    processes,
    wall_ms: wallMs,
    claims_per_s: (check.returned_claims / wallMs) * 1000,
    per_agent: perAgent,
    per_agent_min: Math.min(...counts),
    per_agent_max: Math.max(...counts),
    errors: errors.length,
    busy_errors: busy,
    error_samples: [...new Set(errors)].slice(0, 5),
    ...check,
  };
}

/** claim_next's read of the team's inbox for agent a1: `inboxHead(ctx, team, {})`, ordered off tasks_ready_queue. */
function readyQuery(ctx, agentRow) {
  return { source: 'inboxHead(ctx, team, {})', query: claims.inboxHead(ctx, agentRow.team_id, {}) };
}

/** EXPLAIN QUERY PLAN of claim_next's ready-queue query for agent a1, run on the database file through better-sqlite3. */
async function queryPlan(store, dbPath) {
  const agentRow = await store.db.selectFrom('persistent_agents').selectAll().where('id', '=', 'a1').executeTakeFirstOrThrow();
  const ctx = new Ctx(store.db, { kind: 'agent', id: 'a1', agent: agentRow }, new Date().toISOString(), 'sqlite');
  const { source, query } = await readyQuery(ctx, agentRow);
  const compiled = query.compile();
  const raw = new Database(dbPath, { readonly: true });
  let rows;
  try {
    rows = raw.prepare(`EXPLAIN QUERY PLAN ${compiled.sql}`).all(...compiled.parameters);
  } finally {
    raw.close();
  }
  // Indent each line under its parent, as the sqlite3 shell prints it.
  const depth = new Map([[0, -1]]);
  const lines = rows.map((r) => {
    const d = (depth.get(r.parent) ?? -1) + 1;
    depth.set(r.id, d);
    return `${'  '.repeat(d)}${r.detail}`;
  });
  // A SCAN of the tasks table itself (by its name or an alias) without an index; SCAN … USING INDEX is a walk of the index.
  const tableScans = rows.map((r) => r.detail).filter((d) => /^SCAN (team_tasks|t|dep)\b/.test(d) && !/USING (COVERING )?INDEX/.test(d));
  // Which index columns SQLite constrains: `(team_id=?)` walks every task of the team, done ones included;
  // `(team_id=? AND status=?)` only the ready ones.
  const indexLine = rows.map((r) => r.detail).find((d) => /\btasks_ready_queue\b/.test(d)) ?? '';
  const constraint = /\(([^)]*)\)\s*$/.exec(indexLine)?.[1] ?? '';
  return {
    source,
    sql: compiled.sql,
    parameters: compiled.parameters,
    plan: lines,
    uses_ready_queue_index: indexLine !== '',
    ready_queue_constraint: constraint,
    status_in_constraint: /\bstatus\b/.test(constraint),
    scans_team_tasks: tableScans.length > 0,
    table_scans: tableScans,
    temp_btree: rows.map((r) => r.detail).filter((d) => /TEMP B-TREE/.test(d)),
  };
}

/**
 * The bare conditional claim on `dbPath` through its own better-sqlite3 connection, as bench/fixtures/bare-claimer.mjs
 * does it: one call claims the best inbox task for `agent`.
 */
function bareClaimer(dbPath, teamId, agent) {
  const raw = new Database(dbPath, { timeout: 30_000 });
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  const begin = raw.prepare('BEGIN IMMEDIATE');
  const pick = raw.prepare("SELECT id FROM team_tasks WHERE team_id = ? AND status = 'inbox' AND claimed_by = '' ORDER BY priority, created_at, id LIMIT 1");
  const take = raw.prepare("UPDATE team_tasks SET status = 'in_progress', claimed_by = ?, version = version + 1 WHERE id = ?");
  const commit = raw.prepare('COMMIT');
  return {
    claim() {
      begin.run();
      const row = pick.get(teamId);
      if (row) take.run(agent, row.id);
      commit.run();
      if (!row) throw new Error('the bare claim found nothing');
    },
    close: () => raw.close(),
  };
}

/**
 * claim_next in-process on one database per count of done tasks, all open at once and measured in rotating blocks
 * (each block of FLAT_BLOCK core claims followed by as many bare claims on the same file), after FLAT_WARMUPS claims
 * on each: the databases then share the process's state (V8's optimized code, the machine's load) instead of the
 * first one measured paying for the process's warm-up.
 */
async function flatCosts(doneCounts) {
  const dirs = [];
  const opened = [];
  try {
    for (const done of doneCounts) {
      const dir = freshDir();
      dirs.push(dir);
      const { db, teamId } = await makeDb(dir, { agents: 2, ready: FLAT_READY, done });
      const store = await Store.open(db);
      opened.push({ done, store, core: new Core(store), bare: bareClaimer(db, teamId, 'a2'), plan: await queryPlan(store, db), samples: [], bareSamples: [] });
    }
    const agent = { kind: 'agent', id: 'a1' };
    const claimBlock = async (d, record) => {
      for (let k = 0; k < FLAT_BLOCK; k++) {
        const t0 = performance.now();
        const result = await d.core.call(agent, 'team_task', { action: 'claim_next' });
        if (record) d.samples.push(performance.now() - t0);
        if (!result.task) throw new Error(`claim_next found nothing (${d.done} done)`);
      }
      for (let k = 0; k < FLAT_BLOCK; k++) {
        const b0 = performance.now();
        d.bare.claim();
        if (record) d.bareSamples.push(performance.now() - b0);
      }
    };
    for (let block = 0; block < (FLAT_WARMUPS + FLAT_CLAIMS) / FLAT_BLOCK; block++) {
      const record = block >= FLAT_WARMUPS / FLAT_BLOCK;
      for (let i = 0; i < opened.length; i++) await claimBlock(opened[(block + i) % opened.length], record);
    }
    return opened.map((d) => ({ done: d.done, ready: FLAT_READY, ...stats(d.samples), samples_ms: d.samples, bare: stats(d.bareSamples), bare_samples_ms: d.bareSamples, plan: d.plan }));
  } finally {
    for (const d of opened) {
      d.bare.close();
      await d.store.close();
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

export async function run() {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const build = await loadBuild();
  try {
    return await measure(build);
  } finally {
    rmSync(build.dir, { recursive: true, force: true });
  }
}

async function measure(build) {
  console.log(`\n== claim-storm: drain ${BACKLOG} inbox tasks with claim_next (team-table over MCP) and with bare SQL, ${PROCESS_COUNTS.join('/')} processes`);
  console.log(`   ${describeMachine()}`);
  console.log(`   build: copy of dist/ (built ${build.dist_mtime}), migrations ${build.migrations.join(', ')}`);

  const drains = [];
  for (const n of PROCESS_COUNTS) {
    const r = await drainBare(n);
    console.log(`   bare SQL, ${n} process(es): ${fmt(r.claims_per_s, 0)} claims/s (${fmt(r.wall_ms / 1000, 2)} s)`);
    drains.push(r);
  }
  const nMax = Math.max(...PROCESS_COUNTS);
  const nMin = Math.min(...PROCESS_COUNTS);
  for (let round = 1; round <= ROUNDS; round++) {
    // Every count in the first round; the fewest and the most processes again in the others, in turn reversed.
    const counts = round === 1 ? PROCESS_COUNTS : [...new Set([nMin, nMax])];
    for (const n of round % 2 ? counts : [...counts].reverse()) {
      const r = { ...(await drainTeamTable(n)), round };
      console.log(`   team-table, round ${round}, ${n} process(es): ${fmt(r.claims_per_s, 0)} claims/s (${fmt(r.wall_ms / 1000, 2)} s) after ${WARMUP_CLAIMS} warm-up claims each at ${fmt(r.cold_claims_per_s ?? 0, 0)}/s`);
      drains.push(r);
    }
  }
  const find = (variant, n, round = 1) => drains.find((d) => d.variant === variant && d.processes === n && (d.variant === 'bare' || d.round === round));
  const bare1 = find('bare', Math.min(...PROCESS_COUNTS));
  for (const d of drains) d.ratio_to_bare_1 = d.claims_per_s / bare1.claims_per_s;

  printTable(
    `draining ${BACKLOG} tasks (claims/s = ${BACKLOG} / wall time; startup and connect excluded)`,
    ['variant', 'processes', 'claims/s', 'wall s', '× bare 1-process', 'per process min–max', 'errors (busy)', 'double claims', 'unclaimed', 'all cores busy %'],
    drains.map((d) => [
      d.variant === 'bare' ? 'bare SQL (better-sqlite3)' : `team-table claim_next (MCP), round ${d.round}`,
      String(d.processes),
      fmt(d.claims_per_s, 0),
      fmt(d.wall_ms / 1000, 2),
      `${fmt(d.ratio_to_bare_1, 3)}×`,
      `${d.per_agent_min}–${d.per_agent_max}`,
      `${d.errors} (${d.busy_errors})`,
      String(d.double_claims),
      String(d.unclaimed),
      d.machine_busy_percent === null ? 'n/a' : fmt(d.machine_busy_percent, 0),
    ]),
  );

  const flat = [];
  flat.push(...(await flatCosts(FLAT_DONE)));
  const flat0 = flat.find((f) => f.done === 0);
  for (const f of flat) f.ratio_to_0_done = f.median / flat0.median;

  const plan = flat.at(-1).plan;
  console.log(`\nquery plan of claim_next's ready queue (${plan.source} for a1, ${FLAT_READY} ready + ${flat.at(-1).done} done tasks):`);
  for (const line of plan.plan) console.log(`  ${line}`);
  const samePlan = flat.every((f) => f.plan.plan.join('\n') === plan.plan.join('\n'));
  if (!samePlan) console.log('  (the plan differs between the databases: see the JSON result)');
  console.log(`  uses index tasks_ready_queue: ${plan.uses_ready_queue_index ? `yes, constrained on (${plan.ready_queue_constraint})` : 'no'}; SCAN of team_tasks without an index: ${plan.scans_team_tasks ? `yes (${plan.table_scans.join('; ')})` : 'no'}; temp b-trees: ${plan.temp_btree.length ? plan.temp_btree.join('; ') : 'none'}`);
  if (plan.uses_ready_queue_index && !plan.status_in_constraint) {
    console.log('  note: status is not among the constrained index columns, so the search visits every task of the team (done and in_progress too)');
  }

  printTable(
    `claim_next through the core in-process, ms per claim (${FLAT_CLAIMS} claims after ${FLAT_WARMUPS} warm-ups; ${FLAT_READY} ready tasks)`,
    ['done tasks', 'median', 'p95', 'mean', 'min', 'max', '× 0 done', 'bare claim median', '× bare'],
    flat.map((f) => [String(f.done), fmt(f.median, 3), fmt(f.p95, 3), fmt(f.mean, 3), fmt(f.min, 3), fmt(f.max, 3), `${fmt(f.ratio_to_0_done, 2)}×`, fmt(f.bare.median, 3), `${fmt(f.median / f.bare.median, 1)}×`]),
  );

  const roundScalings = Array.from({ length: ROUNDS }, (_, i) => find('team-table', nMax, i + 1).claims_per_s / find('team-table', nMin, i + 1).claims_per_s);
  const scaling = stats(roundScalings).median;
  const bareScaling = find('bare', nMax).claims_per_s / bare1.claims_per_s;
  const flatRatio = flat.at(-1).ratio_to_0_done;
  const goals = [
    { id: 'scaling', goal: `team-table claims/s with ${nMax} processes ≥ ${GOAL_SCALING}× with ${nMin} (median of ${ROUNDS} rounds)`, ratio: scaling, round_ratios: roundScalings, pass: scaling >= GOAL_SCALING },
    { id: 'exactly-once', goal: 'every task claimed exactly once (0 double claims, 0 unclaimed), every variant', double_claims: drains.reduce((n, d) => n + d.double_claims, 0), unclaimed: drains.reduce((n, d) => n + d.unclaimed, 0), pass: drains.every((d) => d.ok) },
    { id: 'plan', goal: 'ready queue read via index tasks_ready_queue, no SCAN of team_tasks', plan: plan.plan, pass: plan.uses_ready_queue_index && !plan.scans_team_tasks },
    {
      id: 'plan-status',
      goal: 'stricter, informational: the tasks_ready_queue search is constrained on status too, so done tasks are never visited',
      constraint: plan.ready_queue_constraint,
      pass: plan.status_in_constraint,
    },
    { id: 'flat', goal: `median claim_next with ${flat.at(-1).done} done tasks ≤ ${GOAL_FLAT}× with 0`, ratio: flatRatio, pass: flatRatio <= GOAL_FLAT },
    { id: 'claim-cost', goal: `median claim_next in-process (${FLAT_READY} ready, 0 done) ≤ ${GOAL_CLAIM_MS} ms`, median_ms: flat0.median, bare_median_ms: flat0.bare.median, ratio_to_bare: flat0.median / flat0.bare.median, pass: flat0.median <= GOAL_CLAIM_MS },
  ];
  console.log('');
  console.log(`  bare SQL ${nMax} vs ${nMin} process(es): ${fmt(bareScaling, 2)}× (for reference, no goal)`);
  const coldScaling = stats(Array.from({ length: ROUNDS }, (_, i) => find('team-table', nMax, i + 1).cold_claims_per_s / find('team-table', nMin, i + 1).cold_claims_per_s)).median;
  if (WARMUP_CLAIMS) console.log(`  team-table while warming up (each server's first ${WARMUP_CLAIMS} claims) ${nMax} vs ${nMin} process(es): ${fmt(coldScaling, 2)}× (for reference, no goal)`);
  console.log(`  goal scaling: team-table ${nMax} vs ${nMin} process(es) ${fmt(scaling, 2)}× (median of rounds ${roundScalings.map((r) => `${fmt(r, 2)}×`).join(', ')}; ≥ ${GOAL_SCALING}×) ${passFail(goals[0].pass)}`);
  console.log(`  goal exactly-once: ${goals[1].double_claims} double claims, ${goals[1].unclaimed} unclaimed ${passFail(goals[1].pass)}`);
  console.log(`  goal plan: tasks_ready_queue ${plan.uses_ready_queue_index ? 'used' : 'NOT used'}, ${plan.scans_team_tasks ? 'SCAN of team_tasks' : 'no SCAN of team_tasks'} ${passFail(goals[2].pass)}`);
  console.log(`  check plan-status (stricter, informational): index constrained on (${plan.ready_queue_constraint || 'nothing'}) ${passFail(goals[3].pass)}`);
  console.log(`  goal flat: ${flat.at(-1).done} vs 0 done tasks ${fmt(flatRatio, 2)}× (≤ ${GOAL_FLAT}×) ${passFail(goals[4].pass)}`);
  console.log(`  goal claim-cost: median claim_next ${fmt(flat0.median, 3)} ms (≤ ${GOAL_CLAIM_MS} ms; the bare claim ${fmt(flat0.bare.median, 3)} ms, ${fmt(goals[5].ratio_to_bare, 1)}×) ${passFail(goals[5].pass)}`);

  const file = writeResult(name, {
    build: { dist_mtime: build.dist_mtime, copied_at: build.copied_at, migrations: build.migrations },
    backlog: BACKLOG,
    warmup_claims_per_server: WARMUP_CLAIMS,
    rounds: ROUNDS,
    process_counts: PROCESS_COUNTS,
    goal_scaling: GOAL_SCALING,
    goal_flat: GOAL_FLAT,
    drains,
    bare_scaling: bareScaling,
    team_table_scaling: scaling,
    query_plan: plan,
    flat: flat.map(({ plan: p, ...f }) => ({ ...f, plan: p.plan })),
    goal_claim_ms: GOAL_CLAIM_MS,
    goals,
  });
  console.log(`  -> ${file}`);
  return { name, goals };
}

runIfMain(import.meta.url, run);
