import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Core } from '../../src/core/core.js';
import { notificationsSchema } from '../../src/core/notificationConfig.js';
import { NotificationSender } from '../../src/outbox/sender.js';
import { verifySignature } from '../../src/outbox/signing.js';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';
import { Receiver } from '../outbox/receiver.js';

const SECRET = 'test-secret-0123456789';

/** A core with the `notifications:` settings given (as the config file would), an injected clock and a sender. */
async function setup(notifications: Record<string, unknown> = {}) {
  const t = await openCore();
  const core = new Core(t.store, { clock: t.clock.now, notifications: notificationsSchema.parse(notifications) });
  const call = (actor: any, tool: string, args: Record<string, unknown>): Promise<any> => core.call(actor, tool, args);
  const team = await seedTeam({ ...t, core, call });
  const receiver = await Receiver.start();
  const sender = new NotificationSender(core, { env: {} });
  const webhook = { type: 'webhook', url: `${receiver.url}/hook`, secret: SECRET };
  const rule = (fields: Record<string, unknown>) => call(OWNER, 'team_manage', { action: 'notify_rule_create', name: 'to the hook', events: ['task_completed', 'task_failed', 'task_blocked', 'task_progress', 'agent_error'], destinations: [webhook], ...fields });
  const notify = (fields: Record<string, unknown> = {}) => call(agent('loki'), 'team_comm', { action: 'notify', type: 'task_failed', message: 'database down', priority: 3, ...fields });
  /** Every notification of the team, newest first, with its deliveries. */
  const listed = async () => (await call(OWNER, 'team_comm', { action: 'notify_list', limit: 100 })).notifications as any[];
  const states = async () => (await listed()).flatMap((n) => n.deliveries.map((d: any) => d.state));
  /** The deliveries of one notification, as notify_list shows them (in the order its rules were made). */
  const deliveries = async (notification: { id: string }): Promise<any[]> => (await listed()).find((n) => n.id === notification.id)!.deliveries;
  return { ...t, core, call, team, receiver, sender, webhook, rule, notify, listed, states, deliveries };
}

