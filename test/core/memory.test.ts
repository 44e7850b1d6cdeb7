import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/core/limits.js';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

describe('facts', () => {
  it('keeps one value per key, overwrites, tracks the author, deletes', async () => {
    const t = await openCore();
    await seedTeam(t);
    const first = await t.call(agent('jarvis'), 'team_memory', { action: 'fact_save', team_id: 'engineering', key: 'api_version', value: 'v2.0.0' });
    t.clock.advance(1000);
    const second = await t.call(agent('loki'), 'team_memory', { action: 'fact_save', team_id: 'engineering', key: 'api_version', value: 'v2.1.0' });
    expect(second).toMatchObject({ id: first.id, value: 'v2.1.0', author: 'loki', created_at: first.created_at, created: false });
    expect(second.updated_at > first.updated_at).toBe(true);
    const { facts } = await t.call(OWNER, 'team_memory', { action: 'fact_list', team_id: 'engineering' });
    expect(facts).toMatchObject([{ key: 'api_version', value: 'v2.1.0', author: 'loki' }]);
    await t.call(OWNER, 'team_memory', { action: 'fact_delete', team_id: 'engineering', key: 'api_version' });
    expect((await t.call(OWNER, 'team_memory', { action: 'fact_list' })).facts).toEqual([]);
    await expect(t.call(OWNER, 'team_memory', { action: 'fact_delete', key: 'api_version' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('bounds keys and values', async () => {
    const t = await openCore();
    await seedTeam(t);
    await expect(t.call(OWNER, 'team_memory', { action: 'fact_save', key: 'k'.repeat(LIMITS.factKey + 1), value: 'x' })).rejects.toThrow(`key must be at most ${LIMITS.factKey} characters`);
    await expect(t.call(OWNER, 'team_memory', { action: 'fact_save', key: 'k', value: 'x'.repeat(LIMITS.factValue + 1) })).rejects.toThrow(/value must be at most/);
  });
});

describe('documents', () => {
  it('creates, lists by type, gets, updates (version +1) and deletes', async () => {
    const t = await openCore();
    await seedTeam(t);
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'API' });
    const doc = await t.call(agent('loki'), 'team_memory', { action: 'doc_create', team_id: 'engineering', title: 'API Design Document', doc_type: 'deliverable', content: '# API Design\n\n## Endpoints\n...', task_id: task.id });
    expect(doc).toMatchObject({ version: 1, format: 'markdown', author: 'loki', task_id: task.id });
    await t.call(OWNER, 'team_memory', { action: 'doc_create', title: 'Survey', doc_type: 'research', content: 'notes' });
    const research = await t.call(OWNER, 'team_memory', { action: 'doc_list', team_id: 'engineering', doc_type: 'research' });
    expect(research.documents.map((d: any) => d.title)).toEqual(['Survey']);
    expect(research.documents[0]).not.toHaveProperty('content');
    const updated = await t.call(OWNER, 'team_memory', { action: 'doc_update', team_id: 'engineering', doc_id: doc.id, content: '# API Design v2\n...' });
    expect(updated).toMatchObject({ version: 2, content: '# API Design v2\n...' });
    expect((await t.call(OWNER, 'team_memory', { action: 'doc_get', doc_id: doc.id })).version).toBe(2);
    await t.call(OWNER, 'team_memory', { action: 'doc_delete', doc_id: doc.id });
    await expect(t.call(OWNER, 'team_memory', { action: 'doc_get', doc_id: doc.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(t.call(OWNER, 'team_memory', { action: 'doc_create', title: 'x', content: 'y', doc_type: 'memo' })).rejects.toThrow(/doc_type must be one of/);
  });
});

describe('standup', () => {
  it('reports completed today, in progress, blocked with reasons and needs review, as text and data', async () => {
    const t = await openCore();
    await seedTeam(t);
    const make = async (title: string, assignees: string[], path: string[], extra: Record<string, unknown> = {}) => {
      t.clock.advance(1000);
      const task = await t.call(OWNER, 'team_task', { action: 'create', title, assignees });
      for (const status of path) await t.call(OWNER, 'team_task', { action: 'update', task_id: task.id, status, ...(status === 'blocked' ? extra : {}) });
    };
    await make('Implement authentication', ['jarvis'], ['in_progress', 'done']);
    await make('Write API docs', ['loki'], ['in_progress', 'done']);
    await make('Add unit tests', ['jarvis'], ['in_progress']);
    await make('Deploy to staging', [], ['in_progress', 'blocked'], { blocked_reason: 'Waiting for CI credentials' });
    await make('OAuth callback handler', ['loki'], ['in_progress', 'review']);
    const standup = await t.call(OWNER, 'team_memory', { action: 'standup', team_id: 'engineering' });
    expect(standup.blocked).toEqual([{ id: expect.any(String), title: 'Deploy to staging', assignees: [], reason: 'Waiting for CI credentials' }]);
    expect(standup.text).toBe(
      [
        'DAILY STANDUP — Feb 21, 2026',
        '✅ COMPLETED TODAY\n• Implement authentication (by jarvis)\n• Write API docs (by loki)',
        'IN PROGRESS\n• Add unit tests (jarvis)',
        'BLOCKED\n• Deploy to staging — Waiting for CI credentials',
        'NEEDS REVIEW\n• OAuth callback handler',
      ].join('\n\n'),
    );
    t.clock.advance(86_400_000);
    expect((await t.call(OWNER, 'team_memory', { action: 'standup' })).completed_today).toEqual([]);
  });
});
