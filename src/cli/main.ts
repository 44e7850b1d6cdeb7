#!/usr/bin/env node
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { TeamTableError } from '../core/errors.js';
import { VERSION } from '../version.js';
import { actorOf, agentOption, databasePath, dbOption, log, openCore, ownerOption } from './common.js';
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
  .showHelpAfterError()
  .exitOverride();

program
  .command('serve')
  .description('MCP server over stdio for one session (one agent, or the owner)')
  .addOption(dbOption())
  .addOption(agentOption())
  .addOption(ownerOption())
  .action(async (options: { db: string; agent?: string; owner?: string }, command: Command) => {
    const { serveStdio } = await import('../mcp/stdio.js');
    await serveStdio({ db: databasePath(command), actor: actorOf(options), log });
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
  .action(async (tool: string, json: string, options: { db: string; agent?: string; owner?: string }, command: Command) => {
    let args: unknown;
    try {
      args = JSON.parse(json);
    } catch {
      throw new TeamTableError('VALIDATION', `arguments: expected a JSON object, got ${json.slice(0, 80)}`);
    }
    if (typeof args !== 'object' || args === null || Array.isArray(args)) {
      throw new TeamTableError('VALIDATION', 'arguments: expected a JSON object');
    }
    const core = await openCore(databasePath(command));
    try {
      const result = await core.call(actorOf(options), tool, args as Record<string, unknown>);
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } finally {
      await core.store.close();
    }
  });

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