describe('notification rules', () => {
  it("keep every field of the seed's table, and are listed, changed and deleted", async () => {
    const t = await setup();
    const created = await t.rule({
      name: 'Critical Alerts',
      events: ['task_failed', 'agent_error'],
      conditions: { agent_id: 'loki', labels: ['prod'] },
      template: '{{ type | upcase }}: {{ message }}',
      priority: 2,
      rate_limit: 20,
      quiet_hours: { enabled: true, start: '22:00', end: '08:00', timezone: 'America/Sao_Paulo', days: [1, 2, 3, 4, 5] },
    });
    expect(created).toMatchObject({
      team_id: t.team.id,
      name: 'Critical Alerts',
      enabled: true,
      events: ['task_failed', 'agent_error'],
      conditions: { agent_id: 'loki', labels: ['prod'] },
      destinations: [{ type: 'webhook', url: `${t.receiver.url}/…`, secret: '[hidden]' }],
      template: '{{ type | upcase }}: {{ message }}',
      priority: 2,
      rate_limit: 20,
      quiet_hours: { enabled: true, start: '22:00', end: '08:00', timezone: 'America/Sao_Paulo', days: [1, 2, 3, 4, 5] },
      source: 'database',
      dropped: 0,
    });
    expect(created.id).toMatch(/^[a-z0-9]{8}$/);
    const updated = await t.call(OWNER, 'team_manage', { action: 'notify_rule_update', rule_id: created.id, enabled: false, priority: 1, quiet_hours: null });
    expect(updated).toMatchObject({ enabled: false, priority: 1, quiet_hours: null, rate_limit: 20 });
    expect((await t.call(OWNER, 'team_manage', { action: 'notify_rule_list' })).rules).toMatchObject([{ id: created.id, enabled: false }]);
    await t.call(OWNER, 'team_manage', { action: 'notify_rule_delete', rule_id: created.id });
    expect((await t.call(OWNER, 'team_manage', { action: 'notify_rule_list' })).rules).toEqual([]);
    const log = await t.call(OWNER, 'team_memory', { action: 'audit', limit: 500 });
    expect(JSON.stringify(log)).not.toContain(SECRET);
  });

  it('refuses every invalid field by name, and stores nothing', async () => {
    const t = await setup();
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ priority: 0 }, /priority must be at least 1/],
      [{ priority: 6 }, /priority must be at most 5/],
      [{ rate_limit: -1 }, /rate_limit must be at least 0/],
      [{ events: ['task_complete'] }, /events\.0 must be a notification type .* not "task_complete"/],
      [{ events: [] }, /events must have at least 1 items/],
      [{ destinations: [] }, /destinations must have at least 1 items/],
      [{ destinations: [{ type: 'email' }] }, /destinations\.0\.type must be one of/],
      [{ destinations: [{ type: 'webhook', url: 'ftp://x' }] }, /destinations\.0\.url must be an http/],
      [{ destinations: [{ type: 'webhook' }] }, /destinations\.0\.url is required/],
      [{ destinations: [{ type: 'channel', channel: 'slack', url_env: 'not a name' }] }, /destinations\.0\.url_env must be the name of an environment variable/],
      [{ destinations: [{ type: 'inbox', agent_id: 'nobody' }] }, /destinations\.0\.agent_id: names no agent of this team/],
      [{ destinations: [{ type: 'owner' }] }, /destinations\.0\.type: is 'owner', but .*owner_destination/],
      [{ template: 'Hi {{ mesage }}' }, /template refers to \{\{ mesage \}\}, which a notification does not have/],
      [{ template: '{% if %}' }, /template is not a valid template/],
      [{ conditions: { colour: 'red' } }, /conditions has no field 'colour'/],
      [{ conditions: { status: 'finished' } }, /conditions\.status/],
      [{ quiet_hours: { start: '22:00', end: '24:00' } }, /quiet_hours\.end must be a time HH:MM/],
      [{ quiet_hours: { start: '22:00' } }, /quiet_hours\.end is required when quiet hours are enabled/],
      [{ quiet_hours: { start: '22:00', end: '08:00', timezone: 'Mars/Olympus' } }, /quiet_hours\.timezone must be an IANA time zone/],
      [{ quiet_hours: { start: '22:00', end: '08:00', days: [7] } }, /quiet_hours\.days\.0 must be at most 6/],
    ];
    for (const [fields, message] of bad) await expect(t.rule(fields), JSON.stringify(fields)).rejects.toThrow(message);
    expect((await t.call(OWNER, 'team_manage', { action: 'notify_rule_list' })).count).toBe(0);
  });

  it('are managed by the owner and the leads; global rules (team_id "") by the owner alone, and they apply to every team', async () => {
    const t = await setup();
    const args = { action: 'notify_rule_create', name: 'x', events: ['task_failed'], destinations: [t.webhook] };
    await expect(t.call(agent('loki'), 'team_manage', args)).rejects.toThrow(/may not use team_manage\.notify_rule_create: only a lead or the owner/);
    await expect(t.call(agent('jarvis'), 'team_manage', { ...args, team_id: '' })).rejects.toThrow(/global notification rules .* are the owner's/);
    await t.call(agent('jarvis'), 'team_manage', args);
    t.clock.advance(1000);
    const global = await t.call(OWNER, 'team_manage', { ...args, team_id: '', name: 'everywhere' });
    expect(global.team_id).toBe('');
    const listed = await t.call(agent('jarvis'), 'team_manage', { action: 'notify_rule_list' });
    expect(listed.rules.map((r: any) => r.name)).toEqual(['x', 'everywhere']);
    const sent = await t.notify();
    expect(sent.deliveries.map((d: any) => d.rule_id).sort()).toEqual(listed.rules.map((r: any) => r.id).sort());
  });

  it('of the config file are listed with the others and cannot be changed through the tools', async () => {
    const t = await setup({ rules: [{ name: 'Critical Alerts', events: ['task_failed'], destinations: [{ type: 'activity' }], priority: 1 }] });
    const { rules } = await t.call(OWNER, 'team_manage', { action: 'notify_rule_list' });
    expect(rules).toMatchObject([{ id: 'config-critical-alerts', team_id: '', name: 'Critical Alerts', source: 'config', priority: 1 }]);
    await expect(t.call(OWNER, 'team_manage', { action: 'notify_rule_update', rule_id: 'config-critical-alerts', enabled: false })).rejects.toThrow(/comes from the config file/);
  });
});

