#!/usr/bin/env node
// Cold start: how long a client waits from spawning `team-table serve` until the answer to
// `initialize` arrives on stdout. Measured with raw child_process + readline (no SDK client in the loop).
// Baselines in the same run: `node -e 0` (spawn + exit) and a minimal SDK stdio server.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { CLI, MINIMAL_SERVER, describeMachine, fmt, runIfMain, passFail, printTable, stats, writeResult } from '../lib.mjs';

export const name = 'cold-start';
const RUNS = Number(process.env.BENCH_RUNS) || 20;
const WARMUPS = 2;
const GOAL_RATIO = 1.25;
const TIMEOUT_MS = 15_000;

const INITIALIZE = `${JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } },
})}\n`;

const INITIALIZED = `${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`;
const TOOLS_LIST = `${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} })}\n`;

const freshDir = () => mkdtempSync(join(tmpdir(), 'tt-bench-'));

/** Spawns `args` with node and resolves with the ms from spawn until the process exits. */
function timeExit(args) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - t0;
      code === 0 ? resolve(ms) : reject(new Error(`node ${args.join(' ')} exited with ${code}`));
    });
  });
}

/**
 * Spawns a stdio MCP server and plays a client's handshake: `initialize`, then on its answer the `initialized`
 * notification and `tools/list`. Resolves with the ms from spawn until each answer arrives (`init`, `tools`):
 * a client can use the server from the second one on. The process is then killed and waited for.
 */
function timeHandshake(args) {
  return new Promise((resolve, reject) => {
    let stderr = '';
    let settled = false;
    let init;
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise((r) => child.once('exit', r));
    const finish = (error, result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      exited.then(() => (error ? reject(error) : resolve(result)));
    };
    const timer = setTimeout(() => finish(new Error(`no answer in ${TIMEOUT_MS} ms: ${stderr}`)), TIMEOUT_MS);
    child.once('error', (e) => finish(e));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.on('error', () => {}); // the child may be gone before the pipe flushes
    createInterface({ input: child.stdout }).on('line', (line) => {
      const ms = performance.now() - t0;
      let message;
      try {
        message = JSON.parse(line);
      } catch {
        return finish(new Error(`not JSON on stdout: ${line.slice(0, 200)}`));
      }
      if (message.id === 1 && message.result) {
        init = ms;
        child.stdin.write(INITIALIZED + TOOLS_LIST);
      } else if (message.id === 2 && message.result) finish(null, { init, tools: ms });
      else finish(new Error(`unexpected answer: ${line.slice(0, 300)}`));
    });
    child.once('exit', (code) => finish(new Error(`exited with ${code} before answering: ${stderr}`)));
    child.stdin.write(INITIALIZE);
  });
}

/** Serves once on a fresh database, closes stdin so it shuts down cleanly, and returns the database file. */
async function makeTemplateDb() {
  const dir = freshDir();
  const db = join(dir, 'team.db');
  await new Promise((resolve, reject) => {
    let stderr = '';
    const child = spawn(process.execPath, [CLI, 'serve', '--db', db], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`template serve exited with ${code}: ${stderr}`))));
    child.stdin.write(INITIALIZE);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const id = JSON.parse(line).id;
      if (id === 1) child.stdin.write(INITIALIZED + TOOLS_LIST);
      if (id === 2) child.stdin.end();
    });
  });
  if (!existsSync(db)) throw new Error('template database was not created');
  return { dir, db };
}

