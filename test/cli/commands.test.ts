import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, runCli, tempDbPath } from '../helpers.js';

const ANSI = /\x1b\[/;

/** A database with team Engineering: jarvis (lead), loki and vision. */
async function team() {
  const db = tempDbPath();
  const cli = (args: string[], env: Record<string, string> = {}) => runCli([...args, '--db', db], { env });
  const json = async (args: string[], env: Record<string, string> = {}) => {
    const result = await cli([...args, '--json'], env);
    if (result.code !== 0) throw new Error(`team-table ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  };
  const init = await cli(['init', '--team', 'Engineering', '--agents', 'Jarvis:lead,Loki,Vision', '--clients', 'claude', '--dir', `${db}.project`]);
  expect(init.code, init.stderr).toBe(0);
  return { db, cli, json };
}

describe('CLI commands', () => {
  it('runs a day of work: tasks, mail, facts, documents, search, standup, status and the log', async () => {
    const { cli, json } = await team();
    const task = await json(['task', 'add', 'Implement authentication', '-p', '1', '-a', 'jarvis', '-l', 'api', '-d', 'OAuth for the API']);
    expect(task).toMatchObject({ title: 'Implement authentication', priority: 1, assignees: ['jarvis'], labels: ['api'], status: 'assigned' });
    const listed = await cli(['task', 'ls']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ID +P +STATUS +TITLE/);
    expect(listed.stdout).toContain(`${task.id}  1  assigned  Implement authentication  jarvis`);
    expect(listed.stdout).not.toMatch(ANSI);

    const claimed = await json(['task', 'claim', task.id, '--agent', 'jarvis']);
    expect(claimed).toMatchObject({ status: 'in_progress', claimed_by: 'jarvis' });
    expect(await json(['task', 'mv', task.id, 'done', '--agent', 'jarvis'])).toMatchObject({ status: 'done' });
    const shown = await cli(['task', 'show', task.id]);
    expect(shown.stdout).toMatch(/status +done/);
    expect(shown.stdout).toContain('[status_change] jarvis claimed task');

    const sent = await json(['send', 'loki', 'please', 'document', 'the', 'login', 'endpoint', '--agent', 'jarvis']);
    expect(sent).toMatchObject({ to_agent: 'loki', content: 'please document the login endpoint', recipients: ['loki'] });
    const inbox = await json(['inbox', '--agent', 'loki']);
    expect(inbox).toMatchObject({ agent_id: 'loki', unread_count: 1, messages: [{ from_agent: 'jarvis', content: 'please document the login endpoint' }] });
    expect((await cli(['inbox', 'loki'])).stdout).toMatch(/loki: 1 unread[\s\S]*jarvis +direct +please document/);
    await json(['inbox', '--agent', 'loki', '--mark-read']);
    expect((await json(['inbox', 'loki'])).unread_count).toBe(0);
    expect(await json(['send', '--broadcast', 'standup', 'at', 'ten'])).toMatchObject({ content: 'standup at ten', recipients: ['jarvis', 'loki', 'vision'] });

    expect(await json(['fact', 'set', 'api_version', 'v2', '--agent', 'loki'])).toMatchObject({ key: 'api_version', value: 'v2', version: 1 });
    expect((await cli(['fact', 'get', 'api_version'])).stdout).toBe('v2\n');
    expect((await cli(['fact'])).stdout).toMatch(/api_version +v2 +1 +loki/);
    const doc = await json(['doc', 'add', 'Login guide', '--content', 'Users authenticate with a bearer token.', '--task', task.id]);
    expect((await cli(['doc', 'show', doc.id])).stdout).toContain('Users authenticate with a bearer token.');
    await json(['doc', 'update', doc.id, '--content', 'Users authenticate with a bearer token, sent as a header.']);
    // The document's --version, not the program's.
    expect((await cli(['doc', 'show', doc.id, '--version', '1'])).stdout).toMatch(/version 1[\s\S]*Users authenticate with a bearer token\.\n/);

    const found = await json(['search', 'authenticate']);
    expect(found.hits.map((h: any) => h.kind).sort()).toEqual(['document', 'task']);
    expect(found.hits[0]).toMatchObject({ kind: 'task', id: task.id });
    const table = await cli(['search', 'bearer', '--kind', 'document']);
    expect(table.stdout).toMatch(/document +\w{8} +ana .*Login guide .*bearer token/);
    expect((await cli(['search', 'nothing-like-this'])).stdout).toBe('Nothing found.\n');

    expect((await cli(['standup'])).stdout).toMatch(/COMPLETED TODAY\n• Implement authentication \(by jarvis\)/);
    const status = await json(['status', '--team', 'engineering']);
    expect(status).toMatchObject({ team: { name: 'Engineering' }, counts: { done: 1, inbox: 0 } });
    expect(status.agents.map((a: any) => a.id)).toEqual(['jarvis', 'loki', 'vision']);
    expect((await cli(['status'])).stdout).toMatch(/^Engineering \(\w{8}\)\nTasks: inbox 0 · assigned 0 · in_progress 0 · review 0 · blocked 0 · done 1/);
    const log = await json(['log', '--type', 'task_created']);
    expect(log.events).toMatchObject([{ type: 'task_created', agent_id: 'ana', related_id: task.id }]);
    expect((await cli(['log', '--limit', '2'])).stdout).toMatch(/… more: --after \d+/);
    expect((await json(['agent', 'show', 'jarvis'])).working.markdown).toContain('## Current Work State (WORKING.md)');
    expect((await cli(['agent', 'ls'])).stdout).toMatch(/jarvis +Jarvis +lead/);
  });

  it('maps refusals to exit codes with a clear message, and changes nothing', async () => {
    const { cli, json } = await team();
    const missing = await cli(['task', 'show', 'nosuchid']);
    expect(missing).toMatchObject({ code: 3, stdout: '' });
    expect(missing.stderr).toMatch(/NOT_FOUND: task 'nosuchid' not found/);
    const denied = await cli(['agent', 'add', 'Thor', '--level', 'lead', '--agent', 'loki']);
    expect(denied.code).toBe(4);
    expect(denied.stderr).toMatch(/PERMISSION_DENIED/);
    const task = await json(['task', 'add', 'Something']);
    const invalid = await cli(['task', 'mv', task.id, 'review']);
    expect(invalid.code).toBe(5);
    expect(invalid.stderr).toMatch(/INVALID_TRANSITION/);
    expect((await cli(['task', 'ls', '--priority', 'high'])).stderr).toMatch(/VALIDATION: priority: must be an integer/);
    expect((await cli(['send', 'loki'])).code).toBe(2);
    const wake = await cli(['agent', 'wake', 'loki']);
    expect(wake.code).toBe(2);
    expect(wake.stderr).toMatch(/VALIDATION: agent_id: agent 'loki' has no wake_adapter/);
    expect((await json(['agent', 'ls'])).agents.map((a: any) => a.id)).toEqual(['jarvis', 'loki', 'vision']);
    expect((await json(['task', 'ls'])).tasks.map((t: any) => t.status)).toEqual(['inbox']);
  });

  it('colours its tables on a terminal only, and never with NO_COLOR or --json', async () => {
    const { db } = await team();
    const piped = await runCli(['agent', 'ls', '--db', db]);
    expect(piped.stdout).toMatch(/jarvis/);
    expect(piped.stdout).not.toMatch(ANSI);
    const viaScript = await new Promise<string>((resolve) => {
      // `script` gives the command a real terminal.
      const child = spawn('script', ['-qec', `${process.execPath} ${CLI} agent ls --db ${db}`, '/dev/null'], { env: { ...process.env, TERM: 'xterm' } });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', () => resolve(out));
    });
    expect(viaScript).toMatch(ANSI);
    const noColor = await new Promise<string>((resolve) => {
      const child = spawn('script', ['-qec', `${process.execPath} ${CLI} agent ls --db ${db}`, '/dev/null'], { env: { ...process.env, TERM: 'xterm', NO_COLOR: '1' } });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', () => resolve(out));
    });
    expect(noColor).toMatch(/jarvis/);
    expect(noColor).not.toMatch(ANSI);
  });

  it('tail -f prints new events as they commit in other processes, and only those the actor may see', async () => {
    const { db, cli, json } = await team();
    // What agent add prints is the session's command as it runs here: this node, this CLI, this database.
    expect((await cli(['agent', 'add', 'Thor'])).stdout).toContain(`its MCP session: ${process.execPath} ${CLI} serve --db ${db} --agent thor`);
    const tail = spawn(process.execPath, [CLI, 'tail', '-f', '-n', '1', '--json', '--db', db, '--agent', 'thor'], { env: { ...process.env, TEAM_TABLE_OWNER: 'ana' } });
    const lines: any[] = [];
    let buffered = '';
    let started: () => void;
    const following = new Promise<void>((resolve) => (started = resolve));
    const seen = new Promise<void>((resolve) => {
      tail.stdout.on('data', (chunk) => {
        buffered += chunk;
        const parts = buffered.split('\n');
        buffered = parts.pop()!;
        for (const part of parts) {
          const event = JSON.parse(part);
          lines.push(event);
          started();
          if (event.type === 'message_sent' && event.data.to_agent === '') resolve();
        }
      });
    });
    // The latest event printed: tail has read the log's head, and follows from there.
    await following;
    expect(lines).toMatchObject([{ type: 'agent_created', related_id: 'thor' }]);
    // Written after tail started, by other processes: a direct message between two others, then a broadcast.
    await json(['send', 'vision', 'private', 'words', '--agent', 'loki']);
    await json(['send', '--broadcast', 'hello team', '--agent', 'jarvis']);
    await seen;
    tail.kill('SIGTERM');
    const code = await new Promise((resolve) => tail.on('exit', resolve));
    expect(code).toBe(0);
    expect(lines.filter((e) => e.type === 'message_sent').map((e) => e.agent_id)).toEqual(['jarvis']);
    // The latest lines, read from the log afterwards, leave out the same direct message.
    const latest = (await runCli(['tail', '-n', '20', '--json', '--db', db, '--agent', 'thor'])).stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(latest.filter((e) => e.type === 'message_sent').map((e) => e.agent_id)).toEqual(['jarvis']);
  });
});
