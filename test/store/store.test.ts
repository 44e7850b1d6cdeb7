import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION } from '../../src/store/migrate.js';
import { Store } from '../../src/store/store.js';
import { OWNER, TEST_DIALECT, agent, openCore, seedTeam, tempDbPath } from '../helpers.js';

/**
 * The store conformance suite, run by both vitest projects: SQLite on a real file, PostgreSQL on a fresh schema of
 * TEAM_TABLE_TEST_PG (tempDbPath gives whichever the project tests).
 */
const dialects = [{ name: TEST_DIALECT, location: () => tempDbPath() }];

const at = '2026-01-01T00:00:00.000Z';
const webhook = { type: 'webhook', url: 'http://127.0.0.1:9/hook' };

/** A team, a rule sending its task_failed notifications to `webhook`, and one such notification, as before an upgrade. */
async function insertRuleAndNotification(store: Store): Promise<void> {
  await store.db.insertInto('teams').values({ id: 'aaaa1111', name: 'Engineering', slug: 'engineering', description: '', owner_jid: 'ana', default_model: '', workspace_path: '', created_at: at, enabled: 1 } as never).execute();
  await store.db.insertInto('notification_rules').values({ id: 'rule1111', team_id: 'aaaa1111', name: 'hook', enabled: 1, events: '["task_failed"]', conditions: '{}', destinations: JSON.stringify([webhook]), template: '', priority: 5, rate_limit: 0, quiet_hours: '', created_by: 'ana', created_at: at, updated_at: at }).execute();
  await store.db.insertInto('team_notifications').values({ id: '0000old0000note1', team_id: 'aaaa1111', type: 'task_failed', message: 'before', task_id: '', priority: 3, agent_id: 'ana', to_agent: '', created_at: at, read_at: '', origin: 'agent' }).execute();
}