/** Each variant prepares its run outside the timing (temp dirs, database copies) and cleans up after. */
function variants(templateDb) {
  const withDir = (make) => async () => {
    const dir = freshDir();
    try {
      return await make(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return [
    { id: 'node-e-0', label: 'node -e 0 (spawn + exit)', baseline: true, run: async () => ({ init: await timeExit(['-e', '0']) }) },
    { id: 'minimal-sdk', label: 'minimal SDK server', baseline: true, run: () => timeHandshake([MINIMAL_SERVER]) },
    {
      id: 'team-table-fresh-db',
      label: 'team-table serve, fresh database (creates + migrates)',
      run: withDir((dir) => timeHandshake([CLI, 'serve', '--db', join(dir, 'team.db')])),
    },
    {
      id: 'team-table-existing-db',
      label: 'team-table serve, existing database',
      run: withDir((dir) => {
        const db = join(dir, 'team.db');
        copyFileSync(templateDb, db);
        return timeHandshake([CLI, 'serve', '--db', db]);
      }),
    },
  ];
}

export async function run() {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  console.log(`\n== cold-start: spawn -> initialize answer (${RUNS} runs after ${WARMUPS} warm-ups, interleaved)`);
  console.log(`   ${describeMachine()}`);

  const template = await makeTemplateDb();
  const list = variants(template.db);
  const samples = Object.fromEntries(list.map((v) => [v.id, []]));
  const toolSamples = {};
  try {
    for (let round = 0; round < WARMUPS + RUNS; round++) {
      // Rotate the order every round so no variant always runs right after the same other one.
      for (let i = 0; i < list.length; i++) {
        const v = list[(i + round) % list.length];
        const result = await v.run();
        if (round >= WARMUPS) {
          samples[v.id].push(result.init);
          if (result.tools !== undefined) (toolSamples[v.id] ??= []).push(result.tools);
        }
      }
    }
  } finally {
    rmSync(template.dir, { recursive: true, force: true });
  }

  const results = list.map((v) => ({ id: v.id, label: v.label, ...stats(samples[v.id]), samples_ms: samples[v.id] }));
  const by = Object.fromEntries(results.map((r) => [r.id, r]));
  const nodeMedian = by['node-e-0'].median;
  const minimalMedian = by['minimal-sdk'].median;
  for (const r of results) {
    r.ratio_to_minimal_sdk = r.median / minimalMedian;
    r.over_node_spawn_ms = r.median - nodeMedian;
  }

  const ready = list
    .filter((v) => toolSamples[v.id])
    .map((v) => ({ id: v.id, label: v.label, ...stats(toolSamples[v.id]) }));
  for (const r of ready) r.ratio_to_minimal_sdk = r.median / ready.find((x) => x.id === 'minimal-sdk').median;

  printTable(
    'cold start: spawn → initialize answer, ms',
    ['variant', 'median', 'p95', 'mean', 'min', 'max', 'median - node -e 0', '× minimal SDK'],
    results.map((r) => [r.label, r.median, r.p95, r.mean, r.min, r.max, r.over_node_spawn_ms, `${fmt(r.ratio_to_minimal_sdk, 2)}×`]),
  );

  printTable(
    'ready: spawn → tools/list answer (initialize, initialized, tools/list), ms',
    ['variant', 'median', 'p95', 'mean', '× minimal SDK'],
    ready.map((r) => [r.label, r.median, r.p95, r.mean, `${fmt(r.ratio_to_minimal_sdk, 2)}×`]),
  );

  const goals = ['team-table-fresh-db', 'team-table-existing-db'].map((id) => ({
    id,
    goal: `median ≤ ${GOAL_RATIO}× minimal SDK server median`,
    ratio: by[id].ratio_to_minimal_sdk,
    pass: by[id].ratio_to_minimal_sdk <= GOAL_RATIO,
  }));
  console.log('');
  for (const g of goals) console.log(`  goal ${g.id}: ${fmt(g.ratio, 2)}× (≤ ${GOAL_RATIO}×) ${passFail(g.pass)}`);

  const file = writeResult(name, { unit: 'ms', runs: RUNS, warmups: WARMUPS, goal_ratio: GOAL_RATIO, results, ready, goals });
  console.log(`  -> ${file}`);
  return { name, goals };
}

runIfMain(import.meta.url, run);
