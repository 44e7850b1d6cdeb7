import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import type { Kysely } from 'kysely';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { ClientOptions, Transport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { hostHeaderValidationResponse, localhostAllowedHostnames, localhostAllowedOrigins, originValidationResponse } from '@modelcontextprotocol/server';
import { afterAll, afterEach, expect } from 'vitest';
import type { Actor } from '../src/core/context.js';
import { Core } from '../src/core/core.js';
import { createMcpEndpoint } from '../src/mcp/http.js';
import type { McpHttpEndpoint } from '../src/mcp/http.js';
import { Store } from '../src/store/store.js';
import type { OpenOptions } from '../src/store/store.js';

export const CLI = resolve(import.meta.dirname, '../dist/cli/main.js');
export const OWNER: Actor = { kind: 'owner', name: 'ana' };
export const agent = (id: string): Actor => ({ kind: 'agent', id });

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * The dialect this run tests: the `postgres` vitest project runs the suites that are the same on both dialects
 * against TEAM_TABLE_TEST_PG (vitest.config.ts).
 */
export const TEST_DIALECT = process.env.TEAM_TABLE_TEST_DIALECT === 'postgres' ? 'postgres' : 'sqlite';
const schemas: string[] = [];
afterAll(async () => {
  if (!schemas.length) return;
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: process.env.TEAM_TABLE_TEST_PG });
  await admin.connect();
  for (const schema of schemas.splice(0)) await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
});

