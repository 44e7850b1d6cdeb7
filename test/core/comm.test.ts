import { describe, expect, it } from 'vitest';
import { parseMentions } from '../../src/core/mentions.js';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

describe('mention parsing', () => {
  const team = new Set(['jarvis', 'loki', 'mary-jane']);
  it.each([
    ['@loki can you write the docs?', ['loki'], []],
    ['(@jarvis) and @jarvis, again', ['jarvis'], []],
    ["@jarvis's review, @LOKI.", ['jarvis', 'loki'], []],
    ['mail bob@jarvis.dev or jarvis@example.com', [], []],
    ['@mary-jane- please', ['mary-jane'], []],
    ['@thor is not in the team, nor @Thor', [], ['thor']],
    ['@@loki', [], []],
  ])('%s → %j, unknown %j', (content, known, unknown) => {
    expect(parseMentions(content, team)).toEqual({ known, unknown });
  });
});

describe('communication', () => {
  it('delivers a comment to the mentioned agent, once; it is delivered when the next mention_check acknowledges it', async () => {
    const t = await openCore();
    await seedTeam(t);
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Endpoint' });
    const comment = await t.call(agent('jarvis'), 'team_comm', { action: 'comment', team_id: 'engineering', task_id: task.id, content: '@loki can you write the docs for this endpoint? @loki!' });
    expect(comment).toMatchObject({ thread_id: task.id, from_agent: 'jarvis', mentions: ['loki'], recipients: ['loki'] });
    const first = await t.call(agent('loki'), 'team_comm', { action: 'mention_check', agent_id: 'loki' });
    expect(first.messages).toHaveLength(1);
    expect(first.messages[0]).toMatchObject({ to_agent: 'loki', from_agent: 'jarvis', thread_id: task.id, reason: 'mention', delivered: 0, content: '@loki can you write the docs for this endpoint? @loki!' });
    const unacknowledged = await t.store.db.selectFrom('team_messages').select('delivered').where('id', '=', comment.id).executeTakeFirstOrThrow();
    expect(unacknowledged.delivered).toBe(0);
    expect((await t.call(agent('loki'), 'team_comm', { action: 'mention_check' })).messages).toEqual([]);
    const stored = await t.store.db.selectFrom('team_messages').select('delivered').where('id', '=', comment.id).executeTakeFirstOrThrow();
    expect(stored.delivered).toBe(1);
  });

  it('delivers thread activity to every subscriber: posters, the mentioned and assignees, never the author', async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Vision' });
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Wanda' });
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Endpoint', assignees: ['vision'] });
    await t.call(agent('jarvis'), 'team_comm', { action: 'comment', task_id: task.id, content: 'starting; @loki FYI' });
    t.clock.advance(1000);
    await t.call(agent('wanda'), 'team_comm', { action: 'comment', task_id: task.id, content: 'no mention here' });
    const inbox = async (id: string) => (await t.call(agent(id), 'team_comm', { action: 'mention_check' })).messages.map((m: any) => `${m.from_agent}:${m.reason}`);
    expect(await inbox('jarvis')).toEqual(['wanda:subscribed']);
    expect(await inbox('loki')).toEqual(['jarvis:mention', 'wanda:subscribed']);
    expect(await inbox('vision')).toEqual(['jarvis:subscribed', 'wanda:subscribed']);
    expect(await inbox('wanda')).toEqual([]);
    const subs = await t.store.db.selectFrom('team_thread_subscriptions').select(['agent_id', 'reason']).where('thread_id', '=', task.id).orderBy('agent_id').execute();
    expect(subs).toEqual([
      { agent_id: 'jarvis', reason: 'auto' },
      { agent_id: 'loki', reason: 'mentioned' },
      { agent_id: 'vision', reason: 'assigned' },
      { agent_id: 'wanda', reason: 'auto' },
    ]);
  });

  it("sends a direct message into the recipient's mailbox, and keeps mailboxes private", async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(agent('loki'), 'team_comm', { action: 'send_message', team_id: 'engineering', to_agent: 'jarvis', content: 'The deployment is complete' });
    await expect(t.call(agent('loki'), 'team_comm', { action: 'mention_check', agent_id: 'jarvis' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    const mail = await t.call(agent('jarvis'), 'team_comm', { action: 'mention_check', agent_id: 'jarvis' });
    expect(mail.messages).toMatchObject([{ from_agent: 'loki', reason: 'direct', content: 'The deployment is complete' }]);
    await expect(t.call(OWNER, 'team_comm', { action: 'send_message', to_agent: 'nobody', content: 'hi' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it("shows in the inbox which task each piece of mail is about: a comment's task, a linked direct message's, a notification's; '' for none", async () => {
    const t = await openCore();
    await seedTeam(t);
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Endpoint' });
    await t.call(agent('jarvis'), 'team_comm', { action: 'comment', task_id: task.id, content: '@loki the docs, please' });
    t.clock.advance(1000);
    await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'lunch?' });
    t.clock.advance(1000);
    await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'about the endpoint', task_id: task.id });
    t.clock.advance(1000);
    await t.call(agent('jarvis'), 'team_comm', { action: 'notify', type: 'task_blocked', message: 'Endpoint waits on a key', task_id: task.id, to_agent: 'loki' });
    t.clock.advance(1000);
    await t.call(agent('jarvis'), 'team_comm', { action: 'notify', type: 'task_progress', message: 'halfway', to_agent: 'loki' });
    const box = await t.call(agent('loki'), 'team_comm', { action: 'inbox' });
    expect(box.messages.map((m: any) => [m.content, m.task_id])).toEqual([
      ['[task_progress] halfway', ''],
      ['[task_blocked] Endpoint waits on a key', task.id],
      ['about the endpoint', task.id],
      ['lunch?', ''],
      ['@loki the docs, please', task.id],
    ]);
  });

  it('stores notifications and lists them with limit and unread_only', async () => {
    const t = await openCore();
    await seedTeam(t);
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Report' });
    const n = await t.call(agent('loki'), 'team_comm', { action: 'notify', type: 'task_completed', message: 'Report generated', task_id: task.id, priority: 3 });
    expect(n).toMatchObject({ type: 'task_completed', priority: 3, task_id: task.id, agent_id: 'loki', read_at: '' });
    t.clock.advance(1000);
    await t.call(agent('loki'), 'team_comm', { action: 'notify', type: 'task_progress', message: '50% complete' });
    await expect(t.call(agent('loki'), 'team_comm', { action: 'notify', type: 'task_done', message: 'x' })).rejects.toThrow(/type must be one of "task_completed"/);
    const first = await t.call(OWNER, 'team_comm', { action: 'notify_list', team_id: 'engineering', limit: 1, unread_only: true });
    expect(first.notifications.map((x: any) => x.type)).toEqual(['task_progress']);
    const second = await t.call(OWNER, 'team_comm', { action: 'notify_list', unread_only: true });
    expect(second.notifications.map((x: any) => x.type)).toEqual(['task_completed']);
    expect((await t.call(OWNER, 'team_comm', { action: 'notify_list', unread_only: true })).notifications).toEqual([]);
    expect((await t.call(OWNER, 'team_comm', { action: 'notify_list' })).count).toBe(2);
  });
});
