#!/usr/bin/env node
// Search: team_memory(action='search') through the core in-process (no MCP), median and p95 over QUERIES queries,
// on a database of SMALL messages and one of LARGE (default 100k; BENCH_SEARCH_LARGE=1000000 for the goal's 1M).
//
// Messages are inserted with SQL in one transaction (the search triggers index them as they go in, as in use),
// each a dozen words drawn from a 5,000-word vocabulary. NEEDLES rare words appear in exactly NEEDLE_HITS messages
// each, whatever the size: a person searching for a name, an error or an id finds a handful of items, and that
// search is the one with a goal. Reported beside it without a goal: the same with filters (kind and author), and a
// common word, whose matches grow with the database (bm25 ranks every match before the first page is cut).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ROOT, describeMachine, fmt, passFail, printTable, runIfMain, stats, writeResult } from '../lib.mjs';

export const name = 'search';
const SMALL = 10_000;
const LARGE = Number(process.env.BENCH_SEARCH_LARGE) || 100_000;
const QUERIES = 200;
const WARMUPS = 20;
const NEEDLES = 200;
const NEEDLE_HITS = 10;
const VOCABULARY = 5_000;
const WORDS_PER_MESSAGE = 12;
const GOAL = 1.5; // median rare-term search at LARGE ÷ at SMALL
const OWNER = { kind: 'owner', name: 'bench' };
const AGENTS = ['a1', 'a2', 'a3', 'a4'];

const load = (...path) => import(pathToFileURL(join(ROOT, 'dist', ...path)).href);

/** A deterministic stream of numbers, so that both sizes draw the same kind of text. */
function random(seed) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const word = (i) => `w${i.toString(36)}x`;
const needle = (i) => `needle${i}q`;

async function build(count) {
  const [{ Store }, { Core }] = await Promise.all([load('store', 'store.js'), load('core', 'core.js')]);
  const dir = mkdtempSync(join(tmpdir(), 'tt-bench-search-'));
  const store = await Store.open(join(dir, 'team.db'));
  const core = new Core(store);
  const team = await core.call(OWNER, 'team_manage', { action: 'create', name: 'Bench' });
  for (const id of AGENTS) await core.call(OWNER, 'team_agent', { action: 'create', name: id });
  const next = random(42);
  // Which messages carry which needle: NEEDLE_HITS each, spread over the whole range.
  const needles = new Map();
  for (let n = 0; n < NEEDLES; n++) for (let k = 0; k < NEEDLE_HITS; k++) needles.set(Math.floor(((k * NEEDLES + n) / (NEEDLES * NEEDLE_HITS)) * count), needle(n));
  const started = performance.now();
  await store.write(async (tx) => {
    const BATCH = 500;
    for (let from = 0; from < count; from += BATCH) {
      const rows = [];
      for (let i = from; i < Math.min(count, from + BATCH); i++) {
        const words = Array.from({ length: WORDS_PER_MESSAGE }, () => word(Math.floor(next() ** 2 * VOCABULARY)));
        if (needles.has(i)) words[Math.floor(next() * words.length)] = needles.get(i);
        rows.push({
          id: `m${i.toString(36).padStart(10, '0')}`,
          team_id: team.id,
          thread_id: '',
          from_agent: AGENTS[i % AGENTS.length],
          from_user: '',
          to_agent: '',
          content: words.join(' '),
          mentions: '[]',
          created_at: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
          delivered: 0,
          task_id: '',
          type: i % 3 === 0 ? 'comment' : '',
          deleted_at: '',
        });
      }
      await tx.insertInto('team_messages').values(rows).execute();
    }
  });
  const indexSeconds = (performance.now() - started) / 1000;
  return { core, store, dir, indexSeconds };
}

async function measure(core, queries) {
  const call = (args) => core.call(OWNER, 'team_memory', { action: 'search', ...args });
  for (let i = 0; i < WARMUPS; i++) await call(queries(i));
  const samples = [];
  let hits = 0;
  for (let i = 0; i < QUERIES; i++) {
    const t0 = performance.now();
    const answer = await call(queries(i));
    samples.push(performance.now() - t0);
    hits += answer.count;
  }
  return { ...stats(samples), hits_per_query: hits / QUERIES };
}

const VARIANTS = [
  ['rare term', (i) => ({ query: needle(i % NEEDLES) })],
  ['rare term, kind + author filters', (i) => ({ query: needle(i % NEEDLES), kinds: ['message'], agent_id: AGENTS[i % AGENTS.length] })],
  ['common word (no goal)', (i) => ({ query: word(i % 5) })],
];

export async function run() {
  console.log(`\nsearch: ${SMALL.toLocaleString('en-US')} vs ${LARGE.toLocaleString('en-US')} messages, ${QUERIES} queries each — ${describeMachine()}`);
  const results = {};
  for (const count of [SMALL, LARGE]) {
    const { core, store, dir, indexSeconds } = await build(count);
    results[count] = { index_seconds: indexSeconds, variants: {} };
    for (const [label, queries] of VARIANTS) results[count].variants[label] = await measure(core, queries);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = VARIANTS.map(([label]) => {
    const small = results[SMALL].variants[label];
    const large = results[LARGE].variants[label];
    return [label, small.median, large.median, large.p95, `${fmt(large.median / small.median, 2)}×`, fmt(large.hits_per_query, 1)];
  });
  printTable(`median ms per search (p95 at ${LARGE.toLocaleString('en-US')})`, ['query', `${SMALL} msgs`, `${LARGE} msgs`, 'p95', 'ratio', 'hits'], rows);
  const ratio = results[LARGE].variants['rare term'].median / results[SMALL].variants['rare term'].median;
  console.log(`\n  indexing while inserting: ${fmt(results[SMALL].index_seconds)} s for ${SMALL.toLocaleString('en-US')}, ${fmt(results[LARGE].index_seconds)} s for ${LARGE.toLocaleString('en-US')}`);
  console.log(`  goal: rare-term median at ${LARGE.toLocaleString('en-US')} ≤ ${GOAL}× at ${SMALL.toLocaleString('en-US')}: ${fmt(ratio, 2)}× — ${passFail(ratio <= GOAL)}`);
  writeResult(name, { small: SMALL, large: LARGE, results, ratio, goal: GOAL, pass: ratio <= GOAL });
}

runIfMain(import.meta.url, run);
