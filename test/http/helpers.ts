import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createParser } from 'eventsource-parser';
import type { EventSourceMessage } from 'eventsource-parser';
import { afterAll, afterEach } from 'vitest';
import { Core } from '../../src/core/core.js';
import { Store } from '../../src/store/store.js';
import { CLI, OWNER, TestClock, tempDbPath } from '../helpers.js';
import type { TestCore } from '../helpers.js';

export interface HttpServer {
  url: string;
  child: ChildProcess;
  /** Everything the server wrote to stderr so far. */
  log(): string;
  /** Everything it wrote to stdout so far (what `start` prints). */
  output(): string;
  /** Sends `signal` and resolves with the exit code once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const running = new Set<HttpServer>();
afterAll(async () => {
  await Promise.all([...running].map((s) => s.stop('SIGKILL')));
});

/**
 * The built CLI spawned as `serve --http 127.0.0.1:0` (or `start`) on `db`: the operating system picks a free port, which the
 * server prints on stderr (`listening on http://127.0.0.1:PORT …`); this resolves once that line is out.
 */
export async function startServer(db: string, args: string[] = [], command = 'serve'): Promise<HttpServer> {
  const child = spawn(process.execPath, [CLI, command, '--db', db, '--http', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${stderr}`)));
  });
  const server: HttpServer = {
    url,
    child,
    log: () => stderr,
    output: () => stdout,
    async stop(signal = 'SIGTERM') {
      running.delete(server);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  running.add(server);
  return server;
}

const cores: Store[] = [];
afterAll(async () => {
  for (const store of cores.splice(0)) await store.close();
});

/**
 * A core on a new database file that lives as long as the test file (the server under test shares the file); the
 * clock is the real one, since the server's is.
 */
export async function fileCore(): Promise<TestCore> {
  const path = tempDbPath();
  const store = await Store.open(path);
  cores.push(store);
  const core = new Core(store);
  return { core, store, clock: new TestClock(), path, call: (actor, tool, args) => core.call(actor, tool, args) };
}

/** A token made through the core on the test's own connection to the database file. */
export async function tokenFor(t: TestCore, who: { agent_id: string } | { owner: true }, actor = OWNER): Promise<{ id: string; token: string }> {
  return t.call(actor, 'team_agent', { action: 'token_create', ...who });
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A JSON request to the server; answers the status, headers and parsed body. */
export async function request(server: HttpServer, method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...(options.token ? bearer(options.token) : {}), ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
    body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
  });
  let text = await res.text();
  // Streamable HTTP may answer a JSON-RPC request as one SSE event (the SDK's stateless 2025 leg does): its data.
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) text = /^data: (.*)$/m.exec(text)?.[1] ?? text;
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, body };
}

export interface SseStream {
  status: number;
  /** Every event received so far, control events (`connected`, `keepalive`, `closing`) included. */
  events: EventSourceMessage[];
  /** The log events received (those with an id), parsed. */
  logEvents(): { seq: number; type: string; [field: string]: unknown }[];
  /** Waits for a condition on what was received (a real wait, bounded, never a timed assertion). */
  until(done: (events: EventSourceMessage[]) => boolean, what: string): Promise<void>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  /** The client hangs up. */
  close(): void;
}

const streams: SseStream[] = [];
afterEach(() => {
  for (const stream of streams.splice(0)) stream.close();
});

/** An SSE client over fetch (so it can send the bearer token) and eventsource-parser. */
export async function openStream(server: HttpServer, token: string, options: { query?: string; lastEventId?: string; headers?: Record<string, string> } = {}): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(`${server.url}/events${options.query ? `?${options.query}` : ''}`, {
    headers: { ...bearer(token), accept: 'text/event-stream', ...(options.lastEventId ? { 'last-event-id': options.lastEventId } : {}), ...options.headers },
    signal: abort.signal,
  });
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event) });
  const ended = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    } catch {
      // the client hung up
    }
  })();
  const stream: SseStream = {
    status: res.status,
    events,
    logEvents: () => events.filter((e) => e.id !== undefined).map((e) => JSON.parse(e.data)),
    async until(done, what) {
      for (let waited = 0; !done(events); waited += 10) {
        if (waited > 20_000) throw new Error(`timed out waiting for ${what}; received ${JSON.stringify(events.map((e) => e.event ?? e.id))}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    ended,
    close: () => abort.abort(),
  };
  streams.push(stream);
  return stream;
}
