import { request as httpRequest } from 'node:http';
import { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Route } from '../../src/http/routes.js';
import { routes } from '../../src/http/routes.js';
import { MAX_BODY_BYTES } from '../../src/http/server.js';
import { OWNER, agent, seedTeam } from '../helpers.js';
import type { TestCore } from '../helpers.js';
import { fileCore, openStream, request, startServer, tokenFor } from './helpers.js';
import type { HttpServer } from './helpers.js';

type Fixtures = Record<string, unknown>;

/**
 * A request to `route` that its rightful caller could make, aimed at team Engineering's things: every path
 * parameter and every required parameter filled from the fixtures (or an enum's first value), and team_id named.
 */
function probe(route: Route, fixtures: Fixtures): { path: string; query: string; body?: Record<string, unknown> } {
  const schema = z.toJSONSchema(route.def.input, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, { enum?: unknown[] }>; required?: string[] };
  const args: Record<string, unknown> = {};
  for (const name of [...(schema.required ?? []), ...route.pathParams]) {
    const key = `${route.def.tool}.${route.def.action}.${name}`;
    args[name] = key in fixtures ? fixtures[key] : name in fixtures ? fixtures[name] : (schema.properties[name]?.enum?.[0] ?? 'probe');
  }
  if ('team_id' in schema.properties) args.team_id = 'engineering';
  const path = `/api/v1${route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(args[name])))}`;
  for (const name of route.pathParams) delete args[name];
  if (route.method === 'GET' || route.method === 'DELETE') return { path, query: `?${new URLSearchParams(Object.entries(args).map(([k, v]) => [k, String(v)]))}` };
  return { path, query: '', body: args };
}

