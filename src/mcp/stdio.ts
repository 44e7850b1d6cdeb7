import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Actor } from '../core/context.js';
import type { Core } from '../core/core.js';
import type { NotificationSender } from '../outbox/sender.js';
import { createMcpServer } from './server.js';

/** How often a server requeues expired leases and runs idle-agent rules when no write does it first. */
const SWEEP_INTERVAL_MS = 30_000;

export interface StdioOptions {
  db: string;
  /** The config file; team-table.yaml beside the database when there is one. */
  config?: string;
  actor: Actor;
  log: (line: string) => void;
  /** Background work on the opened core (the runner), started after the handshake and stopped before exit. */
  background?: (core: Core) => Promise<{ stop(): Promise<void> }>;
}

/**
 * `team-table serve`: one session over stdio. The handshake is answered at once; the store (Kysely, SQLite,
 * migrations) loads right after it, or on the first call that needs it. A failure to open the database is
 * logged and answered as a tool error on every call, so the client shows why.
 */
export async function serveStdio({ db, config, actor, log, background }: StdioOptions): Promise<void> {
  let loading: Promise<Core> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let sender: NotificationSender | undefined;
  let working: Promise<{ stop(): Promise<void> } | undefined> | undefined;
  const core = () =>
    (loading ??= (async () => {
      const [{ Store }, { Core }, { loadConfig }, { startNotificationSender }] = await Promise.all([
        import('../store/store.js'),
        import('../core/core.js'),
        import('../config/load.js'),
        import('../outbox/sender.js'),
      ]);
      const { notifications } = await loadConfig({ db, config });
      const opened = new Core(await Store.open(db), { log, notifications });
      timer = setInterval(() => opened.sweep().catch((error) => log(`sweep failed: ${error}`)), SWEEP_INTERVAL_MS).unref();
      sender = await startNotificationSender(opened, { log });
      working = background?.(opened).catch((error) => {
        log(`background work failed to start: ${(error as Error)?.stack ?? error}`);
        return undefined;
      });
      return opened;
    })());
  const { server, drain } = createMcpServer(core, actor, log);
  server.oninitialized = () => {
    core().catch((error) => log(error.message));
  };

  const shutdown = async () => {
    clearInterval(timer);
    await drain();
    await sender?.stop().catch(() => {});
    await (await working)?.stop().catch((error) => log(`stopping background work failed: ${error}`));
    await server.close().catch(() => {});
    if (loading) await (await loading.catch(() => undefined))?.store.close().catch(() => {});
    process.exit(0);
  };
  process.stdin.on('end', shutdown);
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  await server.connect(new StdioServerTransport());
  log(`serving ${db} over stdio as ${actor.kind === 'agent' ? `agent '${actor.id}'` : `owner '${actor.name}'`}`);
}
