import { request as httpRequest } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { concerns, mayView } from '../../src/core/audience.js';
import { OWNER, agent, seedTeam, spawnSession, waitFor } from '../helpers.js';
import type { TestCore } from '../helpers.js';
import { fileCore, openStream, request, startServer, tokenFor } from './helpers.js';
import type { HttpServer } from './helpers.js';

const ids = (stream: { logEvents(): { seq: number }[] }) => stream.logEvents().map((e) => e.seq);

/** The sequence numbers after `after` that `agentId`'s own stream must carry, read from the log itself. */
async function concerning(t: TestCore, agentId: string, after: number): Promise<number[]> {
  const viewer = await t.core.resolveActor(agent(agentId));
  const rows = await t.store.db.selectFrom('team_events').selectAll().where('seq', '>', after).orderBy('seq').execute();
  return rows.filter((e) => concerns(e, agentId) && mayView(e, viewer)).map((e) => e.seq);
}

describe('GET /events', () => {
  let t: TestCore;
  let server: HttpServer;
  const token: Record<string, string> = {};
  beforeAll(async () => {
    t = await fileCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Sam' });
    for (const id of ['jarvis', 'loki', 'sam']) token[id] = (await tokenFor(t, { agent_id: id })).token;
    token.owner = (await tokenFor(t, { owner: true })).token;
    server = await startServer(t.path);
  });

  it('says connected at once, then pushes what concerns the caller — and nothing private of others', async () => {
    const loki = await openStream(server, token.loki!);
    const sam = await openStream(server, token.sam!);
    expect(loki.status).toBe(200);
    await loki.until((e) => e.some((x) => x.event === 'connected'), 'connected');
    expect(JSON.parse(loki.events[0]!.data)).toMatchObject({ actor: { kind: 'agent', id: 'loki' }, stream: 'agent:loki' });

    const task = await t.call(agent('jarvis'), 'team_task', { action: 'create', title: 'Docs', assignees: ['loki'] });
    await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'for loki' });
    await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'sam', content: 'for sam only: loki must not see it' });
    await t.call(agent('sam'), 'team_comm', { action: 'comment', task_id: task.id, content: 'a comment in the task loki follows' });
    await t.call(agent('jarvis'), 'team_comm', { action: 'notify', type: 'task_progress', message: 'loki, note this', to_agent: 'loki' });
    await t.call(agent('jarvis'), 'team_task', { action: 'create', title: 'Not about loki' });
    await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'last' });

    const last = await t.core.feed.head();
    await loki.until((e) => e.some((x) => x.id === String(last)), 'the last message');
    const received = loki.logEvents();
    expect(received.map((e) => e.type)).toEqual(['task_assigned', 'message_sent', 'message_sent', 'notification_sent', 'message_sent']);
    expect(received.map((e) => e.seq)).toEqual(loki.events.filter((e) => e.id).map((e) => Number(e.id)));
    expect(received[0]).toMatchObject({ related_id: task.id, agent_id: 'jarvis', data: { assignees: ['loki'] } });
    expect(received.every((e) => e.type !== 'message_sent' || (e.data as { recipients: string[] }).recipients.includes('loki'))).toBe(true);

    await sam.until((e) => e.filter((x) => x.id).length >= 1, "sam's message");
    const forSam = sam.logEvents();
    expect(forSam.map((e) => e.type)).toEqual(['message_sent']);
    expect(forSam[0]!.data).toMatchObject({ to_agent: 'sam' });
  });

  it('resumes with Last-Event-ID (or ?after=): a client that reconnects misses nothing and gets nothing twice', async () => {
    const start = await t.core.feed.head();
    const writing = (async () => {
      for (let i = 0; i < 60; i++) {
        await t.call(agent(i % 2 ? 'jarvis' : 'sam'), 'team_comm', { action: 'send_message', to_agent: i % 3 ? 'loki' : 'jarvis', content: `message ${i}` });
      }
    })();
    const received: number[] = [];
    let lastId = String(start);
    // Hang up and come back, several times, while the other side keeps writing.
    for (let round = 0; round < 4; round++) {
      const stream = await openStream(server, token.loki!, round === 0 ? { query: `after=${start}` } : { lastEventId: lastId, query: 'after=0' });
      await stream.until((e) => e.some((x) => x.event === 'connected'), 'connected');
      await new Promise((resolve) => setTimeout(resolve, 30));
      stream.close();
      await stream.ended;
      received.push(...ids(stream));
      lastId = String(received.at(-1) ?? lastId);
    }
    await writing;
    const final = await openStream(server, token.loki!, { lastEventId: lastId });
    const expected = await concerning(t, 'loki', start);
    await final.until(() => [...received, ...ids(final)].length >= expected.length, 'every message');
    received.push(...ids(final));
    expect(received).toEqual(expected);
    expect(expected.length).toBe(40);
  });

  it('pushes within the stream what a stdio server in another process writes to the same file', async () => {
    const loki = await openStream(server, token.loki!);
    await loki.until((e) => e.some((x) => x.event === 'connected'), 'connected');
    const jarvis = await spawnSession(t.path, { agent: 'jarvis' });
    await jarvis.call('team_comm', { action: 'send_message', to_agent: 'loki', content: 'from another process' });
    await jarvis.call('team_task', { action: 'create', title: 'Also from there', assignees: ['loki'] });
    await loki.until((e) => e.filter((x) => x.id).length >= 2, 'both writes');
    expect(loki.logEvents().map((e) => [e.type, e.agent_id])).toEqual([
      ['message_sent', 'jarvis'],
      ['task_assigned', 'jarvis'],
    ]);
  });

  it("gives the owner (or a lead) the whole team's stream, and refuses it to others", async () => {
    const after = await t.core.feed.head();
    const owner = await openStream(server, token.owner!, { query: `team_id=engineering&after=${after}` });
    const lead = await openStream(server, token.jarvis!, { query: `team_id=Engineering&after=${after}` });
    const loki = await openStream(server, token.loki!, { query: `agent_id=loki&after=${after}` });
    expect([owner.status, lead.status, loki.status]).toEqual([200, 200, 200]);
    expect((await openStream(server, token.sam!, { query: 'team_id=engineering' })).status).toBe(403);
    expect((await openStream(server, token.sam!, { query: 'agent_id=loki' })).status).toBe(403);
    const invalid = await request(server, 'GET', '/events', { token: token.sam!, headers: { 'last-event-id': 'yesterday' } });
    expect(invalid).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION', field: 'Last-Event-ID' } } });

    await t.call(agent('sam'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'private' });
    await t.call(agent('sam'), 'team_task', { action: 'create', title: 'Team-wide' });
    const head = await t.core.feed.head();
    const all = await t.store.db.selectFrom('team_events').select('seq').where('seq', '>', after).orderBy('seq').execute();
    for (const stream of [owner, lead]) await stream.until((e) => e.some((x) => x.id === String(head)), 'the team event');
    expect(ids(owner)).toEqual(all.map((e) => e.seq));
    expect(ids(lead)).toEqual(all.map((e) => e.seq));
    await loki.until((e) => e.some((x) => x.id), 'the message');
    expect(loki.logEvents().map((e) => e.type)).toEqual(['message_sent']);
  });

  it('ends a stream with a final event when its token is revoked', async () => {
    const { id, token: doomed } = await tokenFor(t, { agent_id: 'sam' });
    const stream = await openStream(server, doomed);
    await stream.until((e) => e.some((x) => x.event === 'connected'), 'connected');
    await t.call(OWNER, 'team_agent', { action: 'token_revoke', token_id: id });
    await stream.ended;
    expect(stream.events.at(-1)).toMatchObject({ event: 'closing' });
    expect(JSON.parse(stream.events.at(-1)!.data)).toEqual({ reason: 'token revoked' });
    expect((await openStream(server, doomed)).status).toBe(401);
  });
});

