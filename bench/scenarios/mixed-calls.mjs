#!/usr/bin/env node
// Mixed calls: SESSIONS agents, each its own `team-table serve --agent aN` process on one database, driven by an SDK
// client from this process (each session's calls sequential, the sessions concurrent), CALLS calls per session from
// a fixed cycle of what an agent's turn does: claim_next, working_update, task get, a comment on its task, a direct
// message to the next agent, mention_check, team_agent get, fact_save, task list, and the task to done.
// Baseline in the same run, same shape: SESSIONS minimal SDK servers (bench/fixtures/minimal-server.mjs), CALLS
// no-op `echo` calls each, concurrently; the two phases alternate (no-op, mixed, no-op, mixed).
// Reports each call's latency (client side, ms): p50 and p99 of all calls and per action, against the no-op's.
// Then the same agents through one `serve --http` on the same file (each with its own token, an SDK client over
// Streamable HTTP), against SESSIONS clients of the SDK's minimal HTTP server: one process queueing its writes
// instead of SESSIONS processes taking turns at SQLite's write lock.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { BENCH_DIR, CLI, MINIMAL_SERVER, describeMachine, fmt, printTable, quantile, runIfMain, writeResult } from '../lib.mjs';
import { spawnListening, startServer } from '../http-lib.mjs';
import { connect, insertBacklog } from '../stdio.mjs';

export const name = 'mixed-calls';
const SESSIONS = Number(process.env.BENCH_MIXED_SESSIONS) || 20;
const CALLS = Number(process.env.BENCH_MIXED_CALLS) || 500;
const ROUNDS = 2;



/** The cycle of one agent's calls; `state.task` is the task it holds (claim_next sets it, done clears it). */
const CYCLE = [
  ['claim_next', () => ['team_task', { action: 'claim_next' }]],
  ['working_update', (s) => ['team_agent', { action: 'working_update', status: 'working', next_steps: `step ${s.n}` }]],
  ['task get', (s) => (s.task ? ['team_task', { action: 'get', task_id: s.task }] : null)],
  ['comment', (s) => (s.task ? ['team_comm', { action: 'comment', task_id: s.task, content: `progress ${s.n} on it` }] : null)],
  ['send_message', (s) => ['team_comm', { action: 'send_message', to_agent: s.next, content: `hello ${s.n}` }]],
  ['mention_check', () => ['team_comm', { action: 'mention_check', limit: 20 }]],
  ['team_agent get', () => ['team_agent', { action: 'get' }]],
  ['fact_save', (s) => ['team_memory', { action: 'fact_save', key: `${s.agent}.progress`, value: `at ${s.n}` }]],
  ['task list', () => ['team_task', { action: 'list', status: 'in_progress', limit: 10 }]],
  ['task done', (s) => (s.task ? ['team_task', { action: 'update', task_id: s.task, status: 'done' }] : null)],
];

/** One session's CALLS calls; returns [action, ms] for each. */
async function mixedLoop(session, agent, next) {
  const state = { agent, next, task: null, n: 0 };
  const samples = [];
  for (let i = 0; samples.length < CALLS; i++) {
    const [label, make] = CYCLE[i % CYCLE.length];
    state.n = i;
    const call = make(state);
    if (!call) continue;
    const t0 = performance.now();
    const result = await session.client.callTool({ name: call[0], arguments: call[1] }, { timeout: 120_000 });
    samples.push([label, performance.now() - t0]);
    if (result.isError) throw new Error(`${agent} ${label}: ${result.content?.[0]?.text}\n${session.stderr()}`);
    if (label === 'claim_next') state.task = result.structuredContent?.task?.id ?? null;
    if (label === 'task done') state.task = null;
  }
  return samples;
}

/** A client session over Streamable HTTP with `url`'s /mcp, as `token`'s holder (none: the minimal server). */
async function connectHttp(url, token) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }));
  await client.listTools();
  return { client, stderr: () => '' };
}

async function noopLoop(session) {
  const samples = [];
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    await session.client.callTool({ name: 'echo', arguments: { text: `ping ${i}` } });
    samples.push(['echo', performance.now() - t0]);
  }
  return samples;
}

const summary = (samples) => {
  const ms = samples.map(([, t]) => t);
  return { n: ms.length, p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), max: Math.max(...ms) };
};

