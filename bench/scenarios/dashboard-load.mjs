#!/usr/bin/env node
// The dashboard's board, loaded in Debian's Chromium (playwright-core, headless) from `serve --http`: the time from
// navigation to the first frame painted with the whole board in it (the page's own `board-painted` mark), for a team
// of 1,000 tasks (all statuses, labels, assignees, subtasks, dependencies) against the same page with an empty
// board — the page's own cost (script, sign-in check, stream) — in the same run. The two are reloaded alternately so
// a busy machine slows both alike. Goal: p50 ≤ 1,000 ms with 1,000 tasks.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { chromium } from 'playwright-core';
import { describeMachine, passFail, printTable, quantile, runIfMain, writeResult } from '../lib.mjs';
import { freshDb, openCore, seedBench, startServer } from '../http-lib.mjs';

export const name = 'dashboard-load';
const TASKS = Number(process.env.BENCH_TASKS) || 1000;
const RUNS = Number(process.env.BENCH_RUNS) || 15;
const WARMUPS = 2;
const GOAL_MS = 1000;
const CHROMIUM = process.env.TEAM_TABLE_CHROMIUM ?? '/usr/bin/chromium';
const STATUSES = ['inbox', 'assigned', 'in_progress', 'review', 'done', 'blocked', 'cancelled'];
/** The workflow's steps from a new task (inbox, or assigned when it has assignees) to each status. */
const PATHS = { inbox: [], assigned: [], in_progress: ['in_progress'], review: ['in_progress', 'review'], done: ['in_progress', 'review', 'done'], blocked: ['blocked'], cancelled: ['cancelled'] };

/** A database with team Bench and `tasks` tasks through the core; answers the owner's token. */
async function seeded(tasks) {
  const db = freshDb();
  const core = await openCore(db);
  const owner = await seedBench(core);
  const parents = [];
  for (let i = 0; i < tasks; i++) {
    const status = STATUSES[i % STATUSES.length];
    const task = await core.call(owner, 'team_task', {
      action: 'create',
      title: `Task ${i}: make the ${['login', 'search', 'export', 'billing'][i % 4]} flow faster`,
      priority: 1 + (i % 5),
      labels: [`area-${i % 6}`, ...(i % 3 ? [] : ['urgent'])],
      ...(status !== 'inbox' ? { assignees: [i % 2 ? 'loki' : 'jarvis'] } : {}),
      ...(i % 10 === 5 && parents.length ? { parent_id: parents.at(-1) } : {}),
      ...(PATHS[status].length === 0 && i % 4 === 0 && parents.length ? { blocked_by: [parents[0]] } : {}),
    });
    if (i % 10 === 0) parents.push(task.id);
    for (const step of PATHS[status]) await core.call(owner, 'team_task', { action: 'update', task_id: task.id, status: step, ...(step === 'blocked' ? { blocked_reason: 'waiting' } : {}) });
  }
  const token = (await core.call(owner, 'team_agent', { action: 'token_create', owner: true })).token;
  await core.store.close();
  return { db, token };
}

/** A tab signed in to `url`; `load()` reloads it and answers the page's own marks, in ms since navigation. */
async function signedIn(browser, url, token) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(url);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForFunction(() => performance.getEntriesByName('board-painted').length > 0, null, { timeout: 120_000 });
  return {
    page,
    async load() {
      await page.reload();
      await page.waitForFunction(() => performance.getEntriesByName('board-painted').length > 0, null, { timeout: 120_000, polling: 100 });
      return page.evaluate(() => ({
        painted: performance.getEntriesByName('board-painted')[0].startTime,
        rendered: performance.getEntriesByName('board-rendered')[0].startTime,
        fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
        cards: document.querySelectorAll('li[data-task]').length,
      }));
    },
  };
}

const summary = (samples) => ({ p50: quantile(samples, 0.5), p95: quantile(samples, 0.95) });

export async function run() {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set TEAM_TABLE_CHROMIUM)`);
  const [empty, full] = await Promise.all([seeded(0), seeded(TASKS)]);
  const servers = await Promise.all([startServer(empty.db), startServer(full.db)]);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  try {
    const tabs = [await signedIn(browser, servers[0].url, empty.token), await signedIn(browser, servers[1].url, full.token)];
    const samples = [[], []];
    for (let i = 0; i < WARMUPS + RUNS; i++) {
      for (let k = 0; k < 2; k++) {
        const which = (i + k) % 2;
        const marks = await tabs[which].load();
        const expected = which === 0 ? 0 : TASKS;
        if (marks.cards !== expected) throw new Error(`the board shows ${marks.cards} cards, expected ${expected}`);
        if (i >= WARMUPS) samples[which].push(marks);
      }
    }
    const [base, big] = samples.map((s) => ({ painted: summary(s.map((m) => m.painted)), rendered: summary(s.map((m) => m.rendered)), fcp: summary(s.map((m) => m.fcp)) }));
    const load = loadavg()[0];
    printTable(`${name} (ms from navigation, ${RUNS} reloads each; ${describeMachine()}; load average ${load.toFixed(1)})`, ['board', 'painted p50', 'p95', 'in DOM p50', 'first paint p50', '× empty p50'], [
      ['empty (baseline)', base.painted.p50, base.painted.p95, base.rendered.p50, base.fcp.p50, 1],
      [`${TASKS} tasks`, big.painted.p50, big.painted.p95, big.rendered.p50, big.fcp.p50, big.painted.p50 / base.painted.p50],
    ]);
    const ok = big.painted.p50 <= GOAL_MS;
    console.log(`  ${TASKS}-task board painted p50 ${big.painted.p50.toFixed(0)} ms (≤ ${GOAL_MS}): ${passFail(ok)}; ${(big.painted.p50 / base.painted.p50).toFixed(2)} × the empty board`);
    writeResult(name, { tasks: TASKS, runs: RUNS, load_average: load, goal_ms: GOAL_MS, empty: base, full: big, ratio: big.painted.p50 / base.painted.p50, pass: ok });
  } finally {
    await browser.close();
    await Promise.all(servers.map((s) => s.stop()));
  }
}

runIfMain(import.meta.url, run);
