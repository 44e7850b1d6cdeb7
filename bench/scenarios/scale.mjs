#!/usr/bin/env node
// Scale: every read an agent's heartbeat and an operator use, on a database with a day of history (SMALL messages)
// and on one with months of it (LARGE messages; BENCH_SCALE_LARGE=1000000 for the issue's 1M), the last day of both
// identical, so that the answers are the same size and only the history behind them differs.
//
// How the databases are made:
// 1. A template: one slice of a team's day made through the core in-process (50 agents, a clock that advances
//    through the slice): tasks created, claimed, commented, done; direct messages, @mentions, broadcasts,
//    notifications, working state, mention_check with acks (agents a41…a50 never read their mail), facts, documents.
// 2. Each database: migrated to schema 10 (the schema before the scale indexes), the template's team, agents,
//    facts, documents copied once, then its history tables copied slice after slice, oldest first: each copy's
//    times shifted back by whole slices and its row ids replaced (same length, same alphabet) — the newest copy is
//    the template itself, with its own ids and times. Tasks still open are copied only into the newest slice (a
//    team's old work is done). The event log is appended in time order, as the core appends it.
//    Checked: every copied row has the shape (per column: kind, time, id length) of a row the core wrote.
// 3. The database is migrated to the latest schema, timed (the large one's time is the migration's cost).
// 4. Both are measured through the core in-process, interleaved action by action; p50 and p95 of each, and the
//    ratio large/small p50 (goal ≤ GOAL). For an action over goal, each SQL statement it ran is re-run alone on
//    both databases, and the slow ones printed with their EXPLAIN QUERY PLAN on the large one.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { ROOT, describeMachine, fmt, passFail, printTable, runIfMain, stats, writeResult } from '../lib.mjs';

export const name = 'scale';
const SLICE_MESSAGES = 500; // messages in one slice of the template, about
const SMALL = Number(process.env.BENCH_SCALE_SMALL) || 10_000;
const LARGE = Number(process.env.BENCH_SCALE_LARGE) || 200_000;
const ROUNDS = Number(process.env.BENCH_SCALE_ROUNDS) || 40;
const WARMUPS = 5;
const GOAL = 1.5;
const DAY_MS = 86_400_000;
const BEFORE_INDEXES = 10; // the schema the bulk is written at; migrating from it is timed
const AGENTS = Array.from({ length: 50 }, (_, i) => `a${String(i + 1).padStart(2, '0')}`);
const READERS = AGENTS.slice(0, 40); // agents that check their mail; the rest never do
const OWNER = { kind: 'owner', name: 'bench' };
const BACKLOG = 150; // inbox tasks left for claim_next

const load = (...path) => import(pathToFileURL(join(ROOT, 'dist', ...path)).href);

/** Tables copied once (the team as it is); everything not named here or in HISTORY is left out (search index). */
const CONFIG = ['teams', 'persistent_agents', 'team_roles', 'team_rules', 'notification_rules', 'agent_working_state', 'team_facts', 'team_fact_versions', 'team_documents', 'team_document_versions'];
/** Tables copied once per slice; `openOnlyNewest` keeps tasks that are not done (and their rows) to the newest. */
const HISTORY = [
  { table: 'team_tasks', order: 'rowid', openOnlyNewest: "status = 'done'" },
  { table: 'team_task_assignees', order: 'task_id, agent_id', openOnlyNewest: "task_id in (select id from tpl.team_tasks where status = 'done')" },
  { table: 'team_task_labels', order: 'rowid', openOnlyNewest: "task_id in (select id from tpl.team_tasks where status = 'done')" },
  { table: 'team_task_dependencies', order: 'rowid', openOnlyNewest: "task_id in (select id from tpl.team_tasks where status = 'done')" },
  { table: 'team_messages', order: 'rowid' },
  { table: 'team_pending_messages', order: 'rowid' },
  { table: 'team_thread_subscriptions', order: 'team_id, thread_id, agent_id', orIgnore: true },
  { table: 'team_notifications', order: 'rowid' },
  { table: 'team_notification_reads', order: 'rowid' },
  { table: 'team_events', order: 'seq', skip: ['seq'] },
];
const ID_COLUMN = /^(id|.*_id|depends_on)$/;
const TIME_COLUMN = /_at$/;

