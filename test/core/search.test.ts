import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { parseQuery } from '../../src/core/search.js';
import { search } from '../../src/store/migrations/010_search.js';
import { OWNER, agent, openCore, openOlderCore, seedTeam } from '../helpers.js';
import type { TestCore } from '../helpers.js';

const find = (t: TestCore, actor: Parameters<TestCore['call']>[0], query: string, extra: Record<string, unknown> = {}) =>
  t.call(actor, 'team_memory', { action: 'search', query, ...extra });
const ids = (answer: { hits: { id: string }[] }) => answer.hits.map((h) => h.id);
const indexed = async (t: TestCore) => Number((await sql<{ n: number }>`select count(*) as n from search_entries`.execute(t.store.db)).rows[0]!.n);

/** Engineering (jarvis lead, loki, vision) with one item of each kind about authentication. */
async function seedItems(t: TestCore) {
  await seedTeam(t);
  await t.call(OWNER, 'team_agent', { action: 'create', team_id: 'engineering', name: 'Vision' });
  const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Implement authentication', description: 'OAuth tokens for the API' });
  t.clock.advance(1000);
  const comment = await t.call(agent('jarvis'), 'team_comm', { action: 'comment', task_id: task.id, content: 'the authenticator should refresh tokens' });
  t.clock.advance(1000);
  const doc = await t.call(agent('loki'), 'team_memory', { action: 'doc_create', title: 'Auth design', content: 'We authenticate every request with a bearer token.', task_id: task.id });
  t.clock.advance(1000);
  const fact = await t.call(agent('loki'), 'team_memory', { action: 'fact_save', key: 'auth_provider', value: 'authentication by Keycloak' });
  t.clock.advance(1000);
  const dm = await t.call(agent('loki'), 'team_comm', { action: 'send_message', to_agent: 'vision', content: 'the staging authentication password is hunter2' });
  return { task, comment, doc, fact, dm };
}

