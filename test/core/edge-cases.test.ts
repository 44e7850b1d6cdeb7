import { describe, expect, it } from 'vitest';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

const MINUTE = 60_000;

describe('claims, review and rules at their edges', () => {
  it('gives back the claims of a deleted agent, and later writes are unaffected', async () => {
    const t = await openCore();
    await seedTeam(t);
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'orphan', reviewer: 'loki' });
    await t.call(agent('loki'), 'team_task', { action: 'claim', task_id: task.id });
    await t.call(OWNER, 'team_agent', { action: 'delete', agent_id: 'loki' });
    expect(await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id })).toMatchObject({ status: 'inbox', claimed_by: '', reviewer: '', assignees: [] });
    t.clock.advance(30 * MINUTE);
    expect((await t.call(OWNER, 'team_task', { action: 'create', title: 'still works' })).status).toBe('inbox');
  });

  it('does not let update accept work out of review without the approve permission, nor skip review by clearing the reviewer', async () => {
    const t = await openCore();
    await seedTeam(t);
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'needs review', reviewer: 'jarvis', assignees: ['loki'] });
    await t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, status: 'in_progress' });
    await expect(t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, status: 'done', reviewer: '' })).rejects.toThrow(/reviewer 'jarvis': move it to review first/);
    await t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, status: 'review' });
    await expect(t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, status: 'done' })).rejects.toThrow(/is in review: approve or request_changes move it on \(the reviewer jarvis's\)/);
    expect((await t.call(agent('jarvis'), 'team_task', { action: 'update', task_id: task.id, status: 'done' })).status).toBe('done');
  });

  it('approve and request_changes take a task in review only', async () => {
    const t = await openCore();
    await seedTeam(t);
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'x' });
    await expect(t.call(OWNER, 'team_task', { action: 'approve', task_id: task.id })).rejects.toThrow(/is 'inbox': approve takes a task in 'review'/);
    await expect(t.call(OWNER, 'team_task', { action: 'request_changes', task_id: task.id, content: 'no' })).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
  });

  it('keeps a holder and a lease on work in progress however it got there', async () => {
    const t = await openCore();
    await seedTeam(t);
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'x', assignees: ['loki'], reviewer: 'jarvis' });
    expect(await t.call(OWNER, 'team_task', { action: 'update', task_id: task.id, status: 'in_progress' })).toMatchObject({ claimed_by: 'loki', lease_expires_at: '2026-02-21T10:15:00.000Z' });
    await t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, status: 'review' });
    expect((await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'loki' })).status).toBe('idle');
    expect(await t.call(agent('jarvis'), 'team_task', { action: 'request_changes', task_id: task.id, content: 'again' })).toMatchObject({ status: 'in_progress', claimed_by: 'loki' });
    await t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, status: 'blocked', blocked_reason: 'waiting' });
    expect(await t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, status: 'in_progress' })).toMatchObject({ claimed_by: 'loki' });
    t.clock.advance(16 * MINUTE);
    await t.core.sweep();
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id })).status).toBe('inbox');
  });

  it('completes a parent only when that is right: never a cancelled one, never past its reviewer or its dependencies', async () => {
    const t = await openCore();
    await seedTeam(t);
    const make = async (parentArgs: Record<string, unknown>) => {
      const parent = await t.call(OWNER, 'team_task', { action: 'create', title: 'parent', ...parentArgs });
      const sub = await t.call(OWNER, 'team_task', { action: 'create', title: 'sub', parent_id: parent.id });
      return { parent, sub };
    };
    const finish = async (id: string) => {
      await t.call(OWNER, 'team_task', { action: 'update', task_id: id, status: 'in_progress' });
      await t.call(OWNER, 'team_task', { action: 'update', task_id: id, status: 'done' });
    };
    const cancelled = await make({});
    await t.call(OWNER, 'team_task', { action: 'update', task_id: cancelled.parent.id, status: 'cancelled' });
    await finish(cancelled.sub.id);
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: cancelled.parent.id })).status).toBe('cancelled');

    const reviewed = await make({ reviewer: 'jarvis' });
    await finish(reviewed.sub.id);
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: reviewed.parent.id })).status).toBe('review');

    const blocker = await t.call(OWNER, 'team_task', { action: 'create', title: 'blocker' });
    const waiting = await make({ blocked_by: [blocker.id] });
    await finish(waiting.sub.id);
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: waiting.parent.id })).status).toBe('inbox');
  });

  it('treats a cancelled dependency as resolved', async () => {
    const t = await openCore();
    await seedTeam(t);
    const dep = await t.call(OWNER, 'team_task', { action: 'create', title: 'dep' });
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'task', blocked_by: [dep.id], assignees: ['loki'] });
    await t.call(OWNER, 'team_task', { action: 'update', task_id: dep.id, status: 'cancelled' });
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id })).waiting_on).toEqual([]);
    expect((await t.call(agent('loki'), 'team_task', { action: 'claim_next' })).task.id).toBe(task.id);
  });
});