/** A deterministic stream of numbers in [0, 1). */
function random(seed) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/**
 * The template: one slice of the team's activity, made through the core with a clock that ends at `end`. Returns
 * the database path, the slice's length in ms, and what the measurements refer to.
 */
async function buildTemplate(dir, end, sliceMs) {
  const [{ Store }, { Core }] = await Promise.all([load('store', 'store.js'), load('core', 'core.js')]);
  const path = join(dir, 'template.db');
  const store = await Store.open(path);
  const steps = SLICE_MESSAGES * 3;
  let now = end - sliceMs;
  const tick = sliceMs / (steps + 200);
  const core = new Core(store, { clock: () => new Date(now) });
  const next = random(7);
  const pick = (list) => list[Math.floor(next() * list.length)];
  const call = async (actor, tool, args) => {
    now += tick;
    return core.call(actor, tool, args);
  };
  const agent = (id) => ({ kind: 'agent', id });
  const team = await call(OWNER, 'team_manage', { action: 'create', name: 'Scale' });
  await call(OWNER, 'team_manage', { action: 'update', team_id: team.id, lease_minutes: 7 * 24 * 60 });
  for (const id of AGENTS) await call(OWNER, 'team_agent', { action: 'create', team_id: team.id, name: id, role: 'engineer' });
  for (let i = 0; i < 30; i++) await call(agent(pick(AGENTS)), 'team_memory', { action: 'fact_save', team_id: team.id, key: `fact-${i}`, value: `value ${i} `.repeat(8) });
  for (let i = 0; i < 20; i++) await call(agent(pick(AGENTS)), 'team_memory', { action: 'doc_create', team_id: team.id, title: `Doc ${i}`, content: `content ${i} `.repeat(40) });
  const held = new Map(); // agent → task it claimed
  const recent = [];
  let messages = 0;
  let parent = '';
  for (let i = 0; messages < SLICE_MESSAGES; i++) {
    const x = AGENTS[i % AGENTS.length];
    const y = pick(AGENTS);
    switch (i % 10) {
      case 0: {
        const task = await call(OWNER, 'team_task', {
          action: 'create',
          team_id: team.id,
          title: `Task ${i}`,
          description: `Do the thing number ${i}. `.repeat(4),
          priority: 1 + (i % 5),
          labels: [`l${i % 7}`],
          ...(i % 3 === 0 ? { assignees: [x] } : {}),
          ...(i % 40 === 0 ? {} : parent ? { parent_id: parent } : {}),
        });
        if (i % 40 === 0) parent = task.id;
        break;
      }
      case 1: {
        if (held.has(x)) break;
        const { task } = await call(agent(x), 'team_task', { action: 'claim_next', team_id: team.id });
        if (!task) break;
        held.set(x, task.id);
        recent.push(task.id);
        await call(agent(x), 'team_comm', { action: 'comment', team_id: team.id, task_id: task.id, content: `Starting on this, @${y} please review later` });
        messages++;
        break;
      }
      case 2:
        await call(agent(x), 'team_comm', { action: 'send_message', team_id: team.id, to_agent: y, content: `Hello ${y}, a question about step ${i}`, ...(recent.length && i % 4 === 0 ? { task_id: recent.at(-1) } : {}) });
        messages++;
        break;
      case 3:
        if (!recent.length) break;
        await call(agent(x), 'team_comm', { action: 'comment', team_id: team.id, task_id: pick(recent.slice(-20)), content: `Progress note ${i} for @${y}` });
        messages++;
        break;
      case 4: {
        // The agent that has held its task longest finishes it.
        const [holder, task] = held.entries().next().value ?? [];
        if (!task) break;
        held.delete(holder);
        const status = i % 17 === 0 ? 'blocked' : i % 13 === 0 ? 'review' : 'done';
        await call(agent(holder), 'team_task', { action: 'update', team_id: team.id, task_id: task, status, ...(status === 'blocked' ? { blocked_reason: 'waiting for access' } : {}) });
        break;
      }
      case 5:
        if (i % 20 !== 5) break;
        await call(OWNER, 'team_comm', { action: 'notify', team_id: team.id, type: pick(['task_completed', 'task_progress', 'task_blocked']), message: `Note ${i}`, ...(i % 100 !== 5 ? { to_agent: y } : {}) });
        break;
      case 6:
        if (READERS.includes(x)) {
          const check = await call(agent(x), 'team_comm', { action: 'mention_check' });
          if (check.ack_cursor) await call(agent(x), 'team_comm', { action: 'mention_check', ack: check.ack_cursor });
        }
        break;
      case 7:
        await call(agent(x), 'team_agent', { action: 'working_update', next_steps: `step ${i}`, context: `context of ${x}` });
        break;
      case 8:
        if (READERS.includes(x)) await call(agent(x), 'team_comm', { action: 'notify_list', team_id: team.id, limit: 5 });
        break;
      case 9:
        if (i % 200 === 9) await call(OWNER, 'team_comm', { action: 'broadcast', team_id: team.id, content: `Heads up from ${x}` });
        else await call(agent(x), 'team_comm', { action: 'send_message', team_id: team.id, to_agent: y, content: `Ping ${i} @${pick(AGENTS)}` });
        messages++;
        break;
    }
  }
  for (let i = 0; i < BACKLOG; i++) await call(OWNER, 'team_task', { action: 'create', team_id: team.id, title: `Backlog ${i}`, priority: 1 + (i % 5) });
  // Everyone who reads their mail has read it: the heartbeat at the end of the slice finds what came since.
  for (const id of READERS) {
    const check = await call(agent(id), 'team_comm', { action: 'mention_check', limit: 500 });
    if (check.ack_cursor) await call(agent(id), 'team_comm', { action: 'mention_check', ack: check.ack_cursor });
  }
  const raw = new Database(path, { readonly: true });
  const ordinary = raw
    .prepare("select t.id from team_tasks t join team_messages m on m.task_id = t.id where t.status = 'done' group by t.id order by count(*) desc, t.created_at desc limit 1")
    .pluck()
    .get();
  const rare = raw.prepare('select type from team_events group by type order by count(*), type limit 1').pluck().get();
  const counts = Object.fromEntries(HISTORY.map(({ table }) => [table, raw.prepare(`select count(*) from ${table}`).pluck().get()]));
  raw.close();
  await store.close();
  return { path, teamId: team.id, ordinaryTask: ordinary, parentTask: parent, rareType: rare, counts };
}

