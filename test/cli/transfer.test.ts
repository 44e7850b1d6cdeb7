import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { OWNER, agent, openCore, runCli, seedTeam, tempDbPath } from '../helpers.js';

// Each test spawns many processes; on a machine shared with other suites that takes its time.
vi.setConfig({ testTimeout: 300_000 });

/**
 * Every row of every table, in key order: what a round trip must keep. Not the search index, leases, the schema
 * version, nor the definitions stamp (a random value every change redraws, the import's included).
 */
function contents(path: string): Record<string, unknown[]> {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    const tables = (db.prepare("select name from sqlite_master where type = 'table' and name not like 'search%' and name not like 'sqlite%' and name not in ('leases', 'schema_version', 'definitions_stamp')").all() as { name: string }[]).map((t) => t.name);
    return Object.fromEntries(tables.map((t) => [t, db.prepare(`select * from ${t}`).all().sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))]));
  } finally {
    db.close();
  }
}

/** Two teams with something in every table: roles, rules, tasks with relations, comments, mail, facts, documents. */
async function busyDatabase() {
  const t = await openCore();
  await seedTeam(t);
  await t.call(OWNER, 'team_manage', { action: 'create', name: 'Research' });
  await t.call(OWNER, 'team_agent', { action: 'create', team_id: 'research', name: 'Wanda', level: 'lead' });
  await t.call(OWNER, 'team_manage', { action: 'role_create', team_id: 'engineering', name: 'tester', actions: ['team_task.claim'] });
  await t.call(OWNER, 'team_manage', { action: 'rule_create', team_id: 'engineering', name: 'notify on block', trigger: 'task.blocked', action: { type: 'notify', to: 'lead' } }).catch(() => undefined);
  const parent = await t.call(OWNER, 'team_task', { action: 'create', team_id: 'engineering', title: 'Parent', labels: ['api'], assignees: ['loki'], reviewer: 'jarvis' });
  const child = await t.call(OWNER, 'team_task', { action: 'create', team_id: 'engineering', title: 'Child', parent_id: parent.id, blocked_by: [parent.id] });
  await t.call(agent('loki'), 'team_task', { action: 'claim', task_id: parent.id });
  await t.call(agent('jarvis'), 'team_comm', { action: 'comment', task_id: child.id, content: '@loki look at this' });
  await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'private note' });
  await t.call(agent('loki'), 'team_comm', { action: 'mention_check' });
  await t.call(agent('jarvis'), 'team_comm', { action: 'notify', type: 'task_progress', message: 'half way', to_agent: 'loki' });
  await t.call(agent('loki'), 'team_agent', { action: 'working_update', status: 'working', current_task_id: parent.id, next_steps: 'write tests' });
  for (const value of ['v1', 'v2']) await t.call(agent('loki'), 'team_memory', { action: 'fact_save', key: 'api_version', value });
  const doc = await t.call(agent('loki'), 'team_memory', { action: 'doc_create', title: 'Design', content: 'first' });
  await t.call(agent('loki'), 'team_memory', { action: 'doc_update', doc_id: doc.id, content: 'second' });
  await t.call(OWNER, 'team_memory', { action: 'fact_save', team_id: 'research', key: 'topic', value: 'retrieval' });
  await t.call(OWNER, 'team_manage', { action: 'notify_rule_create', team_id: 'engineering', name: 'blocked to slack', events: ['task_blocked'], destinations: [{ type: 'webhook', url: 'https://hooks.example.com/blocked' }] });
  await t.store.close();
  return t.path;
}

