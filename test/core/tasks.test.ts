import { describe, expect, it } from 'vitest';
import { TASK_STATUSES } from '../../src/core/fields.js';
import { allowedTransitions, assertTransition } from '../../src/core/workflow.js';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

describe('task workflow', () => {
  const table: [string, string[]][] = [
    ['inbox', ['assigned', 'in_progress', 'blocked', 'cancelled']],
    ['assigned', ['inbox', 'in_progress', 'blocked', 'cancelled']],
    ['in_progress', ['assigned', 'review', 'done', 'blocked', 'cancelled']],
    ['review', ['in_progress', 'done', 'blocked', 'cancelled']],
    ['done', []],
    ['cancelled', []],
  ];
  it.each(table)('from %s allows exactly %j', (from, allowed) => {
    expect(allowedTransitions({ id: 't', status: from, blocked_from: '' }).sort()).toEqual([...allowed].sort());
    for (const to of TASK_STATUSES.filter((s) => !allowed.includes(s))) {
      expect(() => assertTransition({ id: 't', status: from, blocked_from: '' }, to)).toThrow(new RegExp(`from '${from}' to '${to}'`));
    }
  });

  it('returns a blocked task to where it was, and requires review once a reviewer is set', () => {
    expect(allowedTransitions({ id: 't', status: 'blocked', blocked_from: 'review' })).toEqual(['review', 'cancelled']);
    expect(() => assertTransition({ id: 't', status: 'in_progress', blocked_from: '', reviewer: 'loki' }, 'done')).toThrow(/reviewer 'loki'.*review first/);
  });
});

