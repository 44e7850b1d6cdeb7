#!/usr/bin/env node
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { Actor } from '../core/context.js';
import { TeamTableError } from '../core/errors.js';
import { VERSION } from '../version.js';
import { DEFAULT_HTTP_ADDRESS, addHttpFlags, checkAddress } from './http.js';
import type { HttpFlags } from './http.js';
import { configOption, registerNotificationCommands } from './notifications.js';
import { tokenCommand } from './token.js';

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

const httpOption = () => new Option('--http [address]', 'serve MCP, REST and events over HTTP on [HOST:]PORT; the token decides who calls').preset(DEFAULT_HTTP_ADDRESS).argParser(checkAddress);

addHttpFlags(
  program
    .command('serve')
    .description('MCP server over stdio for one session (one agent, or the owner); with --http, for everyone with a token')
    .addOption(dbOption())
    .addOption(agentOption())
    .addOption(ownerOption())
    .addOption(httpOption())
    .addOption(configOption()),
).action(async (options: { db: string; agent?: string; owner?: string; http?: string; config?: string } & HttpFlags, command: Command) => {
    if (options.http) {
      if (options.agent) throw new TeamTableError('VALIDATION', '--agent: over HTTP each request acts as its token says; leave --agent out');
      const db = databasePath(command);
      const { runHttpServer } = await import('./http.js');
      await runHttpServer(await openCore(db, options.config), db, options.http, options, log);
      return;
    }
    const db = databasePath(command);
    const [{ serveStdio }, { startBackground }] = await Promise.all([import('../mcp/stdio.js'), import('./background.js')]);
    await serveStdio({ db, config: options.config, actor: actorOf(options), log, background: (core) => startBackground(core, { db }, log) });
  });

addHttpFlags(
  program
    .command('start')
    .description('open (or create) the database, serve it over HTTP, and print the URL, the owner token (first start) and the client config to paste')
    .addOption(dbOption())
    .addOption(ownerOption())
    .addOption(httpOption().default(DEFAULT_HTTP_ADDRESS))
    .addOption(configOption()),
).action(async (options: { db: string; owner?: string; http: string; config?: string } & HttpFlags, command: Command) => {
    const db = databasePath(command);
    const { start } = await import('./start.js');
    await start(await openCore(db, options.config), actorOf(options), db, options.http, options, log);
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

program.addCommand((await import('./run.js')).runCommand());
program.addCommand(tokenCommand({ dbOption, ownerOption, openCore, actorOf, databasePath }));
registerNotificationCommands(program, { dbOption, log });

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
