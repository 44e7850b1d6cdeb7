import { describe, expect, it } from 'vitest';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

describe('roles', () => {
  it('follows the level without a role definition: lead → lead, others → coder', async () => {
    const t = await openCore();
    await seedTeam(t);
    const { roles } = await t.call(OWNER, 'team_manage', { action: 'role_list' });
    expect(roles.map((r: any) => `${r.name}:${r.agents.join('+')}`)).toEqual(['lead:jarvis', 'architect:', 'coder:loki', 'reviewer:', 'async-worker:']);
    await expect(t.call(agent('loki'), 'team_task', { action: 'assign', task_id: 'x', assignees: [] })).rejects.toThrow(/agent 'loki' \(role coder\) may not use team_task.assign; roles that may: lead, architect/);
  });

  it('lets a team define its own role and give it to an agent; the role then decides', async () => {
    const t = await openCore();
    await seedTeam(t);
    const role = await t.call(agent('jarvis'), 'team_manage', { action: 'role_create', name: 'docs-writer', description: 'writes documents', actions: ['team_memory.*'], prefers: ['docs'], escalates_to: 'lead' });
    expect(role).toMatchObject({ name: 'docs-writer', actions: ['team_memory.*'], template: false });
    await t.call(agent('jarvis'), 'team_agent', { action: 'update', agent_id: 'loki', role_definition: 'docs-writer' });
    await expect(t.call(agent('loki'), 'team_task', { action: 'create', title: 'x' })).rejects.toThrow(/roles that may: lead, architect, coder$/);
    expect((await t.call(agent('loki'), 'team_memory', { action: 'fact_delete', key: 'nothing' }).catch((e: any) => e)).code).toBe('NOT_FOUND');
    await expect(t.call(OWNER, 'team_manage', { action: 'role_delete', name: 'docs-writer' })).rejects.toThrow(/held by loki/);
    await expect(t.call(OWNER, 'team_agent', { action: 'update', agent_id: 'loki', role_definition: 'wizard' })).rejects.toThrow(/role_definition: names no role of this team/);
    await expect(t.call(OWNER, 'team_manage', { action: 'role_create', name: 'x', actions: ['team_task.fly'] })).rejects.toThrow(/actions.0 is not a permission/);
  });

  it('lets nothing grant an agent more: not updating itself, not re-creating, not defining roles', async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Ana Lead', role_definition: 'architect' });
    await expect(t.call(agent('loki'), 'team_agent', { action: 'update', role_definition: 'lead' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(t.call(agent('loki'), 'team_agent', { action: 'update', level: 'lead' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(t.call(agent('loki'), 'team_manage', { action: 'role_update', name: 'coder', actions: ['*'] })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    // a role that may create agents still cannot hand out levels or roles
    await t.call(OWNER, 'team_manage', { action: 'role_create', name: 'recruiter', actions: ['team_agent.create', 'team_agent.delete'] });
    await t.call(OWNER, 'team_agent', { action: 'update', agent_id: 'loki', role_definition: 'recruiter' });
    await expect(t.call(agent('loki'), 'team_agent', { action: 'create', name: 'Loki Two', level: 'lead' })).rejects.toThrow(/only a lead or the owner may/);
    await expect(t.call(agent('loki'), 'team_agent', { action: 'create', name: 'Loki Two', role_definition: 'lead' })).rejects.toThrow(/only a lead or the owner may/);
    expect((await t.call(agent('loki'), 'team_agent', { action: 'create', name: 'Loki Two' })).role_definition).toBe('');
    expect((await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'loki' })).role_definition).toBe('recruiter');
  });

  it('escalates a blocker to the role the assignee escalates to, not to everyone', async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Archie', role_definition: 'architect' });
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Rita', role_definition: 'reviewer' });
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Parser', assignees: ['loki'] });
    await t.call(agent('loki'), 'team_comm', { action: 'comment', task_id: task.id, content: 'Blocked on the grammar', type: 'blocker' });
    const mail = async (id: string) => (await t.call(agent(id), 'team_comm', { action: 'mention_check' })).messages.map((m: any) => m.content);
    expect(await mail('archie')).toEqual([expect.stringMatching(/^\[task_blocked\].*Parser/)]); // coder → architect
    expect(await mail('rita')).toEqual([]);
    expect(await mail('jarvis')).toEqual([]);
    // a role whose escalation role nobody holds falls back to the leads
    await t.call(OWNER, 'team_agent', { action: 'update', agent_id: 'archie', role_definition: 'reviewer' });
    await t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, status: 'blocked', blocked_reason: 'still the grammar' });
    expect(await mail('jarvis')).toEqual([expect.stringMatching(/^\[task_blocked\]/)]);
  });

  it("orders claim_next by the role's preferred task types after priority", async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Rita', role_definition: 'reviewer' });
    const implement = await t.call(OWNER, 'team_task', { action: 'create', title: 'build', task_type: 'implement' });
    t.clock.advance(1000);
    const review = await t.call(OWNER, 'team_task', { action: 'create', title: 'check', task_type: 'review' });
    expect((await t.call(agent('rita'), 'team_task', { action: 'claim_next' })).task.id).toBe(review.id);
    expect((await t.call(agent('loki'), 'team_task', { action: 'claim_next' })).task.id).toBe(implement.id);
  });

  it.each([
    ['the same core', false],
    ['another connection to the file (as another process)', true],
  ])("applies a changed role or agent on the agent's next call, changed through %s", async (_, apart) => {
    const t = await openCore();
    await seedTeam(t);
    const admin = apart ? await openCore({ path: t.path }) : t;
    await t.call(OWNER, 'team_task', { action: 'create', title: 'one' });
    t.clock.advance(1000);
    await t.call(OWNER, 'team_task', { action: 'create', title: 'two' });
    expect((await t.call(agent('loki'), 'team_task', { action: 'claim_next' })).task.title).toBe('one');
    const claimsOnly = ['team_task.claim', 'team_task.create'];
    await admin.call(OWNER, 'team_manage', { action: 'role_update', name: 'coder', actions: claimsOnly });
    await expect(t.call(agent('loki'), 'team_task', { action: 'claim_next' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await admin.call(OWNER, 'team_agent', { action: 'update', agent_id: 'loki', role_definition: 'async-worker' });
    expect((await t.call(agent('loki'), 'team_task', { action: 'claim_next' })).task.title).toBe('two');
    await admin.call(OWNER, 'team_agent', { action: 'delete', agent_id: 'loki' });
    await expect(t.call(agent('loki'), 'team_task', { action: 'claim_next' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
