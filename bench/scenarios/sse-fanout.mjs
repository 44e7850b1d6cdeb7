#!/usr/bin/env node
// SSE fan-out: one HTTP server holding 500, 2,000 and 5,000 open streams, one per agent (teams of 50, each agent on
// its own token). The server runs in this process (startHttpServer over the built core); the streams are opened by
// a child process (fixtures/sse-clients.mjs), so the server's memory is measured alone. With all of them open,
// direct messages go to agents picked at random, written in the server's process by a teammate; each is timed from
// before the write until the addressed agent's stream has it (one clock: both processes on this machine).
// RSS per stream: the server's resident memory with the streams open, less before, over their number, each after a
// full garbage collection. Baseline in the same run: the delivery p95 at 500 streams.
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BENCH_DIR, ROOT, describeMachine, passFail, printTable, quantile, runIfMain, writeResult } from '../lib.mjs';
import { freshDb, openCore, openStream } from '../http-lib.mjs';

export const name = 'sse-fanout';
const LEVELS = (process.env.BENCH_LEVELS ?? '500,2000,5000').split(',').map(Number);
const MESSAGES = Number(process.env.BENCH_RUNS) || 200;
const TEAM_SIZE = 50;
const GOALS = { p95Ratio: 1.5, rssPerStreamKib: 20 };

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const now = () => performance.timeOrigin + performance.now();

/** Resident and heap memory after a full collection, in KiB. */
async function memory() {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const { rss, heapUsed } = process.memoryUsage();
  return { rss: rss / 1024, heap: heapUsed / 1024 };
}

async function seed(core, count) {
  const owner = { kind: 'owner', name: 'bench' };
  const agents = [];
  for (let i = 0; i < count; i++) {
    const team = `team-${Math.floor(i / TEAM_SIZE)}`;
    if (i % TEAM_SIZE === 0) await core.call(owner, 'team_manage', { action: 'create', name: team });
    const { id } = await core.call(owner, 'team_agent', { action: 'create', team_id: team, name: `agent ${i}` });
    agents.push({ id, token: (await core.call(owner, 'team_agent', { action: 'token_create', agent_id: id })).token });
  }
  return agents;
}

async function level(core, server, agents, n) {
  const clients = fork(join(BENCH_DIR, 'fixtures', 'sse-clients.mjs'), { stdio: 'inherit' });
  const waiting = new Map();
  let ready;
  const isReady = new Promise((resolve) => (ready = resolve));
  clients.on('message', (message) => (message === 'ready' ? ready() : waiting.get(message.agent)?.(message.at)));
  const before = await memory();
  clients.send({ url: server.url, agents: agents.slice(0, n) });
  await isReady;
  const open = await memory();

  const delivery = [];
  for (let i = 0; i < MESSAGES; i++) {
    const k = Math.floor(Math.random() * n);
    const to = agents[k].id;
    const from = agents[k % TEAM_SIZE === 0 ? k + 1 : k - 1].id;
    const received = new Promise((resolve) => waiting.set(to, resolve));
    const t0 = now();
    await core.call({ kind: 'agent', id: from }, 'team_comm', { action: 'send_message', to_agent: to, content: `m${i}` });
    delivery.push((await received) - t0);
    waiting.delete(to);
  }
  clients.kill();
  await new Promise((resolve) => clients.once('exit', resolve));
  return {
    streams: n,
    p50: quantile(delivery, 0.5),
    p95: quantile(delivery, 0.95),
    p99: quantile(delivery, 0.99),
    rss_per_stream_kib: (open.rss - before.rss) / n,
    heap_per_stream_kib: (open.heap - before.heap) / n,
  };
}

export async function run() {
  const core = await openCore(freshDb());
  const agents = await seed(core, Math.max(...LEVELS));
  const { startHttpServer } = await import(join(ROOT, 'dist/http/server.js'));
  const server = await startHttpServer(core, { host: '127.0.0.1', port: 0, log: () => {}, rateLimit: null });
  // Warm up: a stream opened and closed, some writes delivered, before the first baseline memory.
  const warm = await openStream(server.url, agents[0].token, () => {});
  for (let i = 0; i < 50; i++) await core.call({ kind: 'agent', id: agents[1].id }, 'team_comm', { action: 'send_message', to_agent: agents[0].id, content: 'warm' });
  warm.close();

  const results = [];
  for (const n of LEVELS) results.push(await level(core, server, agents, n));
  await server.close();
  const load = loadavg()[0];
  printTable(
    `${name} (delivery ms over ${MESSAGES} direct messages; memory KiB per open stream; ${describeMachine()}; load average ${load.toFixed(1)})`,
    ['open streams', 'p50', 'p95', 'p99', 'RSS/stream', 'heap/stream'],
    results.map((r) => [String(r.streams), r.p50, r.p95, r.p99, r.rss_per_stream_kib, r.heap_per_stream_kib]),
  );
  const ratio = results.at(-1).p95 / results[0].p95;
  const worstRss = Math.max(...results.map((r) => r.rss_per_stream_kib));
  console.log(`  p95 at ${results.at(-1).streams} / at ${results[0].streams} = ${ratio.toFixed(2)} (≤ ${GOALS.p95Ratio}): ${passFail(ratio <= GOALS.p95Ratio)}; RSS per stream ≤ ${GOALS.rssPerStreamKib} KiB: ${passFail(worstRss <= GOALS.rssPerStreamKib)}`);
  writeResult(name, { messages: MESSAGES, team_size: TEAM_SIZE, load_average: load, goals: GOALS, levels: results, p95_ratio: ratio, pass: ratio <= GOALS.p95Ratio && worstRss <= GOALS.rssPerStreamKib });
}

runIfMain(import.meta.url, run);
