#!/usr/bin/env node
// Cross-replica push on PostgreSQL: two `serve --http` replicas on one database (BENCH_PG, else
// TEAM_TABLE_TEST_PG; a fresh schema). An SSE stream of loki's on replica A; jarvis sends loki a message through
// replica B's REST API, one at a time. Latency: from the answer of B (the write committed) to the event's receipt
// on A's stream — NOTIFY after commit, A's LISTEN connection, its feed reading the log, the SSE write.
// Baseline in the same run: the same on one replica (stream and write on A: its own commit wakes its feed).
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { describeMachine, passFail, printTable, quantile, runIfMain, writeResult } from '../lib.mjs';
import { openCore, openStream, post, seedBench, startServer } from '../http-lib.mjs';

export const name = 'pg-push-latency';
const URL_BASE = process.env.BENCH_PG ?? process.env.TEAM_TABLE_TEST_PG;
const RUNS = Number(process.env.BENCH_RUNS) || 300;
const WARMUPS = 20;
const GOAL_P99_MS = 20;

const pct = (samples) => ({ n: samples.length, p50: quantile(samples, 0.5), p95: quantile(samples, 0.95), p99: quantile(samples, 0.99), max: Math.max(...samples) });

/** Sends RUNS messages through `via`, each after the previous one arrived on the stream; the latencies in ms. */
async function measure(via, stream, token) {
  const samples = [];
  for (let i = 0; i < WARMUPS + RUNS; i++) {
    const arrived = stream.next();
    await post(`${via.url}/api/v1/messages`, token, { to_agent: 'loki', content: `m${i}` });
    const answered = performance.now();
    const at = await arrived;
    if (i >= WARMUPS) samples.push(Math.max(0, at - answered));
  }
  return pct(samples);
}

export async function run() {
  if (!URL_BASE) {
    console.log('pg-push-latency: skipped (set BENCH_PG or TEAM_TABLE_TEST_PG to a PostgreSQL URL)');
    return;
  }
  const schema = `bench_push_${randomBytes(4).toString('hex')}`;
  const url = new URL(URL_BASE);
  url.searchParams.set('schema', schema);
  const db = url.toString();
  const core = await openCore(db);
  const owner = await seedBench(core);
  const jarvis = (await core.call(owner, 'team_agent', { action: 'token_create', agent_id: 'jarvis' })).token;
  const loki = (await core.call(owner, 'team_agent', { action: 'token_create', agent_id: 'loki' })).token;
  await core.store.close();
  const [a, b] = await Promise.all([startServer(db), startServer(db)]);
  const waiting = [];
  const early = [];
  const onEvent = (_id, _data, at) => (waiting.length ? waiting.shift()(at) : early.push(at));
  const stream = await openStream(a.url, loki, onEvent);
  const next = () => (early.length ? Promise.resolve(early.shift()) : new Promise((resolve) => waiting.push(resolve)));
  try {
    const across = await measure(b, { next }, jarvis);
    const same = await measure(a, { next }, jarvis);
    printTable(`push latency on PostgreSQL, ${RUNS} messages, ms from the write's answer to the SSE event (${describeMachine()})`, ['variant', 'p50', 'p95', 'p99', 'max'], [
      ['write on replica B, stream on replica A', across.p50, across.p95, across.p99, across.max],
      ['baseline: write and stream on replica A', same.p50, same.p95, same.p99, same.max],
    ]);
    console.log(`\n  cross-replica p99 ${across.p99.toFixed(1)} ms (goal ≤ ${GOAL_P99_MS}) ${passFail(across.p99 <= GOAL_P99_MS)}`);
    console.log(`  → ${writeResult(name, { runs: RUNS, across, same })}`);
  } finally {
    stream.close();
    await Promise.all([a.stop(), b.stop()]);
    const admin = new pg.Client({ connectionString: URL_BASE });
    await admin.connect();
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  }
}

runIfMain(import.meta.url, run);