export async function run() {
  console.log(`\n== ${name}: ${SESSIONS} sessions × ${CALLS} mixed calls over stdio, then over HTTP, each against ${SESSIONS} × ${CALLS} no-op calls (${ROUNDS} rounds each, alternating)`);
  console.log(`   ${describeMachine()}`);
  const dir = mkdtempSync(join(tmpdir(), 'tt-bench-'));
  const db = join(dir, 'team.db');
  const sessions = [];
  const servers = [];
  try {
    const owner = await connect([CLI, 'serve', '--db', db]);
    sessions.push(owner);
    const call = async (tool, args) => (await owner.client.callTool({ name: tool, arguments: args })).structuredContent;
    const team = await call('team_manage', { action: 'create', name: 'Mixed' });
    const agents = Array.from({ length: SESSIONS }, (_, k) => `a${k + 1}`);
    for (const agent of agents) await call('team_agent', { action: 'create', team_id: team.id, name: agent });
    insertBacklog(db, team.id, 2 * ROUNDS * SESSIONS * CALLS);
    const tokens = [];
    for (const agent of agents) tokens.push((await call('team_agent', { action: 'token_create', agent_id: agent })).token);

    const stdioWorkers = await Promise.all(agents.map((agent) => connect([CLI, 'serve', '--db', db, '--agent', agent])));
    const stdioMinimal = await Promise.all(agents.map(() => connect([MINIMAL_SERVER])));
    const server = await startServer(db);
    servers.push(server);
    const minimalServer = await spawnListening([join(BENCH_DIR, 'fixtures', 'minimal-http-server.mjs')]);
    servers.push(minimalServer);
    const httpWorkers = await Promise.all(tokens.map((token) => connectHttp(server.url, token)));
    const httpMinimal = await Promise.all(agents.map(() => connectHttp(minimalServer.url)));
    sessions.push(...stdioWorkers, ...stdioMinimal, ...httpWorkers, ...httpMinimal);

    const transports = [
      { id: 'stdio', title: `${SESSIONS} \`serve\` processes over stdio`, noopLabel: 'minimal SDK server, echo (no-op)', minimal: stdioMinimal, workers: stdioWorkers },
      { id: 'http', title: `one \`serve --http\` over Streamable HTTP`, noopLabel: 'minimal SDK HTTP server, echo (no-op)', minimal: httpMinimal, workers: httpWorkers },
    ];
    const results = {};
    for (const t of transports) {
      const phases = { noop: [], mixed: [] };
      for (let round = 0; round < ROUNDS; round++) {
        phases.noop.push(...(await Promise.all(t.minimal.map(noopLoop))).flat());
        phases.mixed.push(...(await Promise.all(t.workers.map((s, k) => mixedLoop(s, agents[k], agents[(k + 1) % agents.length])))).flat());
      }
      const noop = summary(phases.noop);
      const mixed = summary(phases.mixed);
      const byAction = CYCLE.map(([label]) => ({ label, ...summary(phases.mixed.filter(([l]) => l === label)) }));
      const rows = [{ label: t.noopLabel, ...noop }, { label: 'team-table, all mixed calls', ...mixed }, ...byAction.map((a) => ({ ...a, label: `  ${a.label}` }))];
      printTable(
        `ms per call, ${SESSIONS} sessions at once (client side), ${t.title}`,
        ['calls', 'n', 'p50', 'p99', 'max', 'p50 × no-op', 'p99 × no-op'],
        rows.map((r) => [r.label, String(r.n), fmt(r.p50, 2), fmt(r.p99, 2), fmt(r.max, 1), `${fmt(r.p50 / noop.p50, 1)}×`, `${fmt(r.p99 / noop.p99, 1)}×`]),
      );
      results[t.id] = { noop, mixed, by_action: byAction };
    }
    const file = writeResult(name, { sessions: SESSIONS, calls: CALLS, rounds: ROUNDS, ...results.stdio, http: results.http, goals: [] });
    console.log('');
    for (const t of transports) {
      const { noop, mixed } = results[t.id];
      console.log(`  ${t.id}: mixed p50 ${fmt(mixed.p50, 2)} ms (${fmt(mixed.p50 / noop.p50, 1)}× no-op), p99 ${fmt(mixed.p99, 1)} ms (${fmt(mixed.p99 / noop.p99, 1)}× no-op); reported, no goal`);
    }
    console.log(`  -> ${file}`);
    return { name, goals: [] };
  } finally {
    await Promise.all(sessions.map((s) => s.client.close().catch(() => {})));
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, run);