describe('routing a notification', () => {
  it('writes its deliveries with it, and notify_list shows each one with its state', async () => {
    const t = await setup();
    const rule = await t.rule({ priority: 3 });
    const sent = await t.notify({ priority: 3 });
    expect(sent.deliveries).toEqual([{ id: expect.any(String), rule_id: rule.id, destination: { type: 'webhook' }, state: 'pending' }]);
    const low = await t.notify({ priority: 4, message: 'below the rule' });
    expect(await t.deliveries(low)).toEqual([]);
    expect(await t.deliveries(sent)).toMatchObject([{ id: sent.deliveries[0].id, destination: { type: 'webhook', url: `${t.receiver.url}/…`, secret: '[hidden]' }, state: 'pending', attempts: 0, last_error: '' }]);
    expect(await t.sender.sendDue()).toBe(1);
    expect(await t.deliveries(sent)).toMatchObject([{ state: 'sent', attempts: 1 }]);
    const [request] = t.receiver.requests;
    expect(verifySignature(SECRET, request!.body, request!.headers as Record<string, string>, 300, t.clock.now())).toBe(true);
    expect(JSON.parse(request!.body)).toMatchObject({ delivery_id: sent.deliveries[0].id, text: '[Engineering] task_failed: database down', notification: { type: 'task_failed', message: 'database down', priority: 3, agent_id: 'loki', origin: 'agent', team_name: 'Engineering' }, rule: { id: rule.id, name: 'to the hook' } });
  });

  it("sends the notification as it was routed, its fields from the notification's row; a delivery written with its whole payload (by an earlier version) as written", async () => {
    const t = await setup();
    const rule = await t.rule({});
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Migrate the database' });
    const sent = await t.notify({ task_id: task.id, to_agent: 'jarvis' });
    // What a delivery keeps was taken when it was routed: a later change of the names does not reach it.
    await t.call(OWNER, 'team_task', { action: 'update', task_id: task.id, title: 'Renamed since' });
    await t.call(OWNER, 'team_manage', { action: 'notify_rule_update', rule_id: rule.id, name: 'renamed since' });
    await t.sender.sendDue();
    expect(JSON.parse(t.receiver.requests[0]!.body)).toEqual({
      delivery_id: sent.deliveries[0].id,
      notification: { id: sent.id, team_id: t.team.id, team_name: 'Engineering', type: 'task_failed', message: 'database down', priority: 3, task_id: task.id, task_title: 'Migrate the database', agent_id: 'loki', to_agent: 'jarvis', created_at: sent.created_at, origin: 'agent' },
      text: `[Engineering] task_failed: database down (task ${task.id})`,
      rule: { id: rule.id, name: 'to the hook' },
    });
    const again = await t.notify();
    const whole = { notification: { id: again.id, team_name: 'Engineering (then)', type: 'task_failed', priority: 3 }, text: 'as an older version wrote it', rule: { id: rule.id, name: 'to the hook (then)' } };
    await t.store.db.updateTable('notification_deliveries').set({ payload: JSON.stringify(whole) }).where('notification_id', '=', again.id).execute();
    await t.sender.sendDue();
    expect(JSON.parse(t.receiver.requests[1]!.body)).toEqual({ delivery_id: again.deliveries[0].id, ...whole });
  });

  it('follows the conditions on the notification and its task, and renders the template', async () => {
    const t = await setup();
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Migrate the database', labels: ['prod'] });
    await t.rule({ conditions: { agent_id: 'loki', labels: 'prod' }, template: '{{ agent_id }} on "{{ task_title }}": {{ message | upcase }}' });
    expect((await t.notify({ task_id: task.id })).deliveries).toHaveLength(1);
    expect((await t.notify()).deliveries).toHaveLength(0); // no task, so no label
    expect((await t.call(agent('jarvis'), 'team_comm', { action: 'notify', type: 'task_failed', message: 'x', task_id: task.id })).deliveries).toHaveLength(0);
    await t.sender.sendDue();
    expect(JSON.parse(t.receiver.requests[0]!.body).text).toBe('loki on "Migrate the database": DATABASE DOWN');
  });

  it("is what the table does itself when a task is done or blocked, with the seed's priorities, once per change", async () => {
    const t = await setup();
    await t.rule({ events: ['task_completed', 'task_blocked'] });
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Write the report', assignees: ['loki'] });
    await t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, status: 'in_progress' });
    await t.call(agent('loki'), 'team_task', { action: 'update', task_id: task.id, status: 'done' });
    const other = await t.call(OWNER, 'team_task', { action: 'create', title: 'Deploy', assignees: ['loki'] });
    await t.call(agent('loki'), 'team_task', { action: 'update', task_id: other.id, status: 'blocked', blocked_reason: 'no credentials' });
    const raised = (await t.listed()).filter((n) => n.origin === 'table');
    expect(raised.map((n) => [n.type, n.priority, n.message, n.to_agent]).sort()).toEqual([
      ['task_blocked', 2, "'Deploy' is blocked: no credentials", ''],
      ['task_completed', 3, "'Write the report' is done", ''],
    ]);
    // The blocked-notify workflow rule told the lead too (a task_blocked notification for jarvis): the hook hears once.
    expect((await t.listed()).filter((n) => n.type === 'task_blocked').length).toBeGreaterThan(1);
    expect(await t.sender.sendDue()).toBe(2);
    expect(t.receiver.delivered.map((r) => JSON.parse(r.body).notification.type).sort()).toEqual(['task_blocked', 'task_completed']);
  });

  it("is what the runner raises as agent_error through Core.raiseNotification, with the seed's priority", async () => {
    const t = await setup();
    await t.rule({ priority: 2, conditions: { origin: 'table' } });
    const raised = await t.core.raiseNotification({ team_id: t.team.id, type: 'agent_error', message: 'loki stopped answering', agent_id: 'loki' });
    expect(raised).toMatchObject({ type: 'agent_error', priority: 2, origin: 'table', agent_id: 'loki', deliveries: [{ state: 'pending' }] });
    expect((await t.notify({ type: 'agent_error', priority: 2 })).deliveries).toEqual([]); // origin agent: not this rule's
  });

  it('turns an event of the log that a rule lists into a notification it routes', async () => {
    const t = await setup();
    await t.rule({ events: ['task_created'] });
    await t.call(agent('jarvis'), 'team_task', { action: 'create', title: 'New work' });
    const [routed] = await t.listed();
    expect(routed).toMatchObject({ type: 'task_created', origin: 'event', agent_id: 'jarvis', message: "jarvis created task 'New work'", deliveries: [{ state: 'pending' }] });
  });

  it('delivers to mailboxes (inbox), to the owner line (defaults.owner), and keeps notifications out of the activity feed when told', async () => {
    const t = await setup({ defaults: { activity_feed: false, owner: true }, owner_destination: { type: 'webhook', url: 'http://127.0.0.1:9/owner', secret: SECRET } });
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Ship it', assignees: ['loki'] });
    await t.call(OWNER, 'team_manage', { action: 'notify_rule_create', name: 'mail the assignees', events: ['task_progress'], destinations: [{ type: 'inbox' }] });
    const sent = await t.call(agent('jarvis'), 'team_comm', { action: 'notify', type: 'task_progress', message: 'half way', task_id: task.id });
    expect(sent.deliveries.map((d: any) => [d.destination.type, d.state])).toEqual([
      ['inbox', 'sent'],
      ['owner', 'pending'],
    ]);
    expect((await t.call(agent('loki'), 'team_comm', { action: 'mention_check' })).messages.map((m: any) => m.content)).toEqual(['[task_progress] [Engineering] task_progress: half way (task ' + task.id + ')']);
    expect((await t.call(agent('loki'), 'team_comm', { action: 'inbox' })).messages.map((m: any) => m.task_id)).toEqual([task.id]);
    const summary = await t.call(agent('loki'), 'team_memory', { action: 'summary', since: '2026-01-01' });
    expect(summary.by_type.notification_sent).toBeUndefined();
  });
});

