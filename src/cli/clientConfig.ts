import { fileURLToPath } from 'node:url';

/** The command that runs this very CLI (works from a checkout or an installed package alike). */
const cliPath = fileURLToPath(new URL('./main.js', import.meta.url));

/** The MCP server entry of one session: this CLI's `serve` on `db`, as `agent` (the owner without one). */
export function serverEntry(db: string, agent?: string) {
  return { command: process.execPath, args: [cliPath, 'serve', '--db', db, ...(agent ? ['--agent', agent] : [])] };
}

/**
 * What `team-table start` prints: the teams, and for each agent (or the owner when there is none) the exact MCP
 * client configuration to paste into Claude Code, Codex and Cursor — one server entry per agent.
 */
export function clientConfigs(db: string, teams: { id: string; name: string }[], agents: { id: string; team: string }[]): string {
  const sessions = [{ key: 'team-table', agent: undefined as string | undefined }, ...agents.map((a) => ({ key: `team-table-${a.id}`, agent: a.id }))];
  const out: string[] = [`team-table ${db}`, ''];
  out.push(teams.length ? `Teams: ${teams.map((t) => `${t.name} (${t.id})`).join(', ')}` : 'No team yet.');
  out.push(agents.length ? `Agents: ${agents.map((a) => `${a.id} (${a.team})`).join(', ')}` : 'No agent yet.');
  out.push('', 'Add one MCP server per agent to your client (the entry without --agent acts as the team owner).', '');

  out.push('Claude Code:');
  for (const s of sessions) {
    const { command, args } = serverEntry(db, s.agent);
    out.push(`  claude mcp add ${s.key} -- ${[command, ...args].map(quote).join(' ')}`);
  }
  const json = { mcpServers: Object.fromEntries(sessions.map((s) => [s.key, serverEntry(db, s.agent)])) };
  out.push('', 'Claude Code .mcp.json / Cursor .cursor/mcp.json:', JSON.stringify(json, null, 2), '', 'Codex ~/.codex/config.toml:');
  for (const s of sessions) {
    const { command, args } = serverEntry(db, s.agent);
    out.push(`[mcp_servers.${s.key}]`, `command = ${JSON.stringify(command)}`, `args = ${JSON.stringify(args)}`, '');
  }
  if (!teams.length) {
    out.push(
      "Next: in the owner's session, call team_manage(action='create', name='Engineering'), then team_agent(action='create', name='Jarvis', level='lead').",
      `Or from this shell: ${[process.execPath, cliPath].map(quote).join(' ')} call team_manage '{"action":"create","name":"Engineering"}' --db ${quote(db)}`,
      '',
    );
  }
  return `${out.join('\n')}\n`;
}

const quote = (s: string) => (/^[\w./@:=-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
