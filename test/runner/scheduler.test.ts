import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Core } from '../../src/core/core.js';
import { Store } from '../../src/store/store.js';
import { CLI, OWNER, TestClock, agent, openCore } from '../helpers.js';
import type { TestCore } from '../helpers.js';
import { startScheduler, waitFor } from './helpers.js';

const QUIET = { type: 'command', command: ['sh', '-c', 'cat > /dev/null; echo HEARTBEAT_OK'], timeout_seconds: 30 };

async function team(t: TestCore, agentFields: Record<string, unknown> = {}) {
  await t.call(OWNER, 'team_manage', { action: 'create', name: 'Engineering' });
  await t.call(OWNER, 'team_agent', { action: 'create', name: 'Jarvis', level: 'lead' });
  return t.call(OWNER, 'team_agent', { action: 'create', name: 'Siri', wake_adapter: QUIET, ...agentFields });
}

const runsOf = (t: TestCore, id = 'siri') => async () => (await t.call(OWNER, 'team_agent', { action: 'runs', agent_id: id, limit: 100 })).runs as any[];
const settled = (runs: any[]) => runs.every((r) => !['queued', 'running'].includes(r.status));

describe('cron heartbeats', () => {
  it('fire each slot of the schedule by the injected clock, once, and a missed stretch once', async () => {
    const t = await openCore(); // 10:00 UTC
    const created = await team(t);
    expect(created).toMatchObject({ liveness: 'idle', next_heartbeat_at: '2026-02-21T10:15:00.000Z', last_heartbeat_at: '' });
    const scheduler = await startScheduler(t.core, t.path);
    await scheduler.tick();
    t.clock.advance(14 * 60_000);
    await scheduler.tick();
    expect(await runsOf(t)()).toEqual([]);

    t.clock.advance(60_000); // 10:15
    await scheduler.tick();
    await scheduler.tick(); // the same slot again: nothing more
    const [run] = await waitFor(runsOf(t), (r) => r.length === 1 && settled(r), 'the 10:15 heartbeat');
    expect(run).toMatchObject({ status: 'idle', output: 'HEARTBEAT_OK\n', reasons: [{ kind: 'cron', key: 'cron:2026-02-21T10:15:00.000Z' }] });
    expect(await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'siri' })).toMatchObject({
      last_heartbeat_at: '2026-02-21T10:15:00.000Z',
      next_heartbeat_at: '2026-02-21T10:30:00.000Z',
      missed_heartbeats: 0,
      liveness: 'idle',
    });

    t.clock.advance(45 * 60_000); // 11:00: 10:30 and 10:45 passed while nobody ticked
    await scheduler.tick();
    const runs = await waitFor(runsOf(t), (r) => r.length === 2 && settled(r), 'the catch-up heartbeat');
    expect(runs[0].reasons).toMatchObject([{ kind: 'cron', key: 'cron:2026-02-21T11:00:00.000Z' }]);
  });

  it("read the schedule in the agent's timezone, else the team's; skip stopped agents and resume at start", async () => {
    const t = await openCore();
    await team(t, { heartbeat_schedule: '0 9 * * *', timezone: 'America/Sao_Paulo' });
    expect((await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'siri' })).next_heartbeat_at).toBe('2026-02-21T12:00:00.000Z');
    await t.call(OWNER, 'team_manage', { action: 'update', timezone: 'Asia/Tokyo' });
    await t.call(OWNER, 'team_agent', { action: 'update', agent_id: 'siri', timezone: '' });
    expect((await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'siri' })).next_heartbeat_at).toBe('2026-02-22T00:00:00.000Z');
    const bad = await t.call(OWNER, 'team_agent', { action: 'update', agent_id: 'siri', timezone: 'Mars/Olympus' }).catch((e) => e);
    expect(bad.message).toMatch(/timezone.*IANA timezone/);

    const scheduler = await startScheduler(t.core, t.path);
    await t.call(OWNER, 'team_agent', { action: 'stop', agent_id: 'siri' });
    expect((await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'siri' })).liveness).toBe('stopped');
    t.clock.time = new Date('2026-02-22T00:00:00.000Z');
    await scheduler.tick();
    expect(await runsOf(t)()).toEqual([]);
    const woken = await t.call(OWNER, 'team_agent', { action: 'wake', agent_id: 'siri' }).catch((e) => e);
    expect(woken.code).toBe('CONFLICT');

    await t.call(OWNER, 'team_agent', { action: 'start', agent_id: 'siri' });
    await scheduler.tick();
    expect(await runsOf(t)()).toEqual([]); // the slot it slept through is not fired at start …
    t.clock.time = new Date('2026-02-23T00:00:00.000Z');
    await scheduler.tick(); // … the next one is
    expect((await waitFor(runsOf(t), (r) => r.length === 1 && settled(r), 'the heartbeat after start'))[0].status).toBe('idle');
  });
});

/** Two stores on one file stand for two server processes (SQLite's locking is per connection). */
async function secondProcess(t: TestCore) {
  const store = await Store.open(t.path);
  const clock = new TestClock(new Date(t.clock.time));
  return { store, clock, core: new Core(store, { clock: clock.now }) };
}

