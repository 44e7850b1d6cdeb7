#!/usr/bin/env node
// Soak: the owner and six agents, each its own `team-table serve` process driven by an SDK client over stdio,
// together about SOAK_RATE calls/s for SOAK_MINUTES (default 4; 30 for the soak), on one database. Every
// window (SOAK_WINDOW_S, default 30 s) it reports per server RSS (/proc), the JavaScript heap (written by
// fixtures/memory-report.cjs, preloaded into each server), open files (/proc/<pid>/fd), the WAL's size, and the
// calls' latency and errors; memory is the median of samples every 2 s. Goals, after warm-up (the first third of the
// run, at least one window): each server's RSS drifts ≤ 10% from the first window after warm-up to the last, open
// files do not grow, p50 latency of the last window ≤ 1.5× the first after warm-up.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { BENCH_DIR, CLI, ROOT, describeMachine, fmt, passFail, printTable, stats, writeResult } from './lib.mjs';

const MINUTES = Number(process.env.SOAK_MINUTES) || 4;
const WINDOW_S = Number(process.env.SOAK_WINDOW_S) || 30;
const RATE = Number(process.env.SOAK_RATE) || 60;
const AGENTS = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
const OWNER = { kind: 'owner', name: 'soak' };
const GOAL_RSS_DRIFT = 0.1;
const GOAL_LATENCY = 1.5;
const PRELOAD = join(BENCH_DIR, 'fixtures', 'memory-report.cjs');
const SAMPLE_MS = 2000;
const STATS_DIR = mkdtempSync(join(tmpdir(), 'tt-soak-stats-'));

const load = (...path) => import(pathToFileURL(join(ROOT, 'dist', ...path)).href);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The team, its agents and a backlog, made through the core. */
async function setUp(db) {
  const [{ Store }, { Core }] = await Promise.all([load('store', 'store.js'), load('core', 'core.js')]);
  const store = await Store.open(db);
  const core = new Core(store);
  const team = await core.call(OWNER, 'team_manage', { action: 'create', name: 'Soak' });
  for (const id of AGENTS) await core.call(OWNER, 'team_agent', { action: 'create', name: id, role: 'engineer' });
  await store.close();
  return team.id;
}

/** What each session calls, in turn: an agent's heartbeat and work, and the owner watching and feeding the team. */
function agentLoop(id, teamId) {
  let task = null;
  let n = 0;
  const other = () => AGENTS[(AGENTS.indexOf(id) + 1 + (n % (AGENTS.length - 1))) % AGENTS.length];
  return async (call) => {
    n++;
    switch (n % 8) {
      case 0:
        return call('team_comm', { action: 'mention_check' });
      case 1:
        return call('team_comm', { action: 'inbox', unread_only: true });
      case 2: {
        if (task) return call('team_task', { action: 'update', team_id: teamId, task_id: task, status: 'done' }).finally(() => (task = null));
        const answer = await call('team_task', { action: 'claim_next', team_id: teamId });
        task = answer?.task?.id ?? null;
        return answer;
      }
      case 3:
        return task ? call('team_comm', { action: 'comment', team_id: teamId, task_id: task, content: `working on it, @${other()}` }) : call('team_agent', { action: 'working_get' });
      case 4:
        return call('team_comm', { action: 'send_message', team_id: teamId, to_agent: other(), content: `ping ${n}` });
      case 5:
        return call('team_agent', { action: 'working_update', next_steps: `step ${n}` });
      case 6:
        return call('team_memory', { action: 'summary', team_id: teamId });
      default:
        return call('team_task', { action: 'list', team_id: teamId, assignee_filter: 'me', status: 'in_progress' });
    }
  };
}

