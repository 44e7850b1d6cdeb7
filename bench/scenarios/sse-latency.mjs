#!/usr/bin/env node
// Commit → SSE receipt: how long after a write an agent's open stream (GET /events) carries its event.
// The HTTP server runs in this process (startHttpServer over the built core), its SSE client too (node's http over
// loopback), so the figures hold no scheduling of a third process on a busy machine.
//  - same process: the write is core.call in the server's own process (its commit wakes the feed at once);
//    timed from the commit (Store.write returning: the commit and the feed's wake are done) to the receipt, and,
//    beside it, from before the call (the write included).
//  - another process: the write is a tools/call to a stdio server (`team-table serve`, spawned) on the same file;
//    the HTTP server notices it by polling PRAGMA data_version. Timed from before the line is written to stdin.
// Baseline in the same run: the write alone (core.call send_message, commit included).
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { CLI, describeMachine, passFail, printTable, quantile, runIfMain, writeResult } from '../lib.mjs';
import { join } from 'node:path';
import { ROOT } from '../lib.mjs';
import { freshDb, openCore, openStream, seedBench } from '../http-lib.mjs';

export const name = 'sse-latency';
const RUNS = Number(process.env.BENCH_RUNS) || 300;
const WARMUPS = 20;
const GOALS = { sameP99: 5, stdioP99: 100 };

const pct = (samples) => ({ n: samples.length, p50: quantile(samples, 0.5), p95: quantile(samples, 0.95), p99: quantile(samples, 0.99), max: Math.max(...samples) });

/** Each event on the stream resolves the oldest waiter: every write below makes exactly one event concerning loki. */
function receiver() {
  const waiting = [];
  const early = [];
  return {
    onEvent: (_id, _data, at) => (waiting.length ? waiting.shift()(at) : early.push(at)),
    next: () => (early.length ? Promise.resolve(early.shift()) : new Promise((resolve) => waiting.push(resolve))),
  };
}

/** A stdio MCP server acting as jarvis, driven with raw JSON-RPC lines. */
async function stdioSession(db) {
  const child = spawn(process.execPath, [CLI, 'serve', '--db', db, '--agent', 'jarvis'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const pending = new Map();
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line);
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  let nextId = 1;
  const call = (method, params) =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  await call('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } });
  child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
  return { call, close: () => child.stdin.end() };
}

export async function run() {
  const db = freshDb();
  const core = await openCore(db);
  const owner = await seedBench(core);
  const loki = (await core.call(owner, 'team_agent', { action: 'token_create', agent_id: 'loki' })).token;
  const { startHttpServer } = await import(join(ROOT, 'dist/http/server.js'));
  const server = await startHttpServer(core, { host: '127.0.0.1', port: 0, log: () => {}, rateLimit: null });
  const events = receiver();
  const stream = await openStream(server.url, loki, events.onEvent);
  const jarvis = { kind: 'agent', id: 'jarvis' };

  let committed = 0;
  const storeWrite = core.store.write.bind(core.store);
  core.store.write = async (work) => {
    const result = await storeWrite(work);
    committed = performance.now();
    return result;
  };
  const same = [];
  const sameWithWrite = [];
  const write = [];
  for (let i = 0; i < WARMUPS + RUNS; i++) {
    const t0 = performance.now();
    const [, received] = await Promise.all([
      core.call(jarvis, 'team_comm', { action: 'send_message', to_agent: 'loki', content: `m${i}` }).then(() => i >= WARMUPS && write.push(performance.now() - t0)),
      events.next(),
    ]);
    if (i >= WARMUPS) {
      same.push(received - committed);
      sameWithWrite.push(received - t0);
    }
  }

  const session = await stdioSession(db);
  const other = [];
  for (let i = 0; i < WARMUPS + RUNS; i++) {
    const t0 = performance.now();
    const [, received] = await Promise.all([session.call('tools/call', { name: 'team_comm', arguments: { action: 'send_message', to_agent: 'loki', content: `s${i}` } }), events.next()]);
    if (i >= WARMUPS) other.push(received - t0);
    // Writes spread in time, as agents make them, so each one meets the poll at a different phase.
    await new Promise((resolve) => setTimeout(resolve, 3 + (i % 7)));
  }
  session.close();
  stream.close();
  await server.close();

  const rows = [
    ['the write alone (baseline)', pct(write)],
    ['commit → SSE, same process', pct(same)],
    ['write issued → SSE, same process', pct(sameWithWrite)],
    ['commit → SSE, from a stdio process', pct(other)],
  ];
  const load = loadavg()[0];
  printTable(`${name} (ms; ${RUNS} writes each; ${describeMachine()}; load average ${load.toFixed(1)})`, ['path', 'p50', 'p95', 'p99', 'max'], rows.map(([label, s]) => [label, s.p50, s.p95, s.p99, s.max]));
  const sameOk = pct(same).p99 <= GOALS.sameP99;
  const otherOk = pct(other).p99 <= GOALS.stdioP99;
  console.log(`  same process p99 ≤ ${GOALS.sameP99} ms: ${passFail(sameOk)}; from a stdio process p99 ≤ ${GOALS.stdioP99} ms: ${passFail(otherOk)}`);
  writeResult(name, { runs: RUNS, load_average: load, goals: GOALS, write: pct(write), same_process: pct(same), same_process_with_write: pct(sameWithWrite), stdio_process: pct(other), pass: sameOk && otherOk });
}

runIfMain(import.meta.url, run);
