#!/usr/bin/env node
// Runs the benchmark scenarios in bench/scenarios/ (all, or those named in argv), each in its own
// node process exactly as `node bench/scenarios/<name>.mjs` would, so no scenario warms up another.
// Each scenario prints its table and writes bench/results/<name>.json. Missing a goal is reported,
// never an exit code; only a scenario that crashes makes this exit non-zero.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, describeMachine } from './lib.mjs';

const dir = join(BENCH_DIR, 'scenarios');
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.mjs'))
  .map((f) => f.slice(0, -'.mjs'.length))
  .sort();

const wanted = process.argv.slice(2).map((a) => a.replace(/\.mjs$/, ''));
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
const selected = wanted.length ? wanted : available;

console.log(`team-table benchmarks: ${selected.join(', ')}`);
console.log(`machine: ${describeMachine()}`);

const failed = [];
for (const scenario of selected) {
  const started = Date.now();
  const { status, signal } = spawnSync(process.execPath, [join(dir, `${scenario}.mjs`)], { stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (status !== 0) {
    failed.push(scenario);
    console.error(`\n!! ${scenario} failed (${signal ?? `exit ${status}`}) after ${seconds} s`);
  } else {
    console.log(`   (${scenario}: ${seconds} s)`);
  }
}

if (failed.length) {
  console.error(`\n${failed.length} scenario(s) failed: ${failed.join(', ')}`);
  process.exit(1);
}
