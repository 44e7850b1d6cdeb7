import { ProtocolError } from '@modelcontextprotocol/client';
import type { Client } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { Core } from '../../src/core/core.js';
import { OWNER, agent, httpSession, openCore, serveMcpHttp, spawnSession, tempDbPath } from '../helpers.js';

/** Collects the `notifications/resources/updated` a client receives; `until` waits for one (a real wait). */
function updates(client: Client) {
  const received: string[] = [];
  const waiters: (() => void)[] = [];
  client.setNotificationHandler('notifications/resources/updated', (notification) => {
    received.push(notification.params.uri);
    waiters.splice(0).forEach((wake) => wake());
  });
  /** Waits until `uri` has been told since the `from`-th notification. */
  const until = async (uri: string, from = 0) => {
    while (!received.slice(from).includes(uri)) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  return { received, until };
}

const read = async (client: Client, uri: string) => JSON.parse(((await client.readResource({ uri })).contents[0] as { text: string }).text);

/** A team with a lead (jarvis) and loki, each agent and the owner in its own server process. */
async function team() {
  const db = tempDbPath();
  const owner = await spawnSession(db);
  const created = await owner.call('team_manage', { action: 'create', name: 'Engineering' });
  await owner.call('team_agent', { action: 'create', name: 'Jarvis', level: 'lead' });
  await owner.call('team_agent', { action: 'create', name: 'Loki' });
  return { db, owner, teamId: created.id as string };
}

describe('resources over stdio', () => {
  it('are listed for the session, described by templates, and read as the same read action answers', async () => {
    const { db, owner, teamId } = await team();
    const task = await owner.call('team_task', { action: 'create', title: 'Parser', assignees: ['loki'] });
    await owner.call('team_comm', { action: 'send_message', to_agent: 'loki', content: 'hello' });
    const loki = await spawnSession(db, { agent: 'loki' });
    const { resources } = await loki.client.listResources();
    const taskUri = `team://teams/${teamId}/tasks/${task.id}`;
    expect(resources.map((r) => r.uri)).toEqual(['team://agents/loki/inbox', 'team://agents/loki/working', 'team://agents/loki/heartbeat', `team://teams/${teamId}/board`, taskUri]);
    const { resourceTemplates } = await loki.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual([
      'team://agents/{agent_id}/inbox',
      'team://agents/{agent_id}/working',
      'team://agents/{agent_id}/heartbeat',
      'team://teams/{team_id}/tasks/{task_id}',
      'team://teams/{team_id}/board',
    ]);
    expect(await read(loki.client, 'team://agents/loki/inbox')).toEqual(await loki.call('team_comm', { action: 'inbox' }));
    expect(await read(loki.client, 'team://agents/loki/working')).toEqual(await loki.call('team_agent', { action: 'working_get' }));
    expect(await read(loki.client, taskUri)).toEqual(await loki.call('team_task', { action: 'get', task_id: task.id }));
    const board = await read(loki.client, 'team://teams/engineering/board');
    expect(board.columns.find((c: any) => c.status === 'assigned').tasks).toEqual([expect.objectContaining({ id: task.id, title: 'Parser', assignees: ['loki'] })]);
  });

  it("give an agent's own loop its heartbeat, as a prompt and as a resource, and count it as the heartbeat taken", async () => {
    const { db, owner } = await team();
    await owner.call('team_comm', { action: 'send_message', to_agent: 'loki', content: 'the parser is yours' });
    const loki = await spawnSession(db, { agent: 'loki' });
    const { prompts } = await loki.client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(['heartbeat']);
    const prompt = await loki.client.getPrompt({ name: 'heartbeat' });
    const text = (prompt.messages[0]!.content as { text: string }).text;
    expect(text).toContain('## Current Work State (WORKING.md)');
    expect(text).toContain('the parser is yours');
    expect(text).toContain('HEARTBEAT_OK');
    expect((await owner.call('team_agent', { action: 'get', agent_id: 'loki' })).last_heartbeat_at).not.toBe('');
    expect((await read(loki.client, 'team://agents/loki/heartbeat')).prompt).toContain('the parser is yours');
    // Another agent's heartbeat is a lead's or the owner's to look at.
    const denied = await loki.client.getPrompt({ name: 'heartbeat', arguments: { agent_id: 'jarvis' } }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ProtocolError);
    expect((denied as ProtocolError).message).toMatch(/PERMISSION_DENIED/);
    expect(await loki.client.getPrompt({ name: 'nope' }).catch((e: unknown) => (e as Error).message)).toMatch(/Unknown prompt: nope/);
  });

  it('refuse what the reader may not read, and a URI that names nothing, as Invalid params with the URI', async () => {
    const { db } = await team();
    const loki = await spawnSession(db, { agent: 'loki' });
    const denied = await loki.client.readResource({ uri: 'team://agents/jarvis/inbox' }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ProtocolError);
    expect(denied).toMatchObject({ code: -32602, data: { uri: 'team://agents/jarvis/inbox', code: 'PERMISSION_DENIED' } });
    const subscribeDenied = await loki.client.subscribeResource({ uri: 'team://agents/jarvis/inbox' }).catch((e: unknown) => e);
    expect(subscribeDenied).toMatchObject({ code: -32602, data: { code: 'PERMISSION_DENIED' } });
    const missing = await loki.client.readResource({ uri: 'team://agents/loki/diary' }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: -32602, message: expect.stringMatching(/^Resource not found/), data: { uri: 'team://agents/loki/diary' } });
  });

  it('tell a 2025-era session of each change to what it subscribed to, made by another process, until it unsubscribes', async () => {
    const { db, owner } = await team();
    const loki = await spawnSession(db, { agent: 'loki' });
    const seen = updates(loki.client);
    await loki.client.subscribeResource({ uri: 'team://agents/loki/inbox' });
    await loki.client.subscribeResource({ uri: 'team://teams/engineering/board' });
    await owner.call('team_comm', { action: 'send_message', to_agent: 'loki', content: 'ping' });
    await seen.until('team://agents/loki/inbox');
    await owner.call('team_task', { action: 'create', title: 'On the board' });
    await seen.until('team://teams/engineering/board');
    await loki.client.unsubscribeResource({ uri: 'team://agents/loki/inbox' });
    const before = seen.received.length;
    // The unsubscribed change commits first; changes are told in commit order, so the board's update after it
    // proves the inbox's would have come.
    await owner.call('team_comm', { action: 'send_message', to_agent: 'loki', content: 'unheard' });
    await owner.call('team_task', { action: 'create', title: 'Heard' });
    await seen.until('team://teams/engineering/board', before);
    expect(seen.received.slice(before)).toEqual(['team://teams/engineering/board']);
  });

  it('tell a 2026-07-28 session on its subscriptions/listen stream', async () => {
    const { db, owner } = await team();
    const loki = await spawnSession(db, { agent: 'loki', protocol: '2026-07-28' });
    const seen = updates(loki.client);
    const subscription = await loki.client.listen({ resourceSubscriptions: ['team://agents/loki/working'] });
    expect(subscription.honoredFilter.resourceSubscriptions).toEqual(['team://agents/loki/working']);
    await owner.call('team_agent', { action: 'working_update', agent_id: 'loki', status: 'working', next_steps: 'write the parser' });
    await seen.until('team://agents/loki/working');
    await subscription.close();
  });
});