describe('privacy of feeds, notifications and mail', () => {
  it('keeps deleted messages and other agents\u2019 direct messages out of a task feed', async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Eve' });
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'x' });
    await t.call(agent('loki'), 'team_comm', { action: 'send_message', to_agent: 'jarvis', content: 'private note', task_id: task.id });
    const comment = await t.call(agent('loki'), 'team_comm', { action: 'comment', task_id: task.id, content: 'regretted' });
    await t.call(agent('loki'), 'team_comm', { action: 'delete', message_id: comment.id });
    const seenBy = async (id: string) => (await t.call(agent(id), 'team_task', { action: 'get', task_id: task.id })).feed_text;
    expect(await seenBy('eve')).not.toMatch(/private note|regretted/);
    expect(await seenBy('jarvis')).toMatch(/private note/);
    expect(await seenBy('jarvis')).not.toMatch(/regretted/);
  });

  it("shows an agent the team's notifications and its own, and reading does not mark others' read", async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Eve' });
    await t.call(agent('jarvis'), 'team_comm', { action: 'notify', type: 'task_progress', message: 'for loki only', to_agent: 'loki' });
    t.clock.advance(1000);
    await t.call(agent('jarvis'), 'team_comm', { action: 'notify', type: 'task_progress', message: 'for everyone' });
    expect((await t.call(agent('eve'), 'team_comm', { action: 'notify_list' })).notifications.map((n: any) => n.message)).toEqual(['for everyone']);
    expect((await t.call(agent('loki'), 'team_comm', { action: 'notify_list', unread_only: true })).notifications.map((n: any) => n.message)).toEqual(['for everyone', 'for loki only']);
    // each reader has its own read state: what loki saw is not unread for it any more, and still is for the owner
    expect(await t.call(agent('loki'), 'team_comm', { action: 'notify_list', unread_only: true })).toMatchObject({ notifications: [], unread_remaining: 0 });
    expect((await t.call(agent('loki'), 'team_comm', { action: 'notify_list' })).notifications.map((n: any) => n.read_at)).toEqual(['2026-02-21T10:00:01.000Z', '2026-02-21T10:00:01.000Z']);
    expect((await t.call(OWNER, 'team_comm', { action: 'notify_list', unread_only: true })).count).toBe(2);
    expect((await t.call(agent('eve'), 'team_comm', { action: 'notify_list', unread_only: true })).count).toBe(0);
    const reads = await t.store.db.selectFrom('team_events').select(['agent_id', 'data']).where('type', '=', 'notifications_read').orderBy('seq').execute();
    expect(reads.map((e) => `${e.agent_id}:${JSON.parse(e.data).count}`)).toEqual(['eve:1', 'loki:2', 'ana:2']);
  });

  it('counts nothing left in mention_check once a message is deleted, and purges notifications too', async () => {
    const t = await openCore();
    await seedTeam(t);
    const sent = await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'oops' });
    await t.call(agent('jarvis'), 'team_comm', { action: 'delete', message_id: sent.id });
    expect(await t.call(agent('loki'), 'team_comm', { action: 'mention_check' })).toMatchObject({ count: 0, remaining: 0 });
    await t.call(agent('jarvis'), 'team_comm', { action: 'notify', type: 'agent_error', message: 'leaked secret' });
    t.clock.advance(86_400_000);
    await t.call(OWNER, 'team_comm', { action: 'purge', before_date: '2026-02-22' });
    expect((await t.call(OWNER, 'team_comm', { action: 'notify_list' })).notifications).toEqual([]);
    const events = JSON.stringify(await t.store.db.selectFrom('team_events').selectAll().execute());
    expect(events).not.toContain('leaked secret');
  });

  it('does not count fetching mail as activity, so a summary after mention_check still has the news', async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(agent('loki'), 'team_agent', { action: 'working_update', status: 'idle' });
    t.clock.advance(3600_000);
    await t.call(agent('jarvis'), 'team_task', { action: 'create', title: 'news', assignees: ['loki'] });
    t.clock.advance(1000);
    await t.call(agent('loki'), 'team_comm', { action: 'mention_check' });
    expect((await t.call(agent('loki'), 'team_memory', { action: 'summary' })).total).toBeGreaterThan(0);
  });
});

describe('dates', () => {
  it.each([
    ['team_memory', { action: 'standup', date: '2030-13-45' }, /date must be a real calendar date/],
    ['team_comm', { action: 'purge', before_date: '2030-02-31' }, /before_date must be a valid ISO-8601 date/],
    ['team_memory', { action: 'audit', since: 'yesterday' }, /since must be an ISO-8601 date/],
  ])('%s %j is refused naming the field', async (tool, args, message) => {
    const t = await openCore();
    await seedTeam(t);
    await expect(t.call(OWNER, tool, args)).rejects.toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(message) });
  });
});
