import { describe, expect, it } from 'vitest';
import { Core } from '../../src/core/core.js';
import { notificationsSchema } from '../../src/core/notificationConfig.js';
import { retryAfterMs } from '../../src/outbox/http.js';
import { NotificationSender } from '../../src/outbox/sender.js';
import { sign, verifySignature } from '../../src/outbox/signing.js';
import { OWNER, openCore, seedTeam } from '../helpers.js';
import { Receiver } from './receiver.js';

/** Slack, Discord, Telegram and a generic channel, each pointed at a local receiver as a self-hosted gateway would be. */
async function channels() {
  const receiver = await Receiver.start();
  const t = await openCore();
  const notifications = notificationsSchema.parse({
    channels: {
      slack: { url_env: 'SLACK_HOOK' },
      discord: { url: `${receiver.url}/api/webhooks/123/abc` },
      ops: { service: 'telegram', token_env: 'BOT_TOKEN', api_base: receiver.url, chat_id: -100123 },
    },
  });
  const core = new Core(t.store, { clock: t.clock.now, notifications });
  const call = (tool: string, args: Record<string, unknown>): Promise<any> => core.call(OWNER, tool, args);
  await seedTeam({ ...t, core, call: (_a, tool, args) => call(tool, args) });
  const env = { SLACK_HOOK: `${receiver.url}/services/T1/B2/XYZ`, BOT_TOKEN: '123456:secret-token', TEAM_TABLE_WHATSAPP_URL: `${receiver.url}/whatsapp` };
  return { receiver, core, call, sender: new NotificationSender(core, { env }), env };
}

describe('channel formats', () => {
  it("send each service's documented body: Slack text, Discord content, Telegram sendMessage, generic JSON", async () => {
    const { receiver, call, sender } = await channels();
    await call('team_manage', {
      action: 'notify_rule_create',
      name: 'everywhere',
      events: ['task_failed'],
      template: '{{ type }}: {{ message }}',
      destinations: [
        { type: 'channel', channel: 'slack' },
        { type: 'channel', channel: 'discord' },
        { type: 'channel', channel: 'ops' },
        { type: 'channel', channel: 'whatsapp', chat_id: '120363XXXXXX@g.us' },
      ],
    });
    const sent = await call('team_comm', { action: 'notify', type: 'task_failed', message: 'Database connection failed after 3 retries @everyone', priority: 2 });
    const { notifications } = await call('team_comm', { action: 'notify_list' });
    const listed = notifications.find((n: any) => n.id === sent.id).deliveries;
    expect(sent.deliveries.map((d: any) => listed.find((l: any) => l.id === d.id).destination)).toEqual([
      { type: 'channel', channel: 'slack', service: 'slack', url_env: 'SLACK_HOOK' },
      { type: 'channel', channel: 'discord', service: 'discord', url: `${receiver.url}/…` },
      { type: 'channel', channel: 'ops', service: 'telegram', token_env: 'BOT_TOKEN', api_base: `${receiver.url}/…`, chat_id: -100123 },
      { type: 'channel', channel: 'whatsapp', service: 'json', chat_id: '120363XXXXXX@g.us' },
    ]);
    expect(await sender.sendDue()).toBe(4);
    const text = 'task_failed: Database connection failed after 3 retries @everyone';
    const byPath = Object.fromEntries(receiver.requests.map((r) => [r.path, { type: r.headers['content-type'], body: JSON.parse(r.body) }]));
    expect(byPath['/services/T1/B2/XYZ']).toEqual({ type: 'application/json', body: { text } });
    expect(byPath['/api/webhooks/123/abc']).toEqual({ type: 'application/json', body: { content: text, allowed_mentions: { parse: [] } } });
    expect(byPath['/bot123456:secret-token/sendMessage']).toEqual({ type: 'application/json', body: { chat_id: -100123, text, disable_notification: false } });
    expect(byPath['/whatsapp']!.body).toMatchObject({ channel: 'whatsapp', chat_id: '120363XXXXXX@g.us', text, delivery_id: sent.deliveries[3].id, notification: { type: 'task_failed', priority: 2 } });
  });

  it('keep to the length each service allows, and send low priorities to Telegram silently', async () => {
    const { receiver, call, sender } = await channels();
    await call('team_manage', { action: 'notify_rule_create', name: 'long', events: ['task_progress'], template: '{{ message }}{{ message }}{{ message }}', destinations: [{ type: 'channel', channel: 'discord' }, { type: 'channel', channel: 'ops' }] });
    await call('team_comm', { action: 'notify', type: 'task_progress', message: 'x'.repeat(1_500), priority: 4 });
    await sender.sendDue();
    const [discord, telegram] = ['/api/webhooks/123/abc', '/bot123456:secret-token/sendMessage'].map((path) => JSON.parse(receiver.requests.find((r) => r.path === path)!.body));
    expect(discord.content).toHaveLength(2000);
    expect(discord.content.endsWith('…')).toBe(true);
    expect(telegram.text.length).toBeLessThanOrEqual(4096);
    expect(telegram.disable_notification).toBe(true);
  });

  it('report an unset environment variable as the error, never the token in the URL', async () => {
    const { call, core } = await channels();
    await call('team_manage', { action: 'notify_rule_create', name: 'bot', events: ['agent_error'], destinations: [{ type: 'channel', channel: 'ops' }, { type: 'channel', channel: 'slack' }] });
    const down = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    };
    const sent = await call('team_comm', { action: 'notify', type: 'agent_error', message: 'crashed' });
    await new NotificationSender(core, { env: { BOT_TOKEN: '123456:secret-token' }, post: down }).sendDue();
    const listed = (await call('team_comm', { action: 'notify_list' })).notifications.find((n: any) => n.id === sent.id);
    const errors = listed.deliveries.map((d: any) => d.last_error).sort();
    expect(errors[0]).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED; next attempt at/);
    expect(errors[1]).toMatch(/^channel 'slack' url: environment variable SLACK_HOOK is not set; next attempt at/);
    expect(JSON.stringify(listed)).not.toContain('secret-token');
  });
});

describe('webhook signatures', () => {
  it('verify the body and timestamp they were made for, within the tolerance, and nothing else', () => {
    const now = new Date('2026-02-21T10:00:00Z');
    const timestamp = now.getTime() / 1000;
    const body = '{"delivery_id":"x"}';
    const headers = { 'x-team-table-timestamp': String(timestamp), 'x-team-table-signature': sign('secret', timestamp, body) };
    expect(verifySignature('secret', body, headers, 300, now)).toBe(true);
    expect(verifySignature('other', body, headers, 300, now)).toBe(false);
    expect(verifySignature('secret', `${body} `, headers, 300, now)).toBe(false);
    expect(verifySignature('secret', body, { ...headers, 'x-team-table-timestamp': String(timestamp + 1) }, 300, now)).toBe(false);
    expect(verifySignature('secret', body, headers, 300, new Date(now.getTime() + 301_000))).toBe(false);
  });

  it('read Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-02-21T10:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('1.5', now)).toBe(1500);
    expect(retryAfterMs('Sat, 21 Feb 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
