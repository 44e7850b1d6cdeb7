import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { scaleIndexes } from '../../src/store/migrations/011_scale_indexes.js';
import { OWNER, agent, openCore, openOlderCore, seedTeam } from '../helpers.js';

const CAP = 1_000;

describe('counts that grow with history are capped', () => {
  it('inbox and mention_check count unread mail up to 1000 and say so, and exactly again once under it', async () => {
    const t = await openCore();
    await seedTeam(t);
    for (let i = 0; i < CAP + 3; i++) await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: `note ${i}` });

    const inbox = await t.call(agent('loki'), 'team_comm', { action: 'inbox', limit: 5 });
    expect(inbox).toMatchObject({ count: 5, unread_count: CAP, unread_count_capped: true });
    const first = await t.call(agent('loki'), 'team_comm', { action: 'mention_check', limit: 1 });
    expect(first).toMatchObject({ count: 1, remaining: CAP, remaining_capped: true, truncated: true });

    // Reading a few brings the count under the cap: exact again.
    const oldest = (await t.call(agent('loki'), 'team_comm', { action: 'mention_check', ack: first.ack_cursor, limit: 10 })) as { messages: { id: string }[] };
    expect(oldest).toMatchObject({ acknowledged: 1, count: 10, remaining: CAP + 3 - 11, remaining_capped: false });
    await t.call(agent('loki'), 'team_comm', { action: 'mark_read', message_ids: oldest.messages.map((m) => m.id) });
    expect(await t.call(agent('loki'), 'team_comm', { action: 'inbox', limit: 1 })).toMatchObject({ unread_count: CAP + 3 - 11, unread_count_capped: false });
    // The reader with an empty mailbox sees zero, not capped.
    expect(await t.call(agent('jarvis'), 'team_comm', { action: 'inbox' })).toMatchObject({ unread_count: 0, unread_count_capped: false });
  });

  it('notify_list counts unread notifications up to 1000 and says so', async () => {
    const t = await openCore();
    await seedTeam(t);
    for (let i = 0; i < CAP + 25; i++) await t.call(OWNER, 'team_comm', { action: 'notify', type: 'task_progress', message: `progress ${i}` });
    const listed = await t.call(agent('loki'), 'team_comm', { action: 'notify_list', limit: 20 });
    expect(listed).toMatchObject({ count: 20, unread_remaining: CAP, unread_remaining_capped: true });
    const more = await t.call(agent('loki'), 'team_comm', { action: 'notify_list', limit: 20, unread_only: true });
    expect(more).toMatchObject({ count: 20, unread_remaining: CAP + 25 - 40, unread_remaining_capped: false });
  });
});

describe('standup stays bounded', () => {
  it('shows at most 50 tasks done that day, counts the rest, and leaves out those done the day before', async () => {
    const t = await openCore();
    await seedTeam(t);
    const finish = async (title: string) => {
      const task = await t.call(OWNER, 'team_task', { action: 'create', title, assignees: ['loki'] });
      await t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, status: 'in_progress' });
      await t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, status: 'done' });
    };
    for (let i = 0; i < 5; i++) await finish(`Yesterday ${i}`);
    t.clock.advance(86_400_000);
    for (let i = 0; i < 53; i++) await finish(`Today ${i}`);
    const working = await t.call(OWNER, 'team_task', { action: 'create', title: 'Still going', assignees: ['jarvis'] });
    await t.call(agent('jarvis'), 'team_task', { action: 'update', task_id: working.id, status: 'in_progress' });

    const standup = await t.call(OWNER, 'team_memory', { action: 'standup' });
    expect(standup.completed_today).toHaveLength(50);
    expect(standup.completed_today.every((i: { title: string }) => i.title.startsWith('Today'))).toBe(true);
    expect(standup).toMatchObject({ truncated: true, more: { completed_today: 3, in_progress: 0, blocked: 0, needs_review: 0 } });
    expect(standup.in_progress).toEqual([{ id: working.id, title: 'Still going', assignees: ['jarvis'] }]);
    expect(standup.text).toContain('• … and 3 more');
    // The day before, from the same database: its five, nothing cut.
    const yesterday = await t.call(OWNER, 'team_memory', { action: 'standup', date: '2026-02-21' });
    expect(yesterday.completed_today.map((i: { title: string }) => i.title).sort()).toEqual(['Yesterday 0', 'Yesterday 1', 'Yesterday 2', 'Yesterday 3', 'Yesterday 4']);
    expect(yesterday.truncated).toBeUndefined();
  });
});

