import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
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

export interface McpSession {
  client: Client;
  /** Calls a tool; returns the structured result, or throws with the tool's error text. */
  call(tool: string, args: Record<string, unknown>): Promise<any>;
  /** Calls a tool expecting an error; returns the error text. */
  fail(tool: string, args: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

const sessions: McpSession[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.close();
});

/** A real MCP client from the SDK, talking over stdio to the built CLI spawned as `serve`. */
/** `persistent` sessions outlive a single test (the caller closes them), others close after each test. */
export async function spawnSession(db: string, options: { agent?: string; env?: Record<string, string>; persistent?: boolean } = {}): Promise<McpSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'serve', '--db', db, ...(options.agent ? ['--agent', options.agent] : [])],
    env: { ...(process.env as Record<string, string>), TEAM_TABLE_OWNER: 'ana', ...options.env },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'team-table-test', version: '0.0.0' });
  await client.connect(transport);
  const raw = (tool: string, args: Record<string, unknown>) => client.callTool({ name: tool, arguments: args });
  const session: McpSession = {
    client,
    async call(tool, args) {
      const result = await raw(tool, args);
      if (result.isError) throw new Error(`${tool}(${JSON.stringify(args)}) failed: ${(result.content as { text: string }[])[0]?.text}`);
      const text = (result.content as { text: string }[])[0]!.text;
      expect(JSON.parse(text)).toEqual(result.structuredContent);
      return result.structuredContent;
    },
    async fail(tool, args) {
      const result = await raw(tool, args);
      if (!result.isError) throw new Error(`${tool}(${JSON.stringify(args)}) succeeded, expected an error`);
      return (result.content as { text: string }[])[0]!.text;
    },
    close: () => client.close(),
  };
  if (!options.persistent) sessions.push(session);
  return session;
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
