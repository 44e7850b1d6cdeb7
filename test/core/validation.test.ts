import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/core/catalog.js';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

/** Every bad call gets one sentence naming the field and what was expected, and changes nothing. */
describe('validation errors', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['team_task', {}, /^team_task: action is required: one of "create", "list"/],
    ['team_task', { action: 'lst' }, /action must be one of .* \(got "lst"\)/],
    ['team_task', { action: 'create' }, /team_task\(action='create'\): title is required \(string\)/],
    ['team_task', { action: 'create', title: '' }, /title must not be empty/],
    ['team_task', { action: 'create', title: 'x', priority: 9 }, /priority must be at most 5/],
    ['team_task', { action: 'create', title: 'x', priority: '2' }, /priority must be a number/],
    ['team_task', { action: 'create', title: 'x', assignees: 'loki' }, /assignees must be an array/],
    ['team_task', { action: 'create', title: 'x', asignees: ['loki'] }, /'asignees' is not a parameter of this action/],
    ['team_task', { action: 'list', status: 'doing' }, /status must be one of "inbox", "assigned"/],
    ['team_task', { action: 'update', task_id: 'abc' }, /task 'abc' not found/],
    ['team_comm', { action: 'comment', task_id: 'abc' }, /content is required/],
    ['team_comm', { action: 'notify', type: 'task_completed', message: 'x', priority: 0 }, /priority must be at least 1/],
    ['team_memory', { action: 'standup', date: 'yesterday' }, /date must be a date YYYY-MM-DD|date is invalid/],
    ['team_agent', { action: 'create', name: 'x'.repeat(101) }, /name must be at most 100 characters/],
    ['team_manage', { action: 'create', name: 'A', enabled: 'yes' }, /enabled must be a boolean/],
    ['team_fly', { action: 'x' }, /unknown tool 'team_fly'/],
  ];
  it.each(cases)('%s %j', async (tool, args, message) => {
    const t = await openCore();
    await seedTeam(t);
    const before = await t.store.db.selectFrom('team_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    await expect(t.call(OWNER, tool, args)).rejects.toThrow(message);
    const after = await t.store.db.selectFrom('team_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });

  it('rolls back everything a failing write did', async () => {
    const t = await openCore();
    await seedTeam(t);
    const dump = async () => ({
      tasks: await t.store.db.selectFrom('team_tasks').selectAll().execute(),
      labels: await t.store.db.selectFrom('team_task_labels').selectAll().execute(),
      events: await t.store.db.selectFrom('team_events').selectAll().execute(),
    });
    // SQLite's count of rows changed on this connection, rolled back or not: proof that the call wrote first.
    const changes = async () => Number((await sql<{ n: number }>`select total_changes() as n`.execute(t.store.db)).rows[0]!.n);
    const before = await dump();
    const changesBefore = await changes();
    // create inserts the task and its labels, then finds that blocked_by names no task
    await expect(t.call(OWNER, 'team_task', { action: 'create', title: 'half made', labels: ['a', 'b'], blocked_by: ['ghost'] })).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringMatching(/blocked_by: names no task of this team: ghost/),
    });
    expect(await changes()).toBeGreaterThanOrEqual(changesBefore + 3);
    expect(await dump()).toEqual(before);
  });
});

describe('what no action accepts', () => {
  const sample = (def: (typeof ACTIONS)[number]) => ({ action: def.action });

  it.each(ACTIONS.map((def) => [`${def.tool}.${def.action}`, def] as const))('%s refuses an unknown top-level key, __proto__ included', async (_name, def) => {
    const t = await openCore();
    await seedTeam(t);
    await expect(t.call(OWNER, def.tool, { ...sample(def), surprise: 1 })).rejects.toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/'surprise' is not a parameter/) });
    const polluted = JSON.parse(`{"action":"${def.action}","__proto__":{"admin":true}}`) as Record<string, unknown>;
    await expect(t.call(OWNER, def.tool, polluted)).rejects.toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/'__proto__' is not a parameter/) });
  });

  it('refuses text holding a lone surrogate or a NUL as invalid, naming the field, and stores nothing', async () => {
    const t = await openCore();
    await seedTeam(t);
    const events = await t.store.db.selectFrom('team_events').select('id').execute();
    await expect(t.call(agent('jarvis'), 'team_task', { action: 'create', title: 'broken \ud800 text' })).rejects.toMatchObject({
      code: 'VALIDATION',
      details: { field: 'title' },
      message: expect.stringMatching(/title is not valid text: it holds a lone UTF-16 surrogate/),
    });
    await expect(t.call(agent('jarvis'), 'team_task', { action: 'create', title: 'ok', labels: ['fine', 'bad\udfff'] })).rejects.toMatchObject({ details: { field: 'labels.1' } });
    await expect(t.call(agent('jarvis'), 'team_task', { action: 'create', title: 'ok', description: 'nul \u0000 inside' })).rejects.toMatchObject({
      code: 'VALIDATION',
      details: { field: 'description' },
      message: expect.stringMatching(/description is not valid text: it holds a NUL character \(U\+0000\)/),
    });
    expect(await t.store.db.selectFrom('team_events').select('id').execute()).toEqual(events);
    // a whole character outside the BMP is two surrogates together: valid
    expect((await t.call(agent('jarvis'), 'team_task', { action: 'create', title: 'rocket \ud83d\ude80' })).title).toBe('rocket 🚀');
  });
});