describe('quiet hours (injected clock)', () => {
  const nightInSaoPaulo = { enabled: true, start: '22:00', end: '08:00', timezone: 'America/Sao_Paulo' };

  it('hold what is not urgent across midnight until they end; priority 1 goes through', async () => {
    const t = await setup({ quiet_hours: nightInSaoPaulo });
    await t.rule({});
    t.clock.time = new Date('2026-02-21T01:30:00Z'); // 22:30 the evening before in São Paulo (UTC-3)
    const held = await t.notify({ message: 'overnight' });
    expect(held.deliveries[0].state).toBe('held');
    const urgent = await t.notify({ message: 'urgent', priority: 1 });
    expect(urgent.deliveries[0].state).toBe('pending');
    expect(await t.sender.sendDue()).toBe(1);
    expect(t.receiver.delivered.map((r) => JSON.parse(r.body).notification.message)).toEqual(['urgent']);
    expect((await t.deliveries(held))[0]).toMatchObject({ state: 'held', next_attempt_at: '2026-02-21T11:00:00.000Z' }); // 08:00 local
    t.clock.time = new Date('2026-02-21T10:59:00Z');
    expect(await t.sender.sendDue()).toBe(0);
    t.clock.time = new Date('2026-02-21T11:00:00Z');
    expect(await t.sender.sendDue()).toBe(1);
    expect(t.receiver.delivered.map((r) => JSON.parse(r.body).notification.message)).toEqual(['urgent', 'overnight']);
  });

  it('follow the wall clock of their zone across a daylight-saving change', async () => {
    const t = await setup();
    await t.rule({ quiet_hours: { enabled: true, start: '22:00', end: '02:30', timezone: 'America/New_York' } });
    t.clock.advance(1000);
    await t.rule({ name: 'fall back', quiet_hours: { enabled: true, start: '22:00', end: '07:00', timezone: 'America/New_York' } });
    // 2026-03-08: clocks jump from 02:00 EST to 03:00 EDT, so 02:30 never happens: the night ends at 03:00 EDT.
    t.clock.time = new Date('2026-03-08T06:30:00Z'); // 01:30 EST
    const spring = await t.notify({ message: 'spring' });
    // 2026-11-01: clocks fall back from 02:00 EDT to 01:00 EST; 07:00 that morning is 12:00 UTC, not 11:00.
    t.clock.time = new Date('2026-11-01T10:30:00Z'); // 05:30 EST
    const autumn = await t.notify({ message: 'autumn' });
    // In the order of the rules, as the notify answer lists its deliveries.
    const until = async (n: { id: string; deliveries: { id: string }[] }) => {
      const listed = await t.deliveries(n);
      return n.deliveries.map((d) => listed.find((l: any) => l.id === d.id).next_attempt_at);
    };
    expect(spring.deliveries.map((d: any) => d.state)).toEqual(['held', 'held']);
    expect(await until(spring)).toEqual(['2026-03-08T07:00:00.000Z', '2026-03-08T11:00:00.000Z']);
    expect(await until(autumn)).toEqual(['2026-11-01T10:30:00.000Z', '2026-11-01T12:00:00.000Z']);
    expect(autumn.deliveries.map((d: any) => d.state)).toEqual(['pending', 'held']);
  });

  it("of a rule win over the global ones; days name the day a window starts", async () => {
    const t = await setup({ quiet_hours: { enabled: true, start: '00:00', end: '00:00', timezone: 'UTC' } }); // all day, every day
    await t.rule({ name: 'global quiet' });
    t.clock.advance(1000);
    await t.rule({ name: 'never quiet', quiet_hours: { enabled: false } });
    t.clock.advance(1000);
    await t.rule({ name: 'friday nights', quiet_hours: { start: '22:00', end: '08:00', timezone: 'UTC', days: [5] } });
    t.clock.time = new Date('2026-02-21T07:00:00Z'); // Saturday 07:00: Friday's window
    const saturday = await t.notify();
    t.clock.time = new Date('2026-02-22T07:00:00Z'); // Sunday 07:00: Saturday started no window
    const sunday = await t.notify();
    expect(saturday.deliveries.map((d: any) => d.state)).toEqual(['held', 'pending', 'held']);
    expect(sunday.deliveries.map((d: any) => d.state)).toEqual(['held', 'pending', 'pending']);
  });

  it('release held mailbox deliveries too, when they end', async () => {
    const t = await setup({ quiet_hours: nightInSaoPaulo });
    await t.call(OWNER, 'team_manage', { action: 'notify_rule_create', name: 'mail', events: ['task_failed'], destinations: [{ type: 'inbox', agent_id: 'jarvis' }] });
    t.clock.time = new Date('2026-02-21T03:00:00Z');
    await t.notify({ message: 'first' });
    t.clock.advance(1000);
    await t.notify({ message: 'second' });
    expect((await t.call(agent('jarvis'), 'team_comm', { action: 'mention_check' })).messages).toEqual([]);
    t.clock.time = new Date('2026-02-21T11:00:00Z');
    await t.sender.sendDue();
    // Both land in the same instant, so the mailbox's own order (time, then id) decides between them.
    expect((await t.call(agent('jarvis'), 'team_comm', { action: 'mention_check' })).messages.map((m: any) => m.content).sort()).toEqual([
      '[task_failed] [Engineering] task_failed: first',
      '[task_failed] [Engineering] task_failed: second',
    ]);
    expect(await t.states()).toEqual(['sent', 'sent']);
  });
});