describe('tasks', () => {
  it('creates with defaults: 8-char id, priority 3, created_by the caller, assigned when it has assignees', async () => {
    const t = await openCore();
    await seedTeam(t);
    const task = await t.call(agent('jarvis'), 'team_task', {
      action: 'create', team_id: 'engineering', title: 'Implement authentication',
      description: 'Add OAuth2 support with Google and GitHub providers', assignees: ['jarvis', 'loki'], labels: ['auth', 'backend'],
    });
    expect(task).toMatchObject({ status: 'assigned', priority: 3, created_by: 'jarvis', assignees: ['jarvis', 'loki'], labels: ['auth', 'backend'], completed_at: '', blocked_reason: '' });
    expect(task.id).toMatch(/^[0-9a-z]{8}$/);
    expect((await t.call(OWNER, 'team_task', { action: 'create', title: 'Triage' })).status).toBe('inbox');
  });

  it('filters by status, assignee (exactly), label and priority, highest priority first', async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Jarvis2' });
    const a = await t.call(OWNER, 'team_task', { action: 'create', title: 'A', assignees: ['jarvis'], priority: 4, labels: ['docs'] });
    const b = await t.call(OWNER, 'team_task', { action: 'create', title: 'B', assignees: ['jarvis2'], priority: 1 });
    const c = await t.call(OWNER, 'team_task', { action: 'create', title: 'C', assignees: ['loki', 'jarvis'], priority: 2, labels: ['docs', 'api'] });
    await t.call(OWNER, 'team_task', { action: 'update', task_id: c.id, status: 'in_progress' });
    const ids = async (args: object) => (await t.call(OWNER, 'team_task', { action: 'list', ...args })).tasks.map((x: any) => x.title);
    expect(await ids({})).toEqual(['B', 'C', 'A']);
    expect(await ids({ assignee_filter: 'jarvis' })).toEqual(['C', 'A']);
    expect(await ids({ status: 'in_progress' })).toEqual(['C']);
    expect(await ids({ label: 'docs' })).toEqual(['C', 'A']);
    expect(await ids({ priority: 1 })).toEqual(['B']);
    expect(await ids({ assignee_filter: 'loki', label: 'api' })).toEqual(['C']);
    expect(a.id).not.toBe(b.id);
  });

  it("pages a label's tasks in list order, following changes of priority and of labels", async () => {
    const t = await openCore();
    await seedTeam(t);
    const create = async (title: string, priority: number, labels: string[]) => (await t.call(OWNER, 'team_task', { action: 'create', title, priority, labels })).id as string;
    const ids: Record<string, string> = {};
    for (const [title, priority, labels] of [['P3 first', 3, ['docs']], ['P1', 1, ['docs', 'api']], ['unlabelled', 1, []], ['P3 second', 3, ['docs']], ['api only', 2, ['api']], ['P5', 5, ['docs']]] as const) {
      ids[title] = await create(title, priority, [...labels]);
      t.clock.advance(1000);
    }
    const pages = async (args: object) => {
      const titles: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await t.call(OWNER, 'team_task', { action: 'list', label: 'docs', limit: 2, ...args, ...(cursor ? { cursor } : {}) });
        titles.push(page.tasks.map((x: any) => x.title));
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      return titles;
    };
    expect(await pages({})).toEqual([['P1', 'P3 first'], ['P3 second', 'P5']]);
    await t.call(OWNER, 'team_task', { action: 'update', task_id: ids['P5'], priority: 2 });
    await t.call(OWNER, 'team_task', { action: 'update', task_id: ids['P3 first'], labels: ['api'] });
    await t.call(OWNER, 'team_task', { action: 'update', task_id: ids['api only'], labels: ['docs'] });
    expect(await pages({})).toEqual([['P1', 'api only'], ['P5', 'P3 second']]);
    expect(await pages({ priority: 2 })).toEqual([['api only', 'P5']]);
    await t.call(OWNER, 'team_task', { action: 'update', task_id: ids['P1'], status: 'in_progress' });
    expect(await pages({ status: 'in_progress' })).toEqual([['P1']]);
    expect((await t.call(OWNER, 'team_task', { action: 'list', label: 'api' })).tasks.map((x: any) => x.title)).toEqual(['P1', 'P3 first']);
  });

  it('refuses text holding a NUL as invalid, naming the field, and stores nothing, on either database', async () => {
    const t = await openCore();
    await seedTeam(t);
    const before = await t.store.db.selectFrom('team_events').select('id').execute();
    const refused = [
      ['team_task', { action: 'create', title: 'a\u0000b' }, 'title'],
      ['team_task', { action: 'create', title: 'ok', labels: ['fine', 'nul\u0000'] }, 'labels.1'],
      ['team_comm', { action: 'send_message', to_agent: 'loki', content: 'hi \u0000 there' }, 'content'],
      ['team_memory', { action: 'fact_save', key: 'k', value: 'v\u0000' }, 'value'],
      ['team_manage', { action: 'role_create', name: 'nul', prefers: ['bug\u0000'] }, 'prefers.0'],
    ] as const;
    for (const [tool, args, field] of refused) {
      await expect(t.call(agent('jarvis'), tool, args), `${tool} ${field}`).rejects.toMatchObject({
        code: 'VALIDATION',
        details: { field },
        message: expect.stringContaining(`${field} is not valid text: it holds a NUL character (U+0000)`),
      });
    }
    expect(await t.store.db.selectFrom('team_events').select('id').execute()).toEqual(before);
    expect(await t.store.db.selectFrom('team_tasks').select('id').where('title', 'like', '%ok%').execute()).toEqual([]);
  });

  it('follows the seed example: in_progress → done sets completed_at', async () => {
    const t = await openCore();
    await seedTeam(t);
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Implement authentication', assignees: ['jarvis', 'loki'] });
    expect((await t.call(OWNER, 'team_task', { action: 'update', team_id: 'engineering', task_id: task.id, status: 'in_progress' })).status).toBe('in_progress');
    t.clock.advance(60_000);
    const done = await t.call(OWNER, 'team_task', { action: 'update', team_id: 'engineering', task_id: task.id, status: 'done' });
    expect(done).toMatchObject({ status: 'done', completed_at: '2026-02-21T10:01:00.000Z' });
    await expect(t.call(OWNER, 'team_task', { action: 'update', task_id: task.id, status: 'in_progress' })).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
      message: expect.stringMatching(/cannot go from 'done' to 'in_progress'/),
    });
  });

  it('blocks with a reason and returns to the state it was blocked in', async () => {
    const t = await openCore();
    await seedTeam(t);
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Deploy to staging', assignees: ['loki'] });
    await t.call(OWNER, 'team_task', { action: 'update', task_id: task.id, status: 'in_progress' });
    const blocked = await t.call(OWNER, 'team_task', { action: 'update', task_id: task.id, status: 'blocked', blocked_reason: 'Waiting for CI credentials' });
    expect(blocked).toMatchObject({ status: 'blocked', blocked_reason: 'Waiting for CI credentials' });
    await expect(t.call(OWNER, 'team_task', { action: 'update', task_id: task.id, status: 'review' })).rejects.toThrow(/returns to 'in_progress'/);
    const back = await t.call(OWNER, 'team_task', { action: 'update', task_id: task.id, status: 'in_progress' });
    expect(back).toMatchObject({ status: 'in_progress', blocked_reason: '' });
    expect((await t.call(OWNER, 'team_task', { action: 'update', task_id: task.id, status: 'cancelled' })).status).toBe('cancelled');
  });

  it('assigns (replacing assignees), refusing agents outside the team, and deletes', async () => {
    const t = await openCore();
    await seedTeam(t);
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Write docs' });
    await expect(t.call(OWNER, 'team_task', { action: 'assign', task_id: task.id, assignees: ['loki', 'nobody'] })).rejects.toThrow(/assignees: names no agent of this team: nobody/);
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: task.id })).assignees).toEqual([]);
    const assigned = await t.call(OWNER, 'team_task', { action: 'assign', task_id: task.id, assignees: ['Loki'] });
    expect(assigned).toMatchObject({ status: 'assigned', assignees: ['loki'] });
    await expect(t.call(OWNER, 'team_task', { action: 'update', task_id: task.id, status: 'done' })).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    await t.call(OWNER, 'team_task', { action: 'delete', task_id: task.id });
    await expect(t.call(OWNER, 'team_task', { action: 'get', task_id: task.id })).rejects.toThrow(/task '.*' not found/);
  });

  it('records every change in the append-only event log with the seed activity types', async () => {
    const t = await openCore();
    await seedTeam(t);
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'x', assignees: ['loki'] });
    await t.call(OWNER, 'team_task', { action: 'update', task_id: task.id, status: 'in_progress' });
    const events = await t.store.db.selectFrom('team_events').select(['type', 'related_id', 'agent_id']).where('related_id', '=', task.id).orderBy('seq').execute();
    expect(events.map((e) => e.type)).toEqual(['task_created', 'subscribed', 'task_assigned', 'task_updated']);
    expect(events.every((e) => e.agent_id === 'ana')).toBe(true);
  });
});