describe('search', () => {
  it('finds tasks, comments, documents, facts and messages by stemmed words, best match first, with snippets', async () => {
    const t = await openCore();
    const { task, comment, doc, fact, dm } = await seedItems(t);
    const answer = await find(t, OWNER, 'authenticate');
    expect(new Set(ids(answer))).toEqual(new Set([task.id, comment.id, doc.id, fact.id, dm.id]));
    // A match in a title weighs more than one in a body.
    expect(answer.hits[0]).toMatchObject({ kind: 'task', id: task.id, title: 'Implement authentication', team_id: task.team_id, author: 'ana', task_id: task.id });
    const byKind = Object.fromEntries(answer.hits.map((h: any) => [h.kind, h]));
    expect(Object.keys(byKind).sort()).toEqual(['comment', 'document', 'fact', 'message', 'task']);
    expect(byKind.fact).toMatchObject({ title: 'auth_provider', author: 'loki' });
    expect(byKind.message).toMatchObject({ to_agent: 'vision', author: 'loki' });
    expect(byKind.comment).toMatchObject({ task_id: task.id, author: 'jarvis' });
    const snippet = byKind.document;
    expect(snippet.snippet).toContain('We authenticate every request');
    expect(snippet.highlights.map(([a, b]: [number, number]) => snippet.snippet.slice(a, b))).toEqual(['authenticate']);
    expect(answer).toMatchObject({ count: 5, truncated: false, next_cursor: null });
  });

  it('keeps direct messages between their two ends, the leads and the owner, and agents inside their team', async () => {
    const t = await openCore();
    const { dm } = await seedItems(t);
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Research' });
    await t.call(OWNER, 'team_agent', { action: 'create', team_id: 'research', name: 'Wanda', level: 'lead' });
    await t.call(OWNER, 'team_memory', { action: 'fact_save', team_id: 'research', key: 'secret', value: 'hunter2 elsewhere' });
    await t.call(OWNER, 'team_agent', { action: 'create', team_id: 'engineering', name: 'Thor' });
    for (const who of ['loki', 'vision', 'jarvis']) expect(ids(await find(t, agent(who), 'hunter2')), who).toEqual([dm.id]);
    expect(ids(await find(t, agent('thor'), 'hunter2'))).toEqual([]);
    expect(ids(await find(t, agent('wanda'), 'hunter2'))).toHaveLength(1);
    expect((await find(t, agent('wanda'), 'hunter2')).hits[0].kind).toBe('fact');
    await expect(find(t, agent('thor'), 'hunter2', { team_id: 'research' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(ids(await find(t, OWNER, 'hunter2'))).toHaveLength(2);
    expect(ids(await find(t, OWNER, 'hunter2', { team_id: 'engineering' }))).toEqual([dm.id]);
  });

  it('filters by kind, author, task and date', async () => {
    const t = await openCore();
    const { task, comment, doc, fact } = await seedItems(t);
    expect(ids(await find(t, OWNER, 'authentication', { kinds: ['fact', 'document'] })).sort()).toEqual([doc.id, fact.id].sort());
    expect(new Set(ids(await find(t, OWNER, 'authentication', { agent_id: 'loki' })))).toEqual(new Set([doc.id, fact.id, (await find(t, agent('loki'), 'hunter2')).hits[0].id]));
    expect(new Set(ids(await find(t, OWNER, 'authentication', { task_id: task.id })))).toEqual(new Set([task.id, comment.id, doc.id]));
    expect(ids(await find(t, OWNER, 'authentication', { since: doc.created_at, until: fact.updated_at }))).toEqual([doc.id]);
    await expect(find(t, OWNER, 'x', { kinds: ['email'] })).rejects.toThrow(/kinds.0 must be one of/);
  });

  it('follows every write in its own transaction: edits, deletes, expiry, purge, team deletion', async () => {
    const t = await openCore();
    const { task, doc, dm } = await seedItems(t);
    await t.call(OWNER, 'team_task', { action: 'update', task_id: task.id, title: 'Implement login' });
    expect(ids(await find(t, OWNER, 'implement login'))).toEqual([task.id]);
    expect(ids(await find(t, OWNER, 'implement authentication'))).toEqual([]);
    // A status change saves the whole task without touching its text: it stays found once.
    await t.call(OWNER, 'team_task', { action: 'update', task_id: task.id, status: 'cancelled' });
    expect(ids(await find(t, OWNER, 'login'))).toEqual([task.id]);

    await t.call(OWNER, 'team_memory', { action: 'doc_update', doc_id: doc.id, content: 'Sessions use cookies.' });
    expect(ids(await find(t, OWNER, 'cookies'))).toEqual([doc.id]);
    expect(ids(await find(t, OWNER, 'bearer'))).toEqual([]);
    await t.call(OWNER, 'team_memory', { action: 'doc_delete', doc_id: doc.id });
    expect(ids(await find(t, OWNER, 'cookies'))).toEqual([]);

    await t.call(OWNER, 'team_memory', { action: 'fact_save', key: 'temp', value: 'ephemeral value', ttl: 60 });
    expect(ids(await find(t, OWNER, 'ephemeral'))).toHaveLength(1);
    t.clock.advance(61_000);
    expect(ids(await find(t, OWNER, 'ephemeral'))).toEqual([]);

    await t.call(agent('loki'), 'team_comm', { action: 'delete', message_id: dm.id });
    expect(ids(await find(t, OWNER, 'hunter2'))).toEqual([]);
    const kept = await t.call(agent('jarvis'), 'team_comm', { action: 'broadcast', content: 'purgeable broadcast' });
    expect(ids(await find(t, OWNER, 'purgeable'))).toEqual([kept.id]);
    t.clock.advance(1000);
    await t.call(OWNER, 'team_comm', { action: 'purge', before_date: t.clock.now().toISOString() });
    expect(ids(await find(t, OWNER, 'purgeable'))).toEqual([]);

    expect(await indexed(t)).toBeGreaterThan(0);
    await t.call(OWNER, 'team_manage', { action: 'delete', team_id: 'engineering' });
    expect(await indexed(t)).toBe(0);
  });

  it('indexes nothing of a write that rolled back', async () => {
    const t = await openCore();
    await seedTeam(t);
    // The task row is written before its dependencies are checked; the refusal rolls both back.
    await expect(t.call(OWNER, 'team_task', { action: 'create', title: 'Doomed rollback task', blocked_by: ['nosuchid'] })).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(ids(await find(t, OWNER, 'doomed'))).toEqual([]);
    expect(await indexed(t)).toBe(0);
  });

  it('indexes what an older database holds when it upgrades, reporting progress', async () => {
    // The schema just before search: a database made by the version before this one.
    const old = await openOlderCore(search.version - 1);
    await seedTeam(old);
    for (let i = 0; i < 30; i++) await old.call(OWNER, 'team_task', { action: 'create', title: `legacy task number ${i}` });
    await old.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'legacy private note' });
    await old.close();
    const reports: [string, number, number][] = [];
    const t = await openCore({ path: old.path, progress: (step, done, total) => reports.push([step, done, total]) });
    expect((await find(t, OWNER, 'legacy', { limit: 100 })).count).toBe(31);
    expect(ids(await find(t, agent('jarvis'), 'legacy private'))).toHaveLength(1);
    expect(reports.filter(([step]) => step === 'indexing for search').at(-1)).toEqual(['indexing for search', 31, 31]);
  });

  it('pages with a cursor that belongs to its query', async () => {
    const t = await openCore();
    await seedTeam(t);
    for (let i = 0; i < 7; i++) await t.call(OWNER, 'team_task', { action: 'create', title: `paged item ${i}` });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await find(t, OWNER, 'paged', { limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...ids(page));
      expect(page.truncated).toBe(page.next_cursor !== null);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    const first = await find(t, OWNER, 'paged', { limit: 3 });
    await expect(find(t, OWNER, 'item', { cursor: first.next_cursor })).rejects.toThrow(/cursor: is not a cursor of this search/);
    await expect(find(t, OWNER, 'paged', { cursor: 'garbage' })).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('reads what people type: phrases, prefixes, exclusions, and never index syntax', async () => {
    const t = await openCore();
    await seedTeam(t);
    const a = await t.call(OWNER, 'team_task', { action: 'create', title: 'deploy the payment service' });
    const b = await t.call(OWNER, 'team_task', { action: 'create', title: 'service payment deploy' });
    expect(ids(await find(t, OWNER, '"payment service"'))).toEqual([a.id]);
    expect(new Set(ids(await find(t, OWNER, 'deplo*')))).toEqual(new Set([a.id, b.id]));
    // Words are stemmed, the query's too ("deploys" finds "deploy").
    expect(new Set(ids(await find(t, OWNER, 'deploys services')))).toEqual(new Set([a.id, b.id]));
    expect(ids(await find(t, OWNER, 'payment -"the payment"'))).toEqual([b.id]);
    for (const query of ['NEAR(payment deploy)', 'payment OR', 'title:payment', 'payment AND NOT', '"unclosed payment', '^payment']) {
      await expect(find(t, OWNER, query), query).resolves.toMatchObject({ query });
    }
    await expect(find(t, OWNER, '-payment')).rejects.toThrow(/query: needs at least one word/);
    await expect(find(t, OWNER, '!!! ...')).rejects.toThrow(/query: needs at least one word/);
    expect(parseQuery('a "b c" d* -e')).toEqual([
      { words: ['a'], prefix: false, exclude: false },
      { words: ['b', 'c'], prefix: false, exclude: false },
      { words: ['d'], prefix: true, exclude: false },
      { words: ['e'], prefix: false, exclude: true },
    ]);
  });
});
