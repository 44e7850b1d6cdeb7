import { describe, expect, it } from 'vitest';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

describe('review hand-off and task conversation', () => {
  async function handoff() {
    const t = await openCore();
    t.clock.time = new Date('2026-02-21T02:00:00Z');
    await seedTeam(t);
    await t.call(OWNER, 'team_manage', { action: 'update', lease_minutes: 60 });
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Codex', role: 'async worker', role_definition: 'async-worker' });
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Opus', role: 'reviewer', role_definition: 'reviewer' });
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'API endpoint', reviewer: 'opus' });
    return { t, task };
  }

  it('runs the roadmap hand-off: claim, comment, review (reviewer notified), approve; the feed tells it', async () => {
    const { t, task } = await handoff();
    t.clock.time = new Date('2026-02-21T03:00:00Z');
    await t.call(agent('codex'), 'team_task', { action: 'claim', task_id: task.id });
    t.clock.time = new Date('2026-02-21T03:05:00Z');
    await t.call(agent('codex'), 'team_comm', { action: 'comment', task_id: task.id, content: 'Implementing the API endpoint' });
    t.clock.time = new Date('2026-02-21T03:30:00Z');
    await expect(t.call(agent('codex'), 'team_task', { action: 'update', task_id: task.id, status: 'done' })).rejects.toThrow(/reviewer 'opus': move it to review first/);
    await t.call(agent('codex'), 'team_task', { action: 'update', task_id: task.id, status: 'review' });
    const opusMail = await t.call(agent('opus'), 'team_comm', { action: 'mention_check' });
    expect(opusMail.messages).toMatchObject([{ reason: 'notification', thread_id: task.id, content: expect.stringMatching(/^\[review_requested\]/) }]);
    t.clock.time = new Date('2026-02-21T09:15:00Z');
    await t.call(agent('opus'), 'team_comm', { action: 'comment', task_id: task.id, content: 'Looks good, merging' });
    t.clock.time = new Date('2026-02-21T09:16:00Z');
    await t.call(agent('opus'), 'team_task', { action: 'approve', task_id: task.id });
    const detail = await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id });
    expect(detail.feed_text).toBe(
      [
        '[created] ana created task — 02:00',
        '[status_change] codex claimed task — 03:00',
        '[comment] codex: Implementing the API endpoint — 03:05',
        '[status_change] codex moved task in_progress → review — 03:30',
        '[comment] opus: Looks good, merging — 09:15',
        '[status_change] opus approved → done — 09:16',
      ].join('\n'),
    );
  });

  it('lets only the reviewer (or a lead, or the owner) approve', async () => {
    const { t, task } = await handoff();
    await t.call(agent('codex'), 'team_task', { action: 'claim', task_id: task.id });
    await t.call(agent('codex'), 'team_task', { action: 'update', task_id: task.id, status: 'review' });
    await expect(t.call(agent('loki'), 'team_task', { action: 'approve', task_id: task.id })).rejects.toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringMatching(/\(role coder\) may not use team_task.approve; roles that may: lead, architect, reviewer/) });
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Vision', role_definition: 'reviewer' });
    await expect(t.call(agent('vision'), 'team_task', { action: 'approve', task_id: task.id })).rejects.toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringMatching(/only the reviewer opus/) });
    t.clock.time = new Date('2026-02-21T11:15:00Z');
    const done = await t.call(agent('opus'), 'team_task', { action: 'approve', task_id: task.id, content: 'Looks good, merging' });
    expect(done).toMatchObject({ status: 'done', completed_at: '2026-02-21T11:15:00.000Z' });
    const detail = await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id });
    expect(detail.feed_text.split('\n').slice(-2)).toEqual(['[status_change] opus approved → done — 11:15', '[resolution] opus: Looks good, merging — 11:15']);
  });

  it('request_changes sends the task back to in_progress with a comment the assignee receives', async () => {
    const { t, task } = await handoff();
    await t.call(agent('codex'), 'team_task', { action: 'claim', task_id: task.id });
    await t.call(agent('codex'), 'team_task', { action: 'update', task_id: task.id, status: 'review' });
    await t.call(agent('codex'), 'team_comm', { action: 'mention_check' });
    const back = await t.call(agent('opus'), 'team_task', { action: 'request_changes', task_id: task.id, content: 'Please add input validation' });
    expect(back.status).toBe('in_progress');
    const mail = await t.call(agent('codex'), 'team_comm', { action: 'mention_check' });
    expect(mail.messages.map((m: any) => m.content)).toContain('Please add input validation');
    await expect(t.call(agent('opus'), 'team_task', { action: 'approve', task_id: task.id })).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
  });

  it('reassign hands the task and its claim to another agent', async () => {
    const { t, task } = await handoff();
    await t.call(agent('codex'), 'team_task', { action: 'claim', task_id: task.id });
    const moved = await t.call(agent('codex'), 'team_task', { action: 'reassign', task_id: task.id, new_assignee: 'loki' });
    expect(moved).toMatchObject({ assignees: ['loki'], claimed_by: 'loki', status: 'in_progress' });
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id })).feed_text).toContain('[assigned] codex reassigned task to loki');
    // the hand-off is the holder's to make now, not the former holder's
    await expect(t.call(agent('codex'), 'team_task', { action: 'reassign', task_id: task.id, new_assignee: 'codex' })).rejects.toThrow(/only the holder loki, a lead or the owner may hand task/);
    await expect(t.call(agent('loki'), 'team_task', { action: 'reassign', task_id: task.id, new_assignee: 'ghost' })).rejects.toThrow(/new_assignee: names no agent/);
    expect((await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'loki' })).current_task_id).toBe(task.id);
    expect((await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'codex' })).current_task_id).toBe('');
  });

  it('keeps typed comments and linked messages in the feed, and linked activity bumps updated_at', async () => {
    const { t, task } = await handoff();
    t.clock.advance(60_000);
    await t.call(agent('codex'), 'team_comm', { action: 'comment', task_id: task.id, content: 'Waiting on credentials', type: 'blocker' });
    t.clock.advance(60_000);
    await t.call(agent('codex'), 'team_comm', { action: 'send_message', to_agent: 'opus', content: 'can you look at the endpoint?', task_id: task.id });
    const detail = await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id });
    expect(detail.updated_at).toBe('2026-02-21T02:02:00.000Z');
    expect(detail.feed.map((e: any) => e.kind)).toEqual(['created', 'blocker', 'message']);
    expect(detail.feed_text.split('\n')[2]).toBe('[message] codex → opus: can you look at the endpoint? — 02:02');
    await expect(t.call(agent('codex'), 'team_comm', { action: 'comment', task_id: task.id, content: 'x', type: 'rant' })).rejects.toThrow(/type must be one of "comment", "status_change", "blocker", "resolution"/);
  });
});