/** Same length, same alphabet, a different id for each copy (k); k = 0 keeps the original. */
function remapper(ids) {
  return (value, k) => {
    if (k === 0 || typeof value !== 'string' || !ids.has(value)) return value;
    const digest = createHash('sha1').update(`${value}/${k}`).digest();
    let out = '';
    for (let i = 0; out.length < value.length; i++) out += '0123456789abcdefghijklmnopqrstuvwxyz'[digest[i % digest.length] % 36];
    return out;
  };
}

/** One row's shape: per column its kind, with times and ids told apart by form. */
function shapeOf(row) {
  return Object.entries(row)
    .map(([column, v]) => {
      if (typeof v !== 'string') return `${column}:${typeof v}`;
      if (v === '') return `${column}:empty`;
      if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(v)) return `${column}:time`;
      if (/^[0-9a-z]{8}$|^[0-9a-z]{16}$/.test(v)) return `${column}:id${v.length}`;
      return `${column}:text`;
    })
    .join(',');
}

/** A database of `messages` messages (about): the template's slices, oldest first, then migrated (timed). */
async function buildDatabase(dir, label, template, sliceMs, messages, progress) {
  const { Store } = await load('store', 'store.js');
  const path = join(dir, `${label}.db`);
  await (await Store.open(path, { schemaVersion: BEFORE_INDEXES })).close();
  const slices = Math.max(1, Math.round(messages / template.counts.team_messages));
  const raw = new Database(path);
  raw.pragma('journal_mode = WAL');
  raw.exec(`attach '${template.path}' as tpl`);
  const ids = new Set();
  for (const { table } of HISTORY) {
    const columns = raw.prepare(`select name from pragma_table_info('${table}', 'tpl')`).pluck().all();
    for (const column of columns.filter((c) => ID_COLUMN.test(c) && !['team_id', 'agent_id'].includes(c))) {
      for (const v of raw.prepare(`select distinct "${column}" from tpl.${table}`).pluck().all()) if (typeof v === 'string' && /^[0-9a-z]{8}$|^[0-9a-z]{16}$/.test(v)) ids.add(v);
    }
  }
  // Agent ids and the team's id stay what they are.
  for (const id of raw.prepare('select id from tpl.persistent_agents union select id from tpl.teams').pluck().all()) ids.delete(id);
  raw.function('remap', { deterministic: true }, remapper(ids));
  raw.function('shift', { deterministic: true }, (value, ms) => (value === '' || typeof value !== 'string' ? value : new Date(Date.parse(value) - ms).toISOString()));
  const started = performance.now();
  raw.exec('begin');
  for (const table of CONFIG) raw.exec(`insert into main.${table} select * from tpl.${table}`);
  // The columns the bulk's schema has (the template is at the latest; later columns are filled by the migrations).
  const columnsOf = (table) => {
    const older = new Set(raw.prepare(`select name from pragma_table_info('${table}', 'main')`).pluck().all());
    return raw.prepare(`select name from pragma_table_info('${table}', 'tpl')`).pluck().all().filter((c) => older.has(c));
  };
  const statements = HISTORY.map(({ table, order, skip = [], orIgnore, openOnlyNewest }) => {
    const columns = columnsOf(table).filter((c) => !skip.includes(c));
    const value = (c) => (ID_COLUMN.test(c) ? `remap("${c}", :k)` : TIME_COLUMN.test(c) || c === 'expires_at' ? `shift("${c}", :ms)` : `"${c}"`);
    const insert = `insert ${orIgnore ? 'or ignore ' : ''}into main.${table} (${columns.map((c) => `"${c}"`).join(', ')}) select ${columns.map(value).join(', ')} from tpl.${table}`;
    return {
      old: raw.prepare(`${insert}${openOnlyNewest ? ` where ${openOnlyNewest}` : ''} order by ${order}`),
      newest: raw.prepare(`${insert} order by ${order}`),
    };
  });
  for (let k = slices - 1; k >= 0; k--) {
    for (const s of statements) (k ? s.old : s.newest).run({ k, ms: k * sliceMs });
    if (k % 50 === 0) {
      raw.exec('commit');
      progress(`${label}: copied ${slices - k} of ${slices} slices`);
      raw.exec('begin');
    }
  }
  raw.exec('commit');
  const copySeconds = (performance.now() - started) / 1000;
  // Every copied row has the shape of a row the core wrote.
  for (const { table } of HISTORY) {
    const columns = columnsOf(table).map((c) => `"${c}"`).join(', ');
    const made = new Set(raw.prepare(`select ${columns} from tpl.${table}`).all().map(shapeOf));
    if (!made.size) continue;
    const copied = raw.prepare(`select ${columns} from main.${table} order by random() limit 2000`).all();
    const odd = copied.find((r) => !made.has(shapeOf(r)));
    if (odd) throw new Error(`a copied ${table} row has a shape no core-made row has: ${shapeOf(odd)}`);
  }
  const counts = Object.fromEntries(HISTORY.map(({ table }) => [table, raw.prepare(`select count(*) from main.${table}`).pluck().get()]));
  raw.exec('detach tpl');
  raw.close();
  // A copy left at the schema before the indexes, to weigh what they cost each write (see writeCosts).
  const unindexed = label === 'large' ? join(dir, `${label}-${BEFORE_INDEXES}.db`) : undefined;
  if (unindexed) copyFileSync(path, unindexed);
  // One migration at a time, each timed (what an upgrade from it costs).
  const { MIGRATIONS } = await load('store', 'migrations', 'index.js');
  const migrations = {};
  let lastStep = '';
  for (const { version, name } of MIGRATIONS.filter((m) => m.version > BEFORE_INDEXES)) {
    const started = performance.now();
    const step = await Store.open(path, {
      schemaVersion: version,
      progress: (step, done, total) => {
        if (step !== lastStep || done === total) progress(`${label}: migrating — ${step} ${done}/${total}`);
        lastStep = step;
      },
    });
    await step.close();
    migrations[`${String(version).padStart(3, '0')}_${name}`] = (performance.now() - started) / 1000;
  }
  const migrationSeconds = Object.values(migrations).reduce((a, b) => a + b, 0);
  let store = await Store.open(path);
  // BENCH_SCALE_ANALYZE=1: the planner with statistics (what `PRAGMA optimize` would gather), to compare plans.
  let analyzeSeconds = null;
  let withoutStatistics;
  if (process.env.BENCH_SCALE_ANALYZE) {
    await store.close(); // checkpoints the WAL into the file, and a connection reads the statistics when it opens
    withoutStatistics = join(dir, `${label}-no-statistics.db`);
    copyFileSync(path, withoutStatistics);
    const analyzed = new Database(path);
    const t0 = performance.now();
    analyzed.exec('analyze');
    analyzeSeconds = (performance.now() - t0) / 1000;
    analyzed.close();
    progress(`${label}: ANALYZE ${fmt(analyzeSeconds, 2)} s`);
    store = await Store.open(path);
  }
  return { path, unindexed, withoutStatistics, store, slices, counts, copySeconds, migrationSeconds, migrations, analyzeSeconds };
}

