import { describe, expect, it } from 'vitest';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';
import type { TestCore } from '../helpers.js';

const MINUTE = 60_000;
const get = (t: TestCore, id: string) => t.call(OWNER, 'team_task', { action: 'get', task_id: id });

/** A team with jarvis (lead), loki (mid, no role definition: coder) and vision (mid, no role definition). */
async function team() {
  const t = await openCore();
  await seedTeam(t);
  await t.call(OWNER, 'team_agent', { action: 'create', name: 'Vision' });
  return t;
}

/** A task of loki's in review, with vision as its reviewer. */
async function inReview(t: TestCore) {
  const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Reviewed work', assignees: ['loki'], reviewer: 'vision' });
  await t.call(agent('loki'), 'team_task', { action: 'claim', task_id: task.id });
  await t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, status: 'review' });
  return task;
}

describe('review cannot be walked around', () => {
  it('keeps a named reviewer: the assignee can neither clear nor swap it, a lead and the owner can', async () => {
    const t = await team();
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'x', assignees: ['loki'], reviewer: 'vision' });
    await t.call(agent('loki'), 'team_task', { action: 'claim', task_id: task.id });
    const before = await get(t, task.id);
    for (const reviewer of ['', 'loki', 'jarvis']) {
      await expect(t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, reviewer })).rejects.toMatchObject({
        code: 'PERMISSION_DENIED',
        message: expect.stringMatching(/has reviewer vision: only a lead or the owner may change or clear it/),
      });
    }
    // and so cannot go in_progress → done past the reviewer either
    await expect(t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, reviewer: '', status: 'done' })).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    expect(await get(t, task.id)).toMatchObject({ reviewer: 'vision', status: 'in_progress', version: before.version });
    expect((await t.call(agent('jarvis'), 'team_task', { action: 'update', task_id: task.id, reviewer: 'jarvis' })).reviewer).toBe('jarvis');
    expect((await t.call(OWNER, 'team_task', { action: 'update', task_id: task.id, reviewer: '' })).reviewer).toBe('');
    // with no reviewer, anyone may name one
    expect((await t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, reviewer: 'vision' })).reviewer).toBe('vision');
  });

  it('moves work out of review only by approve or request_changes, or a lead or the owner', async () => {
    const t = await team();
    const task = await inReview(t);
    for (const status of ['in_progress', 'done', 'blocked', 'cancelled']) {
      await expect(t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, status, blocked_reason: status === 'blocked' ? 'x' : undefined })).rejects.toMatchObject({
        code: 'PERMISSION_DENIED',
        message: expect.stringMatching(/is in review: approve or request_changes move it on \(the reviewer vision's\)/),
      });
    }
    expect((await get(t, task.id)).status).toBe('review');
    expect((await t.call(agent('jarvis'), 'team_task', { action: 'update', task_id: task.id, status: 'in_progress' })).status).toBe('in_progress');
  });

  it('lets the agent named reviewer approve and request changes though its role (coder, by level) does not', async () => {
    const t = await team();
    const task = await inReview(t);
    // another coder is refused by its role
    await expect(t.call(agent('loki'), 'team_task', { action: 'approve', task_id: task.id })).rejects.toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringMatching(/may not use team_task.approve/) });
    expect(await t.call(agent('vision'), 'team_task', { action: 'request_changes', task_id: task.id, content: 'one more test' })).toMatchObject({ status: 'in_progress' });
    await t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, status: 'review' });
    expect(await t.call(agent('vision'), 'team_task', { action: 'approve', task_id: task.id })).toMatchObject({ status: 'done' });
  });
});

