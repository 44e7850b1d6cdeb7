import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recipes } from '../../src/runner/recipes.js';
import { CLI, OWNER, agent, openCore, runCli } from '../helpers.js';
import type { TestCore } from '../helpers.js';
import { startScheduler, waitFor } from './helpers.js';

const FAKE_CLI = resolve(import.meta.dirname, 'fixtures/fake-cli.mjs');
const SCRIPT = resolve(import.meta.dirname, '../../docs/examples/heartbeat-agent.sh');

/** A bin folder where `claude`, `codex`, `gemini` are the fake CLI and `team-table` is the built one. */
function fakeBin(t: TestCore): string {
  const bin = join(dirname(t.path), 'bin');
  mkdirSync(bin, { recursive: true });
  const write = (name: string, line: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\nexec ${line} "$@"\n`);
    chmodSync(join(bin, name), 0o755);
  };
  for (const cli of ['claude', 'codex', 'gemini']) write(cli, `"${process.execPath}" "${FAKE_CLI}" ${cli}`);
  write('team-table', `"${process.execPath}" "${CLI}"`);
  return bin;
}

const runsOf = (t: TestCore, id: string) => async () => (await t.call(OWNER, 'team_agent', { action: 'runs', agent_id: id })).runs as any[];
const settled = (runs: any[]) => runs.length > 0 && runs.every((r) => !['queued', 'running'].includes(r.status));

describe('the command recipes', () => {
  it('Claude Code, Codex, Gemini CLI and the plain script each reach team-table as their agent', async () => {
    const t = await openCore();
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Engineering' });
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Jarvis', level: 'lead' });
    const names = ['claude', 'codex', 'gemini', 'script'] as const;
    for (const name of names) {
      await t.call(OWNER, 'team_agent', { action: 'create', name });
      // Running from source, the server is the built CLI (the default is the installation's own dist/cli/main.js).
      const recipe = recipes({ agentId: name, db: t.path, script: SCRIPT, server: [process.execPath, CLI] }).find((r) => r.name === name)!;
      if (recipe.file) {
        mkdirSync(dirname(recipe.file.path), { recursive: true });
        writeFileSync(recipe.file.path, recipe.file.content);
      }
      await t.call(OWNER, 'team_agent', { action: 'update', agent_id: name, wake_adapter: recipe.wake_adapter });
    }
    const bin = fakeBin(t);
    await startScheduler(t.core, t.path, { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, maxConcurrentRuns: 4 });
    for (const name of names) await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: name, content: `hello ${name}` });
    for (const name of names) {
      const [run] = await waitFor(runsOf(t, name), settled, `${name}'s run`);
      expect(run.status, `${name}: ${run.error} ${run.stderr}`).toBe('succeeded');
      expect(run.output).toContain(`hello ${name}`);
      expect((await t.call(agent(name), 'team_comm', { action: 'inbox', unread_only: true })).unread_count).toBe(0); // it read its own mail
    }
    expect((await t.call(OWNER, 'team_agent', { action: 'working_get', agent_id: 'script' })).status).toBe('waiting');
    // With nothing to read, the plain script answers HEARTBEAT_OK: an idle run.
    t.clock.advance(1_000);
    await t.call(OWNER, 'team_agent', { action: 'wake', agent_id: 'script' });
    const runs = await waitFor(runsOf(t, 'script'), (r) => r.length === 2 && settled(r), 'the idle run');
    expect(runs[0]).toMatchObject({ status: 'idle', output: 'HEARTBEAT_OK\n' });
  });

  it('are printed per agent by run --print-recipes as shell lines that set them', async () => {
    const t = await openCore();
    await t.call(OWNER, 'team_manage', { action: 'create', name: 'Engineering' });
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Siri' });
    const printed = await runCli(['run', '--print-recipes', '--db', t.path]);
    expect(printed.code).toBe(0);
    const lines = printed.stdout.split('\n').filter((l) => l.includes(' call team_agent '));
    expect(lines).toHaveLength(4);
    expect(printed.stdout).toContain('.gemini/settings.json');
    for (const [i, line] of lines.entries()) {
      // Pasted into a shell as printed: each sets that recipe on siri, in the database it names.
      const run = await promisify(execFile)('sh', ['-c', line], { env: { ...process.env, TEAM_TABLE_OWNER: 'ana' } });
      expect(JSON.parse(run.stdout).wake_adapter.type).toBe('command');
      const adapter = (await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'siri' })).wake_adapter;
      expect(adapter.command[0]).toBe(['claude', 'codex', 'gemini', 'sh'][i]);
    }
  });
});
