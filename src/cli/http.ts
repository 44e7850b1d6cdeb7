import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import type { Core } from '../core/core.js';
import { DEFAULT_RATE_LIMIT, rateLimitOf } from '../http/rateLimit.js';
import { STREAM_DEFAULTS } from '../http/streamDefaults.js';
import type { RunningHttpServer } from '../http/server.js';

export const DEFAULT_HTTP_ADDRESS = '127.0.0.1:7420';

export interface HttpFlags {
  tlsTerminatedUpstream?: boolean;
  allowedHost?: string[];
  allowedOrigin?: string[];
  rateLimit?: number;
  keepalive?: number;
}

/** `[HOST:]PORT` → host and port; a bare port binds to loopback. IPv6 hosts in brackets: `[::1]:7420`. */
export function parseAddress(value: string): { host: string; port: number } {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[^:\s]+):)?(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[2]);
  if (!match || port > 65_535) throw new InvalidArgumentError(`expected [HOST:]PORT, e.g. 7420 or 127.0.0.1:7420, got '${value}'`);
  return { host: (match[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port };
}

/** For commander: refuses a malformed address when the command line is read. */
export const checkAddress = (value: string) => (parseAddress(value), value);

const collect = (value: string, previous: string[] = []) => [...previous, value];
const whole = (name: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
  return n;
};

/** The flags `serve --http` and `start` share. */
export function addHttpFlags(command: Command): Command {
  return command
    .addOption(new Option('--tls-terminated-upstream', 'plain HTTP beyond loopback is intended: TLS ends at a reverse proxy in front'))
    .addOption(new Option('--allowed-host <name>', 'a host name clients use (e.g. the proxy\'s public name); repeatable').argParser(collect))
    .addOption(new Option('--allowed-origin <origin>', 'a web origin whose pages may call the server; repeatable').argParser(collect))
    .addOption(new Option('--rate-limit <per-minute>', 'requests per minute per token (0: no limit)').argParser(whole('--rate-limit', 0, 1_000_000)).default(DEFAULT_RATE_LIMIT.perMinute))
    .addOption(new Option('--keepalive <seconds>', 'seconds between keep-alive events on /events').argParser(whole('--keepalive', 1, 300)).default(STREAM_DEFAULTS.keepAliveMs / 1000));
}

/**
 * Starts the HTTP server on `address` over `core` (the database `db`) with its background work, says where on
 * stderr (`listening on http://…`, the line tests and
 * scripts wait for), and stops it gracefully on SIGINT or SIGTERM: streams get a final event, requests under way
 * finish, the database closes.
 */
export async function runHttpServer(core: Core, db: string, address: string, flags: HttpFlags, log: (line: string) => void): Promise<RunningHttpServer> {
  const { host, port } = parseAddress(address);
  const [{ startHttpServer }, { startBackground }] = await Promise.all([import('../http/server.js'), import('./background.js')]);
  const server = await startHttpServer(core, {
    background: (url) => startBackground(core, { db, url }, log),
    host,
    port,
    log,
    allowedHosts: flags.allowedHost,
    allowedOrigins: flags.allowedOrigin,
    tlsTerminatedUpstream: flags.tlsTerminatedUpstream,
    rateLimit: flags.rateLimit === 0 ? null : rateLimitOf(flags.rateLimit ?? DEFAULT_RATE_LIMIT.perMinute),
    keepAliveMs: (flags.keepalive ?? STREAM_DEFAULTS.keepAliveMs / 1000) * 1000,
  });
  log(`listening on ${server.url} (MCP ${server.url}/mcp, REST ${server.url}/api/v1, events ${server.url}/events)`);
  const stop = (signal: string) => {
    log(`${signal}: finishing the requests under way, closing streams`);
    server.close(`server stopped (${signal})`).then(
      () => process.exit(0),
      (error) => {
        log(`shutdown failed: ${(error as Error)?.stack ?? error}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return server;
}
