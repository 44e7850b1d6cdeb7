import { createReadStream, createWriteStream } from 'node:fs';
import { rename, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { Option } from 'commander';
import { act, dbOption, log } from './common.js';
import { progressLine } from './style.js';

const jsonOption = () => new Option('--json', 'print the outcome as JSON');
const forceOption = (what: string) => new Option('--force', `replace ${what}`);

const say = (json: boolean, answer: unknown, human: string) => process.stdout.write(`${json ? JSON.stringify(answer, null, 2) : human}\n`);

/**
 * `team-table export | import | backup | restore`: the operator's commands. They read or replace whole databases,
 * private mail included, so they act as the owner (they take no --agent); the dump, load and copy code is the
 * store's (src/store/dump.ts, src/store/backup.ts), this only drives it.
 */
export function registerTransfer(program: Command): void {
  program
    .command('export')
    .description('write one team (--team) or every team to JSON Lines: every row, ids and the event log included')
    .addOption(dbOption())
    .option('--team <team>', 'only this team (id or name)')
    .option('-o, --out <file>', "the file to write ('-' or none: standard output)")
    .addOption(jsonOption())
    .action(
      act(async (cli) => {
        const o = cli.options as Record<string, any>;
        const teamIds = o.team !== undefined ? [(await cli.call<{ id: string }>('team_manage', { action: 'get', team_id: o.team })).id] : undefined;
        const toFile = o.out !== undefined && o.out !== '-';
        // Written beside the target and renamed when complete: a failed export leaves no half file behind.
        const partial = `${o.out}.partial`;
        const out = toFile ? createWriteStream(partial) : process.stdout;
        const progress = progressLine();
        const rows = await cli.core.exportTeams(out, { teamIds, progress: (done, total) => progress('exporting', done, total) });
        progress.done();
        if (toFile) {
          out.end();
          await finished(out);
          await rename(partial, o.out);
          say(cli.json, { path: o.out, rows, teams: teamIds ?? 'all' }, `Exported ${rows.toLocaleString('en-US')} rows to ${o.out}.`);
        } else {
          log(`exported ${rows} rows`);
        }
      }),
    );

  program
    .command('import')
    .description('load an export (JSON Lines) into the database, all of it or nothing; its teams must not exist here yet')
    .argument('<file>', "the export ('-': standard input)")
    .addOption(dbOption())
    .addOption(jsonOption())
    .action(
      act(async (cli, file: string) => {
        const fromStdin = file === '-';
        const size = fromStdin ? 0 : (await stat(file)).size;
        const input = fromStdin ? process.stdin : createReadStream(file, 'utf8');
        const progress = progressLine();
        let read = 0;
        // Buffered from now on: readline drops the lines (and the end) that come before anyone iterates, and the
        // import iterates only once its transaction has begun — a network round trip on PostgreSQL.
        const lines = createInterface({ input, crlfDelay: Infinity })[Symbol.asyncIterator]();
        const result = await cli.core.importTeams({ [Symbol.asyncIterator]: () => lines }, {
          progress: (bytes) => {
            read += bytes;
            if (size) progress('importing', Math.min(read, size), size);
          },
        });
        progress.done();
        say(cli.json, result, `Imported ${result.rows.toLocaleString('en-US')} rows (teams ${result.teams.join(', ') || 'none'})${result.events_renumbered ? '; events appended after those already here' : ''}.`);
      }),
    );

  program
    .command('backup')
    .description('copy the live database to a file while agents keep writing (SQLite online backup), then check the copy')
    .argument('<file>', 'where the copy goes')
    .addOption(dbOption())
    .addOption(forceOption('the file if it exists'))
    .addOption(jsonOption())
    .action(async (file: string, options: { db: string; force?: boolean; json?: boolean }) => {
      const { backupDatabase } = await import('../store/backup.js');
      const progress = progressLine();
      const result = await backupDatabase(options.db, file, { force: options.force, progress: (done, total) => progress('backing up (pages)', done, total) });
      progress.done();
      say(Boolean(options.json), result, `Backed up ${options.db} to ${result.path}: ${result.pages} pages, ${result.teams} team(s), integrity ok.`);
    });

  program
    .command('restore')
    .description('replace the database with a backup (checked first); --force when the database holds teams')
    .argument('<file>', 'the backup')
    .addOption(dbOption())
    .addOption(forceOption('a database that holds teams'))
    .addOption(jsonOption())
    .action(async (file: string, options: { db: string; force?: boolean; json?: boolean }) => {
      const { restoreDatabase } = await import('../store/backup.js');
      const progress = progressLine();
      const result = await restoreDatabase(file, options.db, { force: options.force, progress: (done, total) => progress('restoring (pages)', done, total) });
      progress.done();
      // Opening it brings a backup made by an older team-table up to this version's schema.
      const { Store } = await import('../store/store.js');
      await (await Store.open(options.db)).close();
      say(Boolean(options.json), result, `Restored ${options.db} from ${file}: ${result.teams} team(s).`);
    });

}