describe('export and import', () => {
  it('round-trips every row and event of every team into a fresh database, ids and sequence numbers included', async () => {
    const source = await busyDatabase();
    const dump = join(dirname(source), 'all.jsonl');
    const exported = await runCli(['export', '--db', source, '-o', dump, '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ teams: 'all' });
    const target = tempDbPath();
    const imported = await runCli(['import', dump, '--db', target, '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ events_renumbered: false });
    const before = contents(source);
    expect(before.team_events!.length).toBeGreaterThan(20);
    for (const table of ['team_fact_versions', 'team_document_versions', 'team_task_dependencies', 'team_pending_messages', 'agent_working_state', 'team_notifications', 'team_roles', 'notification_rules']) {
      expect(before[table]!.length, table).toBeGreaterThan(0);
    }
    expect(contents(target)).toEqual(before);
    // And its export is the same file, but for the time it was made.
    const again = (await runCli(['export', '--db', target])).stdout;
    const strip = (text: string) => text.replace(/"exported_at":"[^"]+"/, '');
    expect(strip(again)).toBe(strip(readFileSync(dump, 'utf8')));
    // The search index (the calls below run the sweep on the real clock, so they come after the comparisons) is rebuilt as the rows go in, private mail as private as before.
    expect((await runCli(['search', 'private', '--db', target, '--team', 'engineering', '--json', '--agent', 'loki'])).stdout).toContain('private note');
    expect(JSON.parse((await runCli(['search', 'private', '--db', target, '--json', '--agent', 'wanda'])).stdout).hits).toEqual([]);
  });

  it('exports one team, and imports it beside another team with the events appended after those already there', async () => {
    const source = await busyDatabase();
    const research = (await runCli(['export', '--db', source, '--team', 'research'])).stdout;
    const lines = research.trim().split('\n').map((l) => JSON.parse(l));
    const teamId = lines[1].row.id;
    expect(lines[0]).toMatchObject({ format: 'team-table-export', teams: [teamId] });
    expect(lines.slice(1, -1).every((l) => l.row.team_id === undefined || l.row.team_id === teamId)).toBe(true);
    expect(lines.at(-1)).toEqual({ end: true, rows: lines.length - 2 });

    const target = tempDbPath();
    expect((await runCli(['init', '--db', target, '--team', 'Other', '--clients', 'claude', '--dir', dirname(target)])).code).toBe(0);
    const imported = await runCli(['import', '-', '--db', target, '--json'], { input: research });
    expect(JSON.parse(imported.stdout)).toMatchObject({ teams: [teamId], events_renumbered: true });
    expect((await runCli(['fact', 'get', 'topic', '--team', 'research', '--db', target])).stdout).toBe('retrieval\n');
    const again = await runCli(['import', '-', '--db', target], { input: research });
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/CONFLICT: import: team 'Research' .* already exists here/);
  });

  it("imports an export made before labels carried their task's list order and mail its task (schema 13): a list by label finds them in order, the inbox names the task", async () => {
    const t = await openCore();
    await seedTeam(t);
    for (const [title, priority] of [['later', 3], ['first', 1]] as const) await t.call(OWNER, 'team_task', { action: 'create', title, priority, labels: ['docs'] });
    const task = await t.call(OWNER, 'team_task', { action: 'create', title: 'Endpoint' });
    await t.call(agent('jarvis'), 'team_comm', { action: 'comment', task_id: task.id, content: '@loki the docs, please' });
    await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'loki', content: 'lunch?' });
    await t.store.close();
    const lines = (await runCli(['export', '--db', t.path])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    lines[0].schema_version = 13;
    for (const line of lines.filter((l) => l.table === 'team_task_labels')) line.row = { task_id: line.row.task_id, label: line.row.label };
    for (const line of lines.filter((l) => l.table === 'team_pending_messages')) delete line.row.task_id;
    const target = tempDbPath();
    const imported = await runCli(['import', '-', '--db', target, '--json'], { input: lines.map((l) => JSON.stringify(l)).join('\n') });
    expect(imported.code, imported.stderr).toBe(0);
    const copy = await openCore({ path: target });
    expect((await copy.call(OWNER, 'team_task', { action: 'list', label: 'docs' })).tasks.map((x: any) => x.title)).toEqual(['first', 'later']);
    const mail = (await copy.call(agent('loki'), 'team_comm', { action: 'inbox' })).messages;
    expect(Object.fromEntries(mail.map((m: any) => [m.content, m.task_id]))).toEqual({ '@loki the docs, please': task.id, 'lunch?': '' });
  });

  it('refuses a cut or foreign file and imports nothing of it', async () => {
    const source = await busyDatabase();
    const full = (await runCli(['export', '--db', source])).stdout.trim().split('\n');
    const target = tempDbPath();
    const cut = await runCli(['import', '-', '--db', target], { input: full.slice(0, -5).join('\n') });
    expect(cut.code).toBe(2);
    expect(cut.stderr).toMatch(/the export is cut short \(no closing line\); nothing was imported/);
    const foreign = await runCli(['import', '-', '--db', target], { input: '{"hello":"world"}\n' });
    expect(foreign.stderr).toMatch(/not a team-table export/);
    expect(contents(target).teams).toEqual([]);
    expect(contents(target).team_events).toEqual([]);
  });
});

describe('backup and restore', () => {
  it('copies a live database during a write storm: the copy is sound and holds every write acknowledged before it started', async () => {
    const db = tempDbPath();
    const t = await openCore({ path: db });
    await seedTeam(t);
    // Big enough that the copy takes many steps, so that the writers make SQLite start it over.
    for (let i = 0; i < 8; i++) await t.call(OWNER, 'team_memory', { action: 'doc_create', title: `bulk ${i}`, content: `${i}`.repeat(200_000) });
    await t.store.close();

    const acked: string[] = [];
    const writers = ['jarvis', 'loki'].map((name) => {
      const child = spawn(process.execPath, [resolve(import.meta.dirname, '../fixtures/writer.mjs'), db, name], { stdio: ['ignore', 'pipe', 'inherit'] });
      let buffered = '';
      child.stdout.on('data', (chunk) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) if (line.startsWith('ack ')) acked.push(line.slice(4));
      });
      return child;
    });
    const enough = () => ['jarvis', 'loki'].every((name) => acked.some((a) => a.startsWith(`${name} `))) && acked.length >= 20;
    const copy = join(dirname(db), 'backup.db');
    let before: Set<string>;
    let backup: Awaited<ReturnType<typeof runCli>>;
    try {
      while (!enough()) await new Promise((r) => setTimeout(r, 20));
      before = new Set(acked);
      backup = await runCli(['backup', copy, '--db', db, '--json']);
      for (const writer of writers) writer.kill('SIGTERM');
      await Promise.all(writers.map((w) => w.exitCode ?? new Promise((r) => w.on('exit', r))));
    } finally {
      for (const writer of writers) if (writer.exitCode === null) writer.kill('SIGKILL');
    }
    expect(backup.code, backup.stderr).toBe(0);
    expect(JSON.parse(backup.stdout)).toMatchObject({ integrity: 'ok', teams: 1 });

    const restored = new BetterSqlite3(copy, { readonly: true });
    expect(restored.pragma('integrity_check', { simple: true })).toBe('ok');
    const titles = new Set((restored.prepare('select title from team_tasks').all() as { title: string }[]).map((r) => r.title));
    restored.close();
    const missing = [...before].filter((title) => !titles.has(title));
    expect(missing).toEqual([]);
    // The writers kept going while the copy was made.
    expect(acked.length).toBeGreaterThan(before.size);
  });

  it('restores a backup over a database only with --force when it holds teams, and checks the backup first', async () => {
    const db = tempDbPath();
    expect((await runCli(['init', '--db', db, '--team', 'Engineering', '--agents', 'Jarvis', '--clients', 'claude', '--dir', dirname(db)])).code).toBe(0);
    const copy = join(dirname(db), 'engineering.backup');
    expect((await runCli(['backup', copy, '--db', db])).code).toBe(0);
    expect((await runCli(['backup', copy, '--db', db])).code).toBe(5);
    await runCli(['task', 'add', 'after the backup', '--db', db]);

    const refused = await runCli(['restore', copy, '--db', db]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/CONFLICT: restore: .* holds 1 team\(s\); pass --force/);
    expect(JSON.parse((await runCli(['task', 'ls', '--db', db, '--json'])).stdout).tasks).toHaveLength(1);

    const junk = join(dirname(db), 'junk.db');
    writeFileSync(junk, 'not a database at all, just text that is long enough to look like a header');
    expect((await runCli(['restore', junk, '--db', db, '--force'])).code).toBe(2);

    const restored = await runCli(['restore', copy, '--db', db, '--force']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(JSON.parse((await runCli(['task', 'ls', '--db', db, '--json'])).stdout).tasks).toEqual([]);
    expect(JSON.parse((await runCli(['agent', 'ls', '--db', db, '--json'])).stdout).agents.map((a: any) => a.id)).toEqual(['jarvis']);
  });
});
