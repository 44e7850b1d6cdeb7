import { randomUUID } from 'node:crypto';
import { serveStdio as serveStdioEntry } from '@modelcontextprotocol/server/stdio';
import type { Actor } from '../core/context.js';
import { coreLoader } from './coreLoader.js';
import { mcpSession } from './server.js';
import { StdioLineTransport } from './stdioTransport.js';

/** How often a server requeues expired leases and runs idle-agent rules when no write does it first. */
const SWEEP_INTERVAL_MS = 30_000;

/**
 * The largest JSON-RPC message read, the same bound as over HTTP (the SDK's default request body limit). The
 * largest valid tool call — a 256 Ki-character document, every character escaped — stays well below it.
 */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export interface StdioOptions {
  db: string;
  actor: Actor;
  log: (line: string) => void;
}

/**
 * `team-table serve`: one session over stdio, in either protocol era (the SDK's `serveStdio` entry: a 2025-era
 * `initialize` or a 2026-07-28 `server/discover` opening). The handshake is answered at once; the store (Kysely,
 * SQLite, migrations) loads right after it, or on the first call that needs it. A database that cannot be opened is
 * answered as the store's error (STORE_UNAVAILABLE …) and opened again on the next call, so fixing the cause needs
 * no restart.
 */
export async function serveStdio({ db, actor, log }: StdioOptions): Promise<void> {
  const loader = coreLoader(db, log, SWEEP_INTERVAL_MS);
  const session = mcpSession({ core: loader.core, actor: { ...actor, session: randomUUID() }, log });
  const transport = new StdioLineTransport({ maxMessageBytes: MAX_REQUEST_BYTES });
  const handle = serveStdioEntry(session.factory, { transport, onerror: (error) => log(error.message) });

  const shutdown = async () => {
    await session.drain();
    await handle.close().catch(() => {});
    await loader.close();
    process.exit(0);
  };
  void transport.closed.then(shutdown);
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  log(`serving ${db} over stdio as ${actor.kind === 'agent' ? `agent '${actor.id}'` : `owner '${actor.name}'`}`);
}
