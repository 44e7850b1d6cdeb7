import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { Core } from '../../src/core/core.js';
import type { EventRow } from '../../src/store/schema.js';
import { LATEST_SCHEMA_VERSION } from '../../src/store/migrate.js';
import { Store, sendWithCommit, writeUnanswered } from '../../src/store/store.js';
import { OWNER, agent, runCli, tempFilePath, tempPgUrl } from '../helpers.js';
import { request, startServer } from '../http/helpers.js';
import { PgProxy } from '../replicas/proxy.js';

/** What only PostgreSQL has to get right: a database that goes away and comes back, commit order, a dead listener. */

const proxies: PgProxy[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close().catch(() => {});
  for (const proxy of proxies.splice(0)) await proxy.stop();
});

async function open(url: string) {
  const store = await Store.open(url);
  stores.push(store);
  return { store, core: new Core(store) };
}

async function proxied(url: string) {
  const proxy = await PgProxy.forUrl(url).start();
  proxies.push(proxy);
  return proxy;
}

async function eventually(condition: () => boolean | Promise<boolean>, what: string) {
  for (let waited = 0; !(await condition()); waited += 20) {
    if (waited > 30_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The simple queries `work` sends (the extended protocol's statements are not among them). */
async function simpleQueries(work: () => Promise<unknown>) {
  const wire = pg.Connection.prototype as unknown as { query: (text: string) => unknown };
  const original = wire.query;
  const sent: string[] = [];
  wire.query = function (this: unknown, text: string) {
    sent.push(text);
    return original.call(this, text);
  };
  try {
    await work();
  } finally {
    wire.query = original;
  }
  return sent;
}

/** A store on one connection (pool_size=1), preparing at most `prepared` statements on it (the default if omitted). */
function onOneConnection(prepared?: number) {
  const url = new URL(tempPgUrl());
  url.searchParams.set('pool_size', '1');
  if (prepared !== undefined) url.searchParams.set('prepared_statements', String(prepared));
  return url.toString();
}

const preparedNames = async (db: Store['db']) =>
  (await sql<{ name: string }>`select name from pg_prepared_statements order by name`.execute(db)).rows.map((row) => row.name);
/** The names of the statements that `queries` EXECUTE. */
const executedIn = (queries: string[]) => [...new Set(queries.flatMap((query) => [...query.matchAll(/(?:^|; )execute (tx\d+_[0-9a-f]{40})\(/g)].map((match) => match[1]!)))];
/** Whether `query` EXECUTEs statements prepared before, and PREPAREs none. */
const executesOnly = (query: string) => /(?:^|; )execute tx/.test(query) && !/(?:^|; )prepare /.test(query);
/**
 * A write's first statement, without parameters: what follows it in its transaction is PREPAREd in the query it
 * travels in (a transaction's first statements are PREPAREd alone, before its BEGIN).
 */
const opening = (tx: Store['db']) => tx.selectFrom('teams').select('id').execute();
/** Whether `query` is a PREPARE alone, sent before the BEGIN of the transaction that runs it. */
const preparesAlone = (query: string) => query.startsWith('prepare ') && !/; execute /.test(query);
/** The names of the statements that `queries` PREPARE. */
const preparedIn = (queries: string[]) => queries.flatMap((query) => [...query.matchAll(/(?:^|; )prepare (tx\d+_[0-9a-f]{40}) as /g)].map((match) => match[1]!));

const createTeam = (core: Core, name: string) => core.call(OWNER, 'team_manage', { action: 'create', name });
const saveFact = (core: Core, key: string) => core.call(OWNER, 'team_memory', { action: 'fact_save', team_id: 'ops', key, value: key });

describe('PostgreSQL', () => {
  it('migrates a new database under a statement time limit shorter than its migrations take, then keeps the limit', async () => {
    const url = new URL(tempPgUrl());
    url.searchParams.set('statement_timeout', '1');
    const store = await Store.open(url.toString());
    stores.push(store);
    await expect(sql`select pg_sleep(0.05)`.execute(store.db)).rejects.toThrow(/statement timeout/);
    // Read without the limit: under load, 1 ms may cancel any statement, a read of one row included.
    url.searchParams.delete('statement_timeout');
    const { store: unlimited } = await open(url.toString());
    expect((await unlimited.db.selectFrom('schema_version').select((eb) => eb.fn.max('version').as('v')).executeTakeFirstOrThrow()).v).toBe(LATEST_SCHEMA_VERSION);
  });

  it('keeps a team in a schema named like a keyword, and refuses a schema name too long for its commit channel', async () => {
    const base = new URL(process.env.TEAM_TABLE_TEST_PG!);
    const schema = 'order';
    const admin = new pg.Client({ connectionString: base.toString() });
    await admin.connect();
    try {
      await admin.query(`drop schema if exists "${schema}" cascade`);
      base.searchParams.set('schema', schema);
      const { core } = await open(base.toString());
      await createTeam(core, 'Ops');
      expect((await core.call(OWNER, 'team_manage', { action: 'list' })).teams).toMatchObject([{ name: 'Ops' }]);
      base.searchParams.set('schema', 'x'.repeat(52));
      await expect(Store.open(base.toString())).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringMatching(/at most 51 characters/) });
    } finally {
      for (const store of stores.splice(0)) await store.close().catch(() => {});
      await admin.query(`drop schema if exists "${schema}" cascade`);
      await admin.end();
    }
  });

  it('names the host when it cannot be reached, and serves again once it is back, without reopening', async () => {
    const url = tempPgUrl();
    const proxy = await proxied(url);
    const { core } = await open(proxy.url(url));
    await createTeam(core, 'Ops');
    await proxy.stop();
    await expect(saveFact(core, 'while-down')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringContaining(`127.0.0.1:${proxy.port}`) });
    await expect(Store.open(proxy.url(url))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringMatching(/cannot reach it \(ECONNREFUSED\)/) });
    await proxy.start();
    expect(await saveFact(core, 'after')).toMatchObject({ key: 'after' });
    const { facts } = await core.call(OWNER, 'team_memory', { action: 'fact_list', team_id: 'ops' });
    expect(facts.map((f: { key: string }) => f.key)).toEqual(['after']);
  });

  it('closes at once when its listener is still connecting (the feed subscribed just before)', async () => {
    const store = await Store.open(tempPgUrl());
    const subscription = store.feed.subscribe(0, () => {});
    subscription.close();
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise((resolve) => (timer = setTimeout(() => resolve('still closing after 10 s'), 10_000)));
    await expect(Promise.race([store.close().then(() => 'closed'), stuck])).resolves.toBe('closed');
    clearTimeout(timer);
  });

  it('has an HTTP replica answer 503 STORE_UNAVAILABLE naming the host while it cannot be reached, its token check included, and 200 again once it is back', async () => {
    const url = tempPgUrl();
    const proxy = await proxied(url);
    const { core } = await open(proxy.url(url));
    await createTeam(core, 'Ops');
    const { token } = await core.call(OWNER, 'team_agent', { action: 'token_create', owner: true });
    const server = await startServer(proxy.url(url));
    try {
      expect((await request(server, 'GET', '/api/v1/teams', { token })).status).toBe(200);
      await proxy.stop();
      for (const asked of [{ token }, {}]) {
        const answer = await request(server, 'GET', '/api/v1/teams', asked);
        expect(answer).toMatchObject({ status: 503, body: { error: { code: 'STORE_UNAVAILABLE', message: expect.stringContaining(`127.0.0.1:${proxy.port}`) } } });
      }
      await proxy.start();
      expect((await request(server, 'GET', '/api/v1/teams', { token })).body.teams).toMatchObject([{ name: 'Ops' }]);
    } finally {
      await server.stop();
    }
  });

  it('has init write client entries that serve the PostgreSQL database its --db URL names', async () => {
    const url = tempPgUrl();
    const dir = tempFilePath();
    mkdirSync(dir);
    const init = await runCli(['init', '--db', url, '--dir', dir, '--team', 'Ops', '--agents', 'Loki', '--clients', 'claude', '--json']);
    expect(init.code, init.stderr).toBe(0);
    const entry = JSON.parse(readFileSync(join(dir, '.mcp.json'), 'utf8')).mcpServers['team-table-loki'];
    const at = entry.args.indexOf('--db');
    expect(entry.args[at + 1]).toBe(url);
    const said = await runCli(['call', ...entry.args.slice(at), 'team_agent', '{"action":"get"}']);
    expect(JSON.parse(said.stdout)).toMatchObject({ id: 'loki', name: 'Loki' });
  });

  it('prepares at most prepared_statements statements a connection, none with 0, and serves on after a newer version adds a column', async () => {
    const preparedCount = async (store: Store) => (await sql<{ n: number }>`select count(*) as n from pg_prepared_statements`.execute(store.db)).rows[0]!.n;
    for (const [limit, expected] of [
      [3, 3],
      [0, 0],
    ]) {
      const { store, core } = await open(onOneConnection(limit!));
      await createTeam(core, 'Ops');
      for (const key of ['a', 'b']) await saveFact(core, key);
      expect((await core.call(OWNER, 'team_memory', { action: 'fact_list', team_id: 'ops' })).facts).toHaveLength(2);
      expect(await preparedCount(store)).toBe(expected);
    }

    const { store, core } = await open(onOneConnection(200));
    await createTeam(core, 'Ops');
    const team = () => store.db.selectFrom('teams').selectAll().where('name', '=', 'Ops').execute();
    await team();
    await sql`alter table teams add column added_later text`.execute(store.db);
    // The statement prepared before the column came fails once, as a storage error worth retrying; then it serves.
    const failure = await team().catch((error: unknown) => store.explain(error));
    expect(failure).toMatchObject({ code: 'STORE_UNAVAILABLE', details: { cause: 'schema_changed' } });
    expect(await team()).toMatchObject([{ name: 'Ops', added_later: null }]);
  });

  it("plans claim_next's read of its queue once, by index only, off the open tasks' indexes, with statistics gathered while all were in the inbox", async () => {
    const url = new URL(tempPgUrl());
    url.searchParams.set('pool_size', '1');
    const { store, core } = await open(url.toString());
    const team = await createTeam(core, 'Ops');
    await core.call(OWNER, 'team_agent', { action: 'create', team_id: team.id, name: 'Loki' });
    const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i).toISOString();
    const tasks = Array.from({ length: 400 }, (_, i) => ({ id: `b${i}`, team_id: team.id, title: `t${i}`, priority: 1 + (i % 5), created_by: 'owner', created_at: at(i), updated_at: at(i) }));
    await store.write(async (tx) => void (await tx.insertInto('team_tasks').values(tasks).execute()));
    // What PostgreSQL's statistics say right after a backlog arrived: every task in the inbox, none of a type.
    await sql`analyze`.execute(store.db);
    // The plan is made at the sixth run: here in claims with an idempotency key, which take the exclusive lock.
    for (let i = 0; i < 20; i++) {
      const args = { action: 'claim_next', team_id: team.id, ...(i < 10 ? { idempotency_key: `k${i}` } : {}) };
      expect((await core.call(agent('loki'), 'team_task', args)).task).toMatchObject({ claimed_by: 'loki' });
    }

    const { rows } = await sql<{ name: string; statement: string; parameter_types: string; generic_plans: number; custom_plans: number }>`
      select name, statement, parameter_types::text, generic_plans, custom_plans from pg_prepared_statements where statement like '/* plan once */%'`.execute(store.db);
    expect(rows).toHaveLength(1);
    const [read] = rows;
    // The inbox's head is read once, for its row and for each preferred type's priority.
    expect(read!.statement.match(/\bwith "head" as/g)).toHaveLength(1);
    expect(read).toMatchObject({ custom_plans: expect.any(Number), generic_plans: expect.any(Number) });
    expect(Number(read!.generic_plans)).toBeGreaterThanOrEqual(15);
    // A plan made once serves whatever the values: explained with the team's id in every slot.
    const slots = read!.parameter_types.replace(/[{}]/g, '').split(',').map(() => sql.lit(team.id));
    const plan = (await sql<{ 'QUERY PLAN': string }>`explain execute ${sql.raw(read!.name)}(${sql.join(slots)})`.execute(store.db)).rows.map((r) => r['QUERY PLAN']).join('\n');
    const queueReads = [...plan.matchAll(/(Seq Scan|Index Scan|Index Only Scan|Bitmap Heap Scan)(?: using (\w+))? on team_tasks t(?:_\d+)?\b/g)].map((m) => m[2] ?? m[1]);
    expect(queueReads.filter((index) => index === 'tasks_open_queue')).toHaveLength(2); // the head, the assigned
    expect(queueReads.length).toBeGreaterThanOrEqual(3);
    expect(new Set(queueReads)).toEqual(new Set(['tasks_open_queue', 'tasks_open_by_type']));
    // Made while the assignees, labels and dependencies were a page each, the plan still reads them by key: it is
    // kept when they have grown (a scan of the assignees for every assigned task took 1.3 s a claim with 5,000).
    expect(plan).not.toMatch(/Seq Scan/);
  });

  it('numbers events in commit order: a reader never sees a number while a smaller one may still commit', async () => {
    const url = tempPgUrl();
    const { store, core } = await open(url);
    await createTeam(core, 'Ops');
    const received: EventRow[] = [];
    const subscription = store.feed.subscribe(await store.feed.head(), (events) => received.push(...events));
    // Two claims' worth of writes side by side (shared mode): the first appends an event and stays open.
    let releaseFirst!: () => void;
    const held = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstAppended!: () => void;
    const appended = new Promise<void>((resolve) => (firstAppended = resolve));
    const append = (tx: Parameters<Parameters<Store['write']>[0]>[0], id: string) =>
      tx.insertInto('team_events').values({ id, team_id: 'ops', type: 'test', agent_id: '', message: id, related_id: '', data: '{}', created_at: new Date().toISOString() } as never).execute();
    const first = store.write(async (tx) => {
      await append(tx, 'first');
      firstAppended();
      await held;
    }, 'shared');
    await appended;
    const second = store.write((tx) => append(tx, 'second'), 'shared');
    // The second waits for the first's number to commit: PostgreSQL shows it waiting on the log's lock.
    await eventually(async () => {
      const waiting = await sql<{ n: number }>`select count(*) as n from pg_stat_activity where wait_event_type = 'Lock' and wait_event = 'advisory' and application_name = 'team-table/' || current_schema() and pid <> pg_backend_pid()`.execute(store.db);
      return waiting.rows[0]!.n > 0;
    }, 'the second append to wait');
    const logged = await store.db.selectFrom('team_events').select('id').where('type', '=', 'test').execute();
    expect(logged).toEqual([]);
    releaseFirst();
    await Promise.all([first, second]);
    await eventually(() => received.filter((e) => e.type === 'test').length === 2, 'both events');
    const seqs = received.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(received.filter((e) => e.type === 'test').map((e) => e.id)).toEqual(['first', 'second']);
    subscription.close();
  });

  // Writes commit without waiting for their WAL flush, so that commits side by side share one (statements.ts); each
  // of these would fail most of the time without the flush that follows (PostgreSQL's WAL writer flushes within
  // 200 ms of its own accord).
  const walAt = async (db: Store['db']) => (await sql<{ lsn: string }>`select pg_current_wal_insert_lsn()::text as lsn`.execute(db)).rows[0]!.lsn;
  const flushedPast = async (db: Store['db'], lsn: string) => (await sql<{ past: boolean }>`select pg_current_wal_flush_lsn() > ${lsn}::pg_lsn as past`.execute(db)).rows[0]!.past;
  const testEvent = (id: string) => ({ id, team_id: 'ops', type: 'test', agent_id: '', message: id, related_id: '', data: '{}', created_at: new Date().toISOString() }) as never;

  it('answers a write only once its commit is flushed to disk', async () => {
    const { store } = await open(tempPgUrl());
    for (let i = 0; i < 20; i++) {
      // Read before the commit record: the WAL must be flushed past it when the write answers.
      const beforeCommit = await store.write(async (tx) => {
        await tx.insertInto('team_events').values(testEvent(`e${i}`)).execute();
        return walAt(tx);
      }, 'shared');
      expect(await flushedPast(store.db, beforeCommit)).toBe(true);
    }
  });

  it('hands on from the feed only events flushed to disk, though a commit is visible before', async () => {
    const url = tempPgUrl();
    const { store } = await open(url);
    const received: { id: string; durable: Promise<boolean> }[] = [];
    let beforeCommit = '';
    const subscription = store.feed.subscribe(await store.feed.head(), (events) => {
      for (const e of events) received.push({ id: e.id, durable: flushedPast(store.db, beforeCommit) });
    });
    const writer = new pg.Client({ connectionString: process.env.TEAM_TABLE_TEST_PG, options: `-c search_path=${new URL(url).searchParams.get('schema')}` });
    await writer.connect();
    try {
      for (let i = 0; i < 10; i++) {
        // A commit seen before its flush, as the store's writes are; nothing on this connection flushes it.
        await writer.query('begin; set local synchronous_commit = off');
        await writer.query(`insert into team_events (id, team_id, type, agent_id, message, related_id, data, created_at) values ($1, 'ops', 'test', '', '', '', '{}', $2)`, [`e${i}`, new Date().toISOString()]);
        beforeCommit = (await writer.query('select pg_current_wal_insert_lsn()::text as lsn')).rows[0].lsn;
        await writer.query('commit');
        await eventually(() => received.length === i + 1, `event e${i}`);
      }
    } finally {
      await writer.end();
    }
    expect(await Promise.all(received.map((r) => r.durable))).toEqual(received.map(() => true));
    subscription.close();
  });

  it("reads claim_next's candidates' assignees, labels and subscriptions by index, not all the team's, however long its history", async () => {
    const url = onOneConnection();
    const { store, core } = await open(url);
    const team = await createTeam(core, 'Ops');
    await core.call(OWNER, 'team_agent', { action: 'create', team_id: team.id, name: 'Loki' });
    // A history of 300 done tasks, each assigned to loki, labelled and followed by it.
    const history = Array.from({ length: 300 }, (_, i) => ({ id: `old${i}`, team_id: String(team.id), title: `old ${i}`, status: 'done', created_by: 'ana', created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' }));
    await store.write(async (tx) => {
      await tx.insertInto('team_tasks').values(history).execute();
      await tx.insertInto('team_task_assignees').values(history.map((task) => ({ task_id: task.id, agent_id: 'loki', position: 0 }))).execute();
      await tx.insertInto('team_task_labels').values(history.map((task) => ({ task_id: task.id, label: 'backend', team_id: task.team_id, priority: 3, created_at: task.created_at }))).execute();
      await tx.insertInto('team_thread_subscriptions').values(history.map((task) => ({ id: `s-${task.id}`, team_id: task.team_id, thread_id: task.id, agent_id: 'loki', subscribed_at: task.created_at, reason: 'assigned' }))).execute();
    });
    for (const title of ['next', 'later']) await core.call(OWNER, 'team_task', { action: 'create', team_id: team.id, title, labels: ['backend'] });
    await sql`analyze`.execute(store.db); // as autovacuum would have by now
    // The queue read as the claim sends it: its text when the connection prepares it, its values when it runs.
    const wire = pg.Connection.prototype as unknown as Record<'parse' | 'bind', (config: { text?: string; values?: unknown[] }) => unknown>;
    const originals = { parse: wire.parse, bind: wire.bind };
    let text: string | undefined;
    let values: unknown[] | undefined;
    wire.parse = function (this: unknown, config) {
      if (config.text?.startsWith('/* plan once */')) text = config.text;
      return originals.parse.call(this, config);
    };
    wire.bind = function (this: unknown, config) {
      if (text && !values) values = config.values;
      return originals.bind.call(this, config);
    };
    try {
      expect(await core.call(agent('loki'), 'team_task', { action: 'claim_next', team_id: team.id })).toMatchObject({ task: { title: 'next', labels: ['backend'] } });
    } finally {
      Object.assign(wire, originals);
    }
    // Run again, finding 'later', as the store runs it — one plan for every run, sequential scans off — counting the
    // rows each table gives up: a lookup by index reads the candidate's own, a hashed subplan every row of the table.
    const client = new pg.Client({ connectionString: process.env.TEAM_TABLE_TEST_PG });
    await client.connect();
    try {
      await client.query(`set search_path = ${new URL(url).searchParams.get('schema')}; set enable_seqscan = off; set plan_cache_mode = force_generic_plan`);
      await client.query(`prepare queue as ${text!}`);
      const { rows } = await client.query(`explain (analyze, format json) execute queue(${values!.map((value) => client.escapeLiteral(String(value))).join(', ')})`);
      const read: Record<string, number> = {};
      const walk = (node: Record<string, unknown>) => {
        const table = node['Relation Name'] as string | undefined;
        if (table) read[table] = (read[table] ?? 0) + Number(node['Actual Rows']) * Number(node['Actual Loops']);
        for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
      };
      walk((rows[0]['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0]!.Plan);
      for (const table of ['team_task_assignees', 'team_task_labels', 'team_thread_subscriptions']) expect(read[table] ?? 0, table).toBeLessThanOrEqual(1);
    } finally {
      await client.end();
    }
  });

  it("sends a write's events in its COMMIT's round trip, written exactly; one that fails rolls the write back", async () => {
    const { store } = await open(tempPgUrl());
    const tricky = "it's a \\ back'slash, $1 and $$ dollars, \u00e9t\u00e9 \ud83d\ude80,\nnew line; commit; --";
    const insert = (id: string, message: string) => store.db.insertInto('team_events').values({ ...(testEvent(id) as object), message } as never).compile();
    await store.write(async (tx) => sendWithCommit(tx, insert('tricky', tricky)));
    expect(await store.db.selectFrom('team_events').select('message').where('id', '=', 'tricky').executeTakeFirstOrThrow()).toEqual({ message: tricky });
    const failing = store.write(async (tx) => {
      await tx.insertInto('team_events').values(testEvent('kept-only-if-committed')).execute();
      sendWithCommit(tx, insert('tricky', 'a second event of the same id'));
    });
    await expect(failing).rejects.toMatchObject({ code: '23505' });
    expect(await store.db.selectFrom('team_events').select('id').where('id', '=', 'kept-only-if-committed').execute()).toEqual([]);
    // A NUL would end a simple query's text: such a statement goes on its own, refused as PostgreSQL refuses it.
    await expect(store.write(async (tx) => sendWithCommit(tx, insert('nul', 'a\u0000b')))).rejects.toMatchObject({ code: '22021' });
  });

  it('sends a write whose answer nobody reads with the next statement, in order and written exactly; its failure rolls the write back', async () => {
    const store = await Store.open(tempPgUrl());
    stores.push(store);
    // A clock that stands still: no sweep runs before a call (at most once a second of it) and adds a read of its own.
    const core = new Core(store, { clock: () => new Date('2026-03-01T10:00:00.000Z') });
    const tricky = "it's a \\ back'slash, $1 and $$ dollars,\nnew line; commit; --";
    const insert = (id: string, message: string) => store.db.insertInto('team_events').values({ ...(testEvent(id) as object), message } as never).compile();
    const seen = await store.write(async (tx) => {
      await writeUnanswered(tx, insert('held-1', tricky));
      await writeUnanswered(tx, insert('held-2', 'second'));
      // The next statement carries them, its own values written in, a `$1` inside its literal left as it is.
      const echo = (await sql<{ a: string; b: string }>`select ${"it's $1"}::text as a, '$2 stays' as b`.execute(tx)).rows[0];
      const held = await tx.selectFrom('team_events').select(['id', 'message']).where('id', 'in', ['held-1', 'held-2']).orderBy('id').execute();
      return { echo, held };
    });
    expect(seen).toEqual({ echo: { a: "it's $1", b: '$2 stays' }, held: [{ id: 'held-1', message: tricky }, { id: 'held-2', message: 'second' }] });
    const failing = store.write(async (tx) => {
      await tx.insertInto('team_events').values(testEvent('kept-only-if-committed')).execute();
      await writeUnanswered(tx, insert('held-1', 'a second event of the same id'));
      await tx.selectFrom('teams').selectAll().execute();
    });
    await expect(failing).rejects.toMatchObject({ code: '23505' });
    expect(await store.db.selectFrom('team_events').select('id').where('id', '=', 'kept-only-if-committed').execute()).toEqual([]);

    // A claim: its writes whose answers nobody reads travel with the statements after them.
    const team = await createTeam(core, 'Ops');
    await core.call(OWNER, 'team_agent', { action: 'create', team_id: team.id, name: 'Loki' });
    for (let i = 0; i < 3; i++) await core.call(OWNER, 'team_task', { action: 'create', team_id: team.id, title: `t${i}` });
    const wire = pg.Connection.prototype as unknown as Record<'query' | 'sync', (...args: unknown[]) => unknown>;
    const originals = { query: wire.query, sync: wire.sync };
    let trips = 0;
    wire.query = function (this: unknown, ...args: unknown[]) {
      trips++;
      return originals.query.apply(this, args);
    };
    wire.sync = function (this: unknown, ...args: unknown[]) {
      trips++;
      return originals.sync.apply(this, args);
    };
    try {
      await core.call(agent('loki'), 'team_task', { action: 'claim_next', team_id: team.id });
      trips = 0;
      expect(await core.call(agent('loki'), 'team_task', { action: 'claim_next', team_id: team.id })).toMatchObject({ task: { claimed_by: 'loki', assignees: ['loki'] } });
    } finally {
      Object.assign(wire, originals);
    }
    // BEGIN with the write lock and the agent's touch, which reads the definitions' stamp too; the queue, which says
    // whether the claimer follows the task's thread; the writes of the claim (assignee, subscription, task, working
    // state) with the events and the COMMIT.
    expect(trips).toBe(3);
    expect(await core.call(agent('loki'), 'team_agent', { action: 'working_get' })).toMatchObject({ status: 'working' });
  });

  it('runs held writes, and the statement each travels with, as statements prepared once a connection, with the answers and rows of literals', async () => {
    const claims = async (prepared?: number) => {
      let now = Date.parse('2026-03-01T10:00:00.000Z');
      const { store } = await open(onOneConnection(prepared));
      const core = new Core(store, { clock: () => new Date((now += 1_000)) });
      const team = await createTeam(core, 'Ops');
      for (const name of ['Loki', 'Thor']) await core.call(OWNER, 'team_agent', { action: 'create', team_id: team.id, name });
      for (let i = 0; i < 6; i++) await core.call(OWNER, 'team_task', { action: 'create', team_id: team.id, title: `it's \\ t${i} $1` });
      const answers: unknown[] = [];
      const queries: string[][] = [];
      for (let i = 0; i < 6; i++) queries.push(await simpleQueries(async () => answers.push(await core.call(agent(i % 2 ? 'thor' : 'loki'), 'team_task', { action: 'claim_next', team_id: team.id }))));
      // Ids are random: each becomes its task's title (tasks), or goes (events, subscriptions).
      const tasks = await store.db.selectFrom('team_tasks').select(['id', 'title']).execute();
      const named = (value: unknown) => tasks.reduce((json, task) => json.replaceAll(task.id, JSON.stringify(task.title).slice(1, -1)), JSON.stringify(value).replaceAll(String(team.id), 'team'));
      const rows = {
        assignees: await store.db.selectFrom('team_task_assignees').selectAll().orderBy('task_id').orderBy('agent_id').execute(),
        working: await store.db.selectFrom('agent_working_state').selectAll().orderBy('agent_id').execute(),
        agents: await store.db.selectFrom('persistent_agents').select(['id', 'status', 'current_task_id']).orderBy('id').execute(),
        tasks: await store.db.selectFrom('team_tasks').selectAll().orderBy('title').execute(),
        subscriptions: await store.db.selectFrom('team_thread_subscriptions').select(['thread_id', 'agent_id', 'subscribed_at', 'reason']).orderBy('thread_id').orderBy('agent_id').execute(),
        events: await store.db.selectFrom('team_events').select(['type', 'agent_id', 'message', 'related_id', 'data', 'created_at']).orderBy('seq').execute(),
      };
      // In their ids' order, random but for the events' (the log's).
      const sorted = Object.entries(JSON.parse(named(rows)) as Record<string, unknown[]>).map(([table, list]) => [
        table,
        table === 'events' ? list : list.map((row) => JSON.stringify(row)).sort(),
      ]);
      return { answers: JSON.parse(named(answers)), rows: Object.fromEntries(sorted), queries, prepared: await preparedNames(store.db) };
    };
    const literal = await claims(0);
    const prepared = await claims();
    const bounded = await claims(8);
    for (const { answers, rows } of [prepared, bounded]) {
      expect(answers).toEqual(literal.answers);
      expect(rows).toEqual(literal.rows);
    }
    expect(literal.rows.events.filter((event: { type: string }) => event.type === 'task_claimed')).toHaveLength(6);
    expect(literal.queries.flat().join(' ')).not.toMatch(/\b(prepare|execute) t/);
    expect(literal.prepared).toEqual([]);
    // The first claim prepares what it is the first to run; the others execute, in the round trips they took before.
    expect(preparedIn(prepared.queries[0]!).length).toBeGreaterThan(0);
    for (const queries of prepared.queries.slice(1)) {
      expect(preparedIn(queries)).toEqual([]);
      // As many as the first, less the PREPAREs it sent alone, before its transaction's BEGIN.
      expect(queries).toHaveLength(prepared.queries[0]!.filter((query) => !preparesAlone(query)).length);
      expect(executedIn(queries).length).toBeGreaterThanOrEqual(4);
    }
    expect(prepared.prepared).toEqual(expect.arrayContaining(executedIn(prepared.queries.flat())));
    // Named by their text, whichever connection prepares them: behind a pooler that hands a client another's server
    // connection, a name it finds there runs the statement it means, or none — never another with its values.
    const [first] = prepared.queries[0]!.flatMap((query) => [...query.matchAll(/(?:^|; )prepare (\S+) as (.*?); execute \1\(/g)]);
    expect(first![1]).toBe(`tx0_${createHash('sha1').update(first![2]!).digest('hex')}`);
    // The bound counts statements prepared either way.
    expect(bounded.prepared).toHaveLength(8);
  });

  it('writes values held back as bound parameters write them: numbers, booleans, nulls, quotes, backslashes, timestamps', async () => {
    const { store } = await open(onOneConnection());
    await sql`create table typed (k text primary key, i int, n numeric, big bigint, b boolean, t text, at timestamptz, j jsonb, nothing text)`.execute(store.db);
    const values = { i: -5, n: 1.25, big: 2 ** 53 - 1, b: false, t: "it's a \\ $1 '' \u00e9t\u00e9 \ud83d\ude80\nline", at: '2026-11-26T09:31:12.631Z', j: '{"a": "it\'s"}', nothing: null };
    const insert = (k: string) => store.db.insertInto('typed' as never).values({ k, ...values } as never).compile();
    const next = (tx: Store['db'], k: string) => sql`select count(*) as n from typed where k = ${k}`.execute(tx);
    await store.write(async (tx) => void (await tx.executeQuery(insert('bound'))));
    const queries = await simpleQueries(async () => {
      for (const k of ['held-1', 'held-2']) {
        await store.write(async (tx) => {
          await writeUnanswered(tx, insert(k));
          await next(tx, k);
        });
      }
    });
    // The write before prepared the insert (alone, before its BEGIN: the first statement of its transaction); the
    // first here prepares the statement after it; both then run by EXECUTE, with the write lock and the BEGIN.
    expect(preparedIn(queries)).toHaveLength(1);
    expect(queries.filter(preparesAlone)).toHaveLength(1);
    expect(queries.filter(executesOnly)).toHaveLength(2);
    const rows = await sql<Record<string, unknown>>`select k, i, n, big, b, t, at, j, nothing from typed order by k`.execute(store.db);
    const { k: _, ...bound } = rows.rows[0]!;
    expect(bound).toMatchObject({ i: -5, n: 1.25, big: 2 ** 53 - 1, b: false, t: values.t, at: new Date(values.at), j: { a: "it's" }, nothing: null });
    expect(rows.rows.map(({ k, ...row }) => [k, row])).toEqual(['bound', 'held-1', 'held-2'].map((k) => [k, bound]));
  });

  it('rolls back a write whose held statement fails by EXECUTE, prepared in an earlier transaction, and serves on', async () => {
    const { store } = await open(onOneConnection());
    const insert = (id: string) => store.db.insertInto('team_events').values(testEvent(id)).compile();
    const next = (tx: Store['db']) => tx.selectFrom('teams').select('id').where('id', '=', 'none').execute();
    const heldThenNext = (id: string) =>
      store.write(async (tx) => {
        await writeUnanswered(tx, insert(id));
        await next(tx);
      });
    await heldThenNext('e1');
    const queries = await simpleQueries(async () => {
      const failing = store.write(async (tx) => {
        await tx.insertInto('team_events').values(testEvent('kept-only-if-committed')).execute();
        await writeUnanswered(tx, insert('e1'));
        await next(tx);
      });
      await expect(failing).rejects.toMatchObject({ code: '23505' });
      await heldThenNext('e2');
    });
    // Prepared in the earlier transaction: run by EXECUTE, in the failing write and in the next, none prepared again.
    expect(preparedIn(queries)).toEqual([]);
    expect(queries.filter(executesOnly).length).toBeGreaterThanOrEqual(2);
    expect(queries).toContain('rollback');
    const ids = await store.db.selectFrom('team_events').select('id').where('type', '=', 'test').orderBy('id').execute();
    expect(ids).toEqual([{ id: 'e1' }, { id: 'e2' }]);
  });

  it('serves on after the query carrying a first PREPARE fails, before that PREPARE ran or after', async () => {
    const { store } = await open(onOneConnection());
    const mark = (tx: Store['db'], id: string) => sql`insert into marks (id) values (${id})`.execute(tx);
    /** A write on `on`: the held insert of event `event`, then the mark `id`, after a first statement. */
    const heldThenMarkOn = (on: Store) => (event: string, id: string) =>
      on.write(async (tx) => {
        await opening(tx);
        await writeUnanswered(tx, on.db.insertInto('team_events').values(testEvent(event)).compile());
        await mark(tx, id);
      });
    const heldThenMark = heldThenMarkOn(store);
    await sql`create table marks (id text primary key)`.execute(store.db);
    // The held insert fails in the query that was to prepare both it and the statement after it, which never ran.
    await store.db.insertInto('team_events').values(testEvent('taken')).execute();
    const failedFirst = await simpleQueries(() => expect(heldThenMark('taken', 'm1')).rejects.toMatchObject({ code: '23505' }));
    expect(preparedIn(failedFirst)).toHaveLength(2);
    const after = await simpleQueries(() => heldThenMark('e1', 'm1'));
    // The connection asks which of the two it has, and prepares only the one it does not.
    expect(after.some((query) => query.includes('from pg_prepared_statements'))).toBe(true);
    expect(preparedIn(after)).toEqual([preparedIn(failedFirst)[1]]);
    expect(await preparedNames(store.db)).toEqual(expect.arrayContaining(preparedIn(failedFirst)));

    // The statement after the held one fails, after both were prepared: both are executed from then on.
    const { store: other } = await open(onOneConnection());
    const attempt = heldThenMarkOn(other);
    await sql`create table marks (id text primary key)`.execute(other.db);
    await mark(other.db, 'taken');
    const failedLast = await simpleQueries(() => expect(attempt('e1', 'taken')).rejects.toMatchObject({ code: '23505' }));
    expect(preparedIn(failedLast)).toHaveLength(2);
    const afterLast = await simpleQueries(() => attempt('e2', 'm1'));
    expect(preparedIn(afterLast)).toEqual([]);
    expect(executedIn(afterLast)).toEqual(preparedIn(failedLast));
    for (const [db, events] of [
      [store.db, ['e1', 'taken']],
      [other.db, ['e2']],
    ] as const) {
      expect((await db.selectFrom('team_events').select('id').where('type', '=', 'test').orderBy('id').execute()).map((row) => row.id)).toEqual(events);
    }
  });

  it('prepares a held statement only in a query short enough for PostgreSQL to keep its text', async () => {
    const { store } = await open(onOneConnection());
    const insert = (id: string, message: string) => store.db.insertInto('team_events').values({ ...(testEvent(id) as object), message } as never).compile();
    const heldThenNext = (id: string, message: string) =>
      store.write(async (tx) => {
        await opening(tx);
        await writeUnanswered(tx, insert(id, message));
        await tx.selectFrom('teams').select('id').where('id', '=', id).execute();
      });
    const long = await simpleQueries(() => heldThenNext('long', 'x'.repeat(10_000)));
    expect(preparedIn(long)).toEqual([]);
    const short = await simpleQueries(() => heldThenNext('short', 'short'));
    expect(preparedIn(short)).toHaveLength(2);
    const texts = await sql<{ n: number }>`select length(statement) as n from pg_prepared_statements`.execute(store.db);
    expect(Math.max(...texts.rows.map((row) => row.n))).toBeLessThanOrEqual(8_192);
    expect((await store.db.selectFrom('team_events').select('message').where('id', '=', 'long').executeTakeFirstOrThrow()).message).toHaveLength(10_000);
  });

  it('prepares again what its connection was found not to hold, and writes in the values of a statement PostgreSQL cannot prepare', async () => {
    const { store } = await open(onOneConnection());
    const insert = (id: string) => store.db.insertInto('team_events').values(testEvent(id)).compile();
    const outcome = (write: Promise<unknown>) => write.then(() => 'ok', (error: { code?: string }) => error.code ?? 'error');
    const heldThen = (id: string, next: (tx: Store['db']) => Promise<unknown>) =>
      outcome(
        store.write(async (tx) => {
          await writeUnanswered(tx, insert(id));
          await next(tx);
        }),
      );
    const byId = (id: string) => (tx: Store['db']) => tx.selectFrom('teams').select('id').where('id', '=', id).execute();
    expect(await heldThen('m1', byId('m1'))).toBe('ok');
    // Dropped behind the store's back (a DEALLOCATE, a pooler's other server connection): one call fails, not all.
    const names = (await sql<{ name: string }>`select name from pg_prepared_statements where name like 'tx%'`.execute(store.db)).rows;
    expect(names.length).toBeGreaterThan(0);
    for (const { name } of names) await sql.raw(`deallocate "${name}"`).execute(store.db);
    expect([await heldThen('m2', byId('m2')), await heldThen('m3', byId('m3')), await heldThen('m4', byId('m4'))]).toEqual(['26000', 'ok', 'ok']);
    // A parameter whose type only its value says: PostgreSQL cannot PREPARE the statement; written in, it runs.
    // Met first in a query inside its transaction, the PREPARE fails that call; met in the one opening it, the
    // PREPARE goes alone before its BEGIN, and its refusal fails nothing.
    const untyped = (id: string) => (tx: Store['db']) => sql`select ${id} is null as missing`.execute(tx);
    const inside = (id: string) =>
      outcome(
        store.write(async (tx) => {
          await opening(tx);
          await writeUnanswered(tx, insert(id));
          await untyped(id)(tx);
        }),
      );
    expect([await inside('u1'), await inside('u2'), await inside('u3')]).toEqual(['42P18', 'ok', 'ok']);
    const untypedToo = (id: string) => (tx: Store['db']) => sql`select ${id} is null as absent`.execute(tx);
    expect([await heldThen('v1', untypedToo('v1')), await heldThen('v2', untypedToo('v2'))]).toEqual(['ok', 'ok']);
    const ids = await store.db.selectFrom('team_events').select('id').where('type', '=', 'test').orderBy('id').execute();
    expect(ids.map((row) => row.id)).toEqual(['m1', 'm3', 'm4', 'u2', 'u3', 'v1', 'v2']);
  });

  it("runs a statement found PREPAREd under its name already (another client's, on a pooler's server connection)", async () => {
    const { store } = await open(onOneConnection());
    const insert = (id: string) => store.db.insertInto('team_events').values(testEvent(id)).compile();
    const name = `tx0_${createHash('sha1').update(insert('any').sql).digest('hex')}`;
    await sql.raw(`prepare ${name} as ${insert('any').sql}`).execute(store.db);
    const queries = await simpleQueries(() =>
      store.write(async (tx) => {
        await writeUnanswered(tx, insert('p1'));
        await tx.selectFrom('teams').select('id').where('id', '=', 'none').execute();
      }),
    );
    expect(queries.some((query) => query.includes(`execute ${name}(`))).toBe(true);
    expect(await store.db.selectFrom('team_events').select('id').where('id', '=', 'p1').execute()).toEqual([{ id: 'p1' }]);
  });

  it('makes its schema whatever the limit on statements, waiting for another that is making it', async () => {
    const url = new URL(tempPgUrl());
    const schema = url.searchParams.get('schema')!;
    const other = new pg.Client({ connectionString: process.env.TEAM_TABLE_TEST_PG });
    await other.connect();
    try {
      await other.query(`begin; create schema "${schema}"`);
      url.searchParams.set('statement_timeout', '50');
      const opening = Store.open(url.toString());
      await new Promise((resolve) => setTimeout(resolve, 200));
      await other.query('commit');
      const store = await opening;
      stores.push(store);
      expect((await store.db.selectFrom('teams').selectAll().execute()).length).toBe(0);
    } finally {
      await other.end();
    }
  });

  it('prepares afresh a statement run by EXECUTE whose result columns changed under it', async () => {
    const { store } = await open(onOneConnection());
    const insert = (id: string) => store.db.insertInto('team_events').values(testEvent(id)).compile();
    const read = (id: string) =>
      store.write(async (tx) => {
        await writeUnanswered(tx, insert(id));
        return tx.selectFrom('team_events').selectAll().where('id', '=', id).execute();
      });
    await read('e1');
    await sql`alter table team_events add column added_later text`.execute(store.db);
    const failure = await read('e2').catch((error: unknown) => store.explain(error));
    expect(failure).toMatchObject({ code: 'STORE_UNAVAILABLE', details: { cause: 'schema_changed' } });
    expect(await read('e3')).toMatchObject([{ id: 'e3', added_later: null }]);
  });

  it('leaves nothing of a transaction that sent no statement to the next query on its connection', async () => {
    const url = new URL(tempPgUrl());
    url.searchParams.set('pool_size', '1');
    const { store } = await open(url.toString());
    await store.db.transaction().execute(async () => {});
    // On the pool's one connection: an autocommit write after it commits, with the server's own setting.
    expect((await sql<{ setting: string }>`select current_setting('synchronous_commit') as setting`.execute(store.db)).rows[0]!.setting).toBe('on');
    await store.db.insertInto('team_events').values(testEvent('after-an-empty-transaction')).execute();
    const other = new pg.Client({ connectionString: process.env.TEAM_TABLE_TEST_PG, options: `-c search_path=${url.searchParams.get('schema')}` });
    await other.connect();
    try {
      expect((await other.query(`select id from team_events where id = 'after-an-empty-transaction'`)).rows).toHaveLength(1);
    } finally {
      await other.end();
    }
  });

  it('keeps the feed going when its listening connection goes half-open, and listens again', async () => {
    const url = tempPgUrl();
    const proxy = await proxied(url);
    const { store } = await open(proxy.url(url));
    const { core: writer } = await open(url);
    await createTeam(writer, 'Ops');
    const received: EventRow[] = [];
    const subscription = store.feed.subscribe(await store.feed.head(), (events) => received.push(...events));
    await eventually(() => proxy.listenConnections === 1, 'the feed to listen');
    proxy.silenceListeners();
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    for (const key of keys.slice(0, 10)) await saveFact(writer, key);
    // Polling carries on meanwhile; the silent listener fails its probe and a new one connects.
    await eventually(() => proxy.listenConnections === 2, 'a new listening connection');
    for (const key of keys.slice(10)) await saveFact(writer, key);
    const created = () => received.filter((e) => e.type === 'fact_created').map((e) => JSON.parse(e.data).key);
    await eventually(() => created().length === keys.length, 'every fact_created event');
    expect(created()).toEqual(keys);
    expect(new Set(received.map((e) => e.seq)).size).toBe(received.length);
    subscription.close();
  });

  it('moves a team from SQLite to PostgreSQL and back with export | import, row for row', async () => {
    const file = tempFilePath();
    const { core } = await open(file);
    await createTeam(core, 'Ops');
    await core.call(OWNER, 'team_agent', { action: 'create', team_id: 'ops', name: 'Loki' });
    const task = await core.call(OWNER, 'team_task', { action: 'create', team_id: 'ops', title: 'Move us', labels: ['pg'], assignees: ['loki'] });
    await core.call(agent('loki'), 'team_task', { action: 'claim', task_id: task.id });
    await core.call(agent('loki'), 'team_comm', { action: 'comment', task_id: task.id, content: 'the migration works' });
    await saveFact(core, 'region');
    const strip = (text: string) => text.replace(/"exported_at":"[^"]+"/, '');
    const fromSqlite = await runCli(['export', '--db', file]);
    expect(fromSqlite.code, fromSqlite.stderr).toBe(0);
    const url = tempPgUrl();
    const intoPg = await runCli(['import', '-', '--db', url, '--json'], { input: fromSqlite.stdout });
    expect(intoPg.code, intoPg.stderr).toBe(0);
    expect(JSON.parse(intoPg.stdout)).toMatchObject({ teams: [expect.any(String)], events_renumbered: false });
    const fromPg = await runCli(['export', '--db', url]);
    expect(strip(fromPg.stdout)).toBe(strip(fromSqlite.stdout));
    // The search index and the sequence follow on PostgreSQL: new events number after the imported ones.
    const search = await runCli(['search', 'migration', '--db', url, '--team', 'ops', '--json']);
    expect(JSON.parse(search.stdout).hits).toMatchObject([{ kind: 'comment' }]);
    const { core: onPg } = await open(url);
    await saveFact(onPg, 'after-move');
    const seqs = (await stores.at(-1)!.db.selectFrom('team_events').select('seq').orderBy('seq').execute()).map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    const back = tempFilePath();
    const intoSqlite = await runCli(['import', '-', '--db', back], { input: fromPg.stdout });
    expect(intoSqlite.code, intoSqlite.stderr).toBe(0);
    expect(strip((await runCli(['export', '--db', back])).stdout)).toBe(strip(fromSqlite.stdout));
  });

  it('refuses backup and restore of a PostgreSQL database, naming pg_dump', async () => {
    const url = tempPgUrl();
    const backup = await runCli(['backup', tempFilePath(), '--db', url]);
    expect(backup.code).not.toBe(0);
    expect(backup.stderr).toMatch(/pg_dump/);
  });
});