const mcpCall = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'team_task', arguments: { action: 'list', team_id: 'engineering' } } };
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('who may call: the security matrix', () => {
  let t: TestCore;
  let server: HttpServer;
  let fixtures: Fixtures;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    t = await fileCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Elsewhere' });
    await t.call(OWNER, 'team_agent', { action: 'create', team_id: 'elsewhere', name: 'Outsider', level: 'lead' });
    tokens.owner = (await tokenFor(t, { owner: true })).token;
    tokens.outsider = (await tokenFor(t, { agent_id: 'outsider' })).token;
    const revoked = await tokenFor(t, { agent_id: 'jarvis' });
    await t.call(OWNER, 'team_agent', { action: 'token_revoke', token_id: revoked.id });
    tokens.revoked = revoked.token;
    tokens.wrong = `tt_${'x'.repeat(43)}`;
    const task = await t.call(agent('jarvis'), 'team_task', { action: 'create', team_id: 'engineering', title: 'Secret plan', assignees: ['loki'] });
    const doc = await t.call(agent('jarvis'), 'team_memory', { action: 'doc_create', title: 'Design', content: 'secret' });
    await t.call(agent('jarvis'), 'team_memory', { action: 'fact_save', key: 'db-password', value: 'hunter2' });
    const rule = await t.call(OWNER, 'team_manage', { action: 'rule_create', team_id: 'engineering', name: 'ping', trigger: 'task.status_changed', rule_action: { type: 'notify', to: ['leads'] } });
    await t.call(OWNER, 'team_manage', { action: 'role_create', team_id: 'engineering', name: 'tester', actions: ['team_task.update'] });
    const message = await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'secret' });
    const lokiToken = await tokenFor(t, { agent_id: 'loki' });
    fixtures = {
      task_id: task.id,
      doc_id: doc.id,
      key: 'db-password',
      rule_id: rule.id,
      'team_manage.role_update.name': 'tester',
      'team_manage.role_delete.name': 'tester',
      message_id: message.id,
      message_ids: [message.id],
      token_id: lokiToken.id,
      agent_id: 'loki',
      to_agent: 'loki',
      new_assignee: 'loki',
      assignees: ['loki'],
      before_date: '2999-01-01',
      enabled: false,
      rule_action: { type: 'notify', to: ['leads'] },
      events: ['task_failed'],
      destinations: [{ type: 'activity' }],
    };
    // No rate limit here: the matrix sends hundreds of refused requests from one address on purpose.
    server = await startServer(t.path, ['--rate-limit', '0']);
  });

  it('refuses every route and /mcp without a valid token: no token, malformed, wrong, revoked — 401, JSON, WWW-Authenticate', async () => {
    const head = await t.core.feed.head();
    const cases: [string, Record<string, string>, RegExp][] = [
      ['no token', {}, /^Bearer realm="team-table"$/],
      ['malformed', { authorization: 'Bearer not-a-token' }, /error="invalid_token"/],
      ['not Bearer', { authorization: 'Basic dXNlcjpwYXNz' }, /error="invalid_token"/],
      ['wrong', { authorization: `Bearer ${tokens.wrong}` }, /error="invalid_token"/],
      ['revoked', { authorization: `Bearer ${tokens.revoked}` }, /error="invalid_token", error_description="[^"]*revoked/],
    ];
    const targets = [
      ...routes().map((route) => ({ method: route.method, ...probe(route, fixtures) })),
      { method: 'POST', path: '/mcp', query: '', body: mcpCall },
      { method: 'GET', path: '/events', query: '', body: undefined },
      { method: 'GET', path: '/api/v1/events', query: '', body: undefined },
      { method: 'GET', path: '/api/v1/openapi.json', query: '', body: undefined },
      { method: 'GET', path: '/api/v1/me', query: '', body: undefined },
    ];
    for (const [label, headers, challenge] of cases) {
      for (const target of targets) {
        const answer = await request(server, target.method, target.path + target.query, { body: target.body, headers: { ...headers, ...(target.path === '/mcp' ? mcpHeaders : {}) } });
        const what = `${label}: ${target.method} ${target.path}`;
        expect(answer.status, what).toBe(401);
        expect(answer.body?.error?.code, what).toBe('UNAUTHENTICATED');
        expect(answer.headers.get('www-authenticate'), what).toMatch(challenge);
      }
    }
    expect(await t.core.feed.head()).toBe(head);
  });

  it("refuses another team's agent on every route aimed at this team (403), changing nothing", async () => {
    const head = await t.core.feed.head();
    for (const route of routes()) {
      const target = probe(route, fixtures);
      const answer = await request(server, route.method, target.path + target.query, { token: tokens.outsider, body: target.body });
      const what = `${route.method} ${route.path} (${route.def.tool}.${route.def.action})`;
      if (route.def.tool === 'team_manage' && route.def.action === 'list') {
        expect(answer.body.teams.map((team: { name: string }) => team.name), what).toEqual(['Elsewhere']);
        continue;
      }
      expect(answer.status, `${what}: ${JSON.stringify(answer.body)}`).toBe(403);
      expect(answer.body.error.code, what).toBe('PERMISSION_DENIED');
      expect(answer.headers.get('www-authenticate'), what).toMatch(/error="insufficient_scope"/);
      expect(JSON.stringify(answer.body), what).not.toMatch(/hunter2|Secret plan/);
    }
    const mcp = await request(server, 'POST', '/mcp', { token: tokens.outsider, body: mcpCall, headers: mcpHeaders });
    expect(mcp.body.result).toMatchObject({ isError: true, structuredContent: { error: { code: 'PERMISSION_DENIED' } } });
    const stream = await openStream(server, tokens.outsider, { query: 'team_id=engineering' });
    expect(stream.status).toBe(403);
    // Another team's agent is not even found: its existence is none of the caller's business.
    expect((await openStream(server, tokens.outsider, { query: 'agent_id=loki' })).status).toBe(404);
    expect(await t.core.feed.head()).toBe(head);
  });

  it("refuses an agent another agent's private things: mail, working state, stream", async () => {
    const loki = (await tokenFor(t, { agent_id: 'loki' })).token;
    const sam = (await t.call(OWNER, 'team_agent', { action: 'create', team_id: 'engineering', name: 'Sam' })) && (await tokenFor(t, { agent_id: 'sam' })).token;
    const head = await t.core.feed.head();
    for (const [method, path, body] of [
      ['GET', '/api/v1/inbox?agent_id=loki', undefined],
      ['POST', '/api/v1/inbox/mark_read', { agent_id: 'loki', all: true }],
      ['POST', '/api/v1/inbox/clear', { agent_id: 'loki' }],
      ['GET', '/api/v1/agents/loki/working', undefined],
      ['PATCH', '/api/v1/agents/loki/working', { status: 'blocked' }],
      ['POST', '/api/v1/tokens', { agent_id: 'loki' }],
      ['GET', '/api/v1/tokens', undefined],
    ] as const) {
      const answer = await request(server, method, path, { token: sam, body });
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.headers.get('www-authenticate')).toMatch(/insufficient_scope/);
    }
    expect((await openStream(server, sam, { query: 'agent_id=loki' })).status).toBe(403);
    expect((await openStream(server, sam, { query: 'team_id=engineering' })).status).toBe(403);
    expect((await request(server, 'GET', '/api/v1/inbox', { token: loki })).status).toBe(200);
    const mcp = await request(server, 'POST', '/mcp', { token: sam, body: { ...mcpCall, params: { name: 'team_comm', arguments: { action: 'inbox', agent_id: 'loki' } } }, headers: mcpHeaders });
    expect(mcp.body.result).toMatchObject({ isError: true, structuredContent: { error: { code: 'PERMISSION_DENIED' } } });
    expect(await t.core.feed.head()).toBe(head);
  });

  it('refuses a foreign Host or Origin on every route and /mcp, even with a valid token', async () => {
    const { port } = new URL(server.url);
    const raw = (method: string, path: string, headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { authorization: `Bearer ${tokens.owner}`, ...headers } }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject);
        req.end();
      });
    const head = await t.core.feed.head();
    const paths = [...routes().map((r) => ({ method: r.method, ...probe(r, fixtures) })), { method: 'POST', path: '/mcp', query: '' }, { method: 'GET', path: '/events', query: '' }];
    for (const { method, path, query } of paths) {
      const host = await raw(method, path + query, { host: `evil.example:${port}` });
      expect(host.status, `Host ${method} ${path}`).toBe(403);
      expect(JSON.parse(host.body).error.message).toMatch(/Invalid Host: evil\.example/);
      const origin = await raw(method, path + query, { host: `127.0.0.1:${port}`, origin: 'http://evil.example' });
      expect(origin.status, `Origin ${method} ${path}`).toBe(403);
      expect(JSON.parse(origin.body).error.message).toMatch(/Invalid Origin: evil\.example/);
    }
    expect((await raw('GET', '/api/v1/teams', { host: `localhost:${port}`, origin: `http://localhost:${port}` })).status).toBe(200);
    // A page of an allowed origin gets its preflight answered (it carries no token), a foreign one does not.
    const preflight = await fetch(`${server.url}/api/v1/tasks`, { method: 'OPTIONS', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const foreign = await fetch(`${server.url}/api/v1/tasks`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    expect(await t.core.feed.head()).toBe(head);
  });

  it('refuses a body larger than the largest document, declared or streamed, on REST and /mcp', async () => {
    const head = await t.core.feed.head();
    // The client sends no byte the server will not have read when it answers — a declared size alone, or one byte
    // past the limit — and waits for the answer: a server closing a socket with unread bytes resets it, and a reset
    // may reach the client before the answer does, however the two are scheduled.
    const post = (path: string, chunked: boolean) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const { port } = new URL(server.url);
        const declared = chunked ? {} : { 'content-length': String(MAX_BODY_BYTES + 1) };
        const headers = { authorization: `Bearer ${tokens.owner}`, ...mcpHeaders, ...declared };
        const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, headers, agent: false }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => {
            resolve({ status: res.statusCode!, body });
            req.destroy();
          });
        });
        req.on('error', (error) => reject(new Error(`${path} chunked=${chunked}: ${error}`)));
        if (!chunked) return req.flushHeaders();
        const piece = 'x'.repeat(64 * 1024);
        let left = MAX_BODY_BYTES + 1;
        for (; left > piece.length; left -= piece.length) req.write(piece);
        req.write(piece.slice(0, left));
      });
    for (const [path, chunked] of [['/api/v1/documents', false], ['/api/v1/documents', true], ['/mcp', false], ['/mcp', true]] as const) {
      const answer = await post(path, chunked);
      expect(answer.status, `${path} chunked=${chunked}`).toBe(413);
      expect(JSON.parse(answer.body).error.code).toBe('PAYLOAD_TOO_LARGE');
    }
    expect(await t.core.feed.head()).toBe(head);
  });
});