describe('rate limits (injected clock)', () => {
  it("drop what exceeds a rule's limit in the hour, visibly, and let priority 1 through", async () => {
    const t = await setup();
    const rule = await t.rule({ rate_limit: 2 });
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push(await t.notify({ message: `n${i}` }));
    const urgent = await t.notify({ message: 'urgent', priority: 1 });
    expect(urgent.deliveries[0].state).toBe('pending');
    expect(sent.map((n) => n.deliveries[0].state)).toEqual(['pending', 'pending', 'dropped']);
    expect((await t.deliveries(sent[2]))[0]).toMatchObject({ state: 'dropped', last_error: 'rate limit: the rule allows 2 notifications an hour' });
    const [listed] = (await t.call(OWNER, 'team_manage', { action: 'notify_rule_list' })).rules;
    expect(listed).toMatchObject({ id: rule.id, dropped: 1, notifications: { pending: 3, dropped: 1 } });
    t.clock.advance(59 * 60_000);
    expect((await t.notify()).deliveries[0].state).toBe('dropped');
    t.clock.advance(2 * 60_000); // the first two are over an hour old now (the urgent one counts too)
    expect((await t.notify()).deliveries[0].state).toBe('pending');
  });

  it('count what the sender has taken and what it has not yet seen alike', async () => {
    const t = await setup();
    const rule = await t.rule({ rate_limit: 3 });
    await t.notify();
    await t.notify();
    expect(await t.sender.sendDue()).toBe(2);
    expect((await t.notify()).deliveries[0].state).toBe('pending');
    expect((await t.notify()).deliveries[0].state).toBe('dropped');
    const [listed] = (await t.call(OWNER, 'team_manage', { action: 'notify_rule_list' })).rules;
    expect(listed).toMatchObject({ id: rule.id, dropped: 1, notifications: { pending: 1, sent: 2, dropped: 1 } });
  });

  it('apply rate_limit_per_hour across every rule', async () => {
    const t = await setup({ rate_limit_per_hour: 3 });
    await t.rule({ name: 'one' });
    t.clock.advance(1000);
    await t.rule({ name: 'two' });
    const first = await t.notify();
    const second = await t.notify();
    expect(first.deliveries.map((d: any) => d.state)).toEqual(['pending', 'pending']);
    expect(second.deliveries.map((d: any) => d.state)).toEqual(['pending', 'dropped']);
    expect((await t.deliveries(second)).find((d: any) => d.id === second.deliveries[1].id).last_error).toBe('rate limit: rate_limit_per_hour allows 3 notifications an hour');
  });
});

