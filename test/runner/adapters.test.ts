import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { concerns, mayView } from '../../src/core/audience.js';
import { OWNER, agent, openCore } from '../helpers.js';
import type { TestCore } from '../helpers.js';
import { startScheduler, waitFor } from './helpers.js';

const servers: { close(): void }[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

/** A webhook receiver that checks the signature with `secret()` and answers `reply`. */
async function receiver(secret: () => string, reply: { status: number; body: string }) {
  const received: { body: any; verified: boolean; timestamp: string }[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const timestamp = String(req.headers['x-team-table-timestamp']);
      const expected = Buffer.from(`sha256=${createHmac('sha256', secret()).update(`${timestamp}.${raw}`).digest('hex')}`);
      const given = Buffer.from(String(req.headers['x-team-table-signature']));
      received.push({ body: JSON.parse(raw), timestamp, verified: given.length === expected.length && timingSafeEqual(given, expected) });
      res.writeHead(reply.status).end(reply.body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/wake`, received, reply };
}

async function team(t: TestCore) {
  await t.call(OWNER, 'team_manage', { action: 'create', name: 'Engineering' });
  await t.call(OWNER, 'team_agent', { action: 'create', name: 'Jarvis', level: 'lead' });
  await t.call(OWNER, 'team_agent', { action: 'create', name: 'Loki' });
}
const runsOf = (t: TestCore, id: string) => async () => (await t.call(OWNER, 'team_agent', { action: 'runs', agent_id: id })).runs as any[];
const settled = (runs: any[]) => runs.every((r) => !['queued', 'running'].includes(r.status));
const failure = (promise: Promise<unknown>) => promise.then(() => { throw new Error('expected a refusal'); }, (error) => error);

describe('wake adapters', () => {
  it('webhook: POSTs the prompt and reasons, signed with the per-agent secret shown once; a non-2xx answer fails the run', async () => {
    const t = await openCore();
    await team(t);
    let secret = '';
    const hook = await receiver(() => secret, { status: 200, body: 'HEARTBEAT_OK' });
    const created = await t.call(OWNER, 'team_agent', { action: 'update', agent_id: 'loki', wake_adapter: { type: 'webhook', url: hook.url } });
    secret = created.webhook_secret;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(created.wake_adapter).toEqual({ type: 'webhook', url: hook.url, secret: '********', timeout_seconds: 30 });
    const shown = await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'loki' });
    expect(shown.webhook_secret).toBeUndefined();
    expect(JSON.stringify(shown)).not.toContain(secret);

    await startScheduler(t.core, t.path);
    await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'wake up' });
    const [run] = await waitFor(runsOf(t, 'loki'), (r) => r.length === 1 && settled(r), 'the webhook run');
    expect(run).toMatchObject({ status: 'idle', exit_code: 200 });
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]).toMatchObject({ verified: true, body: { type: 'agent_wake', agent_id: 'loki', run_id: run.id, reasons: [{ kind: 'message', by: 'jarvis' }] } });
    expect(hook.received[0]!.body.prompt).toContain('[direct] jarvis');

    // Changing the URL keeps the secret; the receiver still verifies. It now answers 500: the run failed.
    const again = await t.call(OWNER, 'team_agent', { action: 'update', agent_id: 'loki', wake_adapter: { type: 'webhook', url: `${hook.url}?v=2` } });
    expect(again.webhook_secret).toBeUndefined();
    hook.reply.status = 500;
    t.clock.advance(1_000);
    await t.call(OWNER, 'team_agent', { action: 'wake', agent_id: 'loki' });
    const runs = await waitFor(runsOf(t, 'loki'), (r) => r.length === 2 && settled(r), 'the failing webhook run');
    expect(runs[0]).toMatchObject({ status: 'failed', exit_code: 500, error: 'the webhook answered HTTP 500' });
    expect(hook.received[1]!.verified).toBe(true);
  });

  it('sse: appends an agent_wake event for the agent alone, carrying reasons and no content', async () => {
    const t = await openCore();
    await team(t);
    await t.call(OWNER, 'team_agent', { action: 'update', agent_id: 'loki', wake_adapter: { type: 'sse' } });
    await startScheduler(t.core, t.path);
    await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'a secret plan' });
    await waitFor(runsOf(t, 'loki'), (r) => r.length === 1 && settled(r), 'the sse run');
    const event = (await t.store.db.selectFrom('team_events').selectAll().where('type', '=', 'agent_wake').executeTakeFirstOrThrow());
    expect(concerns(event, 'loki')).toBe(true);
    expect(event.data).not.toContain('a secret plan');
    const jarvisRow = await t.store.db.selectFrom('persistent_agents').selectAll().where('id', '=', 'jarvis').executeTakeFirstOrThrow();
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Mira' });
    const mira = await t.store.db.selectFrom('persistent_agents').selectAll().where('id', '=', 'mira').executeTakeFirstOrThrow();
    expect(mayView(event, { kind: 'agent', id: 'mira', agent: mira })).toBe(false);
    expect(mayView(event, { kind: 'agent', id: 'jarvis', agent: jarvisRow })).toBe(true); // a lead
  });

  it('are validated field by field, set by the owner only, shown with secrets masked', async () => {
    const t = await openCore();
    await team(t);
    const update = (actor: typeof OWNER, wake_adapter: unknown) => t.call(actor, 'team_agent', { action: 'update', agent_id: 'loki', wake_adapter });
    expect((await failure(update(OWNER, { type: 'pigeon' }))).message).toMatch(/wake_adapter\.type must be one of "command", "openai", "webhook", "sse"/);
    expect((await failure(update(OWNER, { type: 'command', command: [] }))).message).toMatch(/wake_adapter\.command must have at least 1 items/);
    expect((await failure(update(OWNER, { type: 'command', command: ['x'], shell: true }))).message).toMatch(/wake_adapter has no field 'shell'/);
    expect((await failure(update(OWNER, { type: 'openai', base_url: 'ftp://x' }))).message).toMatch(/wake_adapter\.base_url .*http/);
    expect((await failure(update(OWNER, { type: 'command', command: ['x'], env: { 'BAD-NAME': '1' } }))).message).toMatch(/wake_adapter\.env/);
    expect((await failure(update(OWNER, { type: 'command', command: ['x'], env: { TEAM_TABLE_AGENT: 'jarvis' } }))).message).toMatch(/wake_adapter\.env must not set TEAM_TABLE_\* variables/);
    const refused = await failure(update(agent('jarvis'), { type: 'sse' }));
    expect(refused.code).toBe('PERMISSION_DENIED');
    expect((await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'loki' })).wake_adapter).toBeNull();

    const set = await update(OWNER, { type: 'command', command: ['codex', 'exec', '-'], env: { OPENAI_API_KEY: 'sk-live', REGION: 'eu' }, timeout_seconds: 120 });
    expect(set.wake_adapter).toEqual({ type: 'command', command: ['codex', 'exec', '-'], env: { OPENAI_API_KEY: '********', REGION: 'eu' }, timeout_seconds: 120 });
    const { agents } = await t.call(agent('loki'), 'team_agent', { action: 'list' });
    expect(JSON.stringify(agents)).not.toContain('sk-live');
    expect((await update(OWNER, null)).wake_adapter).toBeNull();
  });

  it('wake is for the owner and leads, and needs an adapter; runs page newest first', async () => {
    const t = await openCore();
    await team(t);
    expect((await failure(t.call(OWNER, 'team_agent', { action: 'wake', agent_id: 'loki' }))).message).toMatch(/has no wake_adapter/);
    await t.call(OWNER, 'team_agent', { action: 'update', agent_id: 'loki', wake_adapter: { type: 'command', command: ['sh', '-c', 'echo HEARTBEAT_OK'] } });
    expect((await failure(t.call(agent('loki'), 'team_agent', { action: 'wake', agent_id: 'loki' }))).code).toBe('PERMISSION_DENIED');
    expect((await failure(t.call(agent('jarvis'), 'team_agent', { action: 'runs', agent_id: 'nobody' }))).code).toBe('NOT_FOUND');
    await startScheduler(t.core, t.path);
    for (let i = 1; i <= 5; i++) {
      t.clock.advance(1_000);
      await t.call(agent('jarvis'), 'team_agent', { action: 'wake', agent_id: 'loki', note: `wake ${i}` });
      await waitFor(runsOf(t, 'loki'), (r) => r.length === i && settled(r), `run ${i}`);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page: any = await t.call(agent('jarvis'), 'team_agent', { action: 'runs', agent_id: 'loki', limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.runs.map((r: any) => r.reasons[0].ref));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(['wake 5', 'wake 4', 'wake 3', 'wake 2', 'wake 1']);
    expect((await t.call(OWNER, 'team_agent', { action: 'runs', agent_id: 'loki', status: 'failed' })).runs).toEqual([]);
  });
});
