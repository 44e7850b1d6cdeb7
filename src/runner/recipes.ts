import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandAdapter } from '../core/wakeAdapter.js';

/**
 * The documented `command` recipes (docs/runner.md): Claude Code (`claude -p`), Codex (`codex exec`), Gemini CLI and
 * a plain script. Each wakes the agent's CLI with the heartbeat prompt on stdin and gives it team-table as an MCP
 * server that acts as the agent itself. They are exact for one agent and one database; `team-table run
 * --print-recipes` prints the line that sets each (src/cli/recipes.ts).
 */

export interface RecipeTarget {
  agentId: string;
  /** Absolute path of the database file. */
  db: string;
  /** How to start `team-table serve`: by default this very installation (node and its dist/cli/main.js). */
  server?: string[];
  /** The plain script's path. */
  script?: string;
}

export interface Recipe {
  name: 'claude' | 'codex' | 'gemini' | 'script';
  wake_adapter: Omit<CommandAdapter, 'timeout_seconds'> & { timeout_seconds: number };
  /** A file the recipe needs beside the command (Gemini CLI reads its MCP servers from a settings file). */
  file?: { path: string; content: string };
}

const defaultServer = () => [process.execPath, fileURLToPath(new URL('../cli/main.js', import.meta.url))];

/** The MCP server entry every recipe gives its CLI: `serve` as the agent, on the database, without a runner of its own. */
export function mcpServer(target: RecipeTarget) {
  const [command, ...args] = target.server ?? defaultServer();
  return { command: command!, args: [...args, 'serve'], env: { TEAM_TABLE_DB: target.db, TEAM_TABLE_AGENT: target.agentId, TEAM_TABLE_RUNNER: 'off' } };
}

/** A TOML value for codex's `-c key=value`: strings and string lists as JSON writes them (valid TOML), tables inline. */
const toml = (value: string | string[] | Record<string, string>): string =>
  typeof value === 'string' || Array.isArray(value) ? JSON.stringify(value) : `{${Object.entries(value).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;

export function recipes(target: RecipeTarget): Recipe[] {
  const server = mcpServer(target);
  const geminiFolder = join(dirname(target.db), 'gemini', target.agentId);
  const mcpConfig = JSON.stringify({ mcpServers: { 'team-table': server } });
  return [
    {
      name: 'claude',
      wake_adapter: {
        type: 'command',
        // Print mode reads the prompt from stdin; only team-table's tools, all allowed without asking.
        command: ['claude', '-p', '--output-format', 'text', '--mcp-config', mcpConfig, '--strict-mcp-config', '--allowedTools', 'mcp__team-table'],
        timeout_seconds: 900,
      },
    },
    {
      name: 'codex',
      wake_adapter: {
        type: 'command',
        // `-` reads the prompt from stdin; MCP tool calls of a non-interactive run need approving in the config.
        command: [
          'codex',
          'exec',
          '--skip-git-repo-check',
          '-c',
          `mcp_servers.team-table.command=${toml(server.command)}`,
          '-c',
          `mcp_servers.team-table.args=${toml(server.args)}`,
          '-c',
          `mcp_servers.team-table.env=${toml(server.env)}`,
          '-c',
          'mcp_servers.team-table.default_tools_approval_mode="approve"',
          '-',
        ],
        timeout_seconds: 900,
      },
    },
    {
      name: 'gemini',
      wake_adapter: {
        type: 'command',
        // Gemini CLI reads MCP servers from .gemini/settings.json of its working directory: the agent's own folder.
        command: ['gemini', '--yolo', '--allowed-mcp-server-names', 'team-table', '-p', 'Carry out the heartbeat above.'],
        cwd: geminiFolder,
        timeout_seconds: 900,
      },
      file: { path: join(geminiFolder, '.gemini', 'settings.json'), content: JSON.stringify({ mcpServers: { 'team-table': { ...server, trust: true } } }, null, 2) },
    },
    {
      name: 'script',
      wake_adapter: { type: 'command', command: ['sh', target.script ?? 'heartbeat-agent.sh'], timeout_seconds: 120 },
    },
  ];
}