describe('delivery attempts', () => {
  it('retry a 500 with backoff, wait out a 429 as told, and fail a 404 for good until the owner retries it', async () => {
    const t = await setup({ delivery: { backoff_seconds: 2 } });
    await t.rule({});
    const sent = await t.notify();
    t.receiver.mode = 'error';
    await t.sender.sendDue();
    let [row] = await t.deliveries(sent);
    expect(row).toMatchObject({ state: 'pending', attempts: 1, last_error: expect.stringMatching(/answered HTTP 500: internal error; next attempt at/) });
    const wait = Date.parse(row.next_attempt_at) - t.clock.now().getTime();
    expect(wait).toBeGreaterThanOrEqual(1000); // 2 s, jittered between half and all of it
    expect(wait).toBeLessThanOrEqual(2000);
    t.clock.advance(wait);
    t.receiver.mode = 'busy';
    t.receiver.retryAfterSeconds = 7;
    await t.sender.sendDue();
    [row] = await t.deliveries(sent);
    expect(row).toMatchObject({ state: 'pending', attempts: 2, next_attempt_at: new Date(t.clock.now().getTime() + 7000).toISOString() });
    t.clock.advance(7000);
    t.receiver.mode = 'up';
    await t.sender.sendDue();
    expect((await t.deliveries(sent))[0]).toMatchObject({ state: 'sent', attempts: 3 });
    expect(t.receiver.requests.map((r) => r.status)).toEqual([500, 429, 200]);
  });

  it('fail for good on a 4xx, and the owner (not an agent) sends them again', async () => {
    const t = await setup();
    await t.rule({});
    const sent = await t.notify();
    const notFound = async () => ({ status: 404, retryAfter: null, body: 'no such hook' });
    await new NotificationSender(t.core, { post: notFound }).sendDue();
    expect((await t.deliveries(sent))[0]).toMatchObject({ state: 'failed', attempts: 1, last_error: expect.stringMatching(/HTTP 404: no such hook/) });
    const audit = await t.call(OWNER, 'team_memory', { action: 'audit', type: 'notification_failed' });
    expect(audit.events).toHaveLength(1);
    await expect(t.call(agent('loki'), 'team_comm', { action: 'notify_retry', delivery_id: sent.deliveries[0].id })).rejects.toThrow(/only a lead or the owner/);
    await expect(t.call(OWNER, 'team_comm', { action: 'notify_retry' })).rejects.toThrow(/give exactly one of delivery_id or notification_id/);
    expect(await t.call(OWNER, 'team_comm', { action: 'notify_retry', notification_id: sent.id })).toMatchObject({ count: 1 });
    await expect(t.call(OWNER, 'team_comm', { action: 'notify_retry', notification_id: sent.id })).rejects.toThrow(/has no failed delivery/);
    await t.sender.sendDue();
    expect((await t.deliveries(sent))[0]).toMatchObject({ state: 'sent', attempts: 1 });
  });
});