function ownerLoop(teamId) {
  let n = 0;
  return async (call) => {
    n++;
    switch (n % 6) {
      case 0:
      case 1:
        return call('team_task', { action: 'create', team_id: teamId, title: `Task ${n}`, description: 'something to do '.repeat(10), priority: 1 + (n % 5) });
      case 2:
        return call('team_memory', { action: 'standup', team_id: teamId });
      case 3:
        return call('team_memory', { action: 'audit', team_id: teamId, since: new Date(Date.now() - 60_000).toISOString() });
      case 4:
        return call('team_comm', { action: 'notify', team_id: teamId, type: 'task_progress', message: `progress ${n}` });
      default:
        return call('team_task', { action: 'list', team_id: teamId, status: 'inbox', limit: 20 });
    }
  };
}

/** The JavaScript heap in use, as the server last wrote it (fixtures/memory-report.cjs). */
function heapOf(pid) {
  try {
    return JSON.parse(readFileSync(join(STATS_DIR, `${pid}.json`), 'utf8')).heapUsed;
  } catch {
    return NaN;
  }
}

function walSize(db) {
  try {
    return statSync(`${db}-wal`).size;
  } catch {
    return 0; // no WAL file at this instant
  }
}

/** RSS and open files of a process, from /proc. */
function procStats(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return { rss: rssKb * 1024, open_files: readdirSync(`/proc/${pid}/fd`).length };
}

