import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { Client, ProtocolError } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { describe, expect, it } from 'vitest';
import { ANSWER_PAIR_BUDGET_BYTES, toolAnswer, toolError } from '../../src/mcp/server.js';
import { CLI, PROTOCOL_VERSIONS, spawnSession, tempDbPath } from '../helpers.js';

const TOOLS_JSON = JSON.parse(readFileSync(new URL('../../dist/mcp/tools.json', import.meta.url), 'utf8'));

describe.each(PROTOCOL_VERSIONS)('a client speaking %s over stdio', (version) => {
  it('connects in its era and gets the same tools and the same answers', async () => {
    const db = tempDbPath();
    const session = await spawnSession(db, { protocol: version });
    expect(session.client.getProtocolEra()).toBe(version === '2026-07-28' ? 'modern' : 'legacy');
    expect(session.client.getNegotiatedProtocolVersion()).toBe(version);
    expect((await session.client.listTools()).tools).toEqual(TOOLS_JSON);
    const team = await session.call('team_manage', { action: 'create', name: 'Engineering' });
    await session.call('team_task', { action: 'create', title: 'Write the parser' });
    // The same read through a default (2025-11-25) client on the same file answers the same.
    const reference = await spawnSession(db);
    const args = { action: 'list', team_id: team.id };
    expect(await session.call('team_task', args)).toEqual(await reference.call('team_task', args));
    expect(await session.fail('team_task', { action: 'create' })).toMatch(/^VALIDATION: .*title/);
  });

  it('answers an unknown tool with the protocol error the specification names (Invalid params), not a tool result', async () => {
    const session = await spawnSession(tempDbPath(), { protocol: version });
    const error = await session.client.callTool({ name: 'team_tasks', arguments: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: -32602, message: expect.stringMatching(/Unknown tool: team_tasks/) });
  });
});

describe('a client that negotiates', () => {
  it('lands on 2026-07-28', async () => {
    const client = new Client({ name: 'negotiating', version: '0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--db', tempDbPath()], stderr: 'ignore' }));
    try {
      expect(client.getProtocolEra()).toBe('modern');
      expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      expect((await client.callTool({ name: 'team_manage', arguments: { action: 'list' } })).structuredContent).toMatchObject({ teams: [] });
    } finally {
      await client.close();
    }
  });
});

describe('instructions', () => {
  it("tell the owner's session how to help a person, and an agent's session which agent it is and how to end a heartbeat", async () => {
    const db = tempDbPath();
    const owner = await spawnSession(db);
    await owner.call('team_manage', { action: 'create', name: 'Engineering' });
    await owner.call('team_agent', { action: 'create', name: 'Loki' });
    const ownerText = owner.client.getInstructions()!;
    expect(ownerText).toMatch(/owner \('ana'\), for a person/);
    expect(ownerText).not.toMatch(/HEARTBEAT_OK/);
    for (const protocol of ['2025-11-25', '2026-07-28'] as const) {
      const loki = await spawnSession(db, { agent: 'loki', protocol });
      const agentText = loki.client.getInstructions()!;
      expect(agentText).toMatch(/acts as agent 'loki'/);
      expect(agentText).toMatch(/assignee_filter='loki'/);
      expect(agentText).toMatch(/reply exactly HEARTBEAT_OK/);
    }
  });
});

/** A server spawned with raw pipes: what a client that is not the SDK's sees, line by line. */
function rawServe(db: string, ...args: string[]) {
  const child = execFile(process.execPath, [CLI, 'serve', '--db', db, ...args], { maxBuffer: 64 * 1024 * 1024 });
  const answers: any[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    answers.push(JSON.parse(line));
    waiters.splice(0).forEach((wake) => wake());
  });
  const until = async (count: number) => {
    while (answers.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
    return answers.slice(0, count);
  };
  const send = (text: string) => child.stdin!.write(`${text}\n`);
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, send, until, exited };
}

const INITIALIZE = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } };
const call = (id: number, args: Record<string, unknown>) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'team_manage', arguments: args } });