/** A new PostgreSQL database of its own for a test: a fresh schema in TEAM_TABLE_TEST_PG, dropped after the test file. */
export function tempPgUrl(): string {
  const schema = `t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  schemas.push(schema);
  const url = new URL(process.env.TEAM_TABLE_TEST_PG!);
  url.searchParams.set('schema', schema);
  url.searchParams.set('pool_size', '4');
  return url.toString();
}

/**
 * Where a test's new database lives: a file in a fresh temporary folder (removed after the test file) or, in the
 * postgres project, a fresh schema.
 */
export function tempDbPath(): string {
  return TEST_DIALECT === 'postgres' ? tempPgUrl() : tempFilePath();
}

/** A path for a new SQLite file in a fresh temporary folder, removed after the test file, whatever the project. */
export function tempFilePath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'team-table-test-'));
  dirs.push(dir);
  return join(dir, 'team.db');
}

/** Reads until `test` holds (each read waits a little), failing with `what` after `timeoutMs`. */
export async function waitFor<T>(read: () => Promise<T>, test: (value: T) => boolean, what: string, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (test(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value).slice(0, 2_000)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A clock the test moves by hand. */
export class TestClock {
  constructor(public time = new Date('2026-02-21T10:00:00.000Z')) {}
  now = () => new Date(this.time);
  advance(ms: number) {
    this.time = new Date(this.time.getTime() + ms);
  }
}

export interface TestCore {
  core: Core;
  store: Store;
  clock: TestClock;
  path: string;
  /** Calls a tool as `actor`, returning its result (throws the domain error on failure). */
  call(actor: Actor, tool: string, args: Record<string, unknown>): Promise<any>;
}

const opened: Store[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

/** A core over a real SQLite file, with an injected clock. */
export async function openCore(options: OpenOptions & { path?: string } = {}): Promise<TestCore> {
  const path = options.path ?? tempDbPath();
  const store = await Store.open(path, options);
  opened.push(store);
  const clock = new TestClock();
  const core = new Core(store, { clock: clock.now });
  return { core, store, clock, path, call: (actor, tool, args) => core.call(actor, tool, args) };
}

/** Columns a later migration (`version`) added that today's core writes. */
const LATER_WRITTEN_COLUMNS = [{ version: 14, table: 'team_pending_messages', column: 'task_id' }];

/**
 * A core over a database at schema `version`, to fill with the history an upgrade must keep. Today's core writes
 * columns added since: they are there while it writes, and `close()` drops them, leaving the older schema with rows
 * as it held them — and what the core read before closing is the answer the upgrade must give again.
 */
export async function openOlderCore(version: number): Promise<TestCore & { close(): Promise<void> }> {
  const t = await openCore({ schemaVersion: version });
  const db = t.store.db as unknown as Kysely<any>;
  const later = LATER_WRITTEN_COLUMNS.filter((c) => c.version > version);
  for (const { table, column } of later) await db.schema.alterTable(table).addColumn(column, 'text', (c) => c.notNull().defaultTo('')).execute();
  return {
    ...t,
    async close() {
      for (const { table, column } of later) await db.schema.alterTable(table).dropColumn(column).execute();
      await t.store.close();
    },
  };
}

/** A team `Engineering` with agents jarvis (lead) and loki (mid). */
export async function seedTeam(t: TestCore) {
  const team = await t.call(OWNER, 'team_manage', { action: 'create', name: 'Engineering', description: 'Main development team' });
  await t.call(OWNER, 'team_agent', { action: 'create', team_id: 'engineering', name: 'Jarvis', role: 'Squad Lead', level: 'lead' });
  await t.call(OWNER, 'team_agent', { action: 'create', team_id: 'engineering', name: 'Loki', role: 'Technical Writer', level: 'mid' });
  return team as { id: string; name: string };
}

/** The protocol revisions a session can speak: 2026-07-28 (`server/discover`) and the 2025 `initialize` ones. */
export const PROTOCOL_VERSIONS = ['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26'] as const;
export type ProtocolVersion = (typeof PROTOCOL_VERSIONS)[number];

/** Client options that make the SDK's client speak exactly `version`: pinned to 2026-07-28, or offering one 2025 revision. */
export function clientOptionsFor(version: ProtocolVersion | undefined): ClientOptions {
  if (version === undefined) return {};
  if (version === '2026-07-28') return { versionNegotiation: { mode: { pin: version } } };
  return { supportedProtocolVersions: [version] };
}

export interface McpSession {
  client: Client;
  /** Calls a tool; returns the structured result, or throws with the tool's error text. */
  call(tool: string, args: Record<string, unknown>): Promise<any>;
  /** Calls a tool expecting an error; returns the error text. */
  fail(tool: string, args: Record<string, unknown>): Promise<string>;
  /** What the server wrote to stderr so far (its log), for assertions and failure messages. */
  stderr(): string;
  close(): Promise<void>;
}

// Registered before the sessions' hook: after-hooks run in reverse, so sessions close before their servers.
const servers: { close(): Promise<void> }[] = [];
const persistentServers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const server of servers.splice(0).reverse()) await server.close();
});
afterAll(async () => {
  for (const server of persistentServers.splice(0).reverse()) await server.close();
});

const sessions: McpSession[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.close();
});

/** A tool's answer as a program reads it: the structured content, the same JSON as the text (checked). */
export function answerOf(result: { content?: unknown; structuredContent?: unknown }): any {
  const text = (result.content as { type: string; text: string }[])[0]!.text;
  if (result.structuredContent === undefined) return JSON.parse(text);
  expect(JSON.parse(text)).toEqual(result.structuredContent);
  return result.structuredContent;
}

export interface SpawnOptions {
  agent?: string;
  env?: Record<string, string>;
  /** `persistent` sessions outlive a single test (the caller closes them), others close after each test. */
  persistent?: boolean;
  /** The protocol revision the client speaks (default: the SDK client's default, 2025-11-25). */
  protocol?: ProtocolVersion;
}

/** An SDK client on `transport`, as a session: tool calls that return the answer or throw with the error text. */
async function connectSession(transport: Transport, options: { protocol?: ProtocolVersion; persistent?: boolean }, stderr: () => string): Promise<McpSession> {
  const client = new Client({ name: 'team-table-test', version: '0.0.0' }, clientOptionsFor(options.protocol));
  await client.connect(transport);
  const raw = (tool: string, args: Record<string, unknown>) => client.callTool({ name: tool, arguments: args });
  const session: McpSession = {
    client,
    async call(tool, args) {
      const result = await raw(tool, args);
      if (result.isError) throw new Error(`${tool}(${JSON.stringify(args)}) failed: ${(result.content as { text: string }[])[0]?.text}`);
      return answerOf(result);
    },
    async fail(tool, args) {
      const result = await raw(tool, args);
      if (!result.isError) throw new Error(`${tool}(${JSON.stringify(args)}) succeeded, expected an error`);
      return (result.content as { text: string }[])[0]!.text;
    },
    stderr,
    close: () => client.close(),
  };
  if (!options.persistent) sessions.push(session);
  return session;
}

/** A real MCP client from the SDK, talking over stdio to the built CLI spawned as `serve`. */
export async function spawnSession(db: string, options: SpawnOptions = {}): Promise<McpSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'serve', '--db', db, ...(options.agent ? ['--agent', options.agent] : [])],
    env: { ...(process.env as Record<string, string>), TEAM_TABLE_OWNER: 'ana', ...options.env },
    stderr: 'pipe',
  });
  // Read stderr as it comes: a pipe nobody reads fills up and stalls the server's next log line.
  let stderr = '';
  transport.stderr?.on('data', (chunk) => (stderr = `${stderr}${chunk}`.slice(-20_000)));
  return connectSession(transport, options, () => stderr);
}

export interface HttpServer {
  /** The MCP endpoint's URL (`http://127.0.0.1:<port>/mcp`). */
  url: string;
  endpoint: McpHttpEndpoint;
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1, an ephemeral port, with `handle` answering every request; closed (with `also`) after the
 * test, or after the file when `persistent`.
 */
async function listen(handle: Parameters<typeof createServer>[1], persistent = false, also: () => Promise<void> = async () => {}) {
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await also();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    })());
  (persistent ? persistentServers : servers).push({ close });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close };
}

