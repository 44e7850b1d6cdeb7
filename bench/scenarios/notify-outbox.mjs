#!/usr/bin/env node
// Notify outbox: what routing a notification into the outbox costs the notifying call, and how fast the sender
// empties a burst.
//
// 1. p50 of team_comm(action='notify') through the core in-process (no MCP), on a file database, without any
//    notification rule (the baseline) and with one webhook rule, so every call also writes an outbox row. Blocks
//    of BLOCK calls alternate between the two databases, ROUNDS times, after warm-ups; the sender does not run
//    meanwhile, so only the call's own work is timed.
//    The same through MCP: an SDK client calling `team-table serve` over stdio, as an agent makes the call (the
//    server's own sender runs, as it always does; the receiver answers); and a third variant where a
//    `team-table sender` process leads the sending, so that serve only writes the outbox.
// 2. A burst of BURST notifications, each one notify call, with the sender running in this process
//    (startNotificationSender, as serve does) and a webhook receiver in another (bench/fixtures/receiver.mjs):
//    deliveries per second from the first call until the receiver has them all, and the calls' own rate.
import { fork, spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BENCH_DIR, CLI, ROOT, describeMachine, fmt, passFail, printTable, runIfMain, stats, writeResult } from '../lib.mjs';

export const name = 'notify-outbox';
const BURST = Number(process.env.BENCH_NOTIFY_BURST) || 10_000;
const BLOCK = 200;
const ROUNDS = 10;
const WARMUP = 300;
const GOAL_RATIO = 1.2;
const OWNER = { kind: 'owner', name: 'bench' };

const dist = (...path) => import(join(ROOT, 'dist', ...path));

async function startReceiver() {
  const child = fork(join(BENCH_DIR, 'fixtures', 'receiver.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await new Promise((resolve) => child.once('message', resolve));
  const count = () =>
    new Promise((resolve) => {
      child.once('message', (m) => resolve(m.received));
      child.send('count');
    });
  return { url: `http://127.0.0.1:${port}/hook`, count, stop: () => child.send('stop') };
}

async function openTable(dir, label, hookUrl) {
  const [{ Store }, { Core }] = await Promise.all([dist('store', 'store.js'), dist('core', 'core.js')]);
  const core = new Core(await Store.open(join(dir, `${label}.db`)));
  await core.call(OWNER, 'team_manage', { action: 'create', name: 'Bench' });
  if (hookUrl) {
    await core.call(OWNER, 'team_manage', { action: 'notify_rule_create', name: 'hook', events: ['task_progress'], destinations: [{ type: 'webhook', url: hookUrl, secret: 'bench-secret' }] });
  }
  return core;
}

const notify = (core, i) => core.call(OWNER, 'team_comm', { action: 'notify', type: 'task_progress', message: `step ${i}`, priority: 4 });

async function timeCalls(core, n, from) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await notify(core, from + i);
    samples.push(performance.now() - started);
  }
  return samples;
}

async function callCost(dir, receiver) {
  const plain = await openTable(dir, 'plain');
  const routed = await openTable(dir, 'routed', receiver.url);
  await timeCalls(plain, WARMUP, 0);
  await timeCalls(routed, WARMUP, 0);
  const without = [];
  const withRule = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [routed, plain] : [plain, routed];
    for (const core of order) (core === plain ? without : withRule).push(...(await timeCalls(core, BLOCK, WARMUP + round * BLOCK)));
  }
  const check = await routed.store.db.selectFrom('notification_deliveries').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  await plain.store.close();
  await routed.store.close();
  return { without: stats(without), with_rule: stats(withRule), outbox_rows: Number(check.n) };
}

/** p50 of notify as an MCP client sees it, with and without the webhook rule, blocks alternating. */
async function callCostOverMcp(dir, receiver) {
  const connect = async (label, hookUrl, existing = false) => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--db', join(dir, `${label}.db`)], env: { ...process.env, TEAM_TABLE_OWNER: 'bench' }, stderr: 'ignore' });
    const client = new Client({ name: 'bench', version: '0' });
    await client.connect(transport);
    const call = async (tool, args) => {
      const result = await client.callTool({ name: tool, arguments: args });
      if (result.isError) throw new Error(result.content[0].text);
    };
    if (existing) return { client, call };
    await call('team_manage', { action: 'create', name: 'Bench' });
    if (hookUrl) await call('team_manage', { action: 'notify_rule_create', name: 'hook', events: ['task_progress'], destinations: [{ type: 'webhook', url: hookUrl, secret: 'bench-secret' }] });
    return { client, call };
  };
  const plain = await connect('mcp-plain');
  const routed = await connect('mcp-routed', receiver.url);
  // The sender process starts first, on the database serve created, and takes the lead before serve asks for it.
  const aside = await connect('mcp-aside', receiver.url);
  await aside.client.close();
  const senderProcess = spawn(process.execPath, [CLI, 'sender', '--db', join(dir, 'mcp-aside.db')], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise((resolve) => senderProcess.stderr.on('data', (d) => String(d).includes('started') && resolve()));
  const separate = await connect('mcp-aside', receiver.url, true);
  const time = async (session, n) => {
    const samples = [];
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      await session.call('team_comm', { action: 'notify', type: 'task_progress', message: `step ${i}`, priority: 4 });
      samples.push(performance.now() - started);
    }
    return samples;
  };
  const sessions = [plain, routed, separate];
  const samples = sessions.map(() => []);
  for (const session of sessions) await time(session, WARMUP);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < sessions.length; k++) {
      const index = (k + round) % sessions.length;
      samples[index].push(...(await time(sessions[index], BLOCK)));
    }
  }
  for (const session of sessions) await session.client.close();
  senderProcess.kill('SIGTERM');
  return { without: stats(samples[0]), with_rule: stats(samples[1]), with_rule_sender_apart: stats(samples[2]) };
}

