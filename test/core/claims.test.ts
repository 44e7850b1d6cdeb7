import { describe, expect, it } from 'vitest';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

const MINUTE = 60_000;

describe('claims with leases', () => {
  it('claims a ready task for the caller with a lease, and refuses a second claimer naming the holder', async () => {
    const t = await openCore();
    await seedTeam(t);
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Endpoint' });
    const claimed = await t.call(agent('loki'), 'team_task', { action: 'claim', task_id: task.id });
    expect(claimed).toMatchObject({ status: 'in_progress', claimed_by: 'loki', assignees: ['loki'], lease_expires_at: '2026-02-21T10:15:00.000Z', version: 2 });
    await expect(t.call(agent('jarvis'), 'team_task', { action: 'claim', task_id: task.id })).rejects.toMatchObject({
      code: 'TASK_ALREADY_CLAIMED',
      message: expect.stringMatching(/claimed by loki until 2026-02-21T10:15:00.000Z/),
    });
    expect((await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'loki' })).current_task_id).toBe(task.id);
  });

  it('claim_next takes the highest priority, then oldest, ready task; none left gives task null', async () => {
    const t = await openCore();
    await seedTeam(t);
    const low = await t.call(OWNER, 'team_task', { action: 'create', title: 'low', priority: 4 });
    t.clock.advance(1000);
    const urgentOld = await t.call(OWNER, 'team_task', { action: 'create', title: 'urgent old', priority: 1 });
    t.clock.advance(1000);
    const urgentNew = await t.call(OWNER, 'team_task', { action: 'create', title: 'urgent new', priority: 1 });
    await t.call(OWNER, 'team_task', { action: 'create', title: 'for jarvis', priority: 1, assignees: ['jarvis'] });
    const order: string[] = [];
    for (;;) {
      const { task } = await t.call(agent('loki'), 'team_task', { action: 'claim_next' });
      if (!task) break;
      order.push(task.id);
    }
    expect(order).toEqual([urgentOld.id, urgentNew.id, low.id]);
    expect((await t.call(agent('jarvis'), 'team_task', { action: 'claim_next' })).task.title).toBe('for jarvis');
  });

  it("claim_next answers with the task's labels, dependencies and assignees, as get shows them", async () => {
    const t = await openCore();
    await seedTeam(t);
    const schema = await t.call(OWNER, 'team_task', { action: 'create', title: 'schema', priority: 5 });
    await t.call(OWNER, 'team_task', { action: 'update', task_id: schema.id, status: 'cancelled' });
    const api = await t.call(OWNER, 'team_task', { action: 'create', title: 'api', priority: 1, labels: ['backend', 'v2'], blocked_by: [schema.id] });
    const plain = await t.call(OWNER, 'team_task', { action: 'create', title: 'plain', priority: 2 });
    const claimed = (await t.call(agent('loki'), 'team_task', { action: 'claim_next' })).task;
    expect(claimed).toMatchObject({ id: api.id, labels: ['backend', 'v2'], blocked_by: [schema.id], waiting_on: [], assignees: ['loki'] });
    expect(await t.call(OWNER, 'team_task', { action: 'get', task_id: api.id })).toMatchObject(claimed);
    const pair = await t.call(OWNER, 'team_task', { action: 'create', title: 'pair', priority: 1, assignees: ['jarvis', 'loki'] });
    const paired = (await t.call(agent('jarvis'), 'team_task', { action: 'claim_next' })).task;
    expect(paired).toMatchObject({ id: pair.id, labels: [], blocked_by: [], assignees: ['jarvis', 'loki'], claimed_by: 'jarvis' });
    expect(await t.call(OWNER, 'team_task', { action: 'get', task_id: pair.id })).toMatchObject(paired);
    expect((await t.call(agent('jarvis'), 'team_task', { action: 'claim_next' })).task).toMatchObject({ id: plain.id, labels: [], blocked_by: [], assignees: ['jarvis'] });
  });

  it("claim_next subscribes its claimer to the task's thread once: a thread it follows already keeps its reason and records nothing", async () => {
    const t = await openCore();
    await seedTeam(t);
    const mentioned = await t.call(OWNER, 'team_task', { action: 'create', title: 'mentioned', priority: 1 });
    const fresh = await t.call(OWNER, 'team_task', { action: 'create', title: 'fresh', priority: 2 });
    await t.call(agent('jarvis'), 'team_comm', { action: 'comment', task_id: mentioned.id, content: '@loki this one is yours' });
    for (const task of [mentioned, fresh]) {
      expect((await t.call(agent('loki'), 'team_task', { action: 'claim_next' })).task).toMatchObject({ id: task.id, claimed_by: 'loki', version: 2 });
    }
    const subscriptions = await t.store.db.selectFrom('team_thread_subscriptions').select(['thread_id', 'reason']).where('agent_id', '=', 'loki').orderBy('reason').execute();
    expect(subscriptions).toEqual([
      { thread_id: fresh.id, reason: 'assigned' },
      { thread_id: mentioned.id, reason: 'mentioned' },
    ]);
    const subscribed = await t.store.db.selectFrom('team_events').select(['related_id', 'data']).where('type', '=', 'subscribed').orderBy('seq').execute();
    const loki = subscribed.map((e) => ({ thread: e.related_id, ...JSON.parse(e.data) })).filter((e) => e.agent_id === 'loki');
    expect(loki.map((e) => [e.thread, e.reason])).toEqual([
      [mentioned.id, 'mentioned'],
      [fresh.id, 'assigned'],
    ]);
    for (const task of [mentioned, fresh]) expect(await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id })).toMatchObject({ status: 'in_progress', claimed_by: 'loki', version: 2, assignees: ['loki'] });
    // A filtered claim_next reads no flags: it subscribes by the insert's answer, once too.
    const labelled = await t.call(OWNER, 'team_task', { action: 'create', title: 'labelled', labels: ['docs'] });
    expect((await t.call(agent('loki'), 'team_task', { action: 'claim_next', label: 'docs' })).task).toMatchObject({ id: labelled.id, claimed_by: 'loki' });
    const events = await t.store.db.selectFrom('team_events').select('type').where('related_id', '=', labelled.id).orderBy('seq').execute();
    expect(events.map((e) => e.type)).toEqual(['task_created', 'subscribed', 'task_claimed']);
  });

  it('skips tasks waiting on dependencies and refuses to claim or start them', async () => {
    const t = await openCore();
    await seedTeam(t);
    const first = await t.call(OWNER, 'team_task', { action: 'create', title: 'schema', priority: 3 });
    const second = await t.call(OWNER, 'team_task', { action: 'create', title: 'api', priority: 1, blocked_by: [first.id] });
    expect(second.waiting_on).toEqual([first.id]);
    expect((await t.call(agent('loki'), 'team_task', { action: 'claim_next' })).task.id).toBe(first.id);
    await expect(t.call(agent('jarvis'), 'team_task', { action: 'claim', task_id: second.id })).rejects.toThrow(`cannot be claimed: it waits on ${first.id}`);
    await expect(t.call(OWNER, 'team_task', { action: 'update', task_id: second.id, status: 'in_progress' })).rejects.toThrow(/cannot be started/);
    expect((await t.call(agent('jarvis'), 'team_task', { action: 'claim_next' })).task).toBeNull();
  });

  it('renews on request and on any activity of the holder; an expired lease requeues, with an event and notifications', async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_manage', { action: 'update', lease_minutes: 10 });
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Endpoint', assignees: ['jarvis', 'loki'] });
    await t.call(agent('loki'), 'team_task', { action: 'claim', task_id: task.id });
    t.clock.advance(8 * MINUTE);
    expect((await t.call(agent('loki'), 'team_task', { action: 'renew', task_id: task.id })).lease_expires_at).toBe('2026-02-21T10:18:00.000Z');
    t.clock.advance(8 * MINUTE);
    await t.call(agent('loki'), 'team_comm', { action: 'comment', task_id: task.id, content: 'still on it' });
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id })).lease_expires_at).toBe('2026-02-21T10:26:00.000Z');
    await expect(t.call(agent('jarvis'), 'team_task', { action: 'renew', task_id: task.id })).rejects.toThrow(/not claimed by jarvis \(holder: loki\)/);

    t.clock.advance(11 * MINUTE); // loki goes silent: the lease runs out, and the next call, a read, sees it
    const requeued = await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id });
    expect(requeued).toMatchObject({ status: 'assigned', claimed_by: '', lease_expires_at: '', assignees: ['jarvis'] });
    expect(requeued.feed_text).toMatch(/\[status_change\] lease of loki expired → assigned/);
    const { notifications } = await t.call(OWNER, 'team_comm', { action: 'notify_list' });
    expect(notifications.map((n: any) => `${n.type}:${n.to_agent}`)).toEqual(expect.arrayContaining(['lease_expired:', 'lease_expired:loki']));
    expect((await t.call(agent('loki'), 'team_comm', { action: 'mention_check' })).messages.map((m: any) => m.reason)).toContain('notification');
    // the task can be claimed again
    expect((await t.call(agent('jarvis'), 'team_task', { action: 'claim', task_id: task.id })).claimed_by).toBe('jarvis');
  });

  it('requeues on a timer sweep too, and release gives a task back', async () => {
    const t = await openCore();
    await seedTeam(t);
    const a = await t.call(OWNER, 'team_task', { action: 'create', title: 'a' });
    const b = await t.call(OWNER, 'team_task', { action: 'create', title: 'b' });
    await t.call(agent('loki'), 'team_task', { action: 'claim', task_id: a.id });
    await t.call(agent('loki'), 'team_task', { action: 'claim', task_id: b.id });
    expect(await t.call(agent('loki'), 'team_task', { action: 'release', task_id: b.id })).toMatchObject({ status: 'inbox', claimed_by: '', assignees: [] });
    t.clock.advance(16 * MINUTE);
    await t.core.sweep();
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: a.id })).status).toBe('inbox');
  });

  it('refuses a stale expected_version and applies a current one', async () => {
    const t = await openCore();
    await seedTeam(t);
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'v' });
    const edited = await t.call(agent('jarvis'), 'team_task', { action: 'update', task_id: task.id, title: 'v2', expected_version: 1 });
    expect(edited.version).toBe(2);
    await expect(t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, title: 'lost update', expected_version: 1 })).rejects.toMatchObject({
      code: 'VERSION_CONFLICT',
      message: expect.stringMatching(/is at version 2, not 1/),
    });
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id })).title).toBe('v2');
    await expect(t.call(agent('loki'), 'team_task', { action: 'claim', task_id: task.id, expected_version: 1 })).rejects.toMatchObject({ code: 'VERSION_CONFLICT' });
  });

  it('claims made at once that set off a rate-limited notification rule count against it one after another', async () => {
    const t = await openCore();
    await seedTeam(t);
    const rule = await t.call(OWNER, 'team_manage', { action: 'notify_rule_create', name: 'claims', events: ['task_claimed'], destinations: [{ type: 'inbox', agent_id: 'jarvis' }], rate_limit: 3 });
    for (let i = 0; i < 10; i++) {
      await t.call(OWNER, 'team_agent', { action: 'create', name: `w${i}` });
      await t.call(OWNER, 'team_task', { action: 'create', title: `t${i}` });
    }
    // On PostgreSQL claims lock only their own task and agent, so these run side by side until the rule makes each
    // wait its turn.
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => t.call(agent(`w${i}`), 'team_task', { action: 'claim_next' })));
    expect(new Set(claims.map((c) => c.task.id)).size).toBe(10);
    const [listed] = (await t.call(OWNER, 'team_manage', { action: 'notify_rule_list' })).rules;
    expect(listed).toMatchObject({ id: rule.id, dropped: 7 });
  });

  it("takes the role's preferred types in their order, only at the best priority, oldest first, whatever their names", async () => {
    const t = await openCore();
    await seedTeam(t);
    // Types written into the claim's SQL: a quote and a backslash must stay names.
    await t.call(OWNER, 'team_manage', { action: 'role_create', name: 'picky', description: 'prefers some types', actions: ['team_task.*'], prefers: ["it's", 'back\\slash', 'docs'], escalates_to: 'lead' });
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Pia', role_definition: 'picky' });
    const create = async (title: string, task_type: string, priority = 2) => {
      const task = await t.call(OWNER, 'team_task', { action: 'create', title, task_type, priority });
      t.clock.advance(1000);
      return task.id as string;
    };
    const plain = await create('plain', '');
    const docsOld = await create('docs old', 'docs');
    const docsNew = await create('docs new', 'docs');
    const slash = await create('slash', 'back\\slash');
    const urgentPlain = await create('urgent plain', '', 1);
    await create('quote, lower priority', "it's", 3);
    const claims: string[] = [];
    for (let i = 0; i < 6; i++) claims.push((await t.call(agent('pia'), 'team_task', { action: 'claim_next' })).task?.id ?? 'none');
    // priority first; at priority 2 the second preferred type, then the third (oldest first), then the rest
    expect(claims.slice(0, 5)).toEqual([urgentPlain, slash, docsOld, docsNew, plain]);
    expect(claims[5]).not.toBe('none');
  });
});
