import { Command, Option } from 'commander';
import { absoluteLocation } from '../store/location.js';
import { configOption, openCore } from './common.js';

/**
 * `team-table run`: the runner alone — the scheduler and the wake adapters — for a database that no `serve` keeps
 * open, or to keep agents woken on a machine where nobody works interactively. Any number may run: one leads.
 * With `--print-recipes` it prints, for each agent, the `wake_adapter` of each documented recipe instead.
 */

const log = (line: string) => process.stderr.write(`team-table: ${line}\n`);

export function runCommand(): Command {
  return new Command('run')
    .description('the runner alone: fires heartbeats and wakes agents through their wake adapters (one process per database leads)')
    .addOption(new Option('--db <path>', 'SQLite database file, or a postgres:// URL').env('TEAM_TABLE_DB').default('.team-table/team.db'))
    .addOption(new Option('--max-runs <n>', 'runs at once at most').argParser((v) => Number.parseInt(v, 10)).default(4))
    .addOption(configOption())
    .option('--print-recipes', "print each agent's wake_adapter for Claude Code, Codex, Gemini CLI and a plain script, and exit")
    .action(async (options: { db: string; config?: string; maxRuns: number; printRecipes?: boolean }) => {
      // It may lead the notification sender too (startBackground): it reads the notification rules as serve does.
      const core = await openCore(options.db, options.config);
      if (options.printRecipes) {
        const { printRecipes } = await import('./recipes.js');
        process.stdout.write(await printRecipes(core, absoluteLocation(options.db)));
        await core.close();
        return;
      }
      const { startBackground } = await import('./background.js');
      const background = await startBackground(core, { db: options.db }, log, { maxConcurrentRuns: options.maxRuns });
      // The background's timers do not keep a process alive; this one does, until a signal.
      const alive = setInterval(() => {}, 1 << 30);
      log(`runner on ${options.db}: one process per database leads`);
      const shutdown = async () => {
        clearInterval(alive);
        await background.stop();
        await core.close();
        process.exit(0);
      };
      process.on('SIGINT', shutdown);
      process.on('SIGTERM', shutdown);
    });
}
