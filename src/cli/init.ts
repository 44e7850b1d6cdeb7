import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { TeamTableError } from '../core/errors.js';
import { agentIdFromName } from '../core/ids.js';
import { absoluteLocation } from '../store/location.js';
import { cliCommand, quote } from './clientConfig.js';
import type { Cli } from './common.js';
import { act, common, list } from './common.js';

const CLIENTS = ['claude', 'codex', 'cursor'] as const;
type Client = (typeof CLIENTS)[number];
const LEVELS = ['junior', 'mid', 'senior', 'lead'];

interface AgentSpec {
  name: string;
  level?: string;
}

/** `Jarvis:lead` → name Jarvis, level lead. */
function agentSpec(text: string): AgentSpec {
  const [name = '', level] = text.split(':').map((s) => s.trim());
  if (level !== undefined && !LEVELS.includes(level)) {
    throw new TeamTableError('VALIDATION', `agents: '${text}': the level after ':' must be one of ${LEVELS.join(', ')}`, { field: 'agents' });
  }
  return { name, level };
}

/** Asks on the terminal for what was not given as flags. */
async function ask(team: string | undefined, agents: AgentSpec[], folder: string) {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const name = team ?? ((await rl.question(`Team name [${basename(folder)}]: `)).trim() || basename(folder));
    if (!agents.length) {
      const answer = await rl.question('Agents, comma-separated, each name[:level] (e.g. Jarvis:lead, Loki): ');
      agents = list(answer).map(agentSpec);
    }
    return { team: name, agents };
  } finally {
    rl.close();
  }
}

/** Writes `text` to `path` whole or not at all (a temporary file renamed over it), making its folder. */
async function writeWhole(path: string, text: string) {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}

const readIfExists = (path: string) => readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)));

/** Where each client reads its MCP servers. */
function configPaths(folder: string, codexConfig: string | undefined): Record<Client, string> {
  const codexHome = process.env.CODEX_HOME || join(homedir(), '.codex');
  return {
    claude: join(folder, '.mcp.json'),
    cursor: join(folder, '.cursor', 'mcp.json'),
    codex: codexConfig ? resolve(codexConfig) : join(codexHome, 'config.toml'),
  };
}

/** The team `name` (created when it does not exist yet) and its agents (those missing created). */
async function ensureTeam(cli: Cli, name: string, agents: AgentSpec[]) {
  let team: { id: string; name: string };
  let teamCreated = false;
  try {
    team = await cli.call('team_manage', { action: 'get', team_id: name });
  } catch (error) {
    if (!(error instanceof TeamTableError && error.code === 'NOT_FOUND')) throw error;
    team = await cli.call('team_manage', { action: 'create', name });
    teamCreated = true;
  }
  const existing = new Set((await cli.call<{ agents: { id: string }[] }>('team_agent', { action: 'list', team_id: team.id })).agents.map((a) => a.id));
  const created: string[] = [];
  for (const spec of agents) {
    if (existing.has(agentIdFromName(spec.name))) continue;
    const agent = await cli.call<{ id: string }>('team_agent', { action: 'create', team_id: team.id, name: spec.name, level: spec.level });
    created.push(agent.id);
  }
  const all = (await cli.call<{ agents: { id: string }[] }>('team_agent', { action: 'list', team_id: team.id })).agents.map((a) => a.id);
  return { team, teamCreated, agents: all, agentsCreated: created };
}

/**
 * `team-table init`: creates a team and its agents (from flags, or asked on a terminal) and writes one MCP server
 * entry per agent into the configuration of Claude Code (.mcp.json), Cursor (.cursor/mcp.json) and Codex
 * (config.toml), merged with what those files already hold. Running it again changes nothing.
 */
