import { describe, expect, it } from 'vitest';
import { spawnSession, tempDbPath } from '../helpers.js';

/** The roadmap's hand-off and workflow-rule examples, each agent in its own server process over stdio. */
describe('roadmap examples over MCP stdio', () => {
  async function team() {
    const db = tempDbPath();
    const owner = await spawnSession(db);
    await owner.call('team_manage', { action: 'create', name: 'Table' });
    await owner.call('team_agent', { action: 'create', name: 'Claude Code', level: 'lead' });
    await owner.call('team_agent', { action: 'create', name: 'Codex', role: 'async worker', role_definition: 'async-worker' });
    await owner.call('team_agent', { action: 'create', name: 'Opus', role: 'reviewer', role_definition: 'reviewer' });
    const [codex, opus, lead] = await Promise.all([spawnSession(db, { agent: 'codex' }), spawnSession(db, { agent: 'opus' }), spawnSession(db, { agent: 'claude-code' })]);
    return { owner, codex, opus, lead };
  }

  it('async worker → reviewer hand-off, with the task feed', async () => {
    const { owner, codex, opus } = await team();
    const task = await owner.call('team_task', { action: 'create', title: 'Implement the API endpoint', reviewer: 'opus', task_type: 'implement' });
    const claimed = await codex.call('team_task', { action: 'claim_next' });
    expect(claimed.task).toMatchObject({ id: task.id, status: 'in_progress', claimed_by: 'codex' });
    await codex.call('team_comm', { action: 'comment', task_id: task.id, content: 'Implementing the API endpoint' });
    await codex.call('team_task', { action: 'update', task_id: task.id, status: 'review' });
    const mail = await opus.call('team_comm', { action: 'mention_check' });
    expect(mail.messages.map((m: any) => m.content)).toEqual([expect.stringMatching(/^\[review_requested\].*Implement the API endpoint/)]);
    await opus.call('team_comm', { action: 'comment', task_id: task.id, content: 'Looks good, merging' });
    expect((await opus.call('team_task', { action: 'approve', task_id: task.id })).status).toBe('done');
    const detail = await owner.call('team_task', { action: 'get', task_id: task.id });
    expect(detail.feed_text.replace(/ — \d\d:\d\d/g, '')).toBe(
      [
        '[created] ana created task',
        '[status_change] codex claimed task',
        '[comment] codex: Implementing the API endpoint',
        '[status_change] codex moved task in_progress → review',
        '[comment] opus: Looks good, merging',
        '[status_change] opus approved → done',
      ].join('\n'),
    );
  });

  it('request changes, reassign, and a stale version refused', async () => {
    const { owner, codex, opus } = await team();
    const task = await owner.call('team_task', { action: 'create', title: 'Parser', reviewer: 'opus' });
    const claimed = await codex.call('team_task', { action: 'claim', task_id: task.id });
    await codex.call('team_task', { action: 'update', task_id: task.id, status: 'review', expected_version: claimed.version });
    expect(await codex.fail('team_task', { action: 'update', task_id: task.id, title: 'x', expected_version: claimed.version })).toMatch(/^VERSION_CONFLICT: task .* is at version/);
    await opus.call('team_task', { action: 'request_changes', task_id: task.id, content: 'Handle empty input' });
    expect((await codex.call('team_comm', { action: 'mention_check' })).messages.map((m: any) => m.content)).toContain('Handle empty input');
    expect((await codex.call('team_task', { action: 'reassign', task_id: task.id, new_assignee: 'opus' })).assignees).toEqual(['opus']);
  });

  it('rules: blocked notifies the assignee and escalation; subtasks done complete the parent; custom rules apply', async () => {
    const { owner, codex, lead } = await team();
    const parent = await owner.call('team_task', { action: 'create', title: 'Release' });
    const sub = await owner.call('team_task', { action: 'create', title: 'Changelog', parent_id: parent.id, assignees: ['codex', 'opus'] });
    await codex.call('team_task', { action: 'claim', task_id: sub.id });
    await codex.call('team_task', { action: 'update', task_id: sub.id, status: 'blocked', blocked_reason: 'Waiting for the version number' });
    expect((await lead.call('team_comm', { action: 'mention_check' })).messages.map((m: any) => m.content)).toEqual([expect.stringMatching(/^\[task_blocked\].*Waiting for the version number/)]);
    await codex.call('team_task', { action: 'update', task_id: sub.id, status: 'in_progress' });
    await codex.call('team_task', { action: 'update', task_id: sub.id, status: 'done' });
    expect(await owner.call('team_task', { action: 'get', task_id: parent.id })).toMatchObject({ status: 'done', progress: { total: 1, done: 1 } });

    await lead.call('team_manage', { action: 'rule_create', name: 'label bugs', trigger: 'task.created', condition: { task_type: 'bug' }, rule_action: { type: 'add_label', label: 'triage' } });
    const bug = await lead.call('team_task', { action: 'create', title: 'Crash on start', task_type: 'bug' });
    expect((await owner.call('team_task', { action: 'get', task_id: bug.id })).labels).toEqual(['triage']);
  });
});