describe('resources over HTTP', () => {
  it('tell a 2026-07-28 listen stream of a change made by a stdio server in another process', async () => {
    const t = await openCore();
    const core = new Core(t.store);
    await core.call(OWNER, 'team_manage', { action: 'create', name: 'Engineering' });
    await core.call(OWNER, 'team_agent', { action: 'create', name: 'Loki' });
    const http = await serveMcpHttp(core, { 'loki-token': agent('loki') });
    const loki = await httpSession(http.url, 'loki-token', { protocol: '2026-07-28' });
    const seen = updates(loki.client);
    await loki.client.listen({ resourceSubscriptions: ['team://agents/loki/inbox'] });
    const elsewhere = await spawnSession(t.path);
    await elsewhere.call('team_comm', { action: 'send_message', to_agent: 'loki', content: 'from another process' });
    await seen.until('team://agents/loki/inbox');
    expect((await read(loki.client, 'team://agents/loki/inbox')).messages[0]).toMatchObject({ content: 'from another process' });
  });

  it('acknowledge a 2025-era subscription (nothing outlives a stateless request to push on)', async () => {
    const t = await openCore();
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Engineering' });
    const http = await serveMcpHttp(new Core(t.store), { 'owner-token': OWNER });
    const owner = await httpSession(http.url, 'owner-token');
    const { resources } = await owner.client.listResources();
    expect(await owner.client.subscribeResource({ uri: resources[0]!.uri })).toEqual({});
    await expect(owner.client.subscribeResource({ uri: 'team://teams/nope/board' })).rejects.toMatchObject({ code: -32602 });
  });
});
