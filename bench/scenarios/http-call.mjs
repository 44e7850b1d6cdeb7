#!/usr/bin/env node
// MCP over Streamable HTTP, one call at a time on a kept-alive connection (fetch), as a client sends them:
//  - baseline: the SDK's own minimal HTTP server (fixtures/minimal-http-server.mjs): its trivial `echo` tool;
//  - team-table `serve --http` (bearer token, Host/Origin checks, rate limit off): the protocol's no-op (`ping`),
//    a no-op tool call (`tools/call` of an unknown tool: the whole MCP path, no use case), and `send_message`
//    (a write: one transaction with its events); the REST route of send_message for comparison.
// The variants are interleaved, one call of each in a rotating order per round, so that a busy machine slows them
// alike and the ratios hold. Goals: send_message p50 ≤ 1.5 × the baseline's echo p50; our no-op p50 ≤ 2 ms.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BENCH_DIR, describeMachine, passFail, printTable, quantile, runIfMain, writeResult } from '../lib.mjs';
import { freshDb, openCore, seedBench, spawnListening, startServer } from '../http-lib.mjs';

export const name = 'http-call';
const RUNS = Number(process.env.BENCH_RUNS) || 500;
const WARMUPS = 50;
const GOALS = { sendMessageRatio: 1.5, noopP50Ms: 2 };

const headers = (token) => ({ 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) });
let nextId = 1;
const rpc = (method, params) => JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params });

const summary = (samples) => ({ p50: quantile(samples, 0.5), p95: quantile(samples, 0.95), p99: quantile(samples, 0.99) });

/** Times each of `calls` RUNS times after WARMUPS, one call at a time, interleaved in a rotating order. */
async function timeInterleaved(calls) {
  const samples = calls.map(() => []);
  for (let i = 0; i < WARMUPS + RUNS; i++) {
    for (let k = 0; k < calls.length; k++) {
      const which = (i + k) % calls.length;
      const t0 = performance.now();
      await calls[which](i);
      if (i >= WARMUPS) samples[which].push(performance.now() - t0);
    }
  }
  return samples.map(summary);
}

async function post(url, token, body, check) {
  const res = await fetch(url, { method: 'POST', headers: headers(token), body });
  const text = await res.text();
  if (!res.ok || !check(text)) throw new Error(`${url}: ${res.status} ${text.slice(0, 300)}`);
}

export async function run() {
  const db = freshDb();
  const core = await openCore(db);
  const owner = await seedBench(core);
  const token = (await core.call(owner, 'team_agent', { action: 'token_create', agent_id: 'jarvis' })).token;
  await core.store.close();

  const minimal = await spawnListening([join(BENCH_DIR, 'fixtures', 'minimal-http-server.mjs')]);
  const server = await startServer(db);
  const mcp = `${server.url}/mcp`;
  const [baseline, ping, noopTool, send, rest] = await timeInterleaved([
    () => post(`${minimal.url}/mcp`, undefined, rpc('tools/call', { name: 'echo', arguments: { text: 'hi' } }), (t) => t.includes('"hi"')),
    () => post(mcp, token, rpc('ping', {}), (t) => t.includes('"result"')),
    () => post(mcp, token, rpc('tools/call', { name: 'no_such_tool', arguments: {} }), (t) => t.includes('no_such_tool')),
    (i) => post(mcp, token, rpc('tools/call', { name: 'team_comm', arguments: { action: 'send_message', to_agent: 'loki', content: `m${i}` } }), (t) => t.includes('recipients')),
    (i) => post(`${server.url}/api/v1/messages`, token, JSON.stringify({ to_agent: 'loki', content: `r${i}` }), (t) => t.includes('recipients')),
  ]);
  await Promise.all([minimal.stop(), server.stop()]);

  const load = loadavg()[0];
  const rows = [
    ['SDK minimal HTTP server: echo (baseline)', baseline],
    ['team-table /mcp: ping (protocol no-op)', ping],
    ['team-table /mcp: tools/call, no-op (unknown tool)', noopTool],
    ['team-table /mcp: send_message', send],
    ['team-table REST: POST /api/v1/messages', rest],
  ];
  printTable(`${name} (ms per call, ${RUNS} sequential calls each; ${describeMachine()}; load average ${load.toFixed(1)})`, ['call', 'p50', 'p95', 'p99', '× baseline p50'], rows.map(([label, s]) => [label, s.p50, s.p95, s.p99, s.p50 / baseline.p50]));
  const ratio = send.p50 / baseline.p50;
  const noop = Math.min(ping.p50, noopTool.p50);
  console.log(`  send_message p50 / baseline echo p50 = ${ratio.toFixed(2)} (≤ ${GOALS.sendMessageRatio}): ${passFail(ratio <= GOALS.sendMessageRatio)}; no-op p50 ${noop.toFixed(2)} ms (≤ ${GOALS.noopP50Ms}): ${passFail(noop <= GOALS.noopP50Ms)}`);
  writeResult(name, { runs: RUNS, load_average: load, goals: GOALS, baseline_echo: baseline, ping, noop_tool: noopTool, send_message: send, rest_send_message: rest, send_ratio: ratio, pass: ratio <= GOALS.sendMessageRatio && noop <= GOALS.noopP50Ms });
}

runIfMain(import.meta.url, run);
