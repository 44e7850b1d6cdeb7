#!/usr/bin/env node
// Stdio call rate: sequential tool calls per second through the SDK's (v2) client over stdio, one session each,
// startup and connect outside the timing. Baseline in the same run, rounds interleaved: the SDK's minimal server
// (bench/fixtures/minimal-server.mjs) answering its no-op `echo`. team-table answers
//   - team_manage(action='list') as the owner: the cheapest call through the core (validate, resolve, one read);
//   - team_agent(action='working_get') as an agent: a read of the agent's own state, what a heartbeat starts with;
//   - team_task(action='claim_next') as an agent on an empty queue: the claim's whole path with nothing to take.
// Goal: the cheapest call ≥ 0.5× the minimal server's no-op call rate.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { CLI, MINIMAL_SERVER, describeMachine, fmt, passFail, printTable, runIfMain, stats, writeResult } from '../lib.mjs';

export const name = 'stdio-call-rate';
const CALLS = Number(process.env.BENCH_CALLS) || 2_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS) || 5;
const WARMUP_CALLS = 200;
const GOAL_RATIO = 0.5;

async function connect(args) {
  const transport = new StdioClientTransport({ command: process.execPath, args, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d) => (stderr = `${stderr}${d}`.slice(-5000)));
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

/** Calls `tool(args)` `count` times, one after the other; returns calls per second. */
async function rate(session, tool, args, count) {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const result = await session.client.callTool({ name: tool, arguments: args });
    if (result.isError) throw new Error(`${tool}: ${result.content?.[0]?.text}\n${session.stderr()}`);
  }
  return (count / (performance.now() - t0)) * 1000;
}

export async function run() {
  console.log(`\n== ${name}: sequential tool calls over stdio (${ROUNDS} rounds × ${CALLS} calls, interleaved)`);
  console.log(`   ${describeMachine()}`);
  const dir = mkdtempSync(join(tmpdir(), 'tt-bench-'));
  const db = join(dir, 'team.db');
  const sessions = [];
  try {
    const owner = await connect([CLI, 'serve', '--db', db]);
    sessions.push(owner);
    await owner.client.callTool({ name: 'team_manage', arguments: { action: 'create', name: 'Bench' } });
    await owner.client.callTool({ name: 'team_agent', arguments: { action: 'create', name: 'Worker' } });
    const worker = await connect([CLI, 'serve', '--db', db, '--agent', 'worker']);
    const minimal = await connect([MINIMAL_SERVER]);
    sessions.push(worker, minimal);

    const variants = [
      { id: 'minimal-sdk-echo', label: 'minimal SDK server, echo (no-op)', session: minimal, tool: 'echo', args: { text: 'ping' }, baseline: true },
      { id: 'team-manage-list', label: "team-table team_manage(action='list')", session: owner, tool: 'team_manage', args: { action: 'list' } },
      { id: 'working-get', label: "team-table team_agent(action='working_get'), agent", session: worker, tool: 'team_agent', args: { action: 'working_get' } },
      { id: 'claim-next-empty', label: "team-table team_task(action='claim_next'), empty queue", session: worker, tool: 'team_task', args: { action: 'claim_next' } },
    ];
    for (const v of variants) await rate(v.session, v.tool, v.args, WARMUP_CALLS);
    const samples = Object.fromEntries(variants.map((v) => [v.id, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < variants.length; i++) {
        const v = variants[(i + round) % variants.length];
        samples[v.id].push(await rate(v.session, v.tool, v.args, CALLS));
      }
    }
    const results = variants.map((v) => ({ id: v.id, label: v.label, ...stats(samples[v.id]), samples_per_s: samples[v.id] }));
    const base = results.find((r) => r.id === 'minimal-sdk-echo').median;
    for (const r of results) r.ratio_to_minimal_sdk = r.median / base;
    printTable(
      'calls per second (median of rounds)',
      ['variant', 'median /s', 'min /s', 'max /s', 'µs per call', '× minimal SDK'],
      results.map((r) => [r.label, r.median, r.min, r.max, 1e6 / r.median, `${fmt(r.ratio_to_minimal_sdk, 2)}×`]),
    );
    const cheapest = results.find((r) => r.id === 'team-manage-list');
    const goal = { id: cheapest.id, goal: `median ≥ ${GOAL_RATIO}× minimal SDK no-op rate`, ratio: cheapest.ratio_to_minimal_sdk, pass: cheapest.ratio_to_minimal_sdk >= GOAL_RATIO };
    console.log(`\n  goal ${goal.id}: ${fmt(goal.ratio, 2)}× (≥ ${GOAL_RATIO}×) ${passFail(goal.pass)}`);
    const file = writeResult(name, { unit: 'calls/s', calls: CALLS, rounds: ROUNDS, results, goals: [goal] });
    console.log(`  -> ${file}`);
    return { name, goals: [goal] };
  } finally {
    for (const s of sessions) await s.client.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, run);