/** Each migration's seconds, e.g. "011_scale_indexes 7.98 s, 012_rate_limits 0.01 s". */
const perMigration = (db) => Object.entries(db.migrations).map(([m, seconds]) => `${m} ${fmt(seconds, 2)} s`).join(', ');

/** Records the SQL the core runs while `recording` is set (all Kysely executors share the patched method). */
function recorder(store) {
  let proto = Object.getPrototypeOf(store.db.getExecutor());
  while (!Object.prototype.hasOwnProperty.call(proto, 'executeQuery')) proto = Object.getPrototypeOf(proto);
  const original = proto.executeQuery;
  const state = { recording: null };
  proto.executeQuery = function (compiled, ...rest) {
    state.recording?.push({ sql: compiled.sql, parameters: compiled.parameters });
    return original.call(this, compiled, ...rest);
  };
  return state;
}

function actions(context) {
  const { teamId, ordinaryTask, parentTask, rareType, since } = context;
  const agent = (id) => ({ kind: 'agent', id });
  let turn = 0;
  const rotating = () => agent(READERS[turn++ % READERS.length]);
  return [
    ['mention_check', () => [rotating(), 'team_comm', { action: 'mention_check' }]],
    ['inbox', () => [agent('a01'), 'team_comm', { action: 'inbox' }]],
    ['inbox unread_only', () => [agent('a01'), 'team_comm', { action: 'inbox', unread_only: true }]],
    ['inbox (never reads)', () => [agent('a45'), 'team_comm', { action: 'inbox', unread_only: true }]],
    ['standup', () => [OWNER, 'team_memory', { action: 'standup', team_id: teamId }]],
    ['summary (owner)', () => [OWNER, 'team_memory', { action: 'summary', team_id: teamId }]],
    ['summary since 1 h', () => [agent('a02'), 'team_memory', { action: 'summary', team_id: teamId, since }]],
    ['audit since 1 h', () => [OWNER, 'team_memory', { action: 'audit', team_id: teamId, since }]],
    // A page both databases fill (the small one holds one such event per slice).
    [`audit type ${rareType}`, () => [OWNER, 'team_memory', { action: 'audit', team_id: teamId, type: rareType, limit: 10 }]],
    ['task list', () => [agent('a01'), 'team_task', { action: 'list', team_id: teamId }]],
    ['task list status', () => [agent('a01'), 'team_task', { action: 'list', team_id: teamId, status: 'in_progress' }]],
    ['task list assignee', () => [agent('a01'), 'team_task', { action: 'list', team_id: teamId, assignee_filter: 'a03' }]],
    ['task list label', () => [agent('a01'), 'team_task', { action: 'list', team_id: teamId, label: 'l3' }]],
    ['task list priority', () => [agent('a01'), 'team_task', { action: 'list', team_id: teamId, priority: 2 }]],
    ['task list parent', () => [agent('a01'), 'team_task', { action: 'list', team_id: teamId, parent_id: parentTask }]],
    ['notify_list', () => [agent('a01'), 'team_comm', { action: 'notify_list', team_id: teamId }]],
    ['task get', () => [agent('a01'), 'team_task', { action: 'get', team_id: teamId, task_id: ordinaryTask }]],
    ['fact_list', () => [agent('a01'), 'team_memory', { action: 'fact_list', team_id: teamId }]],
    ['doc_list', () => [agent('a01'), 'team_memory', { action: 'doc_list', team_id: teamId }]],
    ['working_get', () => [agent('a01'), 'team_agent', { action: 'working_get' }]],
    ['claim_next', () => [rotating(), 'team_task', { action: 'claim_next', team_id: teamId }]],
    // Writes, to keep their cost in view (each index is paid on every write).
    ['send_message (write)', () => [agent('a03'), 'team_comm', { action: 'send_message', team_id: teamId, to_agent: 'a04', content: 'a direct message @a05' }]],
    ['comment (write)', () => [agent('a03'), 'team_comm', { action: 'comment', team_id: teamId, task_id: ordinaryTask, content: 'a comment @a06' }]],
  ];
}

