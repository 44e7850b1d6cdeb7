import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import type { Core } from '../core/core.js';
import { TeamTableError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import { createHttpApp } from './app.js';
import { EventStreams } from './events.js';
import { STREAM_DEFAULTS } from './streamDefaults.js';
import { hostPolicy, isLoopback } from './guard.js';
import type { HostPolicy } from './guard.js';
import { mcpHandler } from './mcp.js';
import type { McpHttpHandler } from './mcp.js';
import { DEFAULT_RATE_LIMIT, rateLimiter, unlimited } from './rateLimit.js';
import type { RateLimit } from './rateLimit.js';

/** The largest document (LIMITS.documentContent characters), at 4 bytes a character in UTF-8, escaped in JSON. */
export const MAX_BODY_BYTES = LIMITS.documentContent * 8;
/** How long a stopping server waits for requests under way before it cuts their connections. */
const DRAIN_MS = 10_000;

export interface HttpServerOptions {
  host: string;
  port: number;
  log: (line: string) => void;
  /** Names (the public one behind a reverse proxy) the Host header may carry besides the bound address. */
  allowedHosts?: string[];
  /** Web origins whose pages may call the server (a dashboard served elsewhere). */
  allowedOrigins?: string[];
  /** Plain HTTP beyond loopback is expected: TLS is terminated by a proxy in front. */
  tlsTerminatedUpstream?: boolean;
  /** Per token; `null` turns the limit off. */
  rateLimit?: RateLimit | null;
  keepAliveMs?: number;
  mcp?: McpHttpHandler;
  /** Work the server does besides answering (sweeps, the runner), given its URL; stopped before the database closes. */
  background?: (url: string) => Promise<{ stop(): Promise<void> }>;
}

export interface RunningHttpServer {
  /** `http://127.0.0.1:7420`, with the port actually bound. */
  url: string;
  /** Stops accepting, ends every stream with a final event, lets requests under way finish, closes the database. */
  close(reason?: string): Promise<void>;
}

/** What a server bound to `host` should say before it serves: plain HTTP beyond loopback, an unchecked Host. */
export function bindWarnings(host: string, hosts: HostPolicy, tlsTerminatedUpstream = false): string[] {
  const warnings: string[] = [];
  if (!isLoopback(host) && !tlsTerminatedUpstream) {
    warnings.push(`serving plain HTTP on ${host}: bearer tokens cross the network readable by anyone on the path. Put TLS in front (a reverse proxy, see docs/http.md) and pass --tls-terminated-upstream.`);
  }
  if (!hosts.hosts) warnings.push(`bound to ${host} without --allowed-host: the Host header is not checked (DNS-rebinding protection off); name the hosts clients use.`);
  return warnings;
}

const urlOf = ({ address, port }: AddressInfo) => `http://${address.includes(':') ? `[${address}]` : address}:${port}`;

/**
 * `team-table serve --http`: MCP, REST and SSE for every agent with a token, on one port. Stateless: nothing a
 * request needs lives only in this process (the event stream resumes from the log, tokens are read per request), so
 * any server on the same database can answer any request.
 */
export async function startHttpServer(core: Core, options: HttpServerOptions): Promise<RunningHttpServer> {
  const { log } = options;
  const hosts = hostPolicy(options.host, options.allowedHosts, options.allowedOrigins);
  for (const warning of bindWarnings(options.host, hosts, options.tlsTerminatedUpstream)) log(`warning: ${warning}`);
  const streams = new EventStreams(core, { ...STREAM_DEFAULTS, ...(options.keepAliveMs ? { keepAliveMs: options.keepAliveMs } : {}) });
  const limit = options.rateLimit === undefined ? DEFAULT_RATE_LIMIT : options.rateLimit;
  const mcp = options.mcp ?? mcpHandler(core, log);
  const app = createHttpApp({
    core,
    log,
    hosts,
    limiter: limit ? rateLimiter(core, limit) : unlimited,
    maxBodyBytes: MAX_BODY_BYTES,
    streams,
    mcp,
  });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new TeamTableError('CONFLICT', `cannot listen on ${options.host}:${options.port}: ${error.code === 'EADDRINUSE' ? 'the address is in use (another server?)' : error.message}`, { host: options.host, port: options.port })),
    );
    server.listen(options.port, options.host, () => {
      server.removeAllListeners('error');
      server.on('error', (error) => log(`server error: ${error.stack ?? error}`));
      resolve();
    });
  });
  const url = urlOf(server.address() as AddressInfo);
  const working = await options.background?.(url);

  let closing: Promise<void> | undefined;
  const close = (reason = 'server shutting down') =>
    (closing ??= (async () => {
      streams.closeAll(reason);
      await mcp.close?.();
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const cut = setTimeout(() => server.closeAllConnections(), DRAIN_MS).unref();
      await drained;
      clearTimeout(cut);
      await working?.stop().catch((error) => log(`stopping background work failed: ${error}`));
      await core.close();
    })());
  return { url, close };
}