describe.each(dialects)('store on $name', ({ location }) => {
  it('migrates a new database to the latest schema version, once', async () => {
    const path = location();
    const store = await Store.open(path);
    const versions = await store.db.selectFrom('schema_version').select('version').orderBy('version').execute();
    expect(versions.map((v) => v.version)).toEqual(Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
    await store.close();
    const again = await Store.open(path);
    expect(await again.db.selectFrom('schema_version').selectAll().execute()).toHaveLength(LATEST_SCHEMA_VERSION);
    await again.close();
  });

  it('opens a database created by migration 1 with the latest code, keeping its data', async () => {
    // Rows as team-table at schema version 1 wrote them.
    const path = location();
    const v1 = await Store.open(path, { schemaVersion: 1 });
    await v1.db.insertInto('teams').values({ id: 'aaaa1111', name: 'Engineering', slug: 'engineering', description: '', owner_jid: 'ana', default_model: '', workspace_path: '', created_at: at, enabled: 1 } as never).execute();
    for (const id of ['jarvis', 'loki']) {
      await v1.db.insertInto('persistent_agents').values({ id, name: id, role: '', team_id: 'aaaa1111', level: 'mid', status: 'idle', personality: '', instructions: '', model: '', skills: '[]', heartbeat_schedule: '*/15 * * * *', current_task_id: '', created_at: at, last_active_at: '', last_heartbeat_at: '' }).execute();
    }
    await v1.db.insertInto('team_tasks').values({ id: 'bbbb2222', team_id: 'aaaa1111', title: 'Survives the upgrade', description: '', status: 'assigned', priority: 2, created_by: 'ana', created_at: at, updated_at: at, completed_at: '', blocked_reason: '', blocked_from: '' } as never).execute();
    await v1.db.insertInto('team_task_assignees').values({ task_id: 'bbbb2222', agent_id: 'loki', position: 0 }).execute();
    await v1.db.insertInto('team_facts').values({ id: 'cccc3333', team_id: 'aaaa1111', key: 'api_version', value: 'v1', author: 'ana', created_at: at, updated_at: at } as never).execute();
    await v1.db.insertInto('team_pending_messages').values({ id: 'dddd4444', team_id: 'aaaa1111', message_id: '', to_agent: 'loki', from_agent: 'jarvis', from_user: '', content: 'seen already', thread_id: '', reason: 'direct', created_at: at, delivered: 1, delivered_at: at } as never).execute();
    await v1.close();

    const upgraded = await openCore({ path });
    expect(await upgraded.call(agent('loki'), 'team_comm', { action: 'inbox' })).toMatchObject({ unread_count: 0, messages: [{ content: 'seen already', read: true }] });
    expect(await upgraded.call(OWNER, 'team_task', { action: 'get', task_id: 'bbbb2222' })).toMatchObject({ title: 'Survives the upgrade', assignees: ['loki'], version: 1, reviewer: '' });
    expect((await upgraded.call(OWNER, 'team_memory', { action: 'fact_list' })).facts).toMatchObject([{ key: 'api_version', value: 'v1' }]);
    // and the upgraded rows take part in what later migrations added
    expect(await upgraded.call(agent('loki'), 'team_task', { action: 'claim', task_id: 'bbbb2222' })).toMatchObject({ status: 'in_progress', claimed_by: 'loki', version: 2 });
    const max = await upgraded.store.db.selectFrom('schema_version').select(sql<number>`max(version)`.as('v')).executeTakeFirstOrThrow();
    expect(max.v).toBe(LATEST_SCHEMA_VERSION);
  });

  it('upgrades to schema 17: deliveries keyed by notification, those made before found by their id; a new delivery id names its notification', async () => {
    // A rule, a notification and its failed delivery as team-table at schema version 16 kept them.
    const path = location();
    const v16 = await Store.open(path, { schemaVersion: 16 });
    await insertRuleAndNotification(v16);
    const payload = JSON.stringify({ notification: { id: '0000old0000note1', type: 'task_failed' }, text: 'before', rule: { id: 'rule1111', name: 'hook' } });
    await v16.db.insertInto('notification_deliveries').values({ id: '0000old0000deli1', notification_id: '0000old0000note1', team_id: 'aaaa1111', rule_id: 'rule1111', destination: JSON.stringify(webhook), payload, state: 'failed', attempts: 3, last_error: '404', next_attempt_at: at, counted: 1, created_at: at, updated_at: at, sent_at: '' }).execute();
    await v16.close();

    const reports: string[] = [];
    const t = await openCore({ path, progress: (step) => reports.push(step) });
    expect(reports).toEqual([
      expect.stringMatching(/^keying by notification, 1 rows of notification_deliveries/),
      'deliveries keyed by notification',
      expect.stringMatching(/^leaving fresh deliveries out of the indexes of 1 rows of notification_deliveries/),
      'fresh deliveries left out of the indexes',
    ]);
    // The delivery kept its id, which does not name its notification, and is still found by it.
    expect((await t.call(OWNER, 'team_comm', { action: 'notify_list', team_id: 'aaaa1111' })).notifications).toMatchObject([{ id: '0000old0000note1', deliveries: [{ id: '0000old0000deli1', state: 'failed' }] }]);
    expect(await t.call(OWNER, 'team_comm', { action: 'notify_retry', team_id: 'aaaa1111', delivery_id: '0000old0000deli1' })).toMatchObject({ retried: ['0000old0000deli1'] });
    const sent = await t.call(OWNER, 'team_comm', { action: 'notify', team_id: 'aaaa1111', type: 'task_failed', message: 'down' });
    expect(sent.deliveries.map((d: { id: string }) => d.id)).toEqual([`${sent.id}.0`]);
    await t.store.db.updateTable('notification_deliveries').set({ state: 'failed' }).execute();
    expect(await t.call(OWNER, 'team_comm', { action: 'notify_retry', team_id: 'aaaa1111', delivery_id: `${sent.id}.0` })).toMatchObject({ retried: [`${sent.id}.0`] });
    // Deleting a notification deletes its deliveries (the key serves the cascade).
    await t.store.db.deleteFrom('team_notifications').where('id', 'in', ['0000old0000note1', sent.id]).execute();
    expect(await t.store.db.selectFrom('notification_deliveries').select('id').execute()).toEqual([]);
  });

  it("upgrades to schema 19: a delivery made before stays in the indexes; a new one is found, and counted, through its notification's event", async () => {
    // A pending delivery as team-table at schema version 17 kept it, with its notification's event.
    const path = location();
    const v17 = await Store.open(path, { schemaVersion: 17 });
    await insertRuleAndNotification(v17);
    const payload = JSON.stringify({ text: 'before', rule_name: 'hook', team_name: 'Engineering', task_title: '' });
    await v17.db.insertInto('notification_deliveries').values({ id: '0000old0000note1.0', notification_id: '0000old0000note1', team_id: 'aaaa1111', rule_id: 'rule1111', destination: JSON.stringify(webhook), payload, state: 'pending', attempts: 0, last_error: '', next_attempt_at: at, counted: 1, created_at: at, updated_at: at, sent_at: '' } as never).execute();
    await v17.db.insertInto('team_events').values({ id: 'event0001', team_id: 'aaaa1111', type: 'notification_sent', agent_id: 'ana', message: '', related_id: '0000old0000note1', data: '{}', created_at: at }).execute();
    await v17.close();

    const t = await openCore({ path });
    const head = await t.store.feed.head();
    expect(await t.store.db.selectFrom('runner_cursors').select('seq').where('name', '=', 'notification-sender').executeTakeFirst()).toEqual({ seq: head });
    expect(await t.store.db.selectFrom('notification_deliveries').select(['id', 'fresh']).execute()).toEqual([{ id: '0000old0000note1.0', fresh: 0 }]);
    // The sender takes the old delivery off the index, though its event is behind the cursor.
    expect((await t.core.outbox.claimDue('a-sender', 10)).deliveries.map((d) => d.id)).toEqual(['0000old0000note1.0']);
    const sent = await t.call(OWNER, 'team_comm', { action: 'notify', team_id: 'aaaa1111', type: 'task_failed', message: 'down' });
    expect(await t.store.db.selectFrom('notification_deliveries').select('fresh').where('notification_id', '=', sent.id).execute()).toEqual([{ fresh: 1 }]);
    expect((await t.core.outbox.claimDue('a-sender', 10)).deliveries.map((d) => d.id)).toEqual([`${sent.id}.0`]);
    // Taken, it is in the index under its lease, and the cursor is past its event.
    expect(await t.store.db.selectFrom('notification_deliveries').select(['fresh', 'lease_holder']).where('notification_id', '=', sent.id).execute()).toEqual([{ fresh: 0, lease_holder: 'a-sender' }]);
    expect(await t.store.db.selectFrom('runner_cursors').select('seq').where('name', '=', 'notification-sender').executeTakeFirst()).toEqual({ seq: await t.store.feed.head() });
    // The rule's count has both, through deliveries_by_rule; a third, fresh, through the log.
    await t.call(OWNER, 'team_comm', { action: 'notify', team_id: 'aaaa1111', type: 'task_failed', message: 'again' });
    expect((await t.call(OWNER, 'team_manage', { action: 'notify_rule_list', team_id: 'aaaa1111' })).rules).toMatchObject([{ id: 'rule1111', notifications: { pending: 3 } }]);
  });

  it("upgrades to schema 14 with its reads right: labels in list order, no deleted mail, each copy its message's task, read state kept", async () => {
    // Rows as team-table at schema version 13 wrote them.
    const path = location();
    const v13 = await Store.open(path, { schemaVersion: 13 });
    const at = (minute: number) => `2026-01-01T00:0${minute}:00.000Z`;
    await v13.db.insertInto('teams').values({ id: 'aaaa1111', name: 'Engineering', slug: 'engineering', description: '', owner_jid: 'ana', default_model: '', workspace_path: '', created_at: at(0), enabled: 1 } as never).execute();
    for (const id of ['jarvis', 'loki']) {
      await v13.db.insertInto('persistent_agents').values({ id, name: id, role: '', team_id: 'aaaa1111', level: 'mid', status: 'idle', personality: '', instructions: '', model: '', skills: '[]', heartbeat_schedule: '*/15 * * * *', current_task_id: '', created_at: at(0), last_active_at: '', last_heartbeat_at: '' } as never).execute();
    }
    for (const [id, priority, minute] of [['bbbb2222', 3, 1], ['cccc3333', 1, 2], ['dddd4444', 1, 3]] as const) {
      await v13.db.insertInto('team_tasks').values({ id, team_id: 'aaaa1111', title: id, description: '', status: 'inbox', priority, created_by: 'ana', created_at: at(minute), updated_at: at(minute), completed_at: '', blocked_reason: '', blocked_from: '' } as never).execute();
    }
    for (const task_id of ['bbbb2222', 'dddd4444']) await v13.db.insertInto('team_task_labels').values({ task_id, label: 'docs' } as never).execute();
    for (const [id, deleted_at, task_id] of [['eeee5555', at(4), ''], ['ffff6666', '', 'dddd4444'], ['iiii9999', '', '']]) {
      await v13.db.insertInto('team_messages').values({ id, team_id: 'aaaa1111', thread_id: '', from_agent: 'jarvis', from_user: '', to_agent: 'loki', content: id, mentions: '[]', created_at: at(4), delivered: 0, task_id, deleted_at } as never).execute();
      await v13.db.insertInto('team_pending_messages').values({ id: `${id}copy`, team_id: 'aaaa1111', message_id: id, to_agent: 'loki', from_agent: 'jarvis', from_user: '', content: id, thread_id: '', reason: 'direct', created_at: at(4) } as never).execute();
    }
    // A notification's copy: no message behind it, its task in thread_id.
    await v13.db.insertInto('team_pending_messages').values({ id: 'jjjj0000', team_id: 'aaaa1111', message_id: '', to_agent: 'loki', from_agent: 'jarvis', from_user: '', content: '[task_blocked] waiting', thread_id: 'bbbb2222', reason: 'notification', created_at: at(5) } as never).execute();
    for (const id of ['gggg7777', 'hhhh8888']) {
      await v13.db.insertInto('team_notifications').values({ id, team_id: 'aaaa1111', type: 'info', message: id, to_agent: '', created_at: at(5) } as never).execute();
    }
    await v13.db.insertInto('team_notification_reads').values({ notification_id: 'gggg7777', reader: 'agent:loki', read_at: at(6) }).execute();
    await v13.close();

    const upgraded = await openCore({ path });
    const docs = await upgraded.call(OWNER, 'team_task', { action: 'list', label: 'docs', limit: 1 });
    expect(docs.tasks.map((t: any) => t.id)).toEqual(['dddd4444']);
    expect((await upgraded.call(OWNER, 'team_task', { action: 'list', label: 'docs', cursor: docs.next_cursor })).tasks.map((t: any) => t.id)).toEqual(['bbbb2222']);
    const mail = await upgraded.call(agent('loki'), 'team_comm', { action: 'inbox' });
    expect(mail.unread_count).toBe(3);
    expect(mail.messages.map((m: any) => [m.content, m.task_id])).toEqual([
      ['[task_blocked] waiting', 'bbbb2222'],
      ['iiii9999', ''],
      ['ffff6666', 'dddd4444'],
    ]);
    expect(await upgraded.call(agent('loki'), 'team_comm', { action: 'notify_list', unread_only: true })).toMatchObject({ notifications: [{ id: 'hhhh8888' }], unread_remaining: 0 });
  });

  it('refuses, clearly, a database written by a newer team-table', async () => {
    const path = location();
    const store = await Store.open(path);
    await store.db.insertInto('schema_version').values({ version: LATEST_SCHEMA_VERSION + 1, applied_at: 'later' }).execute();
    await store.close();
    await expect(Store.open(path)).rejects.toMatchObject({ code: 'SCHEMA_TOO_NEW', message: expect.stringMatching(/newer than this team-table understands.*upgrade team-table/) });
  });

  it('keeps the event log append-only in the database itself, even against raw SQL', async () => {
    const t = await openCore();
    await seedTeam(t);
    const before = await t.store.db.selectFrom('team_events').selectAll().orderBy('seq').execute();
    expect(before.length).toBeGreaterThan(0);
    await expect(sql`update team_events set message = 'rewritten'`.execute(t.store.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from team_events`.execute(t.store.db)).rejects.toThrow(/append-only/);
    expect(await t.store.db.selectFrom('team_events').selectAll().orderBy('seq').execute()).toEqual(before);
    // a global, increasing sequence
    expect(before.map((e) => e.seq)).toEqual([...before.map((e) => e.seq)].sort((a, b) => a - b));
  });

  it.runIf(TEST_DIALECT === 'sqlite')('runs with WAL, foreign keys and a busy timeout', async () => {
    const t = await openCore();
    const pragma = async (name: string) => Object.values((await sql.raw(`pragma ${name}`).execute(t.store.db)).rows[0] as object)[0];
    expect(await pragma('journal_mode')).toBe('wal');
    expect(await pragma('foreign_keys')).toBe(1);
    expect(Number(await pragma('busy_timeout'))).toBeGreaterThanOrEqual(5000);
  });
});
