import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TestCore } from '../helpers.js';
import { OWNER, agent } from '../helpers.js';
import { fileCore, openStream, request, startServer, tokenFor } from '../http/helpers.js';
import type { HttpServer } from '../http/helpers.js';

/**
 * Three `serve --http` processes on one PostgreSQL database, as behind a load balancer: what one is told, the
 * others know; claims, the scheduler's lead and the connections' failures are the database's to arbitrate.
 */

const PRINT_ENV = { type: 'command', command: ['sh', '-c', 'cat > /dev/null; echo ran'] };
const AGENTS = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let waited = 0; ; waited += 50) {
    const value = await read().catch((error) => error as T);
    if (done(value)) return value;
    if (waited > 45_000) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('three replicas on one PostgreSQL database', () => {
  let t: TestCore;
  let replicas: HttpServer[];
  const token: Record<string, string> = {};
  const api = (replica: HttpServer, who: string, method: string, path: string, body?: unknown) => request(replica, method, `/api/v1${path}`, { token: token[who], body });

  beforeAll(async () => {
    t = await fileCore();
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Ops' });
    for (const id of AGENTS) await t.call(OWNER, 'team_agent', { action: 'create', name: id });
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Siri', heartbeat_schedule: '0 0 1 1 *', wake_adapter: PRINT_ENV });
    for (const id of AGENTS) token[id] = (await tokenFor(t, { agent_id: id })).token;
    token.owner = (await tokenFor(t, { owner: true })).token;
    replicas = await Promise.all([0, 1, 2].map(() => startServer(t.path)));
  });

  it('pushes to an SSE client of one replica a message sent through another', async () => {
    const stream = await openStream(replicas[0]!, token.a2!);
    await stream.until((e) => e.some((x) => x.event === 'connected'), 'connected');
    const sent = await api(replicas[1]!, 'a1', 'POST', '/messages', { to_agent: 'a2', content: 'across replicas' });
    expect(sent.status).toBe(200);
    await stream.until(() => stream.logEvents().some((e) => e.type === 'message_sent'), 'the message');
    expect(stream.logEvents().find((e) => e.type === 'message_sent')).toMatchObject({ agent_id: 'a1', data: { recipients: ['a2'] } });
  });

  it('claims each task once when agents race for them through all three replicas', async () => {
    const TASKS = 30;
    for (let i = 0; i < TASKS; i++) await t.call(OWNER, 'team_task', { action: 'create', team_id: 'ops', title: `race ${i}` });
    const claimed: Record<string, string[]> = {};
    await Promise.all(
      AGENTS.map(async (id, i) => {
        claimed[id] = [];
        for (;;) {
          const answer = await api(replicas[i % 3]!, id, 'POST', '/tasks/claim_next', { team_id: 'ops' });
          expect(answer.status).toBe(200);
          if (!answer.body.task) return;
          claimed[id]!.push(answer.body.task.id);
        }
      }),
    );
    const all = Object.values(claimed).flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(TASKS);
    const claims = await t.store.db.selectFrom('team_events').select('related_id').where('type', '=', 'task_claimed').execute();
    expect(claims).toHaveLength(TASKS);
  });

  it('when the leading replica dies, another starts the next run', async () => {
    const runOf = async () => (await t.call(OWNER, 'team_agent', { action: 'runs', agent_id: 'siri' })).runs as { status: string; runner: string }[];
    await t.call(OWNER, 'team_agent', { action: 'wake', agent_id: 'siri' });
    const [first] = await eventually(runOf, (runs) => runs[0]?.status === 'succeeded', 'the first run');
    const pidOf = (runner: string) => Number(runner.split(':')[1]);
    const leader = replicas.find((r) => r.child.pid === pidOf(first!.runner))!;
    expect(leader).toBeDefined();
    await leader.stop('SIGKILL');
    await t.call(OWNER, 'team_agent', { action: 'wake', agent_id: 'siri' });
    const [next] = await eventually(runOf, (runs) => runs.length === 2 && runs[0]?.status === 'succeeded', 'a run by another replica');
    expect(pidOf(next!.runner)).not.toBe(pidOf(first!.runner));
    expect(replicas.some((r) => r !== leader && r.child.pid === pidOf(next!.runner))).toBe(true);
    replicas = replicas.filter((r) => r !== leader);
  });

  it('keeps every acknowledged write when the connections are terminated under load, and recovers by itself', async () => {
    const acknowledged: string[] = [];
    let writing = true;
    const writers = replicas.map(async (replica, r) => {
      for (let i = 0; writing; i++) {
        const key = `r${r}-${i}`;
        const answer = await api(replica, 'owner', 'PUT', `/facts/${key}`, { team_id: 'ops', value: key }).catch(() => undefined);
        if (answer?.status === 200) acknowledged.push(key);
      }
    });
    const admin = new pg.Client({ connectionString: process.env.TEAM_TABLE_TEST_PG });
    await admin.connect();
    const schema = new URL(t.path).searchParams.get('schema');
    await eventually(async () => acknowledged.length, (n) => n >= 20, 'writes under way');
    const killed = await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()`, [`team-table/${schema}`]);
    await admin.end();
    expect(killed.rowCount).toBeGreaterThan(0);
    const before = acknowledged.length;
    // Every replica writes again, without a restart.
    await eventually(async () => acknowledged.filter((k) => acknowledged.indexOf(k) >= before), (fresh) => replicas.every((_, r) => fresh.some((k) => k.startsWith(`r${r}-`))), 'writes through every replica after');
    writing = false;
    await Promise.all(writers);
    const stored = new Set((await t.store.db.selectFrom('team_facts').select('key').execute()).map((f) => f.key));
    expect(acknowledged.filter((k) => !stored.has(k))).toEqual([]);
    // and the push streams carry on on each replica
    const stream = await openStream(replicas[0]!, token.a3!);
    await stream.until((e) => e.some((x) => x.event === 'connected'), 'connected');
    await t.call(agent('a4'), 'team_comm', { action: 'send_message', to_agent: 'a3', content: 'after the storm' });
    await stream.until(() => stream.logEvents().some((e) => e.type === 'message_sent'), 'a message after the terminations');
  });
});

describe('the rate limit across replicas', () => {
  it('gives a token one budget however many replicas it spreads its requests over', async () => {
    const t = await fileCore();
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Ops' });
    for (const id of ['a1', 'a2']) await t.call(OWNER, 'team_agent', { action: 'create', name: id });
    const a1 = (await tokenFor(t, { agent_id: 'a1' })).token;
    const a2 = (await tokenFor(t, { agent_id: 'a2' })).token;
    // Six a minute: one request at once, the next ten seconds later.
    const [first, second] = await Promise.all([0, 1].map(() => startServer(t.path, ['--rate-limit', '6'])));
    expect((await request(first!, 'GET', '/api/v1/tasks', { token: a1 })).status).toBe(200);
    const limited = await request(second!, 'GET', '/api/v1/tasks', { token: a1 });
    expect(limited).toMatchObject({ status: 429, body: { error: { code: 'RATE_LIMITED' } } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await request(second!, 'GET', '/api/v1/tasks', { token: a2 })).status).toBe(200);
    expect((await request(first!, 'GET', '/api/v1/tasks', { token: a2 })).status).toBe(429);
  });
});
