import { fileURLToPath } from 'node:url';

/** The command that runs this very CLI (works from a checkout or an installed package alike). */
const cliPath = fileURLToPath(new URL('./main.js', import.meta.url));

/** The MCP server entry of one session: this CLI's `serve` on `db`, as `agent` (the owner without one). */
export function serverEntry(db: string, agent?: string) {
  return { command: process.execPath, args: [cliPath, 'serve', '--db', db, ...(agent ? ['--agent', agent] : [])] };
}

/**
 * What `team-table start` prints: where it serves and the owner's token (`http`), the teams, and for the owner and
 * each agent the exact MCP client configuration to paste into Claude Code, Codex and Cursor — over HTTP to this
 * server, and over stdio (a server process per client on the same file).
 */
export function clientConfigs(db: string, teams: { id: string; name: string }[], agents: { id: string; team: string }[], http?: HttpAccess): string {
  const sessions = [{ key: 'team-table', agent: undefined as string | undefined }, ...agents.map((a) => ({ key: `team-table-${a.id}`, agent: a.id }))];
  const out: string[] = [`team-table ${db}`, ''];
  if (http) {
    out.push(`Dashboard: ${http.url}/ — sign in with the owner token below (or an agent's).`);
    out.push(`Serving ${http.url}: MCP ${http.url}/mcp, REST ${http.url}/api/v1 (described at /api/v1/openapi.json), events ${http.url}/events. Ctrl-C stops it.`);
    out.push(
      http.ownerToken
        ? `Owner token — shown this once, store it now (only its hash is kept): ${http.ownerToken}`
        : `Owner token: made at the first start and not shown again. A new one: ${cliCommand()} token create --owner-token --db ${quote(db)}`,
      '',
    );
  }
  out.push(teams.length ? `Teams: ${teams.map((t) => `${t.name} (${t.id})`).join(', ')}` : 'No team yet.');
  out.push(agents.length ? `Agents: ${agents.map((a) => `${a.id} (${a.team})`).join(', ')}` : 'No agent yet.');
  out.push('');
  if (http) out.push(httpClientConfigs(db, http, agents), 'Over stdio — each client starts its own server process on the same database file:', '');
  out.push('Add one MCP server per agent to your client (the entry without --agent acts as the team owner).', '');

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

export interface HttpAccess {
  /** `http://127.0.0.1:7420`. */
  url: string;
  /** The owner's token when it was just made (first start); otherwise configs take it from the environment. */
  ownerToken?: string;
}

/** The shell command that runs this CLI. */
export const cliCommand = () => [process.execPath, cliPath].map(quote).join(' ');

/**
 * What `team-table start` prints for HTTP clients: Claude Code, Codex and Cursor entries for the owner and one per
 * agent, pointing at `/mcp` with a bearer token. Known tokens are written in; otherwise the entry makes one as it
 * is pasted (`$(team-table token create …)`) or reads it from the environment (Codex and Cursor do).
 */
export function httpClientConfigs(db: string, http: HttpAccess, agents: { id: string }[]): string {
  const mcpUrl = `${http.url}/mcp`;
  const create = (who: string) => `$(${cliCommand()} token create ${who} --db ${quote(db)})`;
  const out: string[] = ['Over HTTP — this server; the token decides who is calling:', ''];
  out.push('Claude Code:');
  out.push(`  claude mcp add --transport http team-table ${mcpUrl} --header "Authorization: Bearer ${http.ownerToken ?? create('--owner-token')}"`);
  for (const a of agents) out.push(`  claude mcp add --transport http team-table-${a.id} ${mcpUrl} --header "Authorization: Bearer ${create(`--agent ${a.id}`)}"`);
  out.push('', `Codex ~/.codex/config.toml (the token from the environment: export TEAM_TABLE_TOKEN=${http.ownerToken ?? create('--owner-token')}):`);
  out.push('[mcp_servers.team-table]', `url = ${JSON.stringify(mcpUrl)}`, 'bearer_token_env_var = "TEAM_TABLE_TOKEN"', '');
  const header = http.ownerToken ? `Bearer ${http.ownerToken}` : 'Bearer ${env:TEAM_TABLE_TOKEN}';
  out.push('Cursor .cursor/mcp.json:', JSON.stringify({ mcpServers: { 'team-table': { url: mcpUrl, headers: { Authorization: header } } } }, null, 2), '');
  out.push(`An agent's own entry: the same with its token, made by ${cliCommand()} token create --agent <agent_id> --db ${quote(db)}`, '');
  return `${out.join('\n')}\n`;
}

/** `s` as one shell word. */
export const quote = (s: string) => (/^[\w./@:=-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