describe('the rate limit', () => {
  it('answers 429 with Retry-After once a token has spent its budget, and counts each token apart', async () => {
    const t = await fileCore();
    await seedTeam(t);
    const jarvis = (await tokenFor(t, { agent_id: 'jarvis' })).token;
    const loki = (await tokenFor(t, { agent_id: 'loki' })).token;
    const server = await startServer(t.path, ['--rate-limit', '6']);
    expect((await request(server, 'GET', '/api/v1/tasks', { token: jarvis })).status).toBe(200);
    const limited = await request(server, 'GET', '/api/v1/tasks', { token: jarvis });
    expect(limited).toMatchObject({ status: 429, body: { error: { code: 'RATE_LIMITED' } } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await request(server, 'POST', '/mcp', { token: jarvis, body: mcpCall, headers: mcpHeaders })).status).toBe(429);
    expect((await request(server, 'GET', '/api/v1/tasks', { token: loki })).status).toBe(200);
    // Failed attempts draw on the address's budget: guessing gets slower still.
    expect((await request(server, 'GET', '/api/v1/tasks', { token: `tt_${'y'.repeat(43)}` })).status).toBe(401);
    expect((await request(server, 'GET', '/api/v1/tasks', { token: `tt_${'z'.repeat(43)}` })).status).toBe(429);
  });
});
