import { randomUUID } from 'node:crypto';
import type { McpServerFactory, RequestId, Server } from '@modelcontextprotocol/server';
import { serveStdio as serveStdioEntry } from '@modelcontextprotocol/server/stdio';
import type { Actor } from '../core/context.js';
import type { Core } from '../core/core.js';
import { Lru } from '../core/lru.js';
import { coreLoader } from './coreLoader.js';
import { SubscriptionBook } from './resources.js';
import { ResourceWatch } from './resourceWatch.js';
import { SentArguments } from './sentArguments.js';
import { MAX_REQUEST_BYTES, mcpServers } from './server.js';
import { StdioLineTransport } from './stdioTransport.js';

export interface StdioOptions {
  db: string;
  /** Opens the core on `db` (with its config file); called on first use, and again after an open that failed. */
  open: () => Promise<Core>;
  actor: Actor;
  log: (line: string) => void;
  /** Work the server does once its core is open (sweeps, the runner), stopped before it exits. */
  background?: (core: Core) => Promise<{ stop(): Promise<void> }>;
}

/** How many calls a process keeps track of (a refused request never starts; a cancel comes soon or not at all). */
const KEPT_CALLS = 1_000;

/**
 * The session each call of a stdio process acts in, fixed when its request is read. A client that gives up on a
 * mention_check (`notifications/cancelled` naming it: an SDK client's timeout) never gets the mail it handed out,
 * answered or not; the session then starts afresh for the requests read after it, so that the next plain
 * mention_check hands that mail out again instead of taking it as received (see src/core/delivery.ts). Other
 * cancellations (a listen stream closed, a slow read given up) leave the session as it is.
 */
class CallSessions {
  private readonly byRequest = new Lru<RequestId, string>(KEPT_CALLS);
  /** The ids of the mention_checks read lately. */
  private readonly checks = new Lru<RequestId, true>(KEPT_CALLS);

  constructor(private current: string) {}

  read(message: unknown): void {
    const { method, id, params } = (message ?? {}) as { method?: unknown; id?: unknown; params?: { name?: unknown; arguments?: { action?: unknown }; requestId?: unknown } };
    if (method === 'notifications/cancelled') {
      if (this.checks.has(params?.requestId as RequestId)) this.current = randomUUID();
      return;
    }
    if (method !== 'tools/call' || (typeof id !== 'string' && typeof id !== 'number')) return;
    this.byRequest.set(id, this.current);
    if (params?.name === 'team_comm' && params.arguments?.action === 'mention_check') this.checks.set(id, true);
    else this.checks.take(id);
  }

  take(id: RequestId): string {
    return this.byRequest.take(id) ?? this.current;
  }
}

/**
 * `team-table serve`: one session over stdio, in either protocol era (the SDK's `serveStdio` entry: a 2025-era
 * `initialize` or a 2026-07-28 `server/discover` opening). The handshake is answered at once; the store (Kysely,
 * SQLite, migrations) loads right after it, or on the first call that needs it. A database that cannot be opened is
 * answered as the store's error (STORE_UNAVAILABLE …) and opened again on the next call, so fixing the cause needs
 * no restart.
 *
 * Resource subscriptions are served from the event feed, so a change made by any process on the database is told:
 * to a 2025-era session as `notifications/resources/updated` for the URIs it subscribed to (the roadmap's poll
 * fallback: the feed polls the file), to a 2026-07-28 session on its `subscriptions/listen` streams.
 */
export async function serveStdio({ db, open, actor, log, background }: StdioOptions): Promise<void> {
  const loader = coreLoader(open, log, background);
  const servers = mcpServers({ core: loader.core, log });
  // One session per process: mail handed to it and never acknowledged goes to the agent's next session.
  const sessionActor = { ...actor, session: randomUUID() };
  const sentArguments = new SentArguments();
  const sessions = new CallSessions(sessionActor.session);
  /** The instance serving the connection (the entry may build a probe instance first, then the one it keeps). */
  let current: { server: Server; era: 'legacy' | 'modern' } | undefined;
  const watch = new ResourceWatch(
    loader.core,
    (uris) => {
      if (!current) return;
      // A modern instance's notifications go through the entry's listen router, which keeps what a stream asked for.
      const told = current.era === 'modern' ? uris : book.subscribed(uris);
      for (const uri of told) current.server.sendResourceUpdated({ uri }).catch((error: Error) => log(`resource update: ${error.message}`));
    },
    log,
  );
  const book = new SubscriptionBook(() => watch.start());
  const factory: McpServerFactory = ({ era }) => {
    const server = servers.serverFor(sessionActor, { ...(era === 'legacy' ? { subscriptions: book } : {}), sentArguments, sessionOf: (id) => sessions.take(id) });
    current = { server, era };
    return server;
  };
  // The entry answers a 2026-07-28 listen request itself, unseen by the instance: the transport holds it until the
  // log is watched, so that no change after the acknowledgement goes untold.
  const transport = new StdioLineTransport({
    maxMessageBytes: MAX_REQUEST_BYTES,
    read: (message) => {
      sentArguments.note(message);
      sessions.read(message);
    },
    before: (message) => ('method' in message && message.method === 'subscriptions/listen' ? watch.start().catch((error: Error) => log(`resource watch: ${error.message}`)) : undefined),
  });
  const handle = serveStdioEntry(factory, { transport, onerror: (error) => log(error.message) });

  const shutdown = async () => {
    watch.close();
    await servers.drain();
    await handle.close().catch(() => {});
    await loader.close();
    process.exit(0);
  };
  void transport.closed.then(shutdown);
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  log(`serving ${db} over stdio as ${actor.kind === 'agent' ? `agent '${actor.id}'` : `owner '${actor.name}'`}`);
}
