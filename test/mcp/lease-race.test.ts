import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { spawnSession, tempDbPath } from '../helpers.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Leases across processes: a holder killed mid-task loses its claims when the lease runs out, and racing servers
 * requeue and reclaim each task exactly once. The team's lease is 2 seconds (lease_seconds), so that the test waits
 * for real time to pass rather than for an injected clock, which no other process would share.
 */
describe('lease expiry across processes', () => {
  it('gives the tasks of a killed holder to exactly one of several racing processes once its lease runs out', async () => {
    const db = tempDbPath();
    const owner = await spawnSession(db);
    expect(await owner.call('team_manage', { action: 'create', name: 'Leases', lease_seconds: 2 })).toMatchObject({ lease_seconds: 2 });
    const TASKS = 5;
    const RACERS = 3;
    await owner.call('team_agent', { action: 'create', name: 'Holder' });
    for (let i = 0; i < RACERS; i++) await owner.call('team_agent', { action: 'create', name: `racer ${i}` });
    for (let i = 0; i < TASKS; i++) await owner.call('team_task', { action: 'create', title: `job ${i}` });

    const holder = await spawnSession(db, { agent: 'holder' });
    const held: string[] = [];
    for (let i = 0; i < TASKS; i++) held.push((await holder.call('team_task', { action: 'claim_next' })).task.id);
    process.kill((holder.client.transport as unknown as { pid: number }).pid, 'SIGKILL');

    const racers = await Promise.all(Array.from({ length: RACERS }, (_, i) => spawnSession(db, { agent: `racer-${i}` })));
    const taken: string[][] = racers.map(() => []);
    const total = () => taken.reduce((n, mine) => n + mine.length, 0);
    // Each racer asks until every task is back in someone's hands; the test's timeout bounds the wait.
    await Promise.all(
      racers.map(async (racer, i) => {
        while (total() < TASKS) {
          const { task } = await racer.call('team_task', { action: 'claim_next' });
          if (task) taken[i]!.push(task.id);
          else await pause(100);
        }
      }),
    );
    expect(taken.flat().sort()).toEqual([...held].sort());
    const { tasks } = await owner.call('team_task', { action: 'list', status: 'in_progress', limit: 500 });
    for (const [i, mine] of taken.entries()) for (const id of mine) expect(tasks.find((t: any) => t.id === id).claimed_by).toBe(`racer-${i}`);
    // however many processes swept at once, each lease expired once
    const { events } = await owner.call('team_memory', { action: 'audit', type: 'task_lease_expired', limit: 500 });
    expect(events.map((e: any) => e.related_id).sort()).toEqual([...held].sort());
    expect(events.every((e: any) => e.data.holder === 'holder')).toBe(true);
    expect((await owner.call('team_agent', { action: 'get', agent_id: 'holder' })).status).toBe('idle');
  });
});

describe('the idle-assign rule over MCP', () => {
  it('assigns the next pending task to an agent idle past the rule, which sees it in its own session', async () => {
    const db = tempDbPath();
    const owner = await spawnSession(db);
    await owner.call('team_manage', { action: 'create', name: 'Idle' });
    await owner.call('team_agent', { action: 'create', name: 'Idler' });
    expect(await owner.call('team_manage', { action: 'rule_update', rule_id: 'idle-assign', enabled: true })).toMatchObject({ id: 'idle-assign', enabled: true });
    const task = await owner.call('team_task', { action: 'create', title: 'Nobody took this', priority: 1 });

    const idler = await spawnSession(db, { agent: 'idler' });
    // Just created: not idle for 5 minutes yet, so nothing is assigned.
    expect((await idler.call('team_task', { action: 'list', assignee_filter: 'me' })).tasks).toEqual([]);
    // Five minutes of idleness, without waiting them: the agent was created (and last active) ten minutes ago.
    const raw = new BetterSqlite3(db);
    raw.prepare("update persistent_agents set created_at = ?, last_active_at = '' where id = 'idler'").run(new Date(Date.now() - 10 * 60_000).toISOString());
    raw.close();
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a process sweeps before a call at most once a second

    const mine = await idler.call('team_task', { action: 'list', assignee_filter: 'me' });
    expect(mine.tasks).toMatchObject([{ id: task.id, status: 'assigned', assignees: ['idler'] }]);
    const mail = await idler.call('team_comm', { action: 'mention_check' });
    expect(mail.messages.map((m: any) => m.content)).toEqual([expect.stringMatching(/you were idle, so 'Nobody took this' \(\w+\) is now assigned to you/)]);
    const { events } = await owner.call('team_memory', { action: 'audit', type: 'agent_idle' });
    expect(events).toMatchObject([{ related_id: 'idler', data: { rule_id: 'idle-assign' } }]);
    // an agent with work assigned is not idle: the rule does not fire again
    await owner.call('team_task', { action: 'create', title: 'Another one', priority: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await idler.call('team_task', { action: 'list', assignee_filter: 'me' })).tasks).toHaveLength(1);
  });
});
