import { describe, expect, it } from 'vitest';
import { OWNER, agent, openCore, seedTeam } from '../helpers.js';

describe('the heartbeat prompt', () => {
  it("carries the agent's identity, WORKING.md, mail, tasks, claimable work, others' activity and how to answer", async () => {
    const t = await openCore();
    await seedTeam(t);
    await t.call(OWNER, 'team_agent', { action: 'update', agent_id: 'loki', personality: 'Creative, thorough', instructions: 'Write documentation', skills: ['writing'] });
    const mine = await t.call(agent('jarvis'), 'team_task', { action: 'create', title: 'API guide', assignees: ['loki'], priority: 2 });
    await t.call(agent('jarvis'), 'team_task', { action: 'create', title: 'Fix login', task_type: 'bug', priority: 1 });
    await t.call(agent('loki'), 'team_agent', { action: 'working_update', status: 'working', current_task_id: mine.id, next_steps: '1. Outline\n2. Examples', context: 'auth section first' });
    await t.call(agent('jarvis'), 'team_comm', { action: 'comment', task_id: mine.id, content: '@loki please cover OAuth too' });
    await t.call(OWNER, 'team_agent', { action: 'create', name: 'Mira' });
    await t.call(agent('jarvis'), 'team_comm', { action: 'send_message', to_agent: 'mira', content: 'between us' });

    const beat = await t.call(agent('loki'), 'team_agent', { action: 'heartbeat' });
    expect(beat.prompt).toContain('# Heartbeat — Loki (loki), Technical Writer, team Engineering');
    expect(beat.prompt).toContain('Personality: Creative, thorough. Skills: writing.');
    expect(beat.prompt).toContain(`## Current Work State (WORKING.md)\n- Status: working\n- Current Task: ${mine.id}\n- Next Steps:\n1. Outline\n2. Examples`);
    expect(beat.prompt).toMatch(/\[mention\] jarvis in \w+, 10:00: "@loki please cover OAuth too"/);
    expect(beat.prompt).toContain(`- ${mine.id} assigned p2 "API guide"`);
    expect(beat.prompt).toMatch(/## Claimable \(1 in the inbox.*\n- \w+ p1 "Fix login" \[bug\]/);
    expect(beat.prompt).toContain("jarvis created task 'Fix login'");
    expect(beat.prompt).not.toContain('between us'); // another agent's private mail is no activity of its
    expect(beat.prompt.trimEnd().endsWith('If there is nothing to do, answer exactly HEARTBEAT_OK and nothing else.')).toBe(true);
    expect(beat).toMatchObject({ pending_mail: 1, open_tasks: 1, claimable: 1 });

    // A preview: the mail is still there for mention_check; and the agent has now taken its heartbeat.
    expect((await t.call(agent('loki'), 'team_comm', { action: 'mention_check' })).count).toBe(1);
    expect((await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'loki' })).last_heartbeat_at).toBe(t.clock.now().toISOString());
    // Looking at another agent's heartbeat (a lead) records nothing for it; other agents may not look.
    await t.call(agent('jarvis'), 'team_agent', { action: 'heartbeat', agent_id: 'mira' });
    expect((await t.call(OWNER, 'team_agent', { action: 'get', agent_id: 'mira' })).last_heartbeat_at).toBe('');
    await expect(t.call(agent('loki'), 'team_agent', { action: 'heartbeat', agent_id: 'mira' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });

  it('stays under 2k tokens for a busy team: 50 pending items, 30 tasks, a busy log, the older summarised', async () => {
    const t = await openCore();
    await seedTeam(t);
    for (const name of ['Mira', 'Odin', 'Freya']) await t.call(OWNER, 'team_agent', { action: 'create', name });
    await t.call(OWNER, 'team_agent', { action: 'update', agent_id: 'loki', instructions: 'Write documentation. '.repeat(200) });
    const senders = ['jarvis', 'mira', 'odin', 'freya'];
    const tasks = [];
    for (let i = 0; i < 30; i++) tasks.push(await t.call(agent('jarvis'), 'team_task', { action: 'create', title: `Task number ${i} with a fairly long descriptive title`, ...(i % 3 === 0 ? { assignees: ['loki'] } : {}) }));
    for (let i = 0; i < 50; i++) {
      const from = agent(senders[i % 4]!);
      const text = `Message ${i}: ${'please look at the attached details and tell me what you think '.repeat(3)}`;
      if (i % 2) await t.call(from, 'team_comm', { action: 'send_message', to_agent: 'loki', content: text });
      else await t.call(from, 'team_comm', { action: 'comment', task_id: tasks[i % 30].id, content: `@loki ${text}` });
    }
    for (let i = 0; i < 60; i++) await t.call(agent(senders[i % 4]!), 'team_memory', { action: 'fact_save', key: `k${i}`, value: 'v' });
    const beat = await t.call(agent('loki'), 'team_agent', { action: 'heartbeat' });
    expect(beat.pending_mail).toBe(50);
    expect(beat.tokens_estimate).toBeLessThanOrEqual(2_000);
    expect(beat.prompt).toMatch(/… 44 older: /);
    expect(beat.prompt).toMatch(/… \d+ more: team_task\(action='list', assignee_filter='loki'\)/);
  });

  it('shows the ready tasks as claimable however many tasks ahead of them wait on dependencies', async () => {
    const t = await openCore();
    await seedTeam(t);
    const first = await t.call(OWNER, 'team_task', { action: 'create', title: 'first', assignees: ['jarvis'] });
    for (let i = 0; i < 60; i++) await t.call(OWNER, 'team_task', { action: 'create', title: `waits ${i}`, priority: 1, blocked_by: [first.id] });
    const ready = await t.call(OWNER, 'team_task', { action: 'create', title: 'ready now', priority: 4 });
    const beat = await t.call(agent('loki'), 'team_agent', { action: 'heartbeat' });
    expect(beat.prompt).toContain(`## Claimable (61 in the inbox; team_task(action='claim_next') takes the best for you)\n- ${ready.id} p4 "ready now"`);
    expect((await t.call(agent('loki'), 'team_task', { action: 'claim_next' })).task.id).toBe(ready.id);
  });
});
