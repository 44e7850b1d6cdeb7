import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

async function mailTeam() {
  const t = await openCore();
  await seedTeam(t);
  await t.call(OWNER, 'team_agent', { action: 'create', name: 'Vision', role_definition: 'architect' });
  return t;
}
const inbox = (t: any, id: string, args: Record<string, unknown> = {}) => t.call(agent(id), 'team_comm', { action: 'inbox', ...args });

describe('mail management', () => {
  it('lists direct, broadcast and mention mail with read state; unread counts are per agent', async () => {
    const t = await mailTeam();
    await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'direct one' });
    t.clock.advance(1000);
    await t.call(agent('jarvis'), 'team_comm', { action: 'broadcast', content: 'standup at 10' });
    t.clock.advance(1000);
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Docs' });
    await t.call(agent('vision'), 'team_comm', { action: 'comment', task_id: task.id, content: '@loki please review' });
    const box = await inbox(t, 'loki');
    expect(box.messages.map((m: any) => `${m.reason}:${m.content}:${m.read}`)).toEqual(['mention:@loki please review:false', 'broadcast:standup at 10:false', 'direct:direct one:false']);
    expect(box.unread_count).toBe(3);
    expect((await inbox(t, 'vision')).unread_count).toBe(1); // the broadcast
    expect((await inbox(t, 'jarvis')).unread_count).toBe(0); // its own broadcast is not its mail
    await t.call(agent('loki'), 'team_comm', { action: 'mark_read', message_ids: [box.messages[2].id] });
    expect((await inbox(t, 'loki', { unread_only: true })).messages.map((m: any) => m.content)).toEqual(['@loki please review', 'standup at 10']);
    expect((await inbox(t, 'loki', { sender: 'vision' })).messages).toHaveLength(1);
    expect((await inbox(t, 'loki', { thread_id: task.id })).messages).toHaveLength(1);
    expect((await inbox(t, 'loki', { since: '2026-02-21T10:00:01Z' })).messages).toHaveLength(2);
    // mention_check hands out what is unread; it is read once acknowledged (here by the session's next check)
    await t.call(agent('loki'), 'team_comm', { action: 'mention_check' });
    expect((await inbox(t, 'loki')).unread_count).toBe(2);
    await t.call(agent('loki'), 'team_comm', { action: 'mention_check' });
    expect((await inbox(t, 'loki')).unread_count).toBe(0);
  });

  it('archiving a broadcast hides it for that agent only, marks it read, and archived mail never counts as unread', async () => {
    const t = await mailTeam();
    const sent = await t.call(agent('jarvis'), 'team_comm', { action: 'broadcast', content: 'release freeze' });
    expect((await inbox(t, 'loki')).unread_count).toBe(1);
    expect(await t.call(agent('loki'), 'team_comm', { action: 'archive', message_ids: [sent.id] })).toMatchObject({ archived: 1 });
    expect(await inbox(t, 'loki')).toMatchObject({ messages: [], unread_count: 0 });
    expect((await inbox(t, 'loki', { include_archived: true })).messages).toMatchObject([{ content: 'release freeze', archived: true, read: true }]);
    expect(await inbox(t, 'vision')).toMatchObject({ unread_count: 1, messages: [{ content: 'release freeze', read: false }] });
    // an archived but never fetched copy is not handed out by mention_check either
    expect((await t.call(agent('loki'), 'team_comm', { action: 'mention_check' })).messages).toEqual([]);
  });

  it('clears the inbox, all of it or before a date and from a sender', async () => {
    const t = await mailTeam();
    await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'old from jarvis' });
    t.clock.advance(86_400_000);
    await t.call(agent('vision'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'new from vision' });
    await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'new from jarvis' });
    expect(await t.call(agent('loki'), 'team_comm', { action: 'clear_inbox', before_date: '2026-02-22', sender: 'jarvis' })).toMatchObject({ archived: 1 });
    expect((await inbox(t, 'loki')).messages.map((m: any) => m.content).sort()).toEqual(['new from jarvis', 'new from vision']);
    expect(await t.call(agent('loki'), 'team_comm', { action: 'clear_inbox' })).toMatchObject({ archived: 2 });
    expect((await inbox(t, 'loki')).unread_count).toBe(0);
  });

  it('deletes (soft) own messages from every mailbox; others only as a lead or the owner', async () => {
    const t = await mailTeam();
    const mine = await t.call(agent('vision'), 'team_comm', { action: 'broadcast', content: 'oops, wrong channel' });
    const theirs = await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'vision', content: 'keep this' });
    await expect(t.call(agent('loki'), 'team_comm', { action: 'delete', message_id: mine.id })).rejects.toThrow(/may delete only its own messages \(this one is vision's\)/);
    await t.call(agent('vision'), 'team_comm', { action: 'delete', message_id: mine.id });
    expect((await inbox(t, 'loki')).messages).toEqual([]);
    expect((await inbox(t, 'jarvis', { include_archived: true })).messages).toEqual([]);
    await t.call(agent('jarvis'), 'team_comm', { action: 'delete', message_id: theirs.id }); // its own
    const other = await t.call(agent('vision'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'x' });
    await t.call(agent('jarvis'), 'team_comm', { action: 'delete', message_id: other.id }); // a lead: any
    expect((await inbox(t, 'loki')).messages).toEqual([]);
  });

  it('counts a deleted message unread nowhere and hands it out to nobody', async () => {
    const t = await mailTeam();
    const oops = await t.call(agent('vision'), 'team_comm', { action: 'broadcast', content: 'oops, wrong channel' });
    await t.call(agent('vision'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'still here' });
    expect((await inbox(t, 'loki')).unread_count).toBe(2);
    await t.call(agent('vision'), 'team_comm', { action: 'delete', message_id: oops.id });
    expect(await inbox(t, 'loki')).toMatchObject({ unread_count: 1, unread_count_capped: false, messages: [{ content: 'still here' }] });
    expect((await inbox(t, 'jarvis')).unread_count).toBe(0);
    expect((await t.call(agent('jarvis'), 'team_comm', { action: 'mention_check' })).messages).toEqual([]);
    expect((await t.call(agent('loki'), 'team_comm', { action: 'mention_check' })).messages.map((m: any) => m.content)).toEqual(['still here']);
    await expect(t.call(agent('loki'), 'team_comm', { action: 'message_get', message_id: oops.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('purges before a date (lead/owner only); the log keeps that the message existed, never its content', async () => {
    const t = await mailTeam();
    const old = await t.call(agent('vision'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'SECRET launch code 1234' });
    t.clock.advance(86_400_000);
    await t.call(agent('vision'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'recent' });
    await expect(t.call(agent('loki'), 'team_comm', { action: 'purge', before_date: '2026-02-22' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(await t.call(agent('jarvis'), 'team_comm', { action: 'purge', before_date: '2026-02-22T00:00:00' })).toMatchObject({ purged: 1 });
    expect((await inbox(t, 'loki', { include_archived: true })).messages.map((m: any) => m.content)).toEqual(['recent']);
    expect(await t.store.db.selectFrom('team_messages').select('id').where('id', '=', old.id).execute()).toEqual([]);
    const events = await t.store.db.selectFrom('team_events').selectAll().where('related_id', '=', old.id).orderBy('seq').execute();
    expect(events.map((e) => e.type)).toEqual(['message_sent', 'message_purged']);
    const dump = JSON.stringify(await sql`select * from team_events`.execute(t.store.db));
    expect(dump).not.toContain('SECRET');
  });

  it('refuses invalid dates and unknown messages, naming the field, and changes nothing', async () => {
    const t = await mailTeam();
    await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'hi' });
    await expect(t.call(agent('loki'), 'team_comm', { action: 'clear_inbox', before_date: 'last tuesday' })).rejects.toThrow(/before_date must be an ISO-8601 date/);
    await expect(t.call(OWNER, 'team_comm', { action: 'purge', before_date: '2026-13-45' })).rejects.toThrow(/before_date must be (an|a valid) ISO-8601 date/);
    await expect(t.call(agent('loki'), 'team_comm', { action: 'archive', message_ids: ['nope'] })).rejects.toThrow(/message_ids: not in loki's mailbox: nope/);
    await expect(t.call(agent('loki'), 'team_comm', { action: 'mark_read' })).rejects.toThrow(/message_ids: is required \(or all=true\)/);
    await expect(t.call(agent('loki'), 'team_comm', { action: 'inbox', agent_id: 'jarvis' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect((await inbox(t, 'loki')).unread_count).toBe(1);
  });
});