/**
 * MCP over HTTP as the HTTP server mounts it: Host and Origin checked (the SDK's localhost lists), the bearer token
 * mapped to its actor (401 without a known one), then `createMcpEndpoint` on `core` answers at `/mcp`.
 */
export async function serveMcpHttp(core: Core, tokens: Record<string, Actor>, { persistent = false } = {}): Promise<HttpServer> {
  const endpoint = createMcpEndpoint({ core });
  const listener = getRequestListener(async (request) => {
    const refused = hostHeaderValidationResponse(request, localhostAllowedHostnames()) ?? originValidationResponse(request, localhostAllowedOrigins());
    if (refused) return refused;
    if (new URL(request.url).pathname !== '/mcp') return new Response('not found', { status: 404 });
    const actor = tokens[/^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1] ?? ''];
    if (!actor) return Response.json({ error: 'unauthorized' }, { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } });
    return endpoint.fetch(request, actor);
  });
  const { base, close } = await listen(listener, persistent, () => endpoint.close());
  return { url: `${base}/mcp`, endpoint, close };
}

/**
 * A local proxy that adds `Authorization: Bearer <token>` to every request and forwards it unchanged otherwise (Host
 * and Origin included, so the server's checks still see what the client sent): for a client that cannot send a
 * token, like the conformance suite. Authentication stays on.
 */
export async function tokenProxy(target: string, token: string, { persistent = false } = {}): Promise<string> {
  const to = new URL(target);
  const { base } = await listen((incoming, outgoing) => {
    const upstream = httpRequest({ hostname: to.hostname, port: to.port, path: incoming.url, method: incoming.method, headers: { ...incoming.headers, authorization: `Bearer ${token}` } }, (response) => {
      outgoing.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(outgoing);
    });
    upstream.on('error', () => outgoing.destroy());
    outgoing.on('close', () => upstream.destroy());
    incoming.pipe(upstream);
  }, persistent);
  return `${base}${to.pathname}`;
}

/** A real MCP client from the SDK over Streamable HTTP, sending `token`. */
export async function httpSession(url: string, token: string, options: { protocol?: ProtocolVersion; persistent?: boolean } = {}): Promise<McpSession> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  return connectSession(transport, options, () => '');
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI to its end, as a person's shell would (no terminal: no colour, no progress). */
export function runCli(args: string[], options: { env?: Record<string, string>; input?: string; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { env: { ...process.env, TEAM_TABLE_OWNER: 'ana', ...options.env }, cwd: options.cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(options.input ?? '');
  });
}
