import { describe, expect, it } from 'vitest';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

// A process keeps teams, roles and rules between its calls (src/core/definitions.ts). What another process changes
// must reach its very next call: a stale role would let a call through that the new one refuses.
describe('definitions kept between calls', () => {
  it("another connection's change to the team, a workflow rule or a role reaches this process's next call", async () => {
    const here = await openCore();
    await seedTeam(here);
    const elsewhere = await openCore({ path: here.path });
    for (const title of ['one', 'two', 'three', 'four']) await here.call(OWNER, 'team_task', { action: 'create', title });
    const claimNext = () => here.call(agent('loki'), 'team_task', { action: 'claim_next' });

    expect((await claimNext()).task).toMatchObject({ lease_expires_at: '2026-02-21T10:15:00.000Z', labels: [] });

    await elsewhere.call(OWNER, 'team_manage', { action: 'update', lease_minutes: 30 });
    const rule = await elsewhere.call(OWNER, 'team_manage', { action: 'rule_create', name: 'mark taken', trigger: 'task.status_changed', condition: { status: 'in_progress' }, rule_action: { type: 'add_label', label: 'taken' } });
    expect((await claimNext()).task).toMatchObject({ lease_expires_at: '2026-02-21T10:30:00.000Z', labels: ['taken'] });

    await elsewhere.call(OWNER, 'team_manage', { action: 'rule_update', rule_id: rule.id, enabled: false });
    expect((await claimNext()).task.labels).toEqual([]);

    await elsewhere.call(OWNER, 'team_manage', { action: 'role_update', name: 'coder', actions: ['team_task.create'] });
    const inbox = () => elsewhere.call(OWNER, 'team_task', { action: 'list', status: 'inbox' });
    const waiting = await inbox();
    expect(waiting.tasks).toHaveLength(1);
    await expect(claimNext()).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(await inbox()).toEqual(waiting);
  });

  it('a change made by an earlier call of this process reaches its next call: a second workflow rule fires beside the first', async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_manage', { action: 'rule_create', name: 'mark taken', trigger: 'task.status_changed', condition: { status: 'in_progress' }, rule_action: { type: 'add_label', label: 'taken' } });
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'one' });
    await t.call(OWNER, 'team_manage', { action: 'rule_create', name: 'mark started', trigger: 'task.status_changed', condition: { status: 'in_progress' }, rule_action: { type: 'add_label', label: 'started' } });
    expect((await t.call(agent('loki'), 'team_task', { action: 'claim', task_id: task.id })).labels).toEqual(['started', 'taken']);
  });
});