async function run() {
  console.log(`soak: owner + ${AGENTS.length} agents, ~${RATE} calls/s, ${MINUTES} min, windows of ${WINDOW_S} s — ${describeMachine()}`);
  const dir = mkdtempSync(join(tmpdir(), 'tt-soak-'));
  const db = join(dir, 'team.db');
  const sessions = [];
  try {
    const teamId = await setUp(db);
    for (const who of ['owner', ...AGENTS]) {
      const args = ['--require', PRELOAD, CLI, 'serve', '--db', db, ...(who === 'owner' ? ['--owner', 'soak'] : ['--agent', who])];
      const transport = new StdioClientTransport({ command: process.execPath, args, env: { SOAK_STATS_DIR: STATS_DIR }, stderr: 'pipe' });
      let stderr = '';
      transport.stderr?.on('data', (d) => (stderr += d));
      const client = new Client({ name: `soak-${who}`, version: '0' });
      await client.connect(transport);
      await client.listTools();
      sessions.push({ who, client, transport, pid: transport.pid, stderr: () => stderr, next: who === 'owner' ? ownerLoop(teamId) : agentLoop(who, teamId) });
    }
    const windows = [];
    let current = { latencies: [], errors: 0 };
    const end = Date.now() + MINUTES * 60_000;
    const interval = (1000 * sessions.length) / RATE; // each session's period between calls
    const loops = sessions.map(async (s, i) => {
      await sleep((interval / sessions.length) * i); // staggered
      const call = async (name, args) => {
        const t0 = performance.now();
        try {
          const result = await s.client.callTool({ name, arguments: args }, { timeout: 60_000 });
          if (result.isError) current.errors++;
          return result.structuredContent;
        } catch {
          current.errors++;
          return undefined;
        } finally {
          current.latencies.push(performance.now() - t0);
        }
      };
      while (Date.now() < end) {
        const started = performance.now();
        await s.next(call);
        await sleep(Math.max(0, interval - (performance.now() - started)));
      }
    });
    // Sampled every SAMPLE_MS; a window reports each server's median RSS, heap and open files (one sample can fall
    // either side of a garbage collection, or catch a file open for an instant), and the WAL's largest size.
    const sampler = (async () => {
      const started = Date.now();
      while (Date.now() < end) {
        const windowEnd = Math.min(end, Date.now() + WINDOW_S * 1000);
        const samples = sessions.map(() => []);
        let wal = 0;
        while (Date.now() < windowEnd) {
          await sleep(Math.min(SAMPLE_MS, Math.max(0, windowEnd - Date.now())));
          sessions.forEach((s, i) => samples[i].push({ ...procStats(s.pid), heap: heapOf(s.pid) }));
          wal = Math.max(wal, walSize(db));
        }
        const servers = sessions.map((s, i) => ({
          who: s.who,
          rss: stats(samples[i].map((x) => x.rss)).median,
          heap: stats(samples[i].map((x) => x.heap).filter(Number.isFinite)).median,
          open_files: stats(samples[i].map((x) => x.open_files)).median,
        }));
        const latency = stats(current.latencies);
        windows.push({ at_s: Math.round((Date.now() - started) / 1000), calls: current.latencies.length, errors: current.errors, p50: latency.median, p95: latency.p95, wal, servers });
        current = { latencies: [], errors: 0 };
        const w = windows.at(-1);
        const mib = (b) => fmt(b / 2 ** 20);
        console.log(
          `  ${String(w.at_s).padStart(5)} s  ${fmt(w.calls / WINDOW_S)} calls/s  p50 ${fmt(w.p50, 2)} ms  p95 ${fmt(w.p95, 2)} ms  errors ${w.errors}  WAL ${mib(w.wal)} MiB  ` +
            `RSS ${w.servers.map((x) => mib(x.rss)).join('/')} MiB  heap ${w.servers.map((x) => mib(x.heap)).join('/')} MiB  files ${w.servers.map((x) => x.open_files).join('/')}`,
        );
      }
    })();
    await Promise.all([...loops, sampler]);

    const warm = Math.max(1, Math.floor(windows.length / 3));
    const first = windows[warm] ?? windows.at(-1);
    const last = windows.at(-1);
    const rows = sessions.map((s, i) => {
      const drift = last.servers[i].rss / first.servers[i].rss - 1;
      return [s.who, fmt(first.servers[i].rss / 2 ** 20), fmt(last.servers[i].rss / 2 ** 20), `${fmt(drift * 100)}%`, fmt(first.servers[i].heap / 2 ** 20), fmt(last.servers[i].heap / 2 ** 20), `${first.servers[i].open_files} → ${last.servers[i].open_files}`];
    });
    printTable(`after warm-up (window at ${first.at_s} s → ${last.at_s} s)`, ['server', 'RSS MiB', 'last', 'drift', 'heap MiB', 'last', 'open files'], rows);
    const maxDrift = Math.max(...sessions.map((_, i) => last.servers[i].rss / first.servers[i].rss - 1));
    const filesFlat = sessions.every((_, i) => last.servers[i].open_files <= first.servers[i].open_files);
    const latencyRatio = last.p50 / first.p50;
    const errors = windows.reduce((n, w) => n + w.errors, 0);
    const calls = windows.reduce((n, w) => n + w.calls, 0);
    console.log(`\n  calls ${calls}, errors ${errors}, WAL at most ${fmt(Math.max(...windows.map((w) => w.wal)) / 2 ** 20)} MiB`);
    console.log(`  goal: RSS drift ≤ ${GOAL_RSS_DRIFT * 100}% after warm-up: ${fmt(maxDrift * 100)}% — ${passFail(maxDrift <= GOAL_RSS_DRIFT)}`);
    console.log(`  goal: open files do not grow: ${passFail(filesFlat)}`);
    console.log(`  goal: p50 latency last window ≤ ${GOAL_LATENCY}× first after warm-up: ${fmt(latencyRatio, 2)}× — ${passFail(latencyRatio <= GOAL_LATENCY)}`);
    // What the servers logged, when something went wrong (unexpected errors are logged with their stack).
    if (errors) for (const s of sessions) console.log(`  stderr of ${s.who}: ${s.stderr().slice(0, 2000)}`);
    writeResult('soak', { minutes: MINUTES, window_s: WINDOW_S, rate: RATE, windows, max_rss_drift: maxDrift, files_flat: filesFlat, latency_ratio: latencyRatio, calls, errors });
  } finally {
    await Promise.all(sessions.map((s) => s.client.close().catch(() => {})));
    rmSync(dir, { recursive: true, force: true });
    rmSync(STATS_DIR, { recursive: true, force: true });
  }
}

run().catch((error) => {
  console.error(error);
  process.exit(1);
});