export function registerInit(program: Command): void {
  common(program.command('init').description('create a team and its agents, and write the MCP client configuration for Claude Code, Codex and Cursor'), { team: false })
    .option('--team <name>', 'the team (created if it does not exist; asked on a terminal when missing)')
    .option('--agents <name[:level],…>', 'agents to create, e.g. Jarvis:lead,Loki (repeatable)', list)
    .option('--dir <folder>', 'the project folder for .mcp.json and .cursor/mcp.json', '.')
    .option('--clients <clients>', `which clients to configure (${CLIENTS.join(', ')})`, list)
    .option('--codex-config <path>', "Codex's config file (default $CODEX_HOME/config.toml, else ~/.codex/config.toml)")
    .option('--owner-entry', 'also write an entry acting as the owner (every agent that loads the file could use it)')
    .action(
      act(async (cli) => {
        const o = cli.options as Record<string, any>;
        const folder = resolve(o.dir);
        let team = o.team as string | undefined;
        let agents = ((o.agents as string[] | undefined) ?? []).map(agentSpec);
        if (team === undefined) {
          if (!process.stdin.isTTY || cli.json) throw new TeamTableError('VALIDATION', 'team: is required (--team <name>), or run init on a terminal to be asked', { field: 'team' });
          ({ team, agents } = await ask(team, agents, folder));
        }
        const clients = (o.clients as string[] | undefined) ?? [...CLIENTS];
        const unknown = clients.filter((c) => !(CLIENTS as readonly string[]).includes(c));
        if (unknown.length) throw new TeamTableError('VALIDATION', `clients: ${unknown.join(', ')} unknown; one or more of ${CLIENTS.join(', ')}`, { field: 'clients' });

        const { serverEntry } = await import('./clientConfig.js');
        const { mergeJsonConfig, mergeTomlConfig } = await import('./clientFiles.js');
        const paths = configPaths(folder, o.codexConfig);
        const mergeInto = async (client: Client, entries: Record<string, { command: string; args: string[] }>) => {
          const path = paths[client];
          const text = await readIfExists(path);
          return { client, path, text, merge: client === 'codex' ? mergeTomlConfig(path, text, entries) : mergeJsonConfig(path, text, entries) };
        };
        // A client file init cannot read stops it before it changes anything, in the database or on disk.
        for (const client of clients as Client[]) await mergeInto(client, {});
        const made = await ensureTeam(cli, team, agents);
        const db = absoluteLocation(cli.options.db);
        const entries = Object.fromEntries([
          ...(o.ownerEntry ? [['team-table', serverEntry(db)] as const] : []),
          ...made.agents.map((id) => [`team-table-${id}`, serverEntry(db, id)] as const),
        ]);
        // Every file is merged first and written only when all merged.
        const merges = [];
        for (const client of clients as Client[]) merges.push(await mergeInto(client, entries));
        for (const { path, text, merge } of merges) if (merge.text !== text) await writeWhole(path, merge.text);

        const files = merges.map(({ client, path, merge }) => ({ client, path, added: merge.added, changed: merge.changed, unchanged: merge.unchanged }));
        cli.print({ team: made.team, team_created: made.teamCreated, agents: made.agents, agents_created: made.agentsCreated, db, files }, () => {
          const { style } = cli;
          const lines = [
            `${made.teamCreated ? 'Created' : 'Team'} ${style.bold(made.team.name)} (${made.team.id}) in ${db}`,
            `Agents: ${made.agents.map((id) => (made.agentsCreated.includes(id) ? style.green(`${id} (new)`) : id)).join(', ') || 'none yet (--agents Jarvis:lead,Loki)'}`,
          ];
          for (const f of files) {
            const what = [f.added.length && `added ${f.added.join(', ')}`, f.changed.length && `updated ${f.changed.join(', ')}`].filter(Boolean).join('; ');
            lines.push(`${f.client.padEnd(7)} ${f.path}: ${what || style.dim('already up to date')}`);
          }
          lines.push('', 'Each agent enables only its own entry (team-table-<agent id>): every call of that session acts as that agent.');
          lines.push(`To wake the agents on their heartbeats and @mentions, give each a wake adapter: ${cliCommand()} run --print-recipes --db ${quote(db)} prints the line for Claude Code, Codex, Gemini CLI and a script (docs/runner.md).`);
          return lines.join('\n');
        });
      }),
    );
}
