#!/usr/bin/env node
// Stdio call rate: sequential tool calls per second through the SDK's (v2) client over stdio, one session each,
// startup and connect outside the timing. Baseline in the same run, rounds interleaved: the SDK's minimal server
// (bench/fixtures/minimal-server.mjs) answering its no-op `echo`. team-table answers
//   - team_manage(action='list') as the owner: the cheapest call through the core (validate, resolve, one read);
//   - team_agent(action='working_get') as an agent: a read of the agent's own state, what a heartbeat starts with;
//   - team_task(action='claim_next') as an agent on an empty queue: the claim's whole path with nothing to take;
//   - team_task(action='claim_next') as another agent of another team with a backlog: each call claims a task.
// Goals: the cheapest call, and a claim that takes a task, ≥ 0.5× the minimal server's no-op call rate.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CLI, MINIMAL_SERVER, describeMachine, fmt, passFail, printTable, runIfMain, stats, writeResult } from '../lib.mjs';
import { connect, insertBacklog } from '../stdio.mjs';

export const name = 'stdio-call-rate';
const CALLS = Number(process.env.BENCH_CALLS) || 2_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS) || 5;
const WARMUP_CALLS = 200;
const GOAL_RATIO = 0.5;


/** Calls `tool(args)` `count` times, one after the other; returns calls per second. `check` vets each answer. */
async function rate(session, tool, args, count, check = () => true) {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const result = await session.client.callTool({ name: tool, arguments: args });
    if (result.isError || !check(result)) throw new Error(`${tool}: ${result.content?.[0]?.text}\n${session.stderr()}`);
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
    await owner.client.callTool({ name: 'team_agent', arguments: { action: 'create', team_id: 'Bench', name: 'Worker' } });
    // The claimer's team has a backlog for every call of the run; the worker's queue stays empty.
    const busy = (await owner.client.callTool({ name: 'team_manage', arguments: { action: 'create', name: 'Backlog' } })).structuredContent;
    await owner.client.callTool({ name: 'team_agent', arguments: { action: 'create', team_id: busy.id, name: 'Claimer' } });
    insertBacklog(db, busy.id, WARMUP_CALLS + ROUNDS * CALLS + 100);
    const worker = await connect([CLI, 'serve', '--db', db, '--agent', 'worker']);
    const claimer = await connect([CLI, 'serve', '--db', db, '--agent', 'claimer']);
    const minimal = await connect([MINIMAL_SERVER]);
    sessions.push(worker, claimer, minimal);

    const variants = [
      { id: 'minimal-sdk-echo', label: 'minimal SDK server, echo (no-op)', session: minimal, tool: 'echo', args: { text: 'ping' }, baseline: true },
      { id: 'team-manage-list', label: "team-table team_manage(action='list')", session: owner, tool: 'team_manage', args: { action: 'list' } },
      { id: 'working-get', label: "team-table team_agent(action='working_get'), agent", session: worker, tool: 'team_agent', args: { action: 'working_get' } },
      { id: 'claim-next-empty', label: "team-table team_task(action='claim_next'), empty queue", session: worker, tool: 'team_task', args: { action: 'claim_next' } },
      { id: 'claim-next', label: "team-table team_task(action='claim_next'), claims a task", session: claimer, tool: 'team_task', args: { action: 'claim_next' }, check: (r) => Boolean(r.structuredContent?.task) },
    ];
    for (const v of variants) await rate(v.session, v.tool, v.args, WARMUP_CALLS, v.check);
    const samples = Object.fromEntries(variants.map((v) => [v.id, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < variants.length; i++) {
        const v = variants[(i + round) % variants.length];
        samples[v.id].push(await rate(v.session, v.tool, v.args, CALLS, v.check));
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
    const goals = ['team-manage-list', 'claim-next'].map((id) => {
      const r = results.find((x) => x.id === id);
      return { id, goal: `median ≥ ${GOAL_RATIO}× minimal SDK no-op rate`, ratio: r.ratio_to_minimal_sdk, pass: r.ratio_to_minimal_sdk >= GOAL_RATIO };
    });
    console.log('');
    for (const goal of goals) console.log(`  goal ${goal.id}: ${fmt(goal.ratio, 2)}× (≥ ${GOAL_RATIO}×) ${passFail(goal.pass)}`);
    const file = writeResult(name, { unit: 'calls/s', calls: CALLS, rounds: ROUNDS, results, goals });
    console.log(`  -> ${file}`);
    return { name, goals };
  } finally {
    for (const s of sessions) await s.client.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, run);