describe('the sender', () => {
  it('finds fresh deliveries through the event log, past notifications no rule routed, and sends again what a sender that died had taken', async () => {
    const t = await setup();
    const cursor = async () => Number((await t.store.db.selectFrom('runner_cursors').select('seq').where('name', '=', 'notification-sender').executeTakeFirstOrThrow()).seq);
    for (let i = 0; i < 30; i++) await t.notify({ message: `unrouted ${i}` });
    // Passing over them writes nothing; the stored cursor follows only once it lags far enough.
    expect(await t.sender.sendDue()).toBe(0);
    expect(await cursor()).toBe(0);
    for (let i = 0; i < 200; i++) await t.notify({ message: `unrouted ${i}` });
    await t.sender.sendDue();
    expect(await cursor()).toBe(await t.store.feed.head());
    await t.rule({});
    const sent = await t.notify();
    // A sender takes the delivery and dies before sending it: nobody else sends it while its lease runs.
    expect((await t.core.outbox.claimDue('dead-sender', 16)).deliveries.map((d) => d.id)).toEqual([sent.deliveries[0].id]);
    expect(await t.sender.sendDue()).toBe(0);
    t.clock.advance(t.core.outbox.leaseMs + 1);
    expect(await t.sender.sendDue()).toBe(1);
    expect((await t.deliveries(sent))[0]).toMatchObject({ state: 'sent', attempts: 1 });
    expect(t.receiver.requests).toHaveLength(1);
  });

  it('moves its cursor to the head past events that are no notifications, and sends nothing an older sender sent', async () => {
    const t = await setup();
    const cursor = async () => Number((await t.store.db.selectFrom('runner_cursors').select('seq').where('name', '=', 'notification-sender').executeTakeFirstOrThrow()).seq);
    await t.rule({});
    const sent = await t.notify();
    // A sender of a version before fresh deliveries sent it and left it fresh.
    await t.store.db.updateTable('notification_deliveries').set({ state: 'sent', attempts: 1 }).where('notification_id', '=', sent.id).execute();
    expect(await t.sender.sendDue()).toBe(0);
    expect(t.receiver.requests).toHaveLength(0);
    // Then a long stretch of other work: the cursor follows the head, so looks and counts read none of it again.
    for (let i = 0; i < 250; i++) await t.call(OWNER, 'team_memory', { action: 'fact_save', key: `k${i}`, value: 'v' });
    await t.sender.sendDue();
    expect(await cursor()).toBe(await t.store.feed.head());
  });
});

describe('two senders on one database', () => {
  it('never send a delivery twice, even without the lead: each takes its deliveries under a lease', async () => {
    const t = await setup();
    await t.rule({});
    for (let i = 0; i < 60; i++) await t.notify({ message: `n${i}` });
    const script = new URL('../outbox/fixtures/send-due.mjs', import.meta.url).pathname;
    const run = () => promisify(execFile)(process.execPath, [script, t.path]).then((r) => Number(r.stdout));
    const [a, b] = await Promise.all([run(), run()]);
    expect(a + b).toBe(60);
    const ids = t.receiver.requests.map((r) => JSON.parse(r.body).delivery_id);
    expect(ids).toHaveLength(60);
    expect(new Set(ids).size).toBe(60);
  });
});