describe('a destructive action never picks its target', () => {
  it('refuses team_manage delete without team_id, though there is only one team', async () => {
    const t = await team();
    await expect(t.call(OWNER, 'team_manage', { action: 'delete' })).rejects.toMatchObject({ code: 'VALIDATION', details: { field: 'team_id' }, message: expect.stringMatching(/team_id is required/) });
    expect((await t.call(OWNER, 'team_manage', { action: 'list' })).count).toBe(1);
  });

  it('refuses team_agent delete without agent_id, rather than deleting the calling lead', async () => {
    const t = await team();
    await expect(t.call(agent('jarvis'), 'team_agent', { action: 'delete' })).rejects.toMatchObject({ code: 'VALIDATION', details: { field: 'agent_id' } });
    expect((await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'jarvis' })).id).toBe('jarvis');
  });

  it('refuses an ambiguous team name, listing the teams it could mean, and changes nothing', async () => {
    const t = await openCore();
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Eng Ops' });
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Eng Docs' });
    for (const action of ['get', 'delete']) {
      await expect(t.call(OWNER, 'team_manage', { action, team_id: 'eng' })).rejects.toMatchObject({
        code: 'AMBIGUOUS',
        message: expect.stringMatching(/team 'eng' could be any of 'Eng Ops' \(\w+\), 'Eng Docs' \(\w+\); pass the id or the full name/),
        details: { field: 'team_id', teams: [expect.objectContaining({ name: 'Eng Ops' }), expect.objectContaining({ name: 'Eng Docs' })] },
      });
    }
    expect((await t.call(OWNER, 'team_manage', { action: 'list' })).count).toBe(2);
    expect((await t.call(OWNER, 'team_manage', { action: 'get', team_id: 'eng-docs' })).name).toBe('Eng Docs');
  });
});

describe('privacy and clear answers', () => {
  it('delivers a direct message with a thread_id to its addressee only, never the thread\u2019s subscribers or the @named', async () => {
    const t = await team();
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Shared thread', assignees: ['loki'] });
    await t.call(agent('jarvis'), 'team_comm', { action: 'comment', task_id: task.id, content: 'kick-off' }); // jarvis and loki subscribed
    const sent = await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'vision', thread_id: task.id, content: 'between us: @loki is slow' });
    expect(sent).toMatchObject({ recipients: ['vision'], mentions: [] });
    expect((await t.call(agent('loki'), 'team_comm', { action: 'inbox' })).messages.map((m: any) => m.content)).toEqual(['kick-off']);
    expect((await t.call(agent('vision'), 'team_comm', { action: 'inbox' })).messages.map((m: any) => m.content)).toEqual(['between us: @loki is slow']);
  });

  it('reports @mentions that name no agent (unresolved_mentions) instead of dropping them', async () => {
    const t = await team();
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'x' });
    const posted = await t.call(agent('jarvis'), 'team_comm', { action: 'comment', task_id: task.id, content: '@loki and @lokki and @thor, see this' });
    expect(posted).toMatchObject({ mentions: ['loki'], unresolved_mentions: ['lokki', 'thor'], recipients: ['loki'] });
  });

  it('refuses renew and release of a task the caller does not hold as CONFLICT', async () => {
    const t = await team();
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'x' });
    for (const action of ['renew', 'release']) {
      await expect(t.call(agent('loki'), 'team_task', { action, task_id: task.id })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/is not claimed by loki \(it is 'inbox', held by nobody\)/) });
    }
    await t.call(agent('jarvis'), 'team_task', { action: 'claim', task_id: task.id });
    await expect(t.call(agent('loki'), 'team_task', { action: 'release', task_id: task.id })).rejects.toMatchObject({ code: 'CONFLICT', details: { holder: 'jarvis' } });
    expect((await get(t, task.id)).claimed_by).toBe('jarvis');
  });

  it('refuses team_agent update with nothing to change, naming the fields it takes', async () => {
    const t = await team();
    await expect(t.call(agent('loki'), 'team_agent', { action: 'update' })).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringMatching(/nothing to change: give at least one of name, role, level, status, personality, instructions, model, skills, heartbeat_schedule, role_definition/),
    });
  });

  it("accepts assignee_filter 'me' and refuses an agent that is not in the team", async () => {
    const t = await team();
    const mine = await t.call(OWNER, 'team_task', { action: 'create', title: 'mine', assignees: ['loki'] });
    await t.call(OWNER, 'team_task', { action: 'create', title: 'theirs', assignees: ['vision'] });
    expect((await t.call(agent('loki'), 'team_task', { action: 'list', assignee_filter: 'me' })).tasks.map((x: any) => x.id)).toEqual([mine.id]);
    expect((await t.call(agent('loki'), 'team_task', { action: 'list', assignee_filter: 'Me' })).tasks.map((x: any) => x.id)).toEqual([mine.id]);
    await expect(t.call(agent('loki'), 'team_task', { action: 'list', assignee_filter: 'lokki' })).rejects.toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/assignee_filter: names no agent of this team: lokki/) });
    await expect(t.call(OWNER, 'team_task', { action: 'list', assignee_filter: 'me' })).rejects.toMatchObject({ code: 'VALIDATION', details: { field: 'assignee_filter' } });
  });

  it('says one thing about an agent\u2019s status and current task: working_get agrees with team_agent get through a claim and its end', async () => {
    const t = await team();
    const both = async () => {
      const [row, state] = await Promise.all([t.call(agent('loki'), 'team_agent', { action: 'get' }), t.call(agent('loki'), 'team_agent', { action: 'working_get' })]);
      expect(state.status).toBe(row.status);
      expect(state.current_task_id).toBe(row.current_task_id);
      return row;
    };
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'work' });
    await t.call(agent('loki'), 'team_task', { action: 'claim_next' });
    expect(await both()).toMatchObject({ status: 'working', current_task_id: task.id });
    await t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, status: 'done' });
    expect(await both()).toMatchObject({ status: 'idle', current_task_id: '' });
    // with a saved working state too
    await t.call(agent('loki'), 'team_agent', { action: 'working_update', status: 'idle', next_steps: 'look for work' });
    const next = await t.call(OWNER, 'team_task', { action: 'create', title: 'more work' });
    await t.call(agent('loki'), 'team_task', { action: 'claim_next' });
    expect(await both()).toMatchObject({ status: 'working', current_task_id: next.id });
    expect((await t.call(agent('loki'), 'team_agent', { action: 'working_get' })).next_steps).toBe('look for work');
    await t.call(agent('loki'), 'team_task', { action: 'release', task_id: next.id });
    expect(await both()).toMatchObject({ status: 'idle', current_task_id: '' });
  });
});