describe('migrations 011, 014 and 016 (indexes for a long history)', () => {
  it('upgrades a database that holds data, reporting progress, and every read answers as before', async () => {
    const old = await openOlderCore(scaleIndexes.version - 1);
    await seedTeam(old);
    for (let i = 0; i < 12; i++) {
      const task = await old.call(OWNER, 'team_task', { action: 'create', title: `Task ${i}`, priority: 1 + (i % 5), assignees: i % 2 ? ['loki'] : [] });
      await old.call(agent('jarvis'), 'team_comm', { action: 'comment', task_id: task.id, content: `About task ${i}, @loki` });
      await old.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: `Direct ${i}`, task_id: task.id });
      old.clock.advance(60_000);
    }
    const reads = async (t: typeof old) => {
      const tasks = await t.call(agent('loki'), 'team_task', { action: 'list', assignee_filter: 'me' });
      const task = await t.call(agent('loki'), 'team_task', { action: 'get', task_id: tasks.tasks[0].id });
      return {
        inbox: await t.call(agent('loki'), 'team_comm', { action: 'inbox', unread_only: true }),
        tasks,
        feed: task.feed,
        audit: await t.call(OWNER, 'team_memory', { action: 'audit', since: '2026-02-21T10:05:00.000Z', limit: 500 }),
        summary: await t.call(agent('loki'), 'team_memory', { action: 'summary', since: '2026-02-21T10:05:00.000Z' }),
        standup: await t.call(OWNER, 'team_memory', { action: 'standup' }),
      };
    };
    const before = await reads(old);
    await old.close();

    const reports: [string, number, number][] = [];
    const t = await openCore({ path: old.path, progress: (step, done, total) => reports.push([step, done, total]) });
    t.clock.time = old.clock.time;
    // Migration 011's steps (later migrations report their own after them).
    const steps = reports.slice(0, reports.findIndex(([step]) => step === 'adding indexes') + 1).filter(([step]) => step.startsWith('adding index'));
    expect(steps.at(0)).toEqual([expect.stringMatching(/^adding index pending_inbox_page to \d+ rows of team_pending_messages$/), 0, expect.any(Number)]);
    expect(steps.at(-1)).toEqual(['adding indexes', steps[0]![2], steps[0]![2]]);
    expect(steps.map(([, done]) => done)).toEqual([...steps.map(([, done]) => done)].sort((a, b) => a - b));
    // Then migration 014's, the same way.
    const flat = reports.slice(reports.findIndex(([step]) => step === 'adding indexes') + 1, reports.findIndex(([step]) => step === 'flat reads') + 1);
    expect(flat.at(0)).toEqual([expect.stringMatching(/^removing deleted messages' mailbox copies, looking through \d+ rows of team_messages$/), 0, expect.any(Number)]);
    expect(flat.map(([step]) => step)).toContainEqual(expect.stringMatching(/^copying each message's task to its mailbox copies, \d+ rows of team_pending_messages \(about \d+ s left\)$/));
    expect(flat.at(-1)).toEqual(['flat reads', flat[0]![2], flat[0]![2]]);
    // Then migration 016's: the tasks done by day indexed without their status.
    const doneByDay = reports.slice(reports.findIndex(([step]) => step === 'flat reads') + 1, reports.findIndex(([step]) => step === 'tasks done by day indexed') + 1);
    expect(doneByDay.at(0)).toEqual([expect.stringMatching(/^indexing the tasks done, by day, of \d+ rows of team_tasks$/), 0, expect.any(Number)]);
    expect(doneByDay.at(-1)).toEqual(['tasks done by day indexed', doneByDay[0]![2], doneByDay[0]![2]]);
    // Then migration 018's: subscriptions and assignees keyed anew, events_by_time gone.
    const fewerTrees = reports.slice(reports.findIndex(([step]) => step === 'tasks done by day indexed') + 1);
    expect(fewerTrees.map(([step]) => step)).toEqual([
      expect.stringMatching(/^keying by thread \d+ rows of team_thread_subscriptions$/),
      expect.stringMatching(/^keying \d+ rows of team_task_assignees \(about \d+ s left\)$/),
      expect.stringMatching(/^dropping events_by_time from \d+ rows of team_events \(about \d+ s left\)$/),
      'fewer trees per write',
    ]);

    const raw = new Database(t.path, { readonly: true });
    const indexes = raw.prepare("select name from sqlite_master where type = 'index'").pluck().all();
    const doneByDayColumns = raw.prepare('select name from pragma_index_info(?) order by seqno').pluck().all('tasks_done_by_day');
    raw.close();
    expect(doneByDayColumns).toEqual(['team_id', 'completed_at']);
    expect(indexes).toEqual(expect.arrayContaining(['pending_unread', 'pending_unacknowledged', 'events_by_type', 'tasks_in_list_order', 'tasks_done_by_day', 'messages_by_task_page']));
    expect(indexes).not.toEqual(expect.arrayContaining(['pending_by_recipient']));
    expect(indexes).not.toContain('pending_inbox');
    expect(indexes).not.toContain('messages_by_task');
    expect(indexes).not.toContain('events_by_time');

    const after = await reads(t);
    expect(after).toEqual(before);
    expect(before.inbox.unread_count).toBe(24);
    expect(before.feed.length).toBeGreaterThan(2);
  });
});
