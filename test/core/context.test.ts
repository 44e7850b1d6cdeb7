import { describe, expect, it } from 'vitest';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

describe('namespaced facts with TTL and versions', () => {
  it('keeps the seed calls working in the default namespace, and separates namespaces', async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_memory', { action: 'fact_save', key: 'api_version', value: 'v2.1.0' });
    await t.call(agent('jarvis'), 'team_memory', { action: 'fact_save', namespace: 'project-alpha', key: 'api_version', value: 'v3-beta' });
    expect((await t.call(OWNER, 'team_memory', { action: 'fact_list' })).facts.map((f: any) => `${f.namespace}/${f.key}=${f.value}`)).toEqual(['default/api_version=v2.1.0', 'project-alpha/api_version=v3-beta']);
    expect((await t.call(OWNER, 'team_memory', { action: 'fact_list', namespace: 'project-alpha' })).count).toBe(1);
    await t.call(OWNER, 'team_memory', { action: 'fact_delete', key: 'api_version' });
    expect((await t.call(OWNER, 'team_memory', { action: 'fact_get', namespace: 'project-alpha', key: 'api_version' })).value).toBe('v3-beta');
  });

  it('expires a fact after its TTL: gone from reads at once, and swept from the table', async () => {
    const t = await openCore();
    await seedTeam(t);
    const fact = await t.call(agent('jarvis'), 'team_memory', { action: 'fact_save', namespace: 'project-alpha', key: 'api-spec', value: 'draft', ttl: 3600 });
    expect(fact.expires_at).toBe('2026-02-21T11:00:00.000Z');
    t.clock.advance(3599_500);
    expect((await t.call(OWNER, 'team_memory', { action: 'fact_list' })).count).toBe(1);
    t.clock.advance(600); // expired, within the second in which this process does not sweep again
    expect((await t.call(OWNER, 'team_memory', { action: 'fact_list' })).count).toBe(0);
    await expect(t.call(OWNER, 'team_memory', { action: 'fact_get', namespace: 'project-alpha', key: 'api-spec' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await t.store.db.selectFrom('team_facts').selectAll().execute()).toHaveLength(1);
    t.clock.advance(1000); // the next call finds a sweep due and sweeps it from the table
    await t.call(OWNER, 'team_memory', { action: 'fact_list' });
    expect(await t.store.db.selectFrom('team_facts').selectAll().execute()).toHaveLength(0);
    const expired = await t.store.db.selectFrom('team_events').select('type').where('type', '=', 'fact_expired').execute();
    expect(expired).toHaveLength(1);
    // an expired key can be saved again (compare-and-set sees it as absent)
    expect((await t.call(OWNER, 'team_memory', { action: 'fact_save', namespace: 'project-alpha', key: 'api-spec', value: 'v2', expected_version: 0 })).version).toBe(2);
  });

  it('versions every save, keeps the history, and refuses a stale compare-and-set', async () => {
    const t = await openCore();
    await seedTeam(t);
    const first = await t.call(agent('jarvis'), 'team_memory', { action: 'fact_save', key: 'sprint_goal', value: 'auth', expected_version: 0 });
    expect(first.version).toBe(1);
    await expect(t.call(agent('loki'), 'team_memory', { action: 'fact_save', key: 'sprint_goal', value: 'billing', expected_version: 0 })).rejects.toMatchObject({
      code: 'VERSION_CONFLICT',
      message: expect.stringMatching(/fact 'sprint_goal' in namespace 'default' is at version 1, not 0/),
    });
    t.clock.advance(1000);
    expect((await t.call(agent('loki'), 'team_memory', { action: 'fact_save', key: 'sprint_goal', value: 'auth + billing', expected_version: 1 })).version).toBe(2);
    await expect(t.call(agent('jarvis'), 'team_memory', { action: 'fact_save', key: 'sprint_goal', value: 'lost update', expected_version: 1 })).rejects.toMatchObject({ code: 'VERSION_CONFLICT' });
    await expect(t.call(agent('jarvis'), 'team_memory', { action: 'fact_delete', key: 'sprint_goal', expected_version: 1 })).rejects.toMatchObject({ code: 'VERSION_CONFLICT' });
    expect((await t.call(OWNER, 'team_memory', { action: 'fact_get', key: 'sprint_goal' })).value).toBe('auth + billing');
    const { versions } = await t.call(OWNER, 'team_memory', { action: 'fact_history', key: 'sprint_goal' });
    expect(versions.map((v: any) => `${v.version}:${v.value}:${v.author}`)).toEqual(['2:auth + billing:loki', '1:auth:jarvis']);
  });
});

describe('document versions', () => {
  it('keeps every version: history and get of a given version', async () => {
    const t = await openCore();
    await seedTeam(t);
    const doc = await t.call(agent('loki'), 'team_memory', { action: 'doc_create', title: 'API Design', content: '# v1' });
    t.clock.advance(1000);
    await t.call(agent('jarvis'), 'team_memory', { action: 'doc_update', doc_id: doc.id, content: '# v2', title: 'API Design (rev)' });
    const { versions } = await t.call(OWNER, 'team_memory', { action: 'doc_history', doc_id: doc.id });
    expect(versions.map((v: any) => `${v.version}:${v.title}:${v.author}:${v.content_length}`)).toEqual(['2:API Design (rev):jarvis:4', '1:API Design:loki:4']);
    expect(await t.call(OWNER, 'team_memory', { action: 'doc_get', doc_id: doc.id, version: 1 })).toMatchObject({ version: 1, content: '# v1', title: 'API Design', author: 'loki' });
    expect((await t.call(OWNER, 'team_memory', { action: 'doc_get', doc_id: doc.id })).content).toBe('# v2');
    await expect(t.call(OWNER, 'team_memory', { action: 'doc_get', doc_id: doc.id, version: 9 })).rejects.toThrow(/has versions 1 to 2/);
  });
});

describe('audit and summary', () => {
  it('queries the audit log by agent, type and time, paginated by sequence', async () => {
    const t = await openCore();
    await seedTeam(t);
    for (let i = 0; i < 5; i++) await t.call(agent('loki'), 'team_task', { action: 'create', title: `t${i}` });
    t.clock.advance(60_000);
    await t.call(agent('jarvis'), 'team_memory', { action: 'fact_save', key: 'k', value: 'v' });
    const first = await t.call(OWNER, 'team_memory', { action: 'audit', agent_id: 'loki', type: 'task_created', limit: 3 });
    expect(first.events.map((e: any) => e.message)).toEqual(["loki created task 't0'", "loki created task 't1'", "loki created task 't2'"]);
    const second = await t.call(OWNER, 'team_memory', { action: 'audit', agent_id: 'loki', type: 'task_created', limit: 3, after_seq: first.next_after_seq });
    expect(second.events.map((e: any) => e.message)).toEqual(["loki created task 't3'", "loki created task 't4'"]);
    expect(second.next_after_seq).toBeNull();
    expect((await t.call(OWNER, 'team_memory', { action: 'audit', since: '2026-02-21T10:01:00Z' })).events.map((e: any) => e.type)).toEqual(['fact_created']);
  });

  it('finds a time window in a long log: an event numbered after a later one included, another team imported after it left out', async () => {
    const t = await openCore();
    await seedTeam(t);
    for (let i = 0; i < 300; i++) {
      t.clock.advance(10_000);
      await t.call(agent('loki'), 'team_memory', { action: 'fact_save', key: `k${i % 7}`, value: `v${i}` });
    }
    // Now 10:50. Calls that began at 10:45 and waited for the write lock are numbered after one of 10:50.
    await t.call(agent('jarvis'), 'team_memory', { action: 'fact_save', key: 'late', value: 'x' });
    t.clock.advance(-300_000);
    for (let i = 0; i < 400; i++) await t.call(agent('jarvis'), 'team_memory', { action: 'fact_save', key: 'early', value: `${i}` });
    const keysSince = async (since: string) => (await t.call(OWNER, 'team_memory', { action: 'audit', agent_id: 'jarvis', since, limit: 200 })).events.map((e: any) => e.data.key);
    expect(await keysSince('2026-02-21T10:49:00Z')).toEqual(['late']);
    expect(await keysSince('2026-02-21T10:44:00Z')).toEqual(['late', ...Array(199).fill('early')]);
    expect(await keysSince('2026-02-21T11:00:00Z')).toEqual([]);
    // Another team's month-old history, imported after all that (it takes the next numbers): loki's window is as before.
    const imported = Array.from({ length: 3000 }, (_, i) => ({ id: `imported${String(i).padStart(8, '0')}`, team_id: 'elsewhere', type: 'fact_created', agent_id: 'someone', message: 'old', related_id: '', data: '{}', created_at: new Date(Date.parse('2026-01-21T10:00:00Z') + i * 1000).toISOString() }));
    for (let i = 0; i < imported.length; i += 500) await t.store.db.insertInto('team_events').values(imported.slice(i, i + 500)).execute();
    t.clock.advance(300_000);
    await t.call(agent('loki'), 'team_memory', { action: 'fact_save', key: 'after', value: 'x' });
    const since = (await t.call(OWNER, 'team_memory', { action: 'audit', agent_id: 'loki', since: '2026-02-21T10:40:00Z', limit: 200 })).events.slice(0, -1);
    expect((await t.call(OWNER, 'team_memory', { action: 'audit', agent_id: 'loki', since: '2026-02-21T10:50:00Z' })).events.map((e: any) => e.data.key)).toEqual(['k5', 'after']);
    expect(since).toHaveLength(61);
    expect(since[0].created_at).toBe('2026-02-21T10:40:00.000Z');
  });

  it("summarises others' activity since the caller's last activity, grouped and short", async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(agent('loki'), 'team_agent', { action: 'working_update', status: 'idle' }); // loki was last here at 10:00
    t.clock.advance(3600_000);
    const task = await t.call(agent('jarvis'), 'team_task', { action: 'create', title: 'Write the changelog', assignees: ['loki'] });
    await t.call(agent('jarvis'), 'team_comm', { action: 'comment', task_id: task.id, content: '@loki this one is yours' });
    await t.call(agent('jarvis'), 'team_memory', { action: 'fact_save', key: 'release', value: '1.0' });
    const summary = await t.call(agent('loki'), 'team_memory', { action: 'summary' });
    expect(summary.since).toBe('2026-02-21T10:00:00.000Z');
    expect(summary.sections.map((s: any) => s.title)).toEqual(['Tasks', 'Messages', 'Knowledge']);
    expect(summary.concerning_you).toBeGreaterThanOrEqual(2);
    expect(summary.text).toMatch(/^Since 2026-02-21 10:00 UTC: \d+ events by others, \d+ concerning you\.\nTasks \(2\)\n  11:00 jarvis created task 'Write the changelog'/);
    expect(summary.text.split('\n').length).toBeLessThan(20);
    // its own activity is not news to it
    expect((await t.call(agent('jarvis'), 'team_memory', { action: 'summary', since: '2026-02-21T10:30:00Z' })).total).toBe(0);
  });
});