describe('every change of state appends its event', () => {
  it('records a deleted reviewer leaving its tasks, and purged notifications', async () => {
    const t = await team();
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'x', reviewer: 'vision' });
    await t.call(OWNER, 'team_agent', { action: 'delete', agent_id: 'vision' });
    expect((await t.call(OWNER, 'team_memory', { action: 'audit', type: 'task_updated' })).events.filter((e: any) => e.related_id === task.id)).toMatchObject([{ data: { fields: ['reviewer'] } }]);
    await t.call(agent('jarvis'), 'team_comm', { action: 'notify', type: 'task_progress', message: 'old' });
    t.clock.advance(86_400_000);
    expect(await t.call(OWNER, 'team_comm', { action: 'purge', before_date: '2026-02-22' })).toMatchObject({ notifications_purged: 1 });
    expect((await t.call(OWNER, 'team_memory', { action: 'audit', type: 'notifications_purged' })).events).toMatchObject([{ data: { count: 1 } }]);
  });

  it('finds every status change — update, claim, approve, request_changes, release, lease expiry — with one audit filter, and each by its own type', async () => {
    const t = await team();
    const task = await inReview(t); // claim, update → review
    await t.call(agent('vision'), 'team_task', { action: 'request_changes', task_id: task.id, content: 'again' });
    await t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, status: 'review' });
    await t.call(agent('vision'), 'team_task', { action: 'approve', task_id: task.id });
    const released = await t.call(OWNER, 'team_task', { action: 'create', title: 'released' });
    await t.call(agent('loki'), 'team_task', { action: 'claim', task_id: released.id });
    await t.call(agent('loki'), 'team_task', { action: 'release', task_id: released.id });
    const expired = await t.call(OWNER, 'team_task', { action: 'create', title: 'expired' });
    await t.call(agent('loki'), 'team_task', { action: 'claim', task_id: expired.id });
    t.clock.advance(16 * MINUTE);
    await t.core.sweep();
    const { events } = await t.call(OWNER, 'team_memory', { action: 'audit', type: 'task_status_changed', limit: 500 });
    expect(events.map((e: any) => `${e.type}:${e.data.from}→${e.data.to}`)).toEqual([
      'task_claimed:assigned→in_progress',
      'task_updated:in_progress→review',
      'task_changes_requested:review→in_progress',
      'task_updated:in_progress→review',
      'task_approved:review→done',
      'task_claimed:inbox→in_progress',
      'task_released:in_progress→inbox',
      'task_claimed:inbox→in_progress',
      'task_lease_expired:in_progress→inbox',
    ]);
    expect((await t.call(OWNER, 'team_memory', { action: 'audit', type: 'task_lease_expired' })).count).toBe(1);
    // field edits are not status changes
    await t.call(OWNER, 'team_task', { action: 'update', task_id: expired.id, title: 'renamed' });
    expect((await t.call(OWNER, 'team_memory', { action: 'audit', type: 'task_status_changed', limit: 500 })).count).toBe(9);
  });
});