async function burst(dir, receiver) {
  const { startNotificationSender } = await dist('outbox', 'sender.js');
  const core = await openTable(dir, 'burst', receiver.url);
  const sender = await startNotificationSender(core);
  const before = await receiver.count();
  const started = performance.now();
  for (let i = 0; i < BURST; i++) await notify(core, i);
  const callsDone = performance.now();
  for (;;) {
    if ((await receiver.count()) - before >= BURST) break;
    if (performance.now() - started > 600_000) throw new Error('the burst did not arrive within 10 minutes');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const arrived = performance.now();
  await sender.stop();
  const states = await core.store.db.selectFrom('notification_deliveries').select(['state', (eb) => eb.fn.countAll().as('n')]).groupBy('state').execute();
  await core.store.close();
  return {
    notifications: BURST,
    calls_per_s: BURST / ((callsDone - started) / 1000),
    deliveries_per_s: BURST / ((arrived - started) / 1000),
    seconds_to_last_delivery: (arrived - started) / 1000,
    seconds_after_last_call: (arrived - callsDone) / 1000,
    states: Object.fromEntries(states.map((s) => [s.state, Number(s.n)])),
  };
}

async function run() {
  console.log(`\n== ${name}: ${describeMachine()}`);
  const dir = mkdtempSync(join(tmpdir(), 'tt-bench-notify-'));
  const receiver = await startReceiver();
  try {
    const cost = await callCost(dir, receiver);
    const ratio = cost.with_rule.median / cost.without.median;
    const us = (ms) => Math.round(ms * 1000);
    printTable(`notify, in-process, ${ROUNDS * BLOCK} calls each (µs)`, ['variant', 'p50', 'p95', 'mean'], [
      ['no notification rule', us(cost.without.median), us(cost.without.p95), us(cost.without.mean)],
      ['one webhook rule (outbox row)', us(cost.with_rule.median), us(cost.with_rule.p95), us(cost.with_rule.mean)],
    ]);
    const mcp = await callCostOverMcp(dir, receiver);
    const mcpRatio = mcp.with_rule.median / mcp.without.median;
    printTable(`notify over MCP (SDK client, serve over stdio), ${ROUNDS * BLOCK} calls each (µs)`, ['variant', 'p50', 'p95', 'mean'], [
      ['no notification rule', us(mcp.without.median), us(mcp.without.p95), us(mcp.without.mean)],
      ['one webhook rule (outbox row, sent)', us(mcp.with_rule.median), us(mcp.with_rule.p95), us(mcp.with_rule.mean)],
      ['the same, sender in its own process', us(mcp.with_rule_sender_apart.median), us(mcp.with_rule_sender_apart.p95), us(mcp.with_rule_sender_apart.mean)],
    ]);
    const apartRatio = mcp.with_rule_sender_apart.median / mcp.without.median;
    const flood = await burst(dir, receiver);
    printTable(`burst of ${BURST} notifications to a local receiver`, ['measure', 'value'], [
      ['notify calls/s during the burst', flood.calls_per_s],
      ['deliveries/s (first call → last delivery)', flood.deliveries_per_s],
      ['s from the last call to the last delivery', flood.seconds_after_last_call],
    ]);
    const goals = [
      { id: 'outbox-cost', goal: `p50 notify with a webhook rule ≤ ${GOAL_RATIO}× without (in-process)`, ratio, pass: ratio <= GOAL_RATIO },
      { id: 'outbox-cost-mcp', goal: `p50 notify with a webhook rule ≤ ${GOAL_RATIO}× without (over MCP)`, ratio: mcpRatio, pass: mcpRatio <= GOAL_RATIO },
      { id: 'outbox-cost-mcp-sender-apart', goal: `the same, the sender in its own process`, ratio: apartRatio, pass: apartRatio <= GOAL_RATIO },
      { id: 'burst-complete', goal: 'every delivery of the burst sent', pass: flood.states.sent === BURST },
    ];
    console.log(`\n  goal outbox cost, in-process: ${fmt(ratio, 2)}× (≤ ${GOAL_RATIO}×) ${passFail(goals[0].pass)}`);
    console.log(`  goal outbox cost, over MCP: ${fmt(mcpRatio, 2)}× (≤ ${GOAL_RATIO}×) ${passFail(goals[1].pass)}`);
    console.log(`  goal outbox cost, over MCP, sender apart: ${fmt(apartRatio, 2)}× (≤ ${GOAL_RATIO}×) ${passFail(goals[2].pass)}`);
    console.log(`  goal burst: ${JSON.stringify(flood.states)} ${passFail(goals[3].pass)}`);
    const file = writeResult(name, { burst_size: BURST, block: BLOCK, rounds: ROUNDS, cost, ratio, mcp, mcp_ratio: mcpRatio, mcp_sender_apart_ratio: apartRatio, burst: flood, goals });
    console.log(`  -> ${file}`);
    return { name, goals };
  } finally {
    receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, run);
