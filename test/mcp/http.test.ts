import { readFileSync } from 'node:fs';
import { ProtocolError } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { Core } from '../../src/core/core.js';
import { OWNER, PROTOCOL_VERSIONS, agent, httpSession, openCore, serveMcpHttp, spawnSession } from '../helpers.js';
import { fileCore, startServer, tokenFor } from '../http/helpers.js';

const TOOLS_JSON = JSON.parse(readFileSync(new URL('../../dist/mcp/tools.json', import.meta.url), 'utf8'));
const TOKENS = { 'owner-token': OWNER, 'loki-token': agent('loki') };

/** A database with a team and the agent loki, and MCP over HTTP on it (in this process, on the real clock). */
async function served() {
  const t = await openCore();
  const core = new Core(t.store);
  await core.call(OWNER, 'team_manage', { action: 'create', name: 'Engineering' });
  await core.call(OWNER, 'team_agent', { action: 'create', name: 'Loki' });
  return { t, core, http: await serveMcpHttp(core, TOKENS) };
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: 'Bearer owner-token', ...headers } });

describe.each(PROTOCOL_VERSIONS)('a client speaking %s over Streamable HTTP', (version) => {
  it('gets the same tools and the same answers as over stdio, acting as the actor its token names', async () => {
    const { t, http } = await served();
    const owner = await httpSession(http.url, 'owner-token', { protocol: version });
    expect(owner.client.getProtocolEra()).toBe(version === '2026-07-28' ? 'modern' : 'legacy');
    expect((await owner.client.listTools()).tools).toEqual(TOOLS_JSON);
    const task = await owner.call('team_task', { action: 'create', title: 'Over HTTP', assignees: ['loki'] });
    const loki = await httpSession(http.url, 'loki-token', { protocol: version });
    expect(loki.client.getInstructions()).toMatch(/acts as agent 'loki'/);
    expect((await loki.call('team_task', { action: 'claim_next' })).task).toMatchObject({ id: task.id, claimed_by: 'loki' });
    const overStdio = await spawnSession(t.path, { agent: 'loki' });
    const args = { action: 'get', task_id: task.id };
    expect(await loki.call('team_task', args)).toEqual(await overStdio.call('team_task', args));
    const error = await loki.client.callTool({ name: 'no_such_tool', arguments: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: -32602 });
  });
});

describe('MCP over HTTP', () => {
  it('answers malformed JSON with a JSON-RPC parse error, and a body over the limit with 413', async () => {
    const { http } = await served();
    const malformed = await post(http.url, '{"jsonrpc":"2.0","id":1,"method":"initialize"');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 } });
    const huge = await post(http.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(5 * 1024 * 1024) } }));
    expect(huge.status).toBe(413);
  });

  it("refuses a call whose arguments carry `__proto__`, which MCP's schema would drop unseen, as every unknown parameter", async () => {
    const { core, http } = await served();
    const polluted = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"team_task","arguments":{"action":"create","title":"Polluted","__proto__":{"admin":true}}}}';
    // Alone, and in a batch (which a 2025-03-26 client may send).
    for (const [body, version] of [[polluted, '2025-06-18'], [`[${polluted}]`, '2025-03-26']] as const) {
      const answer = await post(http.url, body, { 'mcp-protocol-version': version });
      expect(await answer.text()).toMatch(/'__proto__' is not a parameter of this action/);
    }
    expect((await core.call(OWNER, 'team_task', { action: 'list' })).tasks).toEqual([]);
  });

  it('keeps nothing between requests: a session whose requests alternate between two servers on the same file works', async () => {
    const { t, http } = await served();
    const other = await openCore({ path: t.path });
    const second = await serveMcpHttp(new Core(other.store), TOKENS);
    let turn = 0;
    const alternating = (input: string | URL | Request, init?: RequestInit) => fetch(String(input).replace(http.url, turn++ % 2 ? second.url : http.url), init);
    const { StreamableHTTPClientTransport, Client } = await import('@modelcontextprotocol/client');
    const client = new Client({ name: 'alternating', version: '0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(http.url), { fetch: alternating, requestInit: { headers: { Authorization: 'Bearer owner-token' } } }));
    for (let i = 0; i < 4; i++) await client.callTool({ name: 'team_task', arguments: { action: 'create', title: `task ${i}` } });
    const listed = await client.callTool({ name: 'team_task', arguments: { action: 'list' } });
    expect((listed.structuredContent as any).tasks).toHaveLength(4);
    expect(turn).toBeGreaterThanOrEqual(6);
    await client.close();
  });
});

describe('MCP at /mcp of the real `serve --http`', () => {
  async function server() {
    const t = await fileCore();
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Engineering' });
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Loki' });
    const { token } = await tokenFor(t, { agent_id: 'loki' });
    return { t, token, url: `${(await startServer(t.path)).url}/mcp` };
  }

  it.each(PROTOCOL_VERSIONS)('serves a client speaking %s as the agent its token names', async (version) => {
    const { token, url } = await server();
    const loki = await httpSession(url, token, { protocol: version });
    expect(loki.client.getInstructions()).toMatch(/acts as agent 'loki'/);
    expect(await loki.call('team_agent', { action: 'working_get' })).toMatchObject({ agent_id: 'loki' });
  });

  it('tells a 2026-07-28 listen stream of a change a stdio server in another process made', async () => {
    const { t, token, url } = await server();
    const loki = await httpSession(url, token, { protocol: '2026-07-28' });
    const heard = new Promise<string>((resolve) => loki.client.setNotificationHandler('notifications/resources/updated', (n) => resolve(n.params.uri)));
    await loki.client.listen({ resourceSubscriptions: ['team://agents/loki/inbox'] });
    const owner = await spawnSession(t.path);
    await owner.call('team_comm', { action: 'send_message', to_agent: 'loki', content: 'over stdio' });
    expect(await heard).toBe('team://agents/loki/inbox');
  });
});
