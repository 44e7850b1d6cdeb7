import { describe, expect, it } from 'vitest';
import type { Actor } from '../../src/core/context.js';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';
import type { TestCore } from '../helpers.js';

const session = (id: string, name: string): Actor => ({ kind: 'agent', id, session: name });
const check = (t: TestCore, actor: Actor, args: Record<string, unknown> = {}) => t.call(actor, 'team_comm', { action: 'mention_check', ...args });
const contents = (answer: { messages: { content: string }[] }) => answer.messages.map((m) => m.content);

async function mailTo(t: TestCore, n: number, content = (i: number) => `mail ${i}`) {
  for (let i = 0; i < n; i++) {
    await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: content(i) });
    t.clock.advance(1);
  }
}

describe('mail is delivered at least once', () => {
  it('hands mail out until it is acknowledged: a plain repeat in the same session acknowledges, and inbox counts it unread until then', async () => {
    const t = await openCore();
    await seedTeam(t);
    await mailTo(t, 3);
    const s1 = session('loki', 's1');
    const first = await check(t, s1);
    expect(contents(first)).toEqual(['mail 0', 'mail 1', 'mail 2']);
    expect(first).toMatchObject({ count: 3, remaining: 0, acknowledged: 0, ack_cursor: expect.stringMatching(/^[0-9a-z]{16}$/), truncated: false, next_cursor: null });
    expect(first.messages.every((m: any) => m.delivered === 0 && m.read_at === '' && m.redelivered === false)).toBe(true);
    expect((await t.call(agent('loki'), 'team_comm', { action: 'inbox' })).unread_count).toBe(3);
    const second = await check(t, s1);
    expect(second).toMatchObject({ messages: [], acknowledged: 3, ack_cursor: null });
    expect((await t.call(agent('loki'), 'team_comm', { action: 'inbox' })).unread_count).toBe(0);
    expect((await t.call(agent('loki'), 'team_comm', { action: 'inbox' })).messages.every((m: any) => m.delivered === 1 && m.read)).toBe(true);
  });

  it('hands what a session never acknowledged (its process killed, its answer lost) to the next session, marked redelivered', async () => {
    const t = await openCore();
    await seedTeam(t);
    await mailTo(t, 2);
    const lost = await check(t, session('loki', 'killed'));
    expect(contents(lost)).toEqual(['mail 0', 'mail 1']);
    const again = await check(t, session('loki', 'restarted'));
    expect(contents(again)).toEqual(['mail 0', 'mail 1']);
    expect(again.messages.every((m: any) => m.redelivered)).toBe(true);
    expect(again.ack_cursor).not.toBe(lost.ack_cursor);
    const acked = await check(t, session('loki', 'restarted'), { ack: again.ack_cursor });
    expect(acked).toMatchObject({ acknowledged: 2, messages: [] });
    expect((await check(t, session('loki', 'third'))).messages).toEqual([]);
    // the dead session's cursor, arriving late, acknowledges nothing twice
    expect(await check(t, session('loki', 'late'), { ack: lost.ack_cursor })).toMatchObject({ acknowledged: 0, messages: [] });
  });

  it('pages by acknowledgement: ack=<ack_cursor> acknowledges one batch and hands out the next; a retried ack loses nothing', async () => {
    const t = await openCore();
    await seedTeam(t);
    await mailTo(t, 5);
    const s = session('loki', 's');
    const one = await check(t, s, { limit: 2 });
    expect(one).toMatchObject({ count: 2, remaining: 3, truncated: true, next_cursor: one.ack_cursor });
    const two = await check(t, s, { limit: 2, ack: one.ack_cursor });
    expect(contents(two)).toEqual(['mail 2', 'mail 3']);
    // the answer of `two` was lost: the client retries the same call
    const retry = await check(t, s, { limit: 2, ack: one.ack_cursor });
    expect(contents(retry)).toEqual(['mail 2', 'mail 3']);
    expect(retry.acknowledged).toBe(0);
    const three = await check(t, s, { limit: 2, ack: retry.ack_cursor });
    expect(contents(three)).toEqual(['mail 4']);
    expect(three).toMatchObject({ remaining: 0, truncated: false, next_cursor: null });
    await check(t, s, { ack: three.ack_cursor });
    const delivered = await t.store.db.selectFrom('team_pending_messages').select(['delivered']).where('to_agent', '=', 'loki').execute();
    expect(delivered.every((c) => c.delivered === 1)).toBe(true);
    await expect(check(t, s, { ack: 'not a cursor' })).rejects.toMatchObject({ code: 'VALIDATION', details: { field: 'ack' } });
  });

  it('mark_read and archive acknowledge mail handed out but not acknowledged', async () => {
    const t = await openCore();
    await seedTeam(t);
    await mailTo(t, 2);
    const handed = await check(t, session('loki', 'a'));
    await t.call(agent('loki'), 'team_comm', { action: 'mark_read', message_ids: [handed.messages[0].id] });
    await t.call(agent('loki'), 'team_comm', { action: 'archive', message_ids: [handed.messages[1].id] });
    expect((await check(t, session('loki', 'b'))).messages).toEqual([]);
  });

  it('records every hand-out, acknowledgement and read as an event, without the mail itself', async () => {
    const t = await openCore();
    await seedTeam(t);
    await mailTo(t, 2, (i) => `secret ${i}`);
    const s = session('loki', 's');
    const handed = await check(t, s);
    await check(t, s, { ack: handed.ack_cursor });
    await mailTo(t, 1, () => 'secret 3');
    await t.call(agent('loki'), 'team_comm', { action: 'mark_read', all: true });
    const events = await t.store.db.selectFrom('team_events').selectAll().where('related_id', '=', 'loki').where('type', 'in', ['mail_handed_out', 'mail_acknowledged', 'messages_read']).orderBy('seq').execute();
    expect(events.map((e) => [e.type, JSON.parse(e.data).count])).toEqual([
      ['mail_handed_out', 2],
      ['mail_acknowledged', 2],
      ['messages_read', 1],
    ]);
    expect(JSON.stringify(events)).not.toContain('secret');
  });

  it('never answers more than 512 KiB: 100 mails of 20,000 CJK characters come in pages, each exactly once', async () => {
    const t = await openCore();
    await seedTeam(t);
    const cjk = (i: number) => `${i}:${'漢'.repeat(19_990)}`;
    await mailTo(t, 100, cjk);
    const s = session('loki', 's');
    const seen: string[] = [];
    let ack: string | undefined;
    for (let pages = 0; ; pages++) {
      expect(pages).toBeLessThan(100);
      const answer = await check(t, s, ack ? { ack } : {});
      expect(Buffer.byteLength(JSON.stringify(answer))).toBeLessThanOrEqual(512 * 1024);
      seen.push(...answer.messages.map((m: any) => m.content.split(':')[0]));
      expect(answer.messages.every((m: any) => m.content.length === cjk(0).length || m.content.length === cjk(10).length)).toBe(true); // whole, never cut
      if (!answer.truncated) break;
      ack = answer.next_cursor;
    }
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
  });

  it('lets a lead check and acknowledge an agent mailbox on its behalf', async () => {
    const t = await openCore();
    await seedTeam(t);
    await mailTo(t, 1);
    const lead: Actor = { ...OWNER, session: 'owner-session' };
    const handed = await check(t, lead, { agent_id: 'loki' });
    expect(contents(handed)).toEqual(['mail 0']);
    expect((await check(t, lead, { agent_id: 'loki' })).acknowledged).toBe(1);
  });
});
