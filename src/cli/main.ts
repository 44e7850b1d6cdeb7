#!/usr/bin/env node
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { Actor } from '../core/context.js';
import { TeamTableError } from '../core/errors.js';
import { VERSION } from '../version.js';
import { configOption, registerNotificationCommands } from './notifications.js';

/** Everything but MCP messages goes to stderr: stdout belongs to the protocol in `serve`. */
const log = (line: string) => process.stderr.write(`team-table: ${line}\n`);

/** Commands load what they use on demand: `serve` answers the MCP handshake before the store is even loaded. */
const openCore = async (db: string, config?: string) => {
  const [{ Store }, { Core }, { loadConfig }] = await Promise.all([import('../store/store.js'), import('../core/core.js'), import('../config/load.js')]);
  const { notifications } = await loadConfig({ db, config });
  return new Core(await Store.open(db), { log, notifications });
};

const DEFAULT_DB = '.team-table/team.db';

const dbOption = () =>
  new Option('--db <path>', 'SQLite database file').env('TEAM_TABLE_DB').default(DEFAULT_DB);
const agentOption = () =>
  new Option('--agent <agent_id>', 'act as this agent (default: the team owner)').env('TEAM_TABLE_AGENT');
const ownerOption = () =>
  new Option('--owner <name>', "the owner's name, recorded as author of the owner's actions").env('TEAM_TABLE_OWNER');

/**
 * The database path a command uses. The default folder (`./.team-table/`) is made on first use, like `.git`; a
 * path given with --db or TEAM_TABLE_DB is used as given, so that a typo in it is refused rather than giving one
 * agent a team of its own.
 */
function databasePath(command: Command): string {
  const db = command.getOptionValue('db') as string;
  if (command.getOptionValueSource('db') === 'default') mkdirSync(dirname(db), { recursive: true });
  return db;
}

/** This process is one session (see Actor): mail it was handed and did not acknowledge goes to the next one. */
const SESSION = randomUUID();

function actorOf(options: { agent?: string; owner?: string }): Actor {
  if (options.agent) return { kind: 'agent', id: options.agent.toLowerCase(), session: SESSION };
  return { kind: 'owner', name: options.owner || safeUsername(), session: SESSION };
}

function safeUsername(): string {
  try {
    return userInfo().username || 'owner';
  } catch {
    return 'owner';
  }
}

const program = new Command()
  .name('team-table')
  .description('The coordination layer for teams of AI agents: shared tasks, mail, facts and documents over MCP.')
  .version(VERSION)
  .showHelpAfterError()
  .exitOverride();

program
  .command('serve')
  .description('MCP server over stdio for one session (one agent, or the owner)')
  .addOption(dbOption())
  .addOption(agentOption())
  .addOption(ownerOption())
  .addOption(configOption())
  .action(async (options: { db: string; agent?: string; owner?: string; config?: string }, command: Command) => {
    const { serveStdio } = await import('../mcp/stdio.js');
    const { serveRunner } = await import('./run.js');
    const db = databasePath(command);
    await serveStdio({ db, config: options.config, actor: actorOf(options), log, background: serveRunner(db, log) });
  });

program
  .command('start')
  .description('open (or create) the database and print the teams and the MCP client config to paste')
  .addOption(dbOption())
  .action(async (_options: { db: string }, command: Command) => {
    const db = databasePath(command);
    const core = await openCore(db);
    const owner = actorOf({});
    const { teams } = (await core.call(owner, 'team_manage', { action: 'list' })) as { teams: { id: string; name: string }[] };
    const agents: { id: string; team: string }[] = [];
    for (const team of teams) {
      const listed = (await core.call(owner, 'team_agent', { action: 'list', team_id: team.id })) as { agents: { id: string }[] };
      agents.push(...listed.agents.map((a) => ({ id: a.id, team: team.name })));
    }
    await core.store.close();
    const { clientConfigs } = await import('./clientConfig.js');
    process.stdout.write(clientConfigs(resolve(db), teams, agents));
  });

program
  .command('call')
  .description('call a tool once and print its JSON result, e.g. team-table call team_task \'{"action":"list"}\'')
  .argument('<tool>', 'team_manage, team_agent, team_task, team_memory or team_comm')
  .argument('[arguments]', 'the arguments as a JSON object', '{}')
  .addOption(dbOption())
  .addOption(agentOption())
  .addOption(ownerOption())
  .addOption(configOption())
  .action(async (tool: string, json: string, options: { db: string; agent?: string; owner?: string; config?: string }, command: Command) => {
    let args: unknown;
    try {
      args = JSON.parse(json);
    } catch {
      throw new TeamTableError('VALIDATION', `arguments: expected a JSON object, got ${json.slice(0, 80)}`);
    }
    if (typeof args !== 'object' || args === null || Array.isArray(args)) {
      throw new TeamTableError('VALIDATION', 'arguments: expected a JSON object');
    }
    const core = await openCore(databasePath(command), options.config);
    try {
      const result = await core.call(actorOf(options), tool, args as Record<string, unknown>);
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } finally {
      await core.store.close();
    }
  });

registerNotificationCommands(program, { dbOption, log });
program.addCommand((await import('./run.js')).runCommand());

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  if (error instanceof TeamTableError) {
    log(`${error.code}: ${error.message}`);
    process.exit(error.exitCode);
  }
  log(`${(error as Error)?.stack ?? error}`);
  process.exit(1);
}
