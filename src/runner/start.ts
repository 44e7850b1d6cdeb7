import type { Core } from '../core/core.js';
import type { Actor } from '../core/context.js';
import type { Connection } from './job.js';
import { RUN_TOKEN_NAME } from '../core/runs.js';
import { Scheduler } from './scheduler.js';
import type { SchedulerOptions } from './scheduler.js';

export type RunnerOptions = SchedulerOptions;

/**
 * Starts the runner of a server process — `serve` over stdio, the HTTP server, `team-table run` — on `core`: it
 * competes for the scheduler's lead of the database and, while it leads, wakes the agents. Pass `db` (the SQLite
 * file, for agents' stdio clients) or `url` and `tokenFor` (the HTTP server, for agents' HTTP clients). Setting
 * `TEAM_TABLE_RUNNER=off` in a process's environment leaves the runner out of it (what the runner does for the
 * agents it starts).
 *
 * @example
 *   const runner = await startRunner(core, { db: resolve(dbPath), log });
 *   …
 *   await runner.stop();
 */
export async function startRunner(core: Core, options: RunnerOptions = {}): Promise<Scheduler> {
  const scheduler = new Scheduler(core, options);
  await scheduler.start();
  return scheduler;
}

/** Whether this process runs a scheduler at all (`TEAM_TABLE_RUNNER=off` leaves it out). */
export const runnerEnabled = (env: NodeJS.ProcessEnv = process.env): boolean => !['off', '0', 'false', 'no'].includes((env.TEAM_TABLE_RUNNER ?? '').toLowerCase());

const RUNNER: Actor = { kind: 'owner', name: 'runner' };

/**
 * Over HTTP, each run gets a token of its agent of its own, revoked when the run ends; when the process that made it
 * dies first, the next leader revokes it as it recovers the runs left running (`RunBook.recover`).
 */
export const perRunTokens =
  (core: Core): NonNullable<Connection['tokenFor']> =>
  async (agentId) => {
    const created = (await core.call(RUNNER, 'team_agent', { action: 'token_create', agent_id: agentId, name: RUN_TOKEN_NAME })) as { id: string; token: string };
    return { token: created.token, release: async () => void (await core.call(RUNNER, 'team_agent', { action: 'token_revoke', token_id: created.id })) };
  };
