#!/usr/bin/env node
// Wake latency: how long from an @mention to the mentioned agent's program running, with 100 agents on one database.
//
// Setup: a fresh database, one team, AGENTS agents, each with a `command` wake adapter that writes the epoch
// milliseconds it starts at to a file named by its run, then answers HEARTBEAT_OK. The runner is its own process
// (`team-table run --db …`, as deployed); the mentions come from this process (another connection to the file), as
// a direct message `@aNNN ping` through the core — so the runner hears of them the way it hears of any other
// process's writes (PRAGMA data_version, polled every 25 ms), then coalesces for 100 ms (its default).
// 1. One at a time: SAMPLES mentions to agents in turn, each waited for before the next; latency = the agent's start
//    time − the time just before the mention was sent. Also split: the runner's started_at (when it decided).
// 2. Burst: one broadcast to all agents at once; latency of each agent's start (runs at once: --max-runs, 8).
// Baseline, same run: spawning the same `sh` command directly from this process (the floor of any command wake).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, ROOT, describeMachine, fmt, passFail, printTable, quantile, runIfMain, writeResult } from '../lib.mjs';

export const name = 'wake-latency';
const AGENTS = Number(process.env.BENCH_WAKE_AGENTS) || 100;
const SAMPLES = Number(process.env.BENCH_WAKE_SAMPLES) || 100;
const BASELINE_SAMPLES = 30;
const MAX_RUNS = 8;
const GOAL_P99_MS = 1_000; // issue 11: "a mention wakes it within a second"
const OWNER = { kind: 'owner', name: 'bench' };
const START_SCRIPT = 'date +%s%3N > "$0/$TEAM_TABLE_RUN"; cat > /dev/null; echo HEARTBEAT_OK';

const load = (...path) => import(pathToFileURL(join(ROOT, 'dist', ...path)).href);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForFile(path, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path) || readFileSync(path, 'utf8').trim() === '') {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${path}`);
    await sleep(2);
  }
  return Number(readFileSync(path, 'utf8').trim());
}

const summary = (samples) => ({ n: samples.length, p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), max: Math.max(...samples) });

async function baseline(dir) {
  const samples = [];
  for (let i = 0; i < BASELINE_SAMPLES; i++) {
    const t0 = Date.now();
    const child = spawn('sh', ['-c', START_SCRIPT, dir], { env: { ...process.env, TEAM_TABLE_RUN: `base-${i}` }, stdio: ['pipe', 'ignore', 'ignore'] });
    const closed = new Promise((r) => child.on('close', r)); // listened to at once: sh may be gone by the time its file is read
    child.stdin.end('prompt');
    samples.push((await waitForFile(join(dir, `base-${i}`))) - t0);
    await closed;
  }
  return samples;
}

export async function run() {
  console.log(`\n== wake-latency: @mention → the agent's program running, ${AGENTS} agents on one database`);
  console.log(`   ${describeMachine()}`);
  const dir = mkdtempSync(join(tmpdir(), 'tt-bench-wake-'));
  const starts = join(dir, 'starts');
  mkdirSync(starts);
  const db = join(dir, 'team.db');
  const [{ Store }, { Core }] = await Promise.all([load('store', 'store.js'), load('core', 'core.js')]);
  const core = new Core(await Store.open(db));
  let runner;
  try {
    await core.call(OWNER, 'team_manage', { action: 'create', name: 'Bench' });
    const ids = [];
    for (let i = 0; i < AGENTS; i++) {
      const id = `a${String(i).padStart(3, '0')}`;
      ids.push(id);
      await core.call(OWNER, 'team_agent', { action: 'create', name: id, heartbeat_schedule: '0 0 1 1 *', wake_adapter: { type: 'command', command: ['sh', '-c', START_SCRIPT, starts] } });
    }
    const base = await baseline(dir);

    runner = spawn(process.execPath, [CLI, 'run', '--db', db, '--max-runs', String(MAX_RUNS)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    runner.stderr.on('data', (d) => (log += d));
    for (const deadline = Date.now() + 30_000; !log.includes('scheduler: leading'); await sleep(10)) if (Date.now() > deadline) throw new Error(`the runner did not lead:\n${log}`);

    const runOf = async (agentId, after) =>
      core.store.db.selectFrom('agent_runs').selectAll().where('agent_id', '=', agentId).where('queued_at', '>=', after).orderBy('queued_at', 'desc').executeTakeFirst();
    const single = [];
    const decided = [];
    for (let i = 0; i < SAMPLES; i++) {
      const id = ids[i % AGENTS];
      const t0 = Date.now();
      await core.call(OWNER, 'team_comm', { action: 'send_message', to_agent: id, content: `@${id} ping ${i}` });
      let row;
      for (const deadline = Date.now() + 30_000; !(row = await runOf(id, new Date(t0).toISOString()))?.started_at; await sleep(2)) if (Date.now() > deadline) throw new Error(`no run for ${id}`);
      single.push((await waitForFile(join(starts, row.id))) - t0);
      decided.push(Date.parse(row.started_at) - t0);
      for (const deadline = Date.now() + 30_000; !['idle', 'succeeded', 'failed'].includes((await runOf(id, new Date(t0).toISOString())).status); await sleep(5)) if (Date.now() > deadline) throw new Error(`run of ${id} did not end`);
    }

    const t0 = Date.now();
    await core.call(OWNER, 'team_comm', { action: 'broadcast', content: 'everyone: ping' });
    const burst = [];
    for (const id of ids) {
      let row;
      for (const deadline = Date.now() + 60_000; !(row = await runOf(id, new Date(t0).toISOString()))?.started_at; await sleep(5)) if (Date.now() > deadline) throw new Error(`no burst run for ${id}`);
      burst.push((await waitForFile(join(starts, row.id))) - t0);
    }

    const s = summary(single);
    const d = summary(decided);
    const b = summary(burst);
    const bl = summary(base);
    printTable('mention → program started (ms)', ['variant', 'n', 'p50', 'p99', 'max', '× bare spawn p50'], [
      ['bare spawn of the same sh (baseline)', bl.n, bl.p50, bl.p99, bl.max, '1.00×'],
      [`one mention at a time, ${AGENTS} agents`, s.n, s.p50, s.p99, s.max, `${fmt(s.p50 / bl.p50, 2)}×`],
      ['  of which: until the runner started the run', d.n, d.p50, d.p99, d.max, ''],
      [`broadcast to all ${AGENTS} at once (--max-runs ${MAX_RUNS})`, b.n, b.p50, b.p99, b.max, ''],
    ]);
    console.log(`\n  goal: one mention at a time p99 ≤ ${GOAL_P99_MS} ms — ${passFail(s.p99 <= GOAL_P99_MS)} (${fmt(s.p99)} ms)`);
    writeResult(name, { agents: AGENTS, max_runs: MAX_RUNS, goal_p99_ms: GOAL_P99_MS, single: s, decided: d, burst: b, baseline: bl, samples: { single, decided, burst, baseline: base } });
  } finally {
    runner?.kill('SIGTERM');
    await sleep(200);
    await core.store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, run);
