import { describe, expect, it } from 'vitest';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

const inbox = async (t: any, id: string) => (await t.call(agent(id), 'team_comm', { action: 'mention_check' })).messages.map((m: any) => m.content as string);

describe('workflow rules', () => {
  it('lists the built-in rules, the roadmap examples', async () => {
    const t = await openCore();
    await seedTeam(t);
    const { rules } = await t.call(OWNER, 'team_manage', { action: 'rule_list' });
    expect(rules.map((r: any) => `${r.id}:${r.trigger}:${r.enabled}`)).toEqual([
      'parent-complete:task.all_subtasks_done:true',
      'blocked-notify:task.status_changed:true',
      'blocker-escalate:task.comment:true',
      'idle-assign:agent.idle:false',
      'review-notify:task.status_changed:true',
    ]);
  });

  it('blocked → notifies the assignees and the escalation role (the leads), not the one who blocked it', async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Vision' });
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Deploy', assignees: ['loki', 'vision'] });
    await t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, status: 'blocked', blocked_reason: 'Waiting for CI credentials' });
    expect(await inbox(t, 'vision')).toEqual([expect.stringMatching(/^\[task_blocked\] .*Waiting for CI credentials/)]);
    expect(await inbox(t, 'jarvis')).toEqual([expect.stringMatching(/^\[task_blocked\]/)]);
    expect(await inbox(t, 'loki')).toEqual([]);
  });

  it('agent idle for N minutes → assigns it the next pending task, once turned on', async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_manage', { action: 'rule_update', rule_id: 'idle-assign', enabled: true });
    await t.call(agent('jarvis'), 'team_task', { action: 'create', title: 'Busy work', assignees: ['jarvis'] });
    const next = await t.call(OWNER, 'team_task', { action: 'create', title: 'Pending', priority: 2 });
    t.clock.advance(4 * 60_000);
    await t.core.sweep();
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: next.id })).assignees).toEqual([]);
    t.clock.advance(2 * 60_000);
    await t.core.sweep();
    expect(await t.call(OWNER, 'team_task', { action: 'get', task_id: next.id })).toMatchObject({ status: 'assigned', assignees: ['loki'] });
    expect(await inbox(t, 'loki')).toEqual([expect.stringMatching(/you were idle, so 'Pending'/)]);
  });

  it('takes custom rules: validated, applied on events from any action, deleted', async () => {
    const t = await openCore();
    await seedTeam(t);
    const rule = await t.call(OWNER, 'team_manage', {
      action: 'rule_create',
      name: 'urgent work goes to jarvis',
      trigger: 'task.created',
      condition: { priority_at_most: 1 },
      rule_action: { type: 'assign', agent_id: 'jarvis' },
    });
    expect(rule).toMatchObject({ trigger: 'task.created', enabled: true, builtin: false });
    const urgent = await t.call(agent('loki'), 'team_task', { action: 'create', title: 'Prod down', priority: 1 });
    expect(urgent).toMatchObject({ status: 'assigned', assignees: ['jarvis'] }); // the answer shows what the rule did
    const calm = await t.call(agent('loki'), 'team_task', { action: 'create', title: 'Refactor', priority: 4 });
    expect(await t.call(OWNER, 'team_task', { action: 'get', task_id: urgent.id })).toMatchObject({ status: 'assigned', assignees: ['jarvis'] });
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: calm.id })).assignees).toEqual([]);
    await t.call(OWNER, 'team_manage', { action: 'rule_delete', rule_id: rule.id });
    expect((await t.call(OWNER, 'team_manage', { action: 'rule_list' })).rules.some((r: any) => r.id === rule.id)).toBe(false);
    expect(await t.call(OWNER, 'team_manage', { action: 'rule_delete', rule_id: 'review-notify' })).toMatchObject({ disabled: true });
  });

  it.each([
    [{ trigger: 'task.exploded', rule_action: { type: 'assign_next' } }, /trigger must be one of "task.created"/],
    [{ trigger: 'task.created', rule_action: { type: 'teleport' } }, /rule_action.type .*"set_status"/],
    [{ trigger: 'task.created', rule_action: { type: 'assign_next' } }, /assign_next goes with the trigger 'agent.idle'/],
    [{ trigger: 'agent.idle', rule_action: { type: 'set_status', status: 'done' } }, /needs a task/],
    [{ trigger: 'task.created', condition: { colour: 'red' }, rule_action: { type: 'add_label', label: 'x' } }, /condition has no field 'colour'/],
    [{ trigger: 'task.created', rule_action: { type: 'notify', to: ['everyone'] } }, /rule_action.to.0/],
  ])('refuses an invalid rule %j', async (rule, message) => {
    const t = await openCore();
    await seedTeam(t);
    await expect(t.call(OWNER, 'team_manage', { action: 'rule_create', name: 'bad', ...rule })).rejects.toThrow(message);
  });

  it('stops and reports a rule that would loop, and still applies the change', async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_manage', { action: 'rule_create', name: 'ping', trigger: 'task.status_changed', condition: { status: 'in_progress' }, rule_action: { type: 'set_status', status: 'assigned' } });
    await t.call(OWNER, 'team_manage', { action: 'rule_create', name: 'pong', trigger: 'task.status_changed', condition: { status: 'assigned' }, rule_action: { type: 'set_status', status: 'in_progress' } });
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Loop', assignees: ['loki'] });
    await t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, status: 'in_progress' });
    const events = await t.store.db.selectFrom('team_events').select(['type', 'message']).where('type', '=', 'rule_loop_stopped').execute();
    expect(events).toHaveLength(1);
    expect(events[0]!.message).toMatch(/rule '(ping|pong)' .* was stopped: it fired again on task/);
    const { notifications } = await t.call(OWNER, 'team_comm', { action: 'notify_list' });
    expect(notifications.map((n: any) => n.type)).toContain('rule_loop');
    expect(['assigned', 'in_progress']).toContain((await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id })).status);
  });

  it('records a rule that cannot act, without failing the change that set it off', async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_manage', { action: 'rule_create', name: 'close on create', trigger: 'task.created', rule_action: { type: 'set_status', status: 'done' } });
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'x' });
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id })).status).toBe('inbox');
    const failed = await t.store.db.selectFrom('team_events').select('message').where('type', '=', 'rule_failed').execute();
    expect(failed[0]!.message).toMatch(/rule 'close on create' could not act .* cannot go from 'inbox' to 'done'/);
  });
});