/** Each statement of one call, re-run alone on `raw` (median of 5, ms). */
function statementTimes(raw, statements) {
  return statements.map(({ sql, parameters }) => {
    if (!/^\s*select/i.test(sql)) return { sql, ms: null };
    const statement = raw.prepare(sql);
    const samples = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      statement.all(...parameters);
      samples.push(performance.now() - t0);
    }
    return { sql, parameters, ms: stats(samples).median };
  });
}

/**
 * Every statement the actions run, planned on the large database with statistics (ANALYZE) and on its copy
 * without: those whose plan differs, with their time alone on each.
 */
async function comparePlans(large, core, list, state) {
  state.recording = [];
  for (const [, make] of list) await core.call(...make()).catch(() => {});
  const statements = new Map(state.recording.filter((s) => /^\s*select/i.test(s.sql)).map((s) => [s.sql, s.parameters]));
  state.recording = null;
  const dbs = { 'with statistics': new Database(large.path, { readonly: true }), without: new Database(large.withoutStatistics, { readonly: true }) };
  const plan = (db, sql, parameters) => db.prepare(`explain query plan ${sql}`).all(...parameters).map((p) => p.detail).join(' | ');
  let differ = 0;
  for (const [sql, parameters] of statements) {
    const plans = Object.fromEntries(Object.entries(dbs).map(([k, db]) => [k, plan(db, sql, parameters)]));
    if (plans['with statistics'] === plans.without) continue;
    differ++;
    console.log(`\n  ${sql.slice(0, 200)}`);
    for (const [k, db] of Object.entries(dbs)) console.log(`    ${k}: ${fmt(statementTimes(db, [{ sql, parameters }])[0].ms, 2)} ms alone — ${plans[k]}`);
  }
  console.log(`\n  statistics: ${differ} of ${statements.size} statements planned differently with them (ANALYZE took ${fmt(large.analyzeSeconds, 1)} s)`);
  for (const db of Object.values(dbs)) db.close();
}

