// Event appends on PostgreSQL for builds side by side: N writers at once, each write one shared write transaction
// that appends one event (the log's numbering lock, then the commit), nothing else — how many writes commit a
// second, so whether commits wait for each other's WAL flush shows without the rest of a claim's cost. Variants
// take turns, each count in each variant in blocks of BLOCK writes, on schemas of their own (dropped after).
//
//   TEAM_TABLE_TEST_PG=postgres://… node bench/pg-append-rate.mjs main=/path/to/other/checkout this=.
//
// A variant is name=dir, dir holding a built dist/. Env: WRITERS (1,4,16), BLOCK (500), ROUNDS (3).
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

const URL_BASE = process.env.BENCH_PG ?? process.env.TEAM_TABLE_TEST_PG;
const WRITERS = (process.env.WRITERS ?? '1,4,16').split(',').map(Number);
const BLOCK = Number(process.env.BLOCK ?? 500);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

const variants = [];
for (const arg of process.argv.slice(2)) {
  const [name, dir] = arg.split('=');
  const { Store } = await import(pathToFileURL(join(resolve(dir), 'dist', 'store', 'store.js')).href);
  const schema = `bench_append_${randomBytes(4).toString('hex')}`;
  const url = new URL(URL_BASE);
  url.searchParams.set('schema', schema);
  url.searchParams.set('pool_size', String(Math.max(...WRITERS)));
  variants.push({ name, schema, store: await Store.open(url.toString()), rates: new Map() });
}

let id = 0;
const append = (store) =>
  store.write(
    (tx) => tx.insertInto('team_events').values({ id: `e${id++}`, team_id: 'bench', type: 'bench', agent_id: '', message: '', related_id: '', data: '{}', created_at: new Date().toISOString() }).execute(),
    'shared',
  );

console.log(`pg-append-rate: ${BLOCK} appends a block, writers ${WRITERS.join('/')}, ${ROUNDS} rounds; load before ${loadavg()[0].toFixed(2)}`);
for (let round = 0; round < ROUNDS; round++) {
  for (const writers of WRITERS) {
    for (const variant of variants) {
      let left = BLOCK;
      const started = performance.now();
      await Promise.all(Array.from({ length: writers }, async () => {
        while (left-- > 0) await append(variant.store);
      }));
      const rate = BLOCK / ((performance.now() - started) / 1000);
      variant.rates.set(writers, [...(variant.rates.get(writers) ?? []), rate]);
    }
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const writers of WRITERS) {
  const first = median(variants[0].rates.get(writers));
  console.log(`  ${writers} writers: ${variants.map((v) => `${v.name} ${median(v.rates.get(writers)).toFixed(0)}/s (${(median(v.rates.get(writers)) / first).toFixed(2)}×)`).join(', ')}`);
}
console.log(`  load after ${loadavg()[0].toFixed(2)}`);
const admin = new pg.Client({ connectionString: URL_BASE });
await admin.connect();
for (const variant of variants) {
  await variant.store.close();
  await admin.query(`drop schema if exists ${variant.schema} cascade`);
}
await admin.end();
