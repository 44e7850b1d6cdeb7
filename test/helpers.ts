import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import type { ClientOptions } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, afterEach, expect } from 'vitest';
import type { Actor } from '../src/core/context.js';
import { Core } from '../src/core/core.js';
import { Store } from '../src/store/store.js';
import type { OpenOptions } from '../src/store/store.js';

export const CLI = resolve(import.meta.dirname, '../dist/cli/main.js');
export const OWNER: Actor = { kind: 'owner', name: 'ana' };
export const agent = (id: string): Actor => ({ kind: 'agent', id });

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A path for a new database file in a fresh temporary folder, removed after the test file. */
export function tempDbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'team-table-test-'));
  dirs.push(dir);
  return join(dir, 'team.db');
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
    stderr: () => stderr,
    close: () => client.close(),
  };
  if (!options.persistent) sessions.push(session);
  return session;
}
