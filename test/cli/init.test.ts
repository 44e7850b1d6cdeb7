import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { parse as parseJsonc } from 'jsonc-parser';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { runCli, tempDbPath } from '../helpers.js';

const CLAUDE_BEFORE = `{
  // my own servers
  "mcpServers": {
    "github": { "command": "gh-mcp", "args": ["--stdio"] }
  },
  "theme": "dark"
}
`;
const CODEX_BEFORE = `# my codex settings
model = "o3"

[mcp_servers.github]
command = "gh-mcp" # keep me
args = ["--stdio"]

[mcp_servers.github.env]
TOKEN = "secret"
`;

/** A project folder with a user's own .mcp.json and Codex config, and the database beside it. */
function project() {
  const db = tempDbPath();
  const dir = join(dirname(db), 'project');
  mkdirSync(dir);
  writeFileSync(join(dir, '.mcp.json'), CLAUDE_BEFORE);
  const codex = join(dirname(db), 'codex', 'config.toml');
  mkdirSync(dirname(codex));
  writeFileSync(codex, CODEX_BEFORE);
  const files = { claude: join(dir, '.mcp.json'), cursor: join(dir, '.cursor', 'mcp.json'), codex };
  const init = (...extra: string[]) => runCli(['init', '--db', db, '--dir', dir, '--team', 'Engineering', '--json', ...extra], { env: { CODEX_HOME: dirname(codex) } });
  return { db, dir, files, init };
}

/** Starts the server an entry describes, exactly as a client would, and asks it who this session is. */
async function whoAmI(entry: { command: string; args: string[] }): Promise<string> {
  const client = new Client({ name: 'init-test', version: '0.0.0' });
  await client.connect(new StdioClientTransport({ command: entry.command, args: entry.args, stderr: 'pipe' }));
  try {
    const result = await client.callTool({ name: 'team_agent', arguments: { action: 'get' } });
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    return (result.structuredContent as { id: string }).id;
  } finally {
    await client.close();
  }
}

describe('team-table init', () => {
  it('tells a person how to make the agents wake, with a command that works as printed', async () => {
    const { db, dir } = project();
    const said = await runCli(['init', '--db', db, '--dir', dir, '--team', 'Engineering', '--agents', 'Loki', '--clients', 'claude']);
    expect(said.code, said.stderr).toBe(0);
    const command = /give each a wake adapter: (.*) prints the line/.exec(said.stdout)?.[1];
    expect(command).toBeDefined();
    const printed = await promisify(execFile)('sh', ['-c', command!]);
    expect(printed.stdout).toMatch(/## loki \(team Engineering\)/);
  });

  it('creates the team and agents and writes one entry per agent for Claude Code, Cursor and Codex, keeping what was there', async () => {
    const { files, init } = project();
    const first = await init('--agents', 'Jarvis:lead,Loki');
    expect(first.code, first.stderr).toBe(0);
    const answer = JSON.parse(first.stdout);
    expect(answer).toMatchObject({ team: { name: 'Engineering' }, team_created: true, agents: ['jarvis', 'loki'], agents_created: ['jarvis', 'loki'] });
    expect(answer.files.map((f: any) => [f.client, f.added])).toEqual([
      ['claude', ['team-table-jarvis', 'team-table-loki']],
      ['codex', ['team-table-jarvis', 'team-table-loki']],
      ['cursor', ['team-table-jarvis', 'team-table-loki']],
    ]);

    const claudeText = readFileSync(files.claude, 'utf8');
    expect(claudeText).toContain('// my own servers');
    const claude = parseJsonc(claudeText);
    expect(claude.theme).toBe('dark');
    expect(claude.mcpServers.github).toEqual({ command: 'gh-mcp', args: ['--stdio'] });
    const codexText = readFileSync(files.codex, 'utf8');
    expect(codexText.startsWith(CODEX_BEFORE)).toBe(true);
    const codex = parseToml(codexText) as any;
    expect(codex.model).toBe('o3');
    expect(codex.mcp_servers.github).toEqual({ command: 'gh-mcp', args: ['--stdio'], env: { TOKEN: 'secret' } });
    const cursor = JSON.parse(readFileSync(files.cursor, 'utf8'));

    // Every entry of every client starts a server that acts as its agent.
    for (const servers of [claude.mcpServers, cursor.mcpServers, codex.mcp_servers]) {
      expect(await whoAmI(servers['team-table-jarvis'])).toBe('jarvis');
      expect(await whoAmI(servers['team-table-loki'])).toBe('loki');
    }

    // Again: nothing changes, byte for byte.
    const before = Object.values(files).map((f) => readFileSync(f, 'utf8'));
    const again = await init('--agents', 'Jarvis:lead,Loki');
    expect(JSON.parse(again.stdout)).toMatchObject({ team_created: false, agents_created: [] });
    expect(JSON.parse(again.stdout).files.every((f: any) => f.added.length === 0 && f.changed.length === 0)).toBe(true);
    expect(Object.values(files).map((f) => readFileSync(f, 'utf8'))).toEqual(before);

    // A new agent later: only its entry is added; a stale entry of ours is corrected, its extra settings kept.
    const stale = readFileSync(files.codex, 'utf8').replace(/(\[mcp_servers\.team-table-loki\]\n)command = "[^"]*"/, '$1command = "old-node"\nstartup_timeout_sec = 30');
    writeFileSync(files.codex, stale);
    const third = JSON.parse((await init('--agents', 'Vision')).stdout);
    expect(third.files.find((f: any) => f.client === 'codex')).toMatchObject({ added: ['team-table-vision'], changed: ['team-table-loki'], unchanged: ['team-table-jarvis'] });
    const updated = parseToml(readFileSync(files.codex, 'utf8')) as any;
    expect(updated.mcp_servers['team-table-loki']).toEqual({ ...codex.mcp_servers['team-table-loki'], startup_timeout_sec: 30 });
    expect(updated.mcp_servers.github).toEqual(codex.mcp_servers.github);
    expect(await whoAmI(updated.mcp_servers['team-table-vision'])).toBe('vision');
  });

  it('refuses a config it cannot read, writing nothing anywhere', async () => {
    const { db, files, init } = project();
    writeFileSync(files.claude, '{ "mcpServers": { "github": ');
    const result = await init('--agents', 'Jarvis');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/VALIDATION: .*\.mcp\.json: not valid JSON/);
    expect(existsSync(files.cursor)).toBe(false);
    expect(readFileSync(files.codex, 'utf8')).toBe(CODEX_BEFORE);
    expect(readFileSync(files.claude, 'utf8')).toBe('{ "mcpServers": { "github": ');
    expect((await runCli(['status', '--db', db])).stdout).toMatch(/^No team yet/);
  });

  it('needs a team name when there is no terminal to ask on', async () => {
    const { db, dir } = project();
    const result = await runCli(['init', '--db', db, '--dir', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/VALIDATION: team: is required \(--team <name>\), or run init on a terminal/);
  });
});