describe('messages the session cannot take', () => {
  it('answers malformed JSON with a parse error and JSON that is not JSON-RPC with an invalid-request error, and goes on', async () => {
    const server = rawServe(tempDbPath());
    server.send(JSON.stringify(INITIALIZE));
    server.send('{"jsonrpc":"2.0","id":2,"method":"tools/list"');
    server.send(JSON.stringify({ jsonrpc: '2.0', id: 3, verb: 'tools/list' }));
    server.send(JSON.stringify(call(4, { action: 'list' })));
    // Refusals are written at once, answers when their handler resolves: find each by what it answers.
    const answers = await server.until(4);
    const parse = answers.find((a) => a.id === undefined);
    const [invalid, listed] = [3, 4].map((id) => answers.find((a) => a.id === id));
    expect(parse).toEqual({ jsonrpc: '2.0', error: { code: -32700, message: expect.stringMatching(/^Parse error/) } });
    expect(invalid).toMatchObject({ jsonrpc: '2.0', id: 3, error: { code: -32600 } });
    expect(listed).toMatchObject({ id: 4, result: { structuredContent: { teams: [] } } });
    server.child.stdin!.end();
    expect(await server.exited).toBe(0);
  });

  it('answers a request over the size limit with an error naming the limit, and answers the calls queued around it', async () => {
    const server = rawServe(tempDbPath());
    server.send(JSON.stringify(INITIALIZE));
    server.send(JSON.stringify(call(2, { action: 'create', name: 'Before' })));
    server.send(JSON.stringify(call(3, { action: 'create', name: 'Huge', description: '字'.repeat(4_000_000) })));
    server.send(JSON.stringify(call(4, { action: 'create', name: 'After' })));
    // Calls are answered concurrently: the list goes out once the creates have answered.
    await server.until(4);
    server.child.stdin!.end(`${JSON.stringify(call(5, { action: 'list' }))}\n`);
    const answers = await server.until(5);
    const byId = Object.fromEntries(answers.map((a) => [a.id, a]));
    expect(byId[3]).toEqual({
      jsonrpc: '2.0',
      id: 3,
      error: { code: -32600, message: expect.stringMatching(/^request too large: \d+ bytes, over the limit of 4194304 bytes \(4 MiB\)/), data: { limit_bytes: 4194304, received_bytes: expect.any(Number) } },
    });
    expect(byId[5].result.structuredContent.teams.map((t: any) => t.name).sort()).toEqual(['After', 'Before']);
    expect(await server.exited).toBe(0);
  });

  it("refuses a call whose arguments carry `__proto__`, which MCP's schema would drop unseen, as every unknown parameter", async () => {
    const server = rawServe(tempDbPath());
    server.send(JSON.stringify(INITIALIZE));
    const polluted = (id: number, args: string) => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"team_manage","arguments":${args}}}`;
    server.send(polluted(2, '{"action":"create","name":"Polluted","__proto__":{"admin":true}}'));
    server.send(polluted(3, '{"action":"list","__proto__":null}'));
    server.send(polluted(4, '{"action":"create","name":"Escaped","\\u005f_proto__":1}'));
    await server.until(4);
    // A call refused before it runs (no tool named) leaves nothing behind for the next call under its id.
    server.send('{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"arguments":{"__proto__":{}}}}');
    await server.until(5);
    server.child.stdin!.end(`${JSON.stringify(call(5, { action: 'list' }))}\n`);
    const answers = await server.until(6);
    const byId = Object.fromEntries(answers.slice(0, 4).map((a) => [a.id, a]));
    for (const id of [2, 3, 4]) {
      expect(byId[id].result).toMatchObject({ isError: true, structuredContent: { error: { code: 'VALIDATION', message: expect.stringMatching(/'__proto__' is not a parameter of this action/) } } });
    }
    expect(answers[4]).toMatchObject({ id: 5, error: { code: -32602 } });
    expect(answers[5]).toMatchObject({ id: 5, result: { structuredContent: { teams: [] } } });
    expect(await server.exited).toBe(0);
  });

  it('answers the SDK client an oversized call with the limit, and the session stays usable', async () => {
    const session = await spawnSession(tempDbPath());
    const error = await session.client.callTool({ name: 'team_manage', arguments: { action: 'create', name: 'x', description: 'x'.repeat(12_000_000) } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).message).toMatch(/over the limit of 4194304 bytes/);
    expect(await session.call('team_manage', { action: 'create', name: 'Still here' })).toMatchObject({ name: 'Still here' });
  });
});

/** A database where the owner has sent loki one message; answers the file and the owner's session. */
async function mailForLoki() {
  const db = tempDbPath();
  const owner = await spawnSession(db);
  await owner.call('team_manage', { action: 'create', name: 'Engineering' });
  await owner.call('team_agent', { action: 'create', name: 'Loki' });
  await owner.call('team_comm', { action: 'send_message', to_agent: 'loki', content: 'the deploy key rotates tonight' });
  return { db, owner };
}

describe('each stdio process is its own session', () => {
  it('so mail one process was handed and never acknowledged is handed out again to the next one, not acknowledged by it', async () => {
    const { db } = await mailForLoki();
    const first = await spawnSession(db, { agent: 'loki' });
    expect((await first.call('team_comm', { action: 'mention_check' })).messages).toMatchObject([{ content: 'the deploy key rotates tonight' }]);
    await first.close(); // its answer never acted on: no ack
    const second = await spawnSession(db, { agent: 'loki' });
    expect((await second.call('team_comm', { action: 'mention_check' })).messages).toMatchObject([{ content: 'the deploy key rotates tonight', redelivered: true }]);
  });
});

describe('a call its client gave up on', () => {
  it("hands the mail it handed out again to the session's next plain mention_check, instead of taking it as received", async () => {
    const { db, owner } = await mailForLoki();
    const loki = await spawnSession(db, { agent: 'loki' });
    await loki.call('team_agent', { action: 'get' });
    // Another connection holds the write lock, so the check cannot answer before the client times out; the client
    // then tells the server (notifications/cancelled), and the check hands the mail out once the lock is free.
    const holder = new Database(db);
    holder.exec('begin immediate');
    await expect(loki.client.callTool({ name: 'team_comm', arguments: { action: 'mention_check' } }, { timeout: 300 })).rejects.toThrow(/timed out/i);
    holder.exec('commit');
    holder.close();
    expect(await loki.call('team_comm', { action: 'mention_check' })).toMatchObject({ acknowledged: 0, messages: [{ content: 'the deploy key rotates tonight' }] });
    const { messages } = await owner.call('team_comm', { action: 'inbox', agent_id: 'loki' });
    expect(messages).toMatchObject([{ content: 'the deploy key rotates tonight', read_at: '' }]);
  });

  it('other than a mention_check leaves the session as it is: what a check handed out is received', async () => {
    const { db } = await mailForLoki();
    const loki = rawServe(db, '--agent', 'loki');
    const check = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'team_comm', arguments: { action: 'mention_check' } } });
    loki.send(JSON.stringify(INITIALIZE));
    loki.send(check(2));
    await loki.until(2);
    loki.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'team_task', arguments: { action: 'list' } } }));
    await loki.until(3);
    // Given up on as its answer came (a cancel the server gets after answering): only that list is cancelled.
    loki.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3, reason: 'given up' } }));
    loki.child.stdin!.end(`${check(4)}\n`);
    const byId = Object.fromEntries((await loki.until(4)).map((a) => [a.id, a]));
    expect(byId[2].result.structuredContent.messages).toMatchObject([{ content: 'the deploy key rotates tonight' }]);
    expect(byId[4].result.structuredContent).toMatchObject({ acknowledged: 1, messages: [] });
    expect(await loki.exited).toBe(0);
  });
});

describe('a database that cannot be opened', () => {
  it('is answered as the store error, and opened on a later call once the cause is fixed, without a restart', async () => {
    const folder = dirname(tempDbPath());
    const blocker = join(folder, 'data');
    writeFileSync(blocker, 'a file where the database folder should be');
    const session = await spawnSession(join(blocker, 'team.db'));
    expect(await session.fail('team_manage', { action: 'list' })).toMatch(/^STORE_UNAVAILABLE: cannot open the database/);
    const failed = await session.client.callTool({ name: 'team_manage', arguments: { action: 'list' } });
    expect(failed.structuredContent).toMatchObject({ error: { code: 'STORE_UNAVAILABLE' } });
    rmSync(blocker);
    mkdirSync(blocker);
    expect(await session.call('team_manage', { action: 'create', name: 'Recovered' })).toMatchObject({ name: 'Recovered' });
  });
});

describe('tool answers', () => {
  it('carry the JSON as text and as structured content while the pair fits the budget, as text alone beyond it', () => {
    const small = { tasks: [{ id: 'abc', title: 'A "quoted" title' }] };
    expect(toolAnswer(small)).toEqual({ content: [{ type: 'text', text: JSON.stringify(small) }], structuredContent: small });
    const large = { body: '"'.repeat(200_000) };
    const answer = toolAnswer(large);
    expect(answer.structuredContent).toBeUndefined();
    expect(JSON.parse((answer.content[0] as { text: string }).text)).toEqual(large);
    expect(Buffer.byteLength(JSON.stringify(answer))).toBeLessThanOrEqual(ANSWER_PAIR_BUDGET_BYTES);
    const fitting = { body: 'x'.repeat(500_000) };
    expect(toolAnswer(fitting).structuredContent).toEqual(fitting);
    expect(Buffer.byteLength(JSON.stringify(toolAnswer(fitting)))).toBeLessThanOrEqual(ANSWER_PAIR_BUDGET_BYTES + 100);
  });

  it('of every error, INTERNAL included, carry structured content with the code', async () => {
    expect(toolError(new Error('disk I/O error'))).toEqual({
      isError: true,
      content: [{ type: 'text', text: 'INTERNAL: disk I/O error' }],
      structuredContent: { error: { code: 'INTERNAL', message: 'disk I/O error' } },
    });
    const session = await spawnSession(tempDbPath());
    const result = await session.client.callTool({ name: 'team_manage', arguments: { action: 'create' } });
    expect(result).toMatchObject({ isError: true, structuredContent: { error: { code: 'VALIDATION', field: 'name' } } });
  });
});
