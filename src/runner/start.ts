import type { Core } from '../core/core.js';
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
