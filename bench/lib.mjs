// Shared helpers for the benchmark scenarios: paths, stats, machine description, tables, JSON results.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(BENCH_DIR, '..');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
export const MINIMAL_SERVER = join(BENCH_DIR, 'fixtures', 'minimal-server.mjs');
export const RESULTS_DIR = join(BENCH_DIR, 'results');

/** Sorted copy of the samples. */
const sorted = (samples) => [...samples].sort((a, b) => a - b);

/** Value at quantile q (0..1), linear interpolation between closest ranks. */
export function quantile(samples, q) {
  if (samples.length === 0) return NaN;
  const s = sorted(samples);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function stats(samples) {
  const s = sorted(samples);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return {
    n: s.length,
    median: quantile(s, 0.5),
    p95: quantile(s, 0.95),
    mean,
    min: s[0],
    max: s[s.length - 1],
  };
}

function cpuModel() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1].trim();
  } catch {
    // not Linux: fall back to os.cpus()
  }
  return cpus()[0]?.model ?? 'unknown';
}

export function machine() {
  return {
    cpu: cpuModel(),
    cores: cpus().length,
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    timestamp: new Date().toISOString(),
  };
}

export function describeMachine(m = machine()) {
  return `${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, node ${m.node}, ${m.platform}, ${m.timestamp}`;
}

/** Rounds a number for display. */
export const fmt = (x, digits = 1) => (typeof x === 'number' ? (Number.isFinite(x) ? x.toFixed(digits) : String(x)) : String(x ?? ''));

/** Prints an aligned text table: `columns` are header names, `rows` arrays of cells (numbers shown with 1 decimal). */
export function printTable(title, columns, rows) {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : String(c))));
  const widths = columns.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  // The first column (labels) is left-aligned, the figures right-aligned.
  const pad = (s, i) => (i > 0 ? s.padStart(widths[i]) : s.padEnd(widths[i]));
  const line = (r) => `  ${r.map((c, i) => pad(c ?? '', i)).join('  ')}`;
  console.log(`\n${title}`);
  console.log(line(columns));
  console.log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of cells) console.log(line(r));
}

/** Writes bench/results/<name>.json with the machine description added. Returns the path. */
export function writeResult(name, data) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ scenario: name, machine: machine(), ...data }, null, 2)}\n`);
  return file;
}

/** True when the module at `metaUrl` is the script node was started with (a scenario run alone). */
function isMain(metaUrl) {
  return process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(metaUrl);
}

/** Runs a scenario when its file is the one node was started with (each scenario is runnable alone). */
export function runIfMain(metaUrl, run) {
  if (!isMain(metaUrl)) return;
  run().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

export function passFail(ok) {
  return ok ? 'PASS' : 'FAIL';
}
