import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, tempDbPath } from '../helpers.js';
import { startServer } from '../http/helpers.js';

const run = promisify(execFile);
const cli = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );

describe('CLI', () => {
  it('prints its version and help', async () => {
    expect((await cli(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await cli(['--help']);
    expect(help.stdout).toMatch(/serve \[options\]/);
    expect((await cli(['serve', '--help'])).stdout).toContain('--agent <agent_id>');
  });

  it('refuses unknown flags with a clear error and a non-zero exit', async () => {
    const result = await cli(['serve', '--agnet', 'jarvis']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/unknown option '--agnet'/);
  });

  /** `start` on `db` until it has printed the client configuration (it keeps serving until stopped). */
  async function started(db: string) {
    const server = await startServer(db, [], 'start');
    for (let waited = 0; !server.output().includes('Codex ~/.codex/config.toml:\n[mcp_servers.team-table]\ncommand'); waited += 10) {
      if (waited > 20_000) throw new Error(`start printed no stdio config:\n${server.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return server;
  }

  it('start serves HTTP and prints the URL, the owner token once, what to do next, and the client config for HTTP and stdio', async () => {
    const db = tempDbPath();
    const first = await started(db);
    const out = first.output();
    expect(out).toContain(`Dashboard: ${first.url}/`);
    expect(out).toContain(`Serving ${first.url}: MCP ${first.url}/mcp`);
    const token = /Owner token — shown this once, store it now \(only its hash is kept\): (tt_\S+)/.exec(out)?.[1];
    expect(token).toMatch(/^tt_[A-Za-z0-9_-]{43}$/);
    expect(out).toContain('No team yet.');
    expect(out).toMatch(/Next: in the owner's session, call team_manage\(action='create'/);
    expect(out).toContain(`claude mcp add --transport http team-table ${first.url}/mcp --header "Authorization: Bearer ${token}"`);
    expect(out).toContain(`url = "${first.url}/mcp"\nbearer_token_env_var = "TEAM_TABLE_TOKEN"`);
    const cursor = JSON.parse(/Cursor \.cursor\/mcp\.json:\n(\{[\s\S]*?\n\})\n/.exec(out)![1]!);
    expect(cursor.mcpServers['team-table']).toEqual({ url: `${first.url}/mcp`, headers: { Authorization: `Bearer ${token}` } });
    expect(out).toMatch(/claude mcp add team-table -- .* serve --db /);
    // What was printed works as pasted: the token acts as the owner.
    const teams = await fetch(`${first.url}/api/v1/teams`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ name: 'Engineering' }) });
    expect(teams.status).toBe(200);
    expect(await first.stop('SIGTERM')).toBe(0);

    await cli(['call', 'team_agent', '{"action":"create","name":"Jarvis"}', '--db', db]);
    const again = await started(db);
    const later = again.output();
    expect(later).not.toMatch(/tt_[A-Za-z0-9_-]{43}/);
    expect(later).toMatch(/Owner token: made at the first start and not shown again\. A new one: .* token create --owner-token --db /);
    expect(later).toContain('Teams: Engineering');
    expect(later).not.toContain('Next:');
    expect(later).toMatch(/claude mcp add --transport http team-table-jarvis .*\/mcp --header "Authorization: Bearer \$\(.* token create --agent jarvis --db .*\)"/);
    expect(later).toMatch(/claude mcp add team-table-jarvis -- .* serve --db .* --agent jarvis/);
    expect(later).toContain('[mcp_servers.team-table-jarvis]');
    expect(await again.stop('SIGINT')).toBe(0);
  });

  it('token create prints the token alone, list shows it without the secret, revoke ends it', async () => {
    const db = tempDbPath();
    await cli(['call', 'team_manage', '{"action":"create","name":"Engineering"}', '--db', db]);
    await cli(['call', 'team_agent', '{"action":"create","name":"Jarvis"}', '--db', db]);
    const created = await cli(['token', 'create', '--agent', 'jarvis', '--name', 'laptop', '--db', db]);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^tt_[A-Za-z0-9_-]{43}$/);
    const id = /token (\w+) for agent jarvis: shown this once/.exec(created.stderr)?.[1];
    expect(id).toBeDefined();
    const listed = await cli(['token', 'list', '--db', db]);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+agent jarvis\\s+laptop\\s+\\S+ \\S+\\s+active$`, 'm'));
    expect(listed.stdout).not.toContain(token.slice(3));
    expect((await cli(['token', 'create', '--db', db])).code).toBe(2);
    expect((await cli(['token', 'create', '--agent', 'nobody', '--db', db])).code).toBe(3);
    expect((await cli(['token', 'revoke', id!, '--db', db])).stdout).toBe(`revoked ${id}\n`);
    expect((await cli(['token', 'list', '--db', db])).stdout).toBe('No token.\n');
    expect(JSON.parse((await cli(['token', 'list', '--all', '--json', '--db', db])).stdout).tokens).toMatchObject([{ id, revoked_by: expect.any(String) }]);
    const owner = await cli(['token', 'create', '--owner-token', '--db', db]);
    expect(owner.stderr).toMatch(/for the owner: shown this once/);
  });

  it('serve --http refuses --agent, a malformed address and one in use', async () => {
    const db = tempDbPath();
    expect((await cli(['serve', '--http', '--agent', 'jarvis', '--db', db])).stderr).toMatch(/--agent: over HTTP each request acts as its token says/);
    const bad = await cli(['serve', '--http', 'localhost:99999', '--db', db]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/expected \[HOST:\]PORT/);
    const first = await startServer(db);
    const taken = await cli(['serve', '--http', new URL(first.url).host, '--db', db]);
    expect(taken.code).toBe(5);
    expect(taken.stderr).toMatch(/CONFLICT: cannot listen on 127\.0\.0\.1:\d+: the address is in use/);
  });

  it('call maps domain errors to exit codes and reads the database from TEAM_TABLE_DB', async () => {
    const db = tempDbPath();
    const missing = await cli(['call', 'team_manage', '{"action":"get","team_id":"nope"}'], { TEAM_TABLE_DB: db });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/NOT_FOUND: team 'nope' not found/);
    const invalid = await cli(['call', 'team_task', '{"action":"create"}'], { TEAM_TABLE_DB: db });
    expect(invalid.code).toBe(2);
    expect((await cli(['call', 'team_manage', 'not json'], { TEAM_TABLE_DB: db })).stderr).toMatch(/expected a JSON object/);
    const folder = await cli(['call', 'team_manage', '{"action":"list"}', '--db', dirname(db)]);
    expect(folder.code).toBe(6);
    expect(folder.stderr).toMatch(/STORE_UNAVAILABLE: cannot open the database .*: it is a folder, not a file/);
  });

  it('serve answers the calls it was sent before its client closed stdin, with a clear error when the database cannot open', async () => {
    const folder = dirname(tempDbPath());
    const lines = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '0' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'team_manage', arguments: { action: 'list' } } },
    ];
    const child = execFile(process.execPath, [CLI, 'serve', '--db', folder]);
    child.stdin!.end(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    await new Promise((resolve) => child.on('exit', resolve));
    const answers = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(answers.map((a) => a.id)).toEqual([1, 2]);
    expect(answers[1].result).toMatchObject({ isError: true, content: [{ text: expect.stringMatching(/^STORE_UNAVAILABLE: cannot open the database/) }] });
  });
});
