import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import type { Actor } from '../core/context.js';
import type { Core } from '../core/core.js';
import { TeamTableError } from '../core/errors.js';
import { createStyle, progressLine } from './style.js';
import type { Style } from './style.js';

/**
 * What every command shares: the database, who acts, the team, and how answers are printed. Nothing here loads
 * the core or the store at import time — `serve` answers the MCP handshake before they are even loaded — each
 * command imports them when it runs.
 */

/** Everything but a command's answer goes to stderr: stdout belongs to the answer (and to the protocol in `serve`). */
export const log = (line: string) => process.stderr.write(`team-table: ${line}\n`);

export const DEFAULT_DB = '.team-table/team.db';

export const dbOption = () => new Option('--db <path>', 'SQLite database file, or a postgres:// URL').env('TEAM_TABLE_DB').default(DEFAULT_DB);
export const agentOption = () => new Option('--agent <agent_id>', 'act as this agent (default: the team owner)').env('TEAM_TABLE_AGENT');
export const ownerOption = () => new Option('--owner <name>', "the owner's name, recorded as author of the owner's actions").env('TEAM_TABLE_OWNER');
/** The config file: notification rules, channels (docs/notifications.md). */
export const configOption = () => new Option('--config <path>', 'config file (default: team-table.yaml beside the database)').env('TEAM_TABLE_CONFIG');
const teamOption = () => new Option('--team <team>', 'team id or name (default: your team, or the only one)').env('TEAM_TABLE_TEAM');
const jsonOption = () => new Option('--json', 'print the answer as JSON (no table, no colour)');

/**
 * The database path a command uses. The default folder (`./.team-table/`) is made on first use, like `.git`; a
 * path given with --db or TEAM_TABLE_DB is used as given, so that a typo in it is refused rather than giving one
 * agent a team of its own.
 */
export function databasePath(command: Command): string {
  const db = command.getOptionValue('db') as string;
  if (command.getOptionValueSource('db') === 'default') mkdirSync(dirname(db), { recursive: true });
  return db;
}

/** This process is one session (see Actor): mail it was handed and did not acknowledge goes to the next one. */
const SESSION = randomUUID();

export function actorOf(options: { agent?: string; owner?: string }): Actor {
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

/**
 * The core on the database at `db` (created and migrated, with progress when an upgrade indexes a big one), with the
 * config file `config` — team-table.yaml beside the database by default — whose notification rules every command
 * and server applies alike. A broken config file is the command's error: nothing runs on half a configuration.
 */
export async function openCore(db: string, config = process.env.TEAM_TABLE_CONFIG): Promise<Core> {
  const [{ Store }, { Core }, { loadConfig }] = await Promise.all([import('../store/store.js'), import('../core/core.js'), import('../config/load.js')]);
  const { notifications } = await loadConfig({ db, config });
  const progress = progressLine();
  const store = await Store.open(db, { progress: (step, done, total) => progress(step, done, total) });
  progress.done();
  return new Core(store, { log, notifications });
}

export interface CommonOptions {
  db: string;
  agent?: string;
  owner?: string;
  team?: string;
  json?: boolean;
}

/** Adds the options every command takes: --db, --agent, --owner, --json, and --team unless `team` is false. */
export function common(command: Command, { team = true } = {}): Command {
  command.addOption(dbOption()).addOption(agentOption()).addOption(ownerOption()).addOption(jsonOption());
  if (team) command.addOption(teamOption());
  return command;
}

const defined = (args: Record<string, unknown>) => Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));

/** One run of a command: the core on the database, the actor, and the printer. */
export class Cli {
  readonly actor: Actor;
  readonly json: boolean;
  readonly style: Style;

  constructor(
    readonly core: Core,
    readonly options: CommonOptions,
  ) {
    this.actor = actorOf(options);
    this.json = Boolean(options.json);
    this.style = createStyle(!this.json && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR);
  }

  /** Calls `tool(action=…)` as this command's actor, in this command's team (--team) unless `args` names one. */
  call<T = any>(tool: string, args: Record<string, unknown>): Promise<T> {
    const takesTeam = this.options.team !== undefined && !('team_id' in args) && 'team_id' in this.core.resolveAction(tool, args).input.shape;
    const teamArgs = takesTeam ? { team_id: this.options.team } : {};
    return this.core.call(this.actor, tool, defined({ ...teamArgs, ...args })) as Promise<T>;
  }

  /** Prints `answer` as JSON with --json, else what `human` makes of it. */
  print(answer: unknown, human: () => string): void {
    const text = this.json ? JSON.stringify(answer, null, 2) : human();
    if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}

/**
 * The action of a command: opens the core on its database, runs `work` with the command's arguments, and closes
 * the store whatever happens. Errors go up to main, which maps their code to the exit code.
 */
export function act<A extends unknown[]>(work: (cli: Cli, ...args: A) => Promise<void>) {
  return async (...received: unknown[]) => {
    const command = received.at(-1) as Command;
    const options = command.opts() as CommonOptions;
    const core = await openCore(databasePath(command));
    try {
      await work(new Cli(core, options), ...(received.slice(0, -2) as A));
    } finally {
      await core.close();
    }
  };
}

/** A comma-separated list option, repeatable: `--kind task,fact --kind document`. */
export const list = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

/** An integer option, refused clearly when it is not one. */
export const integer = (field: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new TeamTableError('VALIDATION', `${field}: must be an integer (got '${value}')`, { field });
  return n;
};
