import { describe, expect, it } from 'vitest';
import { OWNER, openCore, seedTeam } from '../helpers.js';

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
    // the assignee check runs after nothing is written; force a failure after writes instead: a clash on create
    const before = await t.store.db.selectFrom('team_tasks').selectAll().execute();
    await expect(t.call(OWNER, 'team_task', { action: 'create', title: 'x', assignees: ['ghost'] })).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(await t.store.db.selectFrom('team_tasks').selectAll().execute()).toEqual(before);
  });
});