describe('the life of an event stream', () => {
  it('sends a keep-alive event, and on shutdown a final event to every stream, then exits cleanly', async () => {
    const t = await fileCore();
    await seedTeam(t);
    const loki = (await tokenFor(t, { agent_id: 'loki' })).token;
    const server = await startServer(t.path, ['--keepalive', '1']);
    const streams = await Promise.all([openStream(server, loki), openStream(server, loki)]);
    await streams[0]!.until((e) => e.some((x) => x.event === 'keepalive'), 'a keep-alive');
    const exit = server.stop('SIGTERM');
    await Promise.all(streams.map((s) => s.ended));
    for (const stream of streams) {
      expect(stream.events.at(-1)).toMatchObject({ event: 'closing' });
      expect(JSON.parse(stream.events.at(-1)!.data)).toMatchObject({ reason: 'server stopped (SIGTERM)' });
    }
    expect(await exit).toBe(0);
    expect(server.log()).toMatch(/SIGTERM: finishing the requests under way/);
  });

  it('finishes a request under way when told to stop, and what it wrote is kept', async () => {
    const t = await fileCore();
    await seedTeam(t);
    const jarvis = (await tokenFor(t, { agent_id: 'jarvis' })).token;
    const server = await startServer(t.path);
    const body = JSON.stringify({ title: 'Written during shutdown' });
    const { port } = new URL(server.url);
    let stopping: Promise<number | null> | undefined;
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/tasks', agent: false, headers: { authorization: `Bearer ${jarvis}`, 'content-type': 'application/json', 'content-length': String(body.length) } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      });
      req.on('error', reject);
      // Half the body now; the rest once the server has been told to stop.
      req.write(body.slice(0, 10));
      setTimeout(async () => {
        stopping = server.stop('SIGTERM');
        // The rest of the body only once the server says it is stopping: the request is then truly under way.
        await waitFor(async () => server.log(), (log) => /SIGTERM: finishing the requests under way/.test(log), 'the server to start stopping');
        req.end(body.slice(10));
      }, 200);
    });
    const { status, body: text } = await answer;
    expect(status).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ title: 'Written during shutdown', created_by: 'jarvis' });
    expect(await stopping).toBe(0);
    const tasks = await t.call(OWNER, 'team_task', { action: 'list' });
    expect(tasks.tasks.map((task: { title: string }) => task.title)).toContain('Written during shutdown');
  });
});
