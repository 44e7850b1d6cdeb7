import { absoluteLocation } from '../store/location.js';
import type { Core } from '../core/core.js';

/** How often a server sweeps (expired leases and facts, idle and unresponsive agents) when no call did it first. */
const SWEEP_INTERVAL_MS = 30_000;

/** Where the agents the runner wakes reach team-table: the database (stdio clients), and the HTTP server if one runs. */
export interface AgentConnection {
  db: string;
  /** The HTTP server's base URL: agents get its MCP endpoint and a token of their own for each run. */
  url?: string;
}

export interface Background {
  stop(): Promise<void>;
}

/**
 * What every long-running server process does besides answering — `serve` over stdio or HTTP, `team-table run`:
 * it sweeps on a timer, runs the runner (which one process per database leads; `TEAM_TABLE_RUNNER=off` leaves it
 * out of this process), and the notification sender (one process per database sends: src/outbox).
 */
export async function startBackground(core: Core, agents: AgentConnection, log: (line: string) => void, options: { maxConcurrentRuns?: number } = {}): Promise<Background> {
  const sweeper = setInterval(() => core.sweep().catch((error) => log(`sweep failed: ${error}`)), SWEEP_INTERVAL_MS).unref();
  const { perRunTokens, runnerEnabled, startRunner } = await import('../runner/start.js');
  const db = absoluteLocation(agents.db);
  const connection = agents.url ? { db, url: `${agents.url}/mcp`, tokenFor: perRunTokens(core) } : { db };
  const runner = runnerEnabled() ? await startRunner(core, { ...connection, ...options, log }) : undefined;
  const { startNotificationSender } = await import('../outbox/sender.js');
  const sender = await startNotificationSender(core, { log });
  return {
    async stop() {
      clearInterval(sweeper);
      await runner?.stop();
      await sender.stop();
    },
  };
}
