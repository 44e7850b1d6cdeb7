import { Command, Option } from 'commander';
import type { Actor } from '../core/context.js';
import type { Core } from '../core/core.js';
import { TeamTableError } from '../core/errors.js';

/** What `main.ts` shares with its commands. */
export interface CliContext {
  dbOption(): Option;
  ownerOption(): Option;
  openCore(db: string): Promise<Core>;
  /** The --db a command was given, its default folder made on first use. */
  databasePath(command: Command): string;
  actorOf(options: { agent?: string; owner?: string }): Actor;
}

interface TokenView {
  id: string;
  kind: 'agent' | 'owner';
  agent_id: string | null;
  team_id: string | null;
  owner_name: string;
  name: string;
  created_at: string;
  created_by: string;
  revoked_at: string;
}

/** One line per token, for people; `--json` gives the action's answer. */
function table(tokens: TokenView[]): string {
  if (!tokens.length) return 'No token.\n';
  const rows = tokens.map((t) => [t.id, t.kind === 'owner' ? `owner ${t.owner_name}` : `agent ${t.agent_id}`, t.name || '-', t.created_at.slice(0, 19).replace('T', ' '), t.revoked_at ? `revoked ${t.revoked_at.slice(0, 10)}` : 'active']);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n')}\n`;
}

/**
 * `team-table token create|list|revoke`: bearer tokens for the HTTP server, managed from a shell on the machine that
 * holds the database — which acts as the owner, as `call` does. `create` prints the token alone on stdout (once; only
 * its hash is kept), so `TOKEN=$(team-table token create --agent jarvis)` captures it.
 */
export function tokenCommand(cli: CliContext): Command {
  const withCore = async <T>(command: Command, owner: string | undefined, work: (core: Core, actor: Actor) => Promise<T>): Promise<T> => {
    const core = await cli.openCore(cli.databasePath(command));
    try {
      return await work(core, cli.actorOf({ owner }));
    } finally {
      await core.close();
    }
  };
  const token = new Command('token').description('bearer tokens for the HTTP server: create, list, revoke');

  token
    .command('create')
    .description("create a token acting as an agent (--agent) or as the owner (--owner-token); prints it once")
    .addOption(new Option('--agent <agent_id>', 'the agent the token acts as'))
    .addOption(new Option('--owner-token', 'a token acting as the owner').conflicts('agent'))
    .addOption(new Option('--name <label>', 'what the token is for (a machine, a client)'))
    .addOption(cli.dbOption())
    .addOption(cli.ownerOption())
    .action(async (options: { agent?: string; ownerToken?: boolean; name?: string; owner?: string }, command: Command) => {
      if (!options.agent && !options.ownerToken) throw new TeamTableError('VALIDATION', 'token create: pass --agent <agent_id> (a token acting as that agent) or --owner-token');
      const created = await withCore(command, options.owner, (core, actor) =>
        core.call(actor, 'team_agent', { action: 'token_create', ...(options.ownerToken ? { owner: true } : { agent_id: options.agent }), ...(options.name ? { name: options.name } : {}) }),
      );
      process.stdout.write(`${created.token}\n`);
      process.stderr.write(`team-table: token ${created.id} for ${created.agent_id ? `agent ${created.agent_id}` : `the owner`}: shown this once, store it now (only its hash is kept). Revoke: team-table token revoke ${created.id}\n`);
    });

  token
    .command('list')
    .description('list tokens (never the tokens themselves)')
    .addOption(new Option('--agent <agent_id>', "only this agent's tokens"))
    .addOption(new Option('--team <team>', "only this team's tokens"))
    .addOption(new Option('--all', 'include revoked tokens'))
    .addOption(new Option('--json', 'print the JSON answer'))
    .addOption(cli.dbOption())
    .addOption(cli.ownerOption())
    .action(async (options: { agent?: string; team?: string; all?: boolean; json?: boolean; owner?: string }, command: Command) => {
      const listed = await withCore(command, options.owner, async (core, actor) => {
        const tokens: TokenView[] = [];
        let cursor: string | null = null;
        do {
          const page = (await core.call(actor, 'team_agent', { action: 'token_list', agent_id: options.agent, team_id: options.team, include_revoked: Boolean(options.all), ...(cursor ? { cursor } : {}) })) as { tokens: TokenView[]; next_cursor: string | null };
          tokens.push(...page.tokens);
          cursor = page.next_cursor;
        } while (cursor);
        return tokens;
      });
      process.stdout.write(options.json ? `${JSON.stringify({ tokens: listed }, null, 2)}\n` : table(listed));
    });

  token
    .command('revoke')
    .description('revoke a token at once, in every server')
    .argument('<token_id>', 'the id token list shows (not the token)')
    .addOption(cli.dbOption())
    .addOption(cli.ownerOption())
    .action(async (tokenId: string, options: { owner?: string }, command: Command) => {
      const revoked = await withCore(command, options.owner, (core, actor) => core.call(actor, 'team_agent', { action: 'token_revoke', token_id: tokenId }));
      process.stdout.write(`${revoked.already_revoked ? 'already revoked' : 'revoked'} ${tokenId}\n`);
    });
  return token;
}
