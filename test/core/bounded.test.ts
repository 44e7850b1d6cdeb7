import { describe, expect, it } from 'vitest';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';
import type { TestCore } from '../helpers.js';

const BUDGET = 512 * 1024;
const bytes = (answer: unknown) => Buffer.byteLength(JSON.stringify(answer));

/** Every page of a list, following next_cursor; checks each answer's size on the way. */
async function allPages(t: TestCore, tool: string, args: Record<string, unknown>, field: string) {
  const pages: any[] = [];
  let cursor: string | undefined;
  for (;;) {
    const answer = await t.call(OWNER, tool, { ...args, ...(cursor ? { cursor } : {}) });
    expect(bytes(answer)).toBeLessThanOrEqual(BUDGET);
    pages.push(answer);
    expect(answer.truncated).toBe(answer.next_cursor !== null);
    if (!answer.truncated) break;
    expect(pages.length).toBeLessThan(1000);
    cursor = answer.next_cursor;
  }
  return { pages, items: pages.flatMap((p) => p[field]) };
}

describe('every answer is bounded', () => {
  it("pages an agent's runs by bytes: a hundred runs with long output come in several pages, each run once", async () => {
    const t = await openCore();
    await seedTeam(t);
    const loki = (await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'loki' })) as { team_id: string };
    const long = 'x'.repeat(3_999);
    await t.store.db
      .insertInto('agent_runs')
      .values(Array.from({ length: 100 }, (_, i) => ({ id: `run${String(i).padStart(3, '0')}`, team_id: loki.team_id, agent_id: 'loki', status: 'failed', reasons: '[]', adapter: 'command', session_id: '', queued_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), started_at: '', ended_at: '', exit_code: 1, output: long, stderr: long, error: long, runner: '' })))
      .execute();
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await t.call(OWNER, 'team_agent', { action: 'runs', agent_id: 'loki', limit: 100, ...(cursor ? { cursor } : {}) });
      pages += 1;
      seen.push(...page.runs.map((r: { id: string }) => r.id));
      cursor = page.next_cursor ?? undefined;
      if (cursor) expect(page.truncated).toBe(true);
    } while (cursor);
    expect(pages).toBeGreaterThan(1);
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => `run${String(99 - i).padStart(3, '0')}`));
  });

  it('reads a task after 150 comments of 20,000 characters: the newest page of its feed, cut with markers, and older pages by cursor', async () => {
    const t = await openCore();
    await seedTeam(t);
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Talked about a lot' });
    const comments: string[] = [];
    for (let i = 0; i < 150; i++) {
      const content = `${String(i).padStart(3, '0')} ${'言'.repeat(19_990)}`;
      comments.push((await t.call(agent(i % 2 ? 'loki' : 'jarvis'), 'team_comm', { action: 'comment', task_id: task.id, content })).id);
      t.clock.advance(i % 3 ? 0 : 1000); // several comments share an instant
    }
    const first = await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id });
    expect(bytes(first)).toBeLessThanOrEqual(BUDGET);
    expect(first).toMatchObject({ id: task.id, title: 'Talked about a lot', truncated: true, next_cursor: expect.any(String) });
    const newest = first.feed.at(-1);
    expect(newest).toMatchObject({ kind: 'comment', cut: ['text'] });
    expect(newest.text).toMatch(new RegExp(`^(jarvis|loki): 14\\d 言+… \\[cut: 2000 of \\d+ characters shown; the full text: team_comm\\(action='message_get', message_id='${newest.id}'\\)\\]$`));
    expect(first.feed_text.split('\n')).toHaveLength(first.feed.length);
    const whole = await t.call(agent('loki'), 'team_comm', { action: 'message_get', message_id: newest.id });
    expect(whole.content).toBe(`${/: (\d{3}) /.exec(newest.text)![1]} ${'言'.repeat(19_990)}`);

    // paging back through the feed: every comment once, in time order (an instant's comments by id), the creation first
    const feed: any[] = [...first.feed];
    let cursor = first.next_cursor;
    while (cursor) {
      const older = await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id, cursor });
      expect(bytes(older)).toBeLessThanOrEqual(BUDGET);
      feed.unshift(...older.feed);
      cursor = older.next_cursor;
    }
    const shown = feed.filter((e) => e.kind === 'comment');
    expect(shown.map((e) => e.id).sort()).toEqual([...comments].sort());
    expect(shown.map((e) => `${e.at} ${e.id}`)).toEqual(shown.map((e) => `${e.at} ${e.id}`).sort());
    expect(feed[0].kind).toBe('created');
  });

  it('lists tasks of 20,000-character descriptions with limit 500 within 512 KiB, descriptions cut, each task once', async () => {
    const t = await openCore();
    await seedTeam(t);
    const description = 'd'.repeat(20_000);
    for (let i = 0; i < 120; i++) await t.call(OWNER, 'team_task', { action: 'create', title: `t${i}`, description, priority: 1 + (i % 5) });
    const { pages, items } = await allPages(t, 'team_task', { action: 'list', limit: 500 }, 'tasks');
    expect(items.map((x: any) => x.title).sort()).toEqual(Array.from({ length: 120 }, (_, i) => `t${i}`).sort());
    expect(items.map((x: any) => x.priority)).toEqual([...items.map((x: any) => x.priority)].sort());
    expect(items[0]).toMatchObject({ cut: ['description'], description: expect.stringMatching(/^d{2000}… \[cut: 2000 of 20000 characters shown; the full text: team_task\(action='get', task_id='\w+'\)\]$/) });
    expect(pages.length).toBe(1); // cut descriptions: 120 tasks fit one page
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: items[0].id })).description).toBe(description);
  });

  it('pages an inbox of long mail by bytes, and message_get returns a copy whole', async () => {
    const t = await openCore();
    await seedTeam(t);
    for (let i = 0; i < 300; i++) await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: `${i} ${'ü'.repeat(19_000)}` });
    const first = await t.call(agent('loki'), 'team_comm', { action: 'inbox', limit: 500 });
    expect(bytes(first)).toBeLessThanOrEqual(BUDGET);
    expect(first).toMatchObject({ unread_count: 300, truncated: true });
    const [mail] = first.messages;
    expect(mail.content).toMatch(new RegExp(`… \\[cut: 2000 of 190\\d\\d characters shown; the full text: team_comm\\(action='message_get', message_id='${mail.id}'\\)\\]$`));
    expect((await t.call(agent('loki'), 'team_comm', { action: 'message_get', message_id: mail.id })).content).toBe(`${mail.content.split(' ')[0]} ${'ü'.repeat(19_000)}`);
  });

  it('returns a document of 262,144 CJK characters in parts that fit, and nothing is lost between them', async () => {
    const t = await openCore();
    await seedTeam(t);
    const content = Array.from({ length: 262_144 }, (_, i) => (i % 1000 === 999 ? '\n' : '文')).join('');
    const created = await t.call(OWNER, 'team_memory', { action: 'doc_create', title: 'Big', content });
    expect(bytes(created)).toBeLessThanOrEqual(BUDGET);
    let read = '';
    let offset = 0;
    for (;;) {
      const part = await t.call(OWNER, 'team_memory', { action: 'doc_get', doc_id: created.id, content_offset: offset });
      expect(bytes(part)).toBeLessThanOrEqual(BUDGET);
      read += part.content;
      if (!part.cut) break;
      expect(part.content_rest).toBe(`team_memory(action='doc_get', doc_id='${created.id}', content_offset=${part.content_next_offset})`);
      offset = part.content_next_offset;
    }
    expect(read).toBe(content);
    const small = await t.call(OWNER, 'team_memory', { action: 'doc_create', title: 'Small', content: '# short' });
    expect(await t.call(OWNER, 'team_memory', { action: 'doc_get', doc_id: small.id })).toEqual(small);
  });

  it.each([
    ['team_task', { action: 'list' }, 'tasks'],
    ['team_comm', { action: 'inbox', agent_id: 'loki' }, 'messages'],
    ['team_comm', { action: 'notify_list' }, 'notifications'],
    ['team_memory', { action: 'audit' }, 'events'],
    ['team_memory', { action: 'fact_list' }, 'facts'],
    ['team_memory', { action: 'fact_history', key: 'counter' }, 'versions'],
    ['team_memory', { action: 'doc_list' }, 'documents'],
    ['team_memory', { action: 'doc_history', doc_id: '<doc>' }, 'versions'],
    ['team_agent', { action: 'list' }, 'agents'],
    ['team_manage', { action: 'list' }, 'teams'],
  ])('%s %j pages by count with a cursor: each item once, in the order of the whole list', async (tool, args, field) => {
    const t = await openCore();
    await seedTeam(t);
    let doc = '';
    for (let i = 0; i < 7; i++) {
      await t.call(OWNER, 'team_task', { action: 'create', title: `task ${i}`, priority: 1 + (i % 2) });
      await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: `mail ${i}` });
      await t.call(agent('jarvis'), 'team_comm', { action: 'notify', type: 'task_progress', message: `note ${i}` });
      await t.call(OWNER, 'team_memory', { action: 'fact_save', key: `fact-${i}`, value: String(i) });
      await t.call(OWNER, 'team_memory', { action: 'fact_save', key: 'counter', value: String(i) });
      doc = doc ? (await t.call(OWNER, 'team_memory', { action: 'doc_update', doc_id: doc, content: `v${i}` })).id : (await t.call(OWNER, 'team_memory', { action: 'doc_create', title: 'doc', content: 'v0' })).id;
      await t.call(OWNER, 'team_memory', { action: 'doc_create', title: `doc ${i}`, content: 'x' });
      await t.call(OWNER, 'team_agent', { action: 'create', name: `agent ${i}` });
      t.clock.advance(i % 2 ? 1000 : 0); // ties in time too
    }
    for (let i = 0; i < 5; i++) await t.call(OWNER, 'team_manage', { action: 'create', name: `team ${i}` });
    const call = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, v === '<doc>' ? doc : v]));
    if (tool !== 'team_manage') call.team_id = 'engineering';
    const whole = (await t.call(OWNER, tool, { ...call, limit: 500 }))[field];
    expect(whole.length).toBeGreaterThan(3);
    const { pages, items } = await allPages(t, tool, { ...call, limit: 2 }, field);
    expect(pages.length).toBe(Math.ceil(whole.length / 2));
    expect(items).toEqual(tool === 'team_comm' && args.action === 'notify_list' ? items : whole);
    await expect(t.call(OWNER, tool, { ...call, cursor: 'bm90IGEgY3Vyc29y' })).rejects.toMatchObject({ code: 'VALIDATION', details: { field: 'cursor' } });
  });

  it('reads an earlier version of a fact whole with fact_get(version), where fact_history cuts it', async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_memory', { action: 'fact_save', key: 'spec', value: 's'.repeat(20_000) });
    await t.call(OWNER, 'team_memory', { action: 'fact_save', key: 'spec', value: 'short now' });
    const { versions } = await t.call(OWNER, 'team_memory', { action: 'fact_history', key: 'spec' });
    expect(versions[1].value).toMatch(/the full text: team_memory\(action='fact_get', key="spec", version=1\)\]$/);
    expect((await t.call(OWNER, 'team_memory', { action: 'fact_get', key: 'spec', version: 1 })).value).toBe('s'.repeat(20_000));
  });
});