describe('two schedulers on one database', () => {
  it('one leads; and their fires and wakes, raced, queue each reason once', async () => {
    const t = await openCore();
    await team(t);
    const other = await secondProcess(t);
    try {
      const [a, b] = [await startScheduler(t.core, t.path), await startScheduler(other.core, t.path)];
      expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
      await a.stop();
      await b.stop();

      // Without leadership to keep one of them out — a stalled leader and its successor — the conditional writes
      // alone. (In one process the two connections cannot write at once: better-sqlite3 blocks the thread.)
      t.clock.advance(15 * 60_000);
      other.clock.advance(15 * 60_000);
      const fired = [await t.core.runs.fireHeartbeats(), await other.core.runs.fireHeartbeats(), await t.core.runs.fireHeartbeats()];
      expect(fired.flat()).toEqual(['siri']);
      const cursor = await t.core.runs.cursor();
      for (const content of ['one', 'two', 'three']) await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'siri', content });
      const events = await t.store.db.selectFrom('team_events').selectAll().where('seq', '>', cursor).orderBy('seq').execute();
      const firstMessage = events.findIndex((e) => e.type === 'message_sent');
      // One reads a batch ending after the first message, the other all of it, then the first the rest.
      expect((await other.core.runs.wakeFromEvents(events.slice(0, firstMessage + 1))).length).toBe(1);
      expect((await t.core.runs.wakeFromEvents(events)).length).toBe(1);
      expect((await other.core.runs.wakeFromEvents(events.slice(firstMessage + 1))).length).toBe(0);
      expect((await t.core.runs.wakeFromEvents(events)).length).toBe(0);
      const runs = await runsOf(t)();
      expect(runs).toHaveLength(1);
      expect(runs[0].reasons.map((r: any) => r.kind)).toEqual(['cron', 'message', 'message', 'message']);
    } finally {
      await other.store.close();
    }
  });

  it('another process takes the lead within seconds when the leader is killed, and fires the next heartbeat', async () => {
    const t = await openCore();
    await team(t, { heartbeat_schedule: '0 0 1 1 *' }); // yearly: the real clock of the killed runner never reaches it
    const leader = spawn(process.execPath, [CLI, 'run', '--db', t.path], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TEAM_TABLE_OWNER: 'ana' } });
    let stderr = '';
    leader.stderr.on('data', (chunk) => (stderr += chunk));
    try {
      await waitFor(async () => stderr, (s) => s.includes('scheduler: leading'), 'the spawned runner to lead', 30_000);
      const follower = await startScheduler(t.core, t.path, { leader: { ttlMs: 10_000, renewMs: 250 } });
      expect(follower.isLeader).toBe(false);
      leader.kill('SIGKILL');
      await waitFor(async () => follower.isLeader, Boolean, 'the follower to take the lead', 30_000);
      t.clock.time = new Date('2027-01-01T00:00:00.000Z');
      await follower.tick();
      const [run] = await waitFor(runsOf(t), (r) => r.length === 1 && settled(r), 'the next heartbeat');
      expect(run).toMatchObject({ status: 'idle', runner: follower.holder, reasons: [{ kind: 'cron' }] });
    } finally {
      leader.kill('SIGKILL');
    }
  });
});

