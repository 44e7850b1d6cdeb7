import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, tempDbPath } from './helpers.js';

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

  it('start creates the database and prints the client config to paste', async () => {
    const db = tempDbPath();
    await cli(['call', 'team_manage', '{"action":"create","name":"Engineering"}', '--db', db]);
    await cli(['call', 'team_agent', '{"action":"create","name":"Jarvis"}', '--db', db]);
    const { stdout, code } = await cli(['start', '--db', db]);
    expect(code).toBe(0);
    expect(stdout).toContain('Teams: Engineering');
    expect(stdout).toMatch(/claude mcp add team-table-jarvis -- .* serve --db .* --agent jarvis/);
    expect(stdout).toContain('[mcp_servers.team-table-jarvis]');
    expect(stdout).toContain('"mcpServers"');
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
