import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/core/catalog.js';
import { routes } from '../../src/http/routes.js';
import { OWNER, agent, seedTeam } from '../helpers.js';
import type { TestCore } from '../helpers.js';
import { fileCore, request, startServer, tokenFor } from './helpers.js';
import type { HttpServer } from './helpers.js';

describe('the REST API', () => {
  let t: TestCore;
  let server: HttpServer;
  let owner: string;
  let jarvis: string;
  let loki: string;
  beforeAll(async () => {
    t = await fileCore();
    await seedTeam(t);
    owner = (await tokenFor(t, { owner: true })).token;
    jarvis = (await tokenFor(t, { agent_id: 'jarvis' })).token;
    loki = (await tokenFor(t, { agent_id: 'loki' })).token;
    server = await startServer(t.path);
  });

  it('has a route for every action, GET exactly for those that only read', () => {
    const mounted = routes();
    expect(mounted.map((r) => `${r.def.tool}.${r.def.action}`).sort()).toEqual(ACTIONS.map((a) => `${a.tool}.${a.action}`).sort());
    for (const route of mounted) expect(route.method === 'GET').toBe(!route.def.write);
    expect(new Set(mounted.map((r) => `${r.method} ${r.path}`)).size).toBe(mounted.length);
  });

  it('documents every route in docs/http.md', () => {
    const doc = readFileSync(new URL('../../docs/http.md', import.meta.url), 'utf8');
    for (const route of routes()) {
      const segments = route.path.split('/').filter(Boolean);
      expect(doc, `${route.method} ${route.path}`).toContain(`\`team_${route.def.tool.slice(5)}.`);
      expect(doc, `${route.method} /api/v1${route.path}`).toContain(route.method);
      for (const segment of segments) expect(doc, `${route.path}: ${segment}`).toContain(segment);
      expect(doc, route.def.action).toMatch(new RegExp(`\\b${route.def.action}\\b`));
    }
  });

  it('runs an action as the token says and answers what the tool answers', async () => {
    const created = await request(server, 'POST', '/api/v1/tasks', { token: jarvis, body: { title: 'Implement authentication', assignees: ['loki'], priority: 2 } });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ title: 'Implement authentication', created_by: 'jarvis', assignees: ['loki'], priority: 2, status: 'assigned' });
    const fetched = await request(server, 'GET', `/api/v1/tasks/${created.body.id}`, { token: loki });
    expect(fetched.body).toEqual(await t.call(agent('loki'), 'team_task', { action: 'get', task_id: created.body.id }));
    const listed = await request(server, 'GET', '/api/v1/tasks?assignee_filter=loki&priority=2&limit=1', { token: loki });
    expect(listed.body).toMatchObject({ tasks: [{ id: created.body.id }], count: 1 });
    const claimed = await request(server, 'POST', `/api/v1/tasks/${created.body.id}/claim`, { token: loki, body: { expected_version: created.body.version } });
    expect(claimed.body).toMatchObject({ status: 'in_progress', claimed_by: 'loki' });
    const comment = await request(server, 'POST', `/api/v1/tasks/${created.body.id}/comments`, { token: loki, body: { content: '@jarvis first draft is up' } });
    expect(comment.body).toMatchObject({ from_agent: 'loki', mentions: ['jarvis'] });
    const mentions = await request(server, 'POST', '/api/v1/mentions/check', { token: jarvis });
    expect(mentions.body.messages).toMatchObject([{ from_agent: 'loki', reason: 'mention' }]);
  });

  it('reads facts under keys that need escaping, and documents, by path', async () => {
    const key = 'deploy/prod url?';
    const saved = await request(server, 'PUT', `/api/v1/facts/${encodeURIComponent(key)}`, { token: jarvis, body: { value: 'https://example.test', namespace: 'ops' } });
    expect(saved.status).toBe(200);
    const read = await request(server, 'GET', `/api/v1/facts/${encodeURIComponent(key)}?namespace=ops`, { token: loki });
    expect(read.body).toMatchObject({ key, value: 'https://example.test', namespace: 'ops' });
    const doc = await request(server, 'POST', '/api/v1/documents', { token: jarvis, body: { title: 'Design', content: '# Design' } });
    const updated = await request(server, 'PATCH', `/api/v1/documents/${doc.body.id}`, { token: jarvis, body: { content: '# Design v2' } });
    expect(updated.body).toMatchObject({ version: 2 });
    const history = await request(server, 'GET', `/api/v1/documents/${doc.body.id}/history`, { token: loki });
    expect(history.body.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
  });

  it('maps each error code to its status once, with a JSON body naming the field', async () => {
    const invalid = await request(server, 'POST', '/api/v1/tasks', { token: jarvis, body: { title: 'x', priority: 9 } });
    expect(invalid).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION', field: 'priority', message: expect.stringMatching(/priority must be at most 5/) } } });
    const notNumber = await request(server, 'GET', '/api/v1/tasks?limit=many', { token: jarvis });
    expect(notNumber).toMatchObject({ status: 400, body: { error: { field: 'limit' } } });
    const unknownParam = await request(server, 'GET', '/api/v1/tasks?colour=red', { token: jarvis });
    expect(unknownParam).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION', message: expect.stringMatching(/'colour'/) } } });
    expect(await request(server, 'GET', '/api/v1/tasks/nope', { token: jarvis })).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    const denied = await request(server, 'DELETE', '/api/v1/teams/engineering', { token: loki });
    expect(denied).toMatchObject({ status: 403, body: { error: { code: 'PERMISSION_DENIED' } } });
    expect(denied.headers.get('www-authenticate')).toMatch(/^Bearer .*error="insufficient_scope"/);
    const task = await request(server, 'POST', '/api/v1/tasks', { token: jarvis, body: { title: 'Versioned' } });
    const stale = await request(server, 'PATCH', `/api/v1/tasks/${task.body.id}`, { token: jarvis, body: { title: 'Renamed', expected_version: task.body.version + 5 } });
    expect(stale).toMatchObject({ status: 409, body: { error: { code: 'VERSION_CONFLICT' } } });
    expect(await request(server, 'GET', '/api/v1/nothing-here', { token: jarvis })).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect(await request(server, 'POST', '/api/v1/tasks', { token: jarvis, body: '{"title": ' })).toMatchObject({ status: 400, body: { error: { field: 'body' } } });
    expect(await request(server, 'POST', '/api/v1/tasks', { token: jarvis, body: '[1]' })).toMatchObject({ status: 400, body: { error: { field: 'body' } } });
  });

  it('refuses a path parameter contradicted by the body, and an action named in it', async () => {
    const task = await request(server, 'POST', '/api/v1/tasks', { token: jarvis, body: { title: 'Pinned' } });
    const other = await request(server, 'POST', '/api/v1/tasks', { token: jarvis, body: { title: 'Other' } });
    const head = await t.core.feed.head();
    const clash = await request(server, 'PATCH', `/api/v1/tasks/${task.body.id}`, { token: jarvis, body: { task_id: other.body.id, title: 'Hijacked' } });
    expect(clash).toMatchObject({ status: 400, body: { error: { field: 'task_id' } } });
    const action = await request(server, 'PATCH', `/api/v1/tasks/${task.body.id}`, { token: jarvis, body: { action: 'delete' } });
    expect(action).toMatchObject({ status: 400, body: { error: { field: 'action' } } });
    expect(await t.core.feed.head()).toBe(head);
    expect((await t.call(OWNER, 'team_task', { action: 'get', task_id: other.body.id })).title).toBe('Other');
  });

  it('acts as the token, whatever a parameter says: another agent’s mail stays closed', async () => {
    await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'for loki only' });
    const asLoki = await request(server, 'GET', '/api/v1/inbox', { token: loki });
    expect(asLoki.body.messages.map((m: { content: string }) => m.content)).toContain('for loki only');
    const sneaky = await request(server, 'GET', '/api/v1/inbox?agent_id=jarvis', { token: loki });
    expect(sneaky).toMatchObject({ status: 403, body: { error: { code: 'PERMISSION_DENIED' } } });
    const asLead = await request(server, 'GET', '/api/v1/inbox?agent_id=loki', { token: jarvis });
    expect(asLead.status).toBe(200);
    expect((await request(server, 'GET', '/api/v1/me', { token: loki })).body).toMatchObject({ kind: 'agent', id: 'loki', token_id: expect.any(String) });
    expect((await request(server, 'GET', '/api/v1/me', { token: owner })).body).toMatchObject({ kind: 'owner', id: 'ana' });
    const byOwner = await request(server, 'GET', '/api/v1/teams', { token: owner });
    expect(byOwner.body.teams.map((team: { name: string }) => team.name)).toEqual(['Engineering']);
  });

  it('describes itself in OpenAPI 3.1, generated from the same schemas and routes', async () => {
    const { status, body: doc } = await request(server, 'GET', '/api/v1/openapi.json', { token: loki });
    expect(status).toBe(200);
    expect(doc.openapi).toBe('3.1.0');
    for (const route of routes()) {
      const operation = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.path}`).toMatchObject({ operationId: `${route.def.tool}.${route.def.action}` });
    }
    const create = doc.paths['/tasks'].post;
    const schema = create.requestBody.content['application/json'].schema;
    expect(schema.required).toEqual(['title']);
    expect(schema.properties.priority).toMatchObject({ type: 'integer', minimum: 1, maximum: 5 });
    expect(schema.additionalProperties).toBe(false);
    const get = doc.paths['/tasks/{task_id}'].get;
    expect(get.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ in: 'path', name: 'task_id', required: true })]));
    expect(doc.paths['/tasks'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['status', 'assignee_filter', 'limit']));
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(create.responses['429'].headers['Retry-After']).toBeDefined();
  });
});
