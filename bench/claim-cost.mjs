// claim_next through the core in-process, for builds (or WAL checkpoint thresholds) side by side: each variant on its
// own file (a team, one agent, TASKS tasks made through the core), claims in blocks of BLOCK taking turns, so every
// variant meets the same machine. Prints per variant ms per claim (mean, median, p95, p99, max), mean and median
// against the first variant, the -wal file's size, and how long Store.close took (the last close checkpoints the log).
//
//   node bench/claim-cost.mjs main=/path/to/other/checkout this=. this:16000=.
//
// A variant is name=dir[:pages]: dir holds a built dist/; pages sets `PRAGMA wal_autocheckpoint` after opening.
// Env: TASKS (4000), CLAIMS per variant (3500), BLOCK (50), PACE_MS (0: a pause after each claim, as agents leave).
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';

const TASKS = Number(process.env.TASKS ?? 4000);
const CLAIMS = Number(process.env.CLAIMS ?? 3500);
const BLOCK = Number(process.env.BLOCK ?? 50);
const PACE_MS = Number(process.env.PACE_MS ?? 0);
const WARMUPS = 100;
const OWNER = { kind: 'owner', name: 'bench' };
const AGENT = { kind: 'agent', id: 'a1' };

const variants = [];
for (const arg of process.argv.slice(2)) {
  const [name, spec] = arg.split('=');
  const [dir, pages] = spec.split(':');
  const load = (...path) => import(pathToFileURL(join(resolve(dir), 'dist', ...path)).href);
  const { Store } = await load('store', 'store.js');
  const { Core } = await load('core', 'core.js');
  const tmp = mkdtempSync(join(tmpdir(), 'claim-cost-'));
  const path = join(tmp, 'team.db');
  const store = await Store.open(path);
  if (pages) await sql.raw(`pragma wal_autocheckpoint = ${Number(pages)}`).execute(store.db);
  const core = new Core(store);
  await core.call(OWNER, 'team_manage', { action: 'create', name: 'Bench' });
  await core.call(OWNER, 'team_agent', { action: 'create', name: 'a1' });
  for (let i = 0; i < TASKS; i++) await core.call(OWNER, 'team_task', { action: 'create', title: `t${i}`, priority: 1 + (i % 5) });
  for (let i = 0; i < WARMUPS; i++) await core.call(AGENT, 'team_task', { action: 'claim_next' });
  variants.push({ name, store, core, tmp, path, samples: [] });
}

const loadBefore = loadavg()[0];
for (let round = 0; round * BLOCK < CLAIMS; round++) {
  for (let k = 0; k < variants.length; k++) {
    const v = variants[(round + k) % variants.length];
    for (let i = 0; i < BLOCK; i++) {
      const t0 = performance.now();
      const { task } = await v.core.call(AGENT, 'team_task', { action: 'claim_next' });
      v.samples.push(performance.now() - t0);
      if (!task) throw new Error(`${v.name}: the queue ran dry; raise TASKS`);
      if (PACE_MS) await new Promise((done) => setTimeout(done, PACE_MS));
    }
  }
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const summary = (samples) => {
  const s = [...samples].sort((a, b) => a - b);
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, median: quantile(s, 0.5), p95: quantile(s, 0.95), p99: quantile(s, 0.99), max: s[s.length - 1] };
};
const first = summary(variants[0].samples);
console.log(`load average ${loadBefore.toFixed(2)} -> ${loadavg()[0].toFixed(2)}; ${variants[0].samples.length} claims per variant`);
console.log('variant            mean  median     p95     p99     max (ms)  mean×  median×  wal MiB  close ms');
for (const v of variants) {
  const s = summary(v.samples);
  const walMiB = existsSync(`${v.path}-wal`) ? statSync(`${v.path}-wal`).size / 2 ** 20 : 0;
  const t0 = performance.now();
  await v.store.close();
  const closeMs = performance.now() - t0;
  rmSync(v.tmp, { recursive: true, force: true });
  const f = (x, d = 3) => x.toFixed(d).padStart(7);
  console.log(`${v.name.padEnd(15)} ${f(s.mean)} ${f(s.median)} ${f(s.p95)} ${f(s.p99)} ${f(s.max, 1)}     ${(s.mean / first.mean).toFixed(2)}    ${(s.median / first.median).toFixed(2)}  ${walMiB.toFixed(1).padStart(7)}  ${closeMs.toFixed(0).padStart(8)}`);
}