/**
 * What the indexes cost the writes: send_message, comment and claim_next on the large database with and without
 * them (its copy at schema BEFORE_INDEXES, same build), interleaved, p50 and p95.
 */
async function writeCosts(large, context) {
  const [{ Store }, { Core }] = await Promise.all([load('store', 'store.js'), load('core', 'core.js')]);
  const before = await Store.open(large.unindexed, { schemaVersion: BEFORE_INDEXES });
  // Today's core writes each mailbox copy's task_id (migration 014): the column, unindexed, costs the writes nothing
  // the comparison is about.
  await before.db.schema.alterTable('team_pending_messages').addColumn('task_id', 'text', (c) => c.notNull().defaultTo('')).execute();
  const cores = { [`schema ${BEFORE_INDEXES}`]: new Core(before), latest: new Core(large.store) };
  const writes = actions(context).filter(([label]) => ['send_message (write)', 'comment (write)', 'claim_next'].includes(label));
  const samples = Object.fromEntries(writes.map(([label]) => [label, Object.fromEntries(Object.keys(cores).map((k) => [k, []]))]));
  for (let round = -WARMUPS; round < ROUNDS; round++) {
    for (const [label, make] of writes) {
      const [actor, tool, args] = make();
      const order = round % 2 ? Object.keys(cores).reverse() : Object.keys(cores);
      for (const which of order) {
        const started = performance.now();
        await cores[which].call(actor, tool, args);
        if (round >= 0) samples[label][which].push(performance.now() - started);
      }
    }
  }
  await before.close();
  const rows = writes.map(([label]) => {
    const [old, latest] = Object.keys(cores).map((k) => stats(samples[label][k]));
    return { label, before: old, after: latest, ratio: latest.median / old.median };
  });
  printTable(
    `writes on the large database without and with the indexes of the latest schema (ms, ${ROUNDS} rounds)`,
    ['write', `schema ${BEFORE_INDEXES} p50`, 'p95', 'latest p50', 'p95', 'ratio'],
    rows.map((r) => [r.label, r.before.median, r.before.p95, r.after.median, r.after.p95, `${fmt(r.ratio, 2)}×`]),
  );
  return rows;
}

