import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OWNER, agent, openCore } from '../helpers.js';
import type { TestCore } from '../helpers.js';
import { fakeAgent, startScheduler, waitFor } from './helpers.js';

async function team(t: TestCore, wake_adapter: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  await t.call(OWNER, 'team_manage', { action: 'create', name: 'Engineering' });
  await t.call(OWNER, 'team_agent', { action: 'create', name: 'Jarvis', level: 'lead' });
  return t.call(OWNER, 'team_agent', { action: 'create', name: 'Siri', role: 'Personal Assistant', wake_adapter, ...extra });
}

const runsOf = (t: TestCore, id = 'siri') => async () => (await t.call(OWNER, 'team_agent', { action: 'runs', agent_id: id, limit: 50 })).runs as any[];
const finished = (runs: any[]) => runs.filter((r) => !['queued', 'running'].includes(r.status));

describe('the command adapter', () => {
  it('wakes a fake agent at a mention; it connects back over MCP as itself, reads its mail, works its task and updates its working state', async () => {
    const t = await openCore();
    const log = join(dirname(t.path), 'runs.log');
    const workspace = join(dirname(t.path), 'workspace');
    await team(t, fakeAgent('work', { FAKE_LOG: log }));
    await t.call(OWNER, 'team_manage', { action: 'update', workspace_path: workspace });
    await startScheduler(t.core, t.path);
    // The assignment wakes it; the mention comes on top (in the same run, or in the next).
    const task = await t.call(agent('jarvis'), 'team_task', { action: 'create', title: 'Write the API docs', assignees: ['siri'] });
    await t.call(agent('jarvis'), 'team_comm', { action: 'comment', task_id: task.id, content: '@siri can you write the docs for this endpoint?' });

    const runs = await waitFor(runsOf(t), (r) => r.length > 0 && finished(r).length === r.length && r.some((x: any) => x.reasons.some((y: any) => y.kind === 'mention')), 'the runs to end');
    const working = runs.find((r) => r.output.includes(`completed ${task.id}`))!;
    expect(working).toMatchObject({ status: 'succeeded', exit_code: 0, adapter: 'command' });
    expect(working.reasons.map((r: any) => r.kind)).toContain('assignment');
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id })).status).toBe('done');
    const state = await t.call(OWNER, 'team_agent', { action: 'working_get', agent_id: 'siri' });
    expect(state.context).toMatch(/completed/);
    // Its mail was read by itself: nothing is left for it.
    expect((await t.call(agent('siri'), 'team_comm', { action: 'inbox', unread_only: true })).unread_count).toBe(0);
    // As itself: its own comment, by siri, not by the owner.
    const { feed } = await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id });
    expect(feed.some((e: any) => e.agent === 'siri' && e.text.includes('Done: Write the API docs'))).toBe(true);

    // Its folder in the team's workspace mirrors its working state as a real WORKING.md.
    expect(readFileSync(join(workspace, 'siri', 'WORKING.md'), 'utf8')).toBe(`${state.markdown}\n`);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ workspace: join(workspace, 'siri'), cwd: join(workspace, 'siri') });
    expect(lines[0]).toMatchObject({ agent: 'siri', prompt_env_matches: true, owner: null });
    expect(lines[0].prompt).toContain('## Current Work State (WORKING.md)');
    expect(new Set(lines.map((l) => l.session)).size).toBe(1); // one session of its own across runs
    // A later run with nothing to do answers HEARTBEAT_OK and is recorded idle.
    t.clock.advance(60_000);
    await t.call(OWNER, 'team_agent', { action: 'wake', agent_id: 'siri' });
    const after = await waitFor(runsOf(t), (r) => r[0].reasons[0].kind === 'manual' && finished(r).length === r.length, 'the manual run to end');
    expect(after[0]).toMatchObject({ status: 'idle', output: 'HEARTBEAT_OK\n' });
  });

  it('queues a wake that arrives during a run once, carrying every reason of the burst', async () => {
    const t = await openCore();
    const gate = join(dirname(t.path), 'gate');
    await team(t, fakeAgent('gate', { FAKE_GATE: gate }));
    await startScheduler(t.core, t.path);
    await t.call(OWNER, 'team_agent', { action: 'wake', agent_id: 'siri' });
    await waitFor(runsOf(t), (r) => r[0]?.status === 'running', 'the first run to start');
    t.clock.advance(1_000);
    for (let i = 1; i <= 3; i++) await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'siri', content: `ping ${i}` });
    const during = await waitFor(runsOf(t), (r) => r.length === 2 && r[0].reasons.length === 3, 'the three messages to be queued');
    expect(during.map((r) => r.status)).toEqual(['queued', 'running']);
    expect(during[0].reasons.map((r: any) => r.kind)).toEqual(['message', 'message', 'message']);
    writeFileSync(gate, '');
    const runs = await waitFor(runsOf(t), (r) => finished(r).length === 2, 'both runs to end');
    expect(runs.map((r) => r.status)).toEqual(['idle', 'idle']);
    await new Promise((r) => setTimeout(r, 200));
    expect(await runsOf(t)()).toHaveLength(2); // not lost, not duplicated
  });

  it('kills a hanging agent, process group and all, at its timeout; three failing runs make it unresponsive', async () => {
    const t = await openCore();
    const pids = join(dirname(t.path), 'pids');
    await team(t, fakeAgent('hang', { FAKE_PIDS: pids }, 3));
    await startScheduler(t.core, t.path);
    await t.call(OWNER, 'team_agent', { action: 'wake', agent_id: 'siri' });
    const [run] = await waitFor(runsOf(t), (r) => r[0] && finished(r).length === 1, 'the run to time out');
    expect(run).toMatchObject({ status: 'timed_out', error: 'killed after its timeout of 3 s' });
    const [child, grandchild] = readFileSync(pids, 'utf8').split(' ').map(Number);
    const alive = (pid: number) => {
      try {
        process.kill(pid!, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor(async () => [alive(child!), alive(grandchild!)], (a) => !a[0] && !a[1], 'the agent and its grandchild to be gone', 10_000);
    expect((await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'siri' })).liveness).not.toBe('unresponsive');

    // Two more failing runs (a fail adapter now, quicker): the third in a row makes it unresponsive, once.
    await t.call(OWNER, 'team_agent', { action: 'update', agent_id: 'siri', wake_adapter: fakeAgent('fail') });
    for (let n = 2; n <= 3; n++) {
      t.clock.advance(1_000);
      await t.call(OWNER, 'team_agent', { action: 'wake', agent_id: 'siri' });
      await waitFor(runsOf(t), (r) => finished(r).length === n, `failing run ${n}`);
    }
    const runs = await runsOf(t)();
    expect(runs[0]).toMatchObject({ status: 'failed', exit_code: 3, error: 'exit code 3' });
    expect(runs[0].stderr).toContain('failing on purpose');
    const siri = await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'siri' });
    expect(siri.liveness).toBe('unresponsive');
    const { agents } = await t.call(OWNER, 'team_agent', { action: 'list', liveness: 'unresponsive' });
    expect(agents.map((a: any) => a.id)).toEqual(['siri']);
    const { notifications } = await t.call(OWNER, 'team_comm', { action: 'notify_list' });
    expect(notifications.filter((n: any) => n.type === 'agent_error')).toHaveLength(1);
    expect(notifications.find((n: any) => n.type === 'agent_error').message).toMatch(/siri is unresponsive: its last 3 runs failed or timed out/);
    expect(existsSync(pids)).toBe(true);
  });
});