describe('liveness', () => {
  it('an sse agent that does not take its heartbeats becomes unresponsive after two; taking one revives it; its claim goes back past the lease', async () => {
    const t = await openCore();
    await team(t, { wake_adapter: { type: 'sse' } });
    await t.call(OWNER, 'team_manage', { action: 'update', lease_minutes: 20 });
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Deploy' });
    await t.call(agent('siri'), 'team_task', { action: 'claim', task_id: task.id }); // lease to 10:20
    const scheduler = await startScheduler(t.core, t.path);

    t.clock.time = new Date('2026-02-21T10:15:00.000Z');
    await scheduler.tick();
    const [run] = await waitFor(runsOf(t), (r) => r.length === 1 && settled(r), 'the sse wake');
    expect(run.status).toBe('succeeded');
    const { events } = await t.call(OWNER, 'team_memory', { action: 'audit', type: 'agent_wake' });
    expect(events).toMatchObject([{ related_id: 'siri', data: { agent_id: 'siri', run_id: run.id, reasons: [{ kind: 'cron' }] } }]);
    expect(await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'siri' })).toMatchObject({ missed_heartbeats: 1, liveness: 'working' });

    await t.call(agent('siri'), 'team_task', { action: 'renew', task_id: task.id }); // to 10:35; activity is not taking a heartbeat
    t.clock.time = new Date('2026-02-21T10:30:00.000Z');
    await scheduler.tick();
    expect(await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'siri' })).toMatchObject({ missed_heartbeats: 2, liveness: 'unresponsive', unresponsive_since: '2026-02-21T10:30:00.000Z' });
    const { notifications } = await t.call(OWNER, 'team_comm', { action: 'notify_list' });
    expect(notifications.find((n: any) => n.type === 'agent_error').message).toBe('siri is unresponsive: it missed 2 heartbeats in a row');

    // It keeps renewing its claim (to 10:54), but stays unresponsive past the team's 20-minute lease.
    t.clock.time = new Date('2026-02-21T10:34:00.000Z');
    await t.call(agent('siri'), 'team_task', { action: 'renew', task_id: task.id });
    t.clock.time = new Date('2026-02-21T10:49:00.000Z');
    await t.core.sweep();
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id })).claimed_by).toBe('siri');
    t.clock.time = new Date('2026-02-21T10:50:00.000Z');
    await t.core.sweep();
    expect(await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id })).toMatchObject({ status: 'inbox', claimed_by: '' });

    const beat = await t.call(agent('siri'), 'team_agent', { action: 'heartbeat' });
    expect(beat.prompt).toContain('# Heartbeat — Siri (siri)');
    expect(await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'siri' })).toMatchObject({ missed_heartbeats: 0, liveness: 'idle', unresponsive_since: '', last_heartbeat_at: '2026-02-21T10:50:00.000Z' });
  });

  it("releases an unresponsive agent's claim after the team's lease in seconds, though the agent keeps renewing", async () => {
    const t = await openCore();
    await team(t, { wake_adapter: { type: 'sse' } });
    await t.call(OWNER, 'team_manage', { action: 'update', lease_seconds: 30 });
    const scheduler = await startScheduler(t.core, t.path);
    for (const slot of ['10:15', '10:30']) {
      t.clock.time = new Date(`2026-02-21T${slot}:00.000Z`);
      await scheduler.tick();
      await waitFor(runsOf(t), (r) => r.length > 0 && settled(r), 'the sse wake');
    }
    expect(await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'siri' })).toMatchObject({ liveness: 'unresponsive', unresponsive_since: '2026-02-21T10:30:00.000Z' });
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Deploy' });
    t.clock.time = new Date('2026-02-21T10:30:10.000Z');
    await t.call(agent('siri'), 'team_task', { action: 'claim', task_id: task.id });
    t.clock.time = new Date('2026-02-21T10:30:25.000Z');
    await t.call(agent('siri'), 'team_task', { action: 'renew', task_id: task.id }); // its lease now runs to 10:30:55
    t.clock.time = new Date('2026-02-21T10:30:29.000Z');
    await t.core.sweep();
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id })).claimed_by).toBe('siri');
    t.clock.time = new Date('2026-02-21T10:30:31.000Z');
    await t.core.sweep();
    expect(await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id })).toMatchObject({ status: 'inbox', claimed_by: '' });
  });

  it("counts a heartbeat as taken only when its run succeeds: after a failed run the next prompt's activity starts where it did", async () => {
    const t = await openCore();
    await team(t, { wake_adapter: { type: 'command', command: ['true'] } });
    const runOnce = async (status: 'failed' | 'succeeded') => {
      await t.call(OWNER, 'team_agent', { action: 'wake', agent_id: 'siri' });
      const [started] = await t.core.runs.start('test-runner', 1);
      await t.core.runs.finish(started!.run.id, 'test-runner', { status });
      return started!;
    };
    t.clock.time = new Date('2026-02-21T10:00:00.000Z');
    await runOnce('succeeded');
    expect((await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'siri' })).last_heartbeat_at).toBe('2026-02-21T10:00:00.000Z');
    t.clock.time = new Date('2026-02-21T11:00:00.000Z');
    const failed = await runOnce('failed');
    expect(failed.since).toBe('2026-02-21T10:00:00.000Z');
    expect((await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'siri' })).last_heartbeat_at).toBe('2026-02-21T10:00:00.000Z');
    t.clock.time = new Date('2026-02-21T12:00:00.000Z');
    const retried = await runOnce('succeeded');
    expect(retried.since).toBe('2026-02-21T10:00:00.000Z');
    expect((await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'siri' })).last_heartbeat_at).toBe('2026-02-21T12:00:00.000Z');
  });

  it('the idle rule assigns work only to agents whose liveness is idle', async () => {
    const t = await openCore();
    await team(t, { wake_adapter: { type: 'sse' } });
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Loki' });
    await t.call(OWNER, 'team_manage', { action: 'rule_update', rule_id: 'idle-assign', enabled: true });
    for (const slot of ['10:15', '10:30']) {
      t.clock.time = new Date(`2026-02-21T${slot}:00.000Z`);
      await t.core.runs.fireHeartbeats();
    }
    expect((await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'siri' })).liveness).toBe('unresponsive');
    await t.call(OWNER, 'team_task', { action: 'create', title: 'First' });
    await t.call(OWNER, 'team_task', { action: 'create', title: 'Second' });
    t.clock.advance(10 * 60_000);
    await t.core.sweep();
    const { tasks } = await t.call(OWNER, 'team_task', { action: 'list' });
    expect(tasks.flatMap((task: any) => task.assignees).sort()).toEqual(['jarvis', 'loki']);
  });
});
