#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { TeamTableError } from '../core/errors.js';
import { VERSION } from '../version.js';
import { actorOf, agentOption, configOption, databasePath, dbOption, log, openCore, ownerOption } from './common.js';
import { DEFAULT_HTTP_ADDRESS, addHttpFlags, checkAddress } from './http.js';
import type { HttpFlags } from './http.js';
import { registerNotificationCommands } from './notifications.js';
import { tokenCommand } from './token.js';
import { registerActivity } from './activity.js';
import { registerAgent } from './agent.js';
import { registerDoc } from './doc.js';
import { registerFact } from './fact.js';
import { registerInit } from './init.js';
import { registerMail } from './mail.js';
import { registerSearch } from './search.js';
import { registerStatus } from './status.js';
import { registerTask } from './task.js';
import { registerTransfer } from './transfer.js';

const program = new Command()
  .name('team-table')
  .description('The coordination layer for teams of AI agents: shared tasks, mail, facts and documents over MCP.')
  .version(VERSION)
  // The program's own options (--version, --help) only before a command: `doc show ID --version 1` is the document's.
  .enablePositionalOptions()
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
    await serveStdio({ db, open: () => openCore(db, options.config), actor: actorOf(options), log, background: (core) => startBackground(core, { db }, log) });
  });

addHttpFlags(
  program
    .command('start')
    .description('open (or create) the database, serve it over HTTP, and print the URL, the owner token (first start) and the client config to paste')
    .addOption(dbOption())
    .addOption(ownerOption())
    .addOption(httpOption().default(DEFAULT_HTTP_ADDRESS))
    .addOption(configOption())
    .addOption(new Option('--open', 'open the dashboard in the default web browser')),
).action(async (options: { db: string; owner?: string; http: string; config?: string; open?: boolean } & HttpFlags, command: Command) => {
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
      await core.close();
    }
  });

program.addCommand((await import('./run.js')).runCommand());
program.addCommand(tokenCommand({ dbOption, ownerOption, openCore, actorOf, databasePath }));
registerInit(program);
registerStatus(program);
registerTask(program);
registerMail(program);
registerActivity(program);
registerAgent(program);
registerFact(program);
registerDoc(program);
registerSearch(program);
registerTransfer(program);
registerNotificationCommands(program);

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