async function run() {
  const { Core } = await load('core', 'core.js');
  console.log(`scale: ${SMALL.toLocaleString('en-US')} vs ${LARGE.toLocaleString('en-US')} messages, ${ROUNDS} rounds — ${describeMachine()}`);
  const dir = mkdtempSync(join(tmpdir(), 'tt-bench-scale-'));
  const log = (line) => console.log(`  ${line}`);
  try {
    const end = Date.now() - 60_000;
    const sliceMs = Math.round((DAY_MS * SLICE_MESSAGES) / SMALL);
    let t0 = performance.now();
    const template = await buildTemplate(dir, end, sliceMs);
    log(`template through the core: ${fmt((performance.now() - t0) / 1000)} s, ${JSON.stringify(template.counts)}`);
    const small = await buildDatabase(dir, 'small', template, sliceMs, SMALL, log);
    const large = await buildDatabase(dir, 'large', template, sliceMs, LARGE, log);
    for (const [label, db] of [['small', small], ['large', large]]) {
      log(`${label}: ${db.slices} slices in ${fmt(db.copySeconds)} s; migration to the latest schema ${fmt(db.migrationSeconds, 2)} s (${perMigration(db)}); ${JSON.stringify(db.counts)}`);
    }
    const context = { ...template, since: new Date(Date.now() - 3_600_000).toISOString() };
    const cores = { small: new Core(small.store), large: new Core(large.store) };
    const recorders = { small: recorder(small.store) };
    const list = actions(context);
    const samples = Object.fromEntries(list.map(([label]) => [label, { small: [], large: [], errors: [] }]));
    for (let round = -WARMUPS; round < ROUNDS; round++) {
      for (const [label, make] of list) {
        const order = round % 2 ? ['large', 'small'] : ['small', 'large'];
        const [actor, tool, args] = make(); // the same call on both
        for (const which of order) {
          const started = performance.now();
          try {
            await cores[which].call(actor, tool, args);
          } catch (error) {
            samples[label].errors.push(`${which}: ${error.message}`);
          }
          if (round >= 0) samples[label][which].push(performance.now() - started);
        }
      }
    }
    const results = list.map(([label]) => {
      const s = stats(samples[label].small);
      const l = stats(samples[label].large);
      return { label, small: s, large: l, ratio: l.median / s.median, errors: samples[label].errors.length, error_samples: [...new Set(samples[label].errors)].slice(0, 3) };
    });
    const reads = results.filter((r) => !r.label.includes('(write)'));
    printTable(
      `ms per call through the core, interleaved (${ROUNDS} rounds)`,
      ['action', 'small p50', 'p95', 'large p50', 'p95', 'ratio', 'goal'],
      results.map((r) => [r.label, r.small.median, r.small.p95, r.large.median, r.large.p95, `${fmt(r.ratio, 2)}×`, r.label.includes('(write)') ? '' : passFail(r.ratio <= GOAL) + (r.errors ? ` (${r.errors} errors)` : '')]),
    );
    for (const r of results.filter((r) => r.errors)) console.log(`  errors in ${r.label}: ${r.error_samples.join(' | ')}`);
    // The statements of each action over goal, alone on each database; the slow ones with their plan.
    const over = reads.filter((r) => r.ratio > GOAL);
    const plans = {};
    if (over.length) {
      const raws = { small: new Database(small.path, { readonly: true }), large: new Database(large.path, { readonly: true }) };
      for (const r of over) {
        const make = list.find(([label]) => label === r.label)[1];
        recorders.small.recording = [];
        // Recorded on the small database's core; the same SQL runs on both (ids are the template's in both).
        const [actor, tool, args] = make();
        await cores.small.call(actor, tool, args).catch(() => {});
        const statements = recorders.small.recording;
        recorders.small.recording = null;
        const smallTimes = statementTimes(raws.small, statements);
        const largeTimes = statementTimes(raws.large, statements);
        console.log(`\n${r.label}: ${fmt(r.ratio, 2)}× — its statements, ms alone on small → large`);
        plans[r.label] = [];
        largeTimes.forEach((l, i) => {
          if (l.ms === null) return;
          const slow = l.ms > 0.3 && l.ms > GOAL * smallTimes[i].ms;
          console.log(`  ${fmt(smallTimes[i].ms, 2)} → ${fmt(l.ms, 2)}${slow ? ' SLOW' : ''}  ${l.sql.slice(0, slow ? 2000 : 160)}`);
          if (!slow) return;
          const plan = raws.large.prepare(`explain query plan ${l.sql}`).all(...l.parameters).map((p) => `    ${p.detail}`);
          console.log(plan.join('\n'));
          plans[r.label].push({ sql: l.sql, small_ms: smallTimes[i].ms, large_ms: l.ms, plan });
        });
      }
      raws.small.close();
      raws.large.close();
    }
    const passed = reads.filter((r) => r.ratio <= GOAL).length;
    console.log(`\n  goal: every read's p50 at ${LARGE.toLocaleString('en-US')} messages ≤ ${GOAL}× at ${SMALL.toLocaleString('en-US')}: ${passed}/${reads.length} — ${passFail(passed === reads.length)}`);
    console.log(`  migration to the latest schema on the large database: ${fmt(large.migrationSeconds, 2)} s (${perMigration(large)})`);
    const writes = await writeCosts(large, context);
    if (large.withoutStatistics) await comparePlans(large, cores.large, list, recorders.small);
    writeResult(name, {
      small: SMALL,
      large: LARGE,
      rounds: ROUNDS,
      template: template.counts,
      databases: Object.fromEntries(['small', 'large'].map((k) => [k, { slices: { small, large }[k].slices, counts: { small, large }[k].counts, copy_seconds: { small, large }[k].copySeconds, migration_seconds: { small, large }[k].migrationSeconds, migrations: { small, large }[k].migrations }])),
      results,
      plans,
      writes,
      pass: passed === reads.length,
    });
    await small.store.close();
    await large.store.close();
  } finally {
    // BENCH_SCALE_KEEP=1 keeps the databases, to look at them (sqlite3) after the run.
    if (process.env.BENCH_SCALE_KEEP) console.log(`  databases kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, run);
