import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { Core } from '../core/core.js';

/**
 * `team-table run`: the runner alone — the scheduler and the wake adapters — for a database that no `serve` keeps
 * open, or to keep agents woken on a machine where nobody works interactively. Any number may run: one leads.
 * With `--print-recipes` it prints, for each agent, the `wake_adapter` of each documented recipe instead.
 */

const log = (line: string) => process.stderr.write(`team-table: ${line}\n`);
/** How often a runner requeues expired leases and runs the idle rules, as `serve` does. */
const SWEEP_INTERVAL_MS = 30_000;

/** The runner inside `serve`: started once its core is open, unless TEAM_TABLE_RUNNER=off. */
export function serveRunner(db: string, log: (line: string) => void) {
  return async (core: Core) => {
    const { runnerEnabled, startRunner } = await import('../runner/start.js');
    if (!runnerEnabled()) return { stop: async () => {} };
    return startRunner(core, { db: resolve(db), log });
  };
}

export function runCommand(): Command {
  return new Command('run')
    .description('the runner alone: fires heartbeats and wakes agents through their wake adapters (one process per database leads)')
    .addOption(new Option('--db <path>', 'SQLite database file').env('TEAM_TABLE_DB').default('.team-table/team.db'))
    .addOption(new Option('--max-runs <n>', 'runs at once at most').argParser((v) => Number.parseInt(v, 10)).default(4))
    .option('--print-recipes', "print each agent's wake_adapter for Claude Code, Codex, Gemini CLI and a plain script, and exit")
    .action(async (options: { db: string; maxRuns: number; printRecipes?: boolean }) => {
      const [{ Store }, { Core }] = await Promise.all([import('../store/store.js'), import('../core/core.js')]);
      const core = new Core(await Store.open(options.db), { log });
      if (options.printRecipes) {
        const { printRecipes } = await import('../runner/recipes.js');
        process.stdout.write(await printRecipes(core, resolve(options.db)));
        await core.store.close();
        return;
      }
      const { startRunner } = await import('../runner/start.js');
      const runner = await startRunner(core, { db: resolve(options.db), maxConcurrentRuns: options.maxRuns, log });
      const sweeper = setInterval(() => core.sweep().catch((error) => log(`sweep failed: ${error}`)), SWEEP_INTERVAL_MS);
      log(`runner on ${options.db}: ${runner.isLeader ? 'leading' : 'waiting for the lead'}`);
      const shutdown = async () => {
        clearInterval(sweeper);
        await runner.stop();
        await core.store.close();
        process.exit(0);
      };
      // The sweep's timer keeps the process alive until a signal.
      process.on('SIGINT', shutdown);
      process.on('SIGTERM', shutdown);
    });
}
