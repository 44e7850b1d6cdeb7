import { describe, expect, it } from 'vitest';
import { spawnSession, tempDbPath } from '../helpers.js';

/** Several server processes — one per agent, as MCP clients start them — sharing one SQLite file. */
describe('two server processes on one database file', () => {
  async function twoAgents() {
    const db = tempDbPath();
    const owner = await spawnSession(db);
    await owner.call('team_manage', { action: 'create', name: 'Engineering' });
    await owner.call('team_agent', { action: 'create', name: 'Jarvis', level: 'lead' });
    await owner.call('team_agent', { action: 'create', name: 'Loki' });
    const [jarvis, loki] = await Promise.all([spawnSession(db, { agent: 'jarvis' }), spawnSession(db, { agent: 'loki' })]);
    return { owner, jarvis, loki };
  }

  it('sees in one process the task created in the other, and delivers an @mention across', async () => {
    const { jarvis, loki } = await twoAgents();
    const task = await jarvis.call('team_task', { action: 'create', title: 'Implement authentication', assignees: ['loki'] });
    const listed = await loki.call('team_task', { action: 'list', assignee_filter: 'loki' });
    expect(listed.tasks.map((t: any) => t.id)).toEqual([task.id]);
    await jarvis.call('team_comm', { action: 'comment', task_id: task.id, content: '@loki can you write the docs for this endpoint?' });
    const mail = await loki.call('team_comm', { action: 'mention_check' });
    expect(mail.messages).toMatchObject([{ from_agent: 'jarvis', reason: 'mention', thread_id: task.id }]);
  });

  it('loses nothing when both write hundreds of times at once', async () => {
    const { owner, jarvis, loki } = await twoAgents();
    const PER_PROCESS = 200;
    const writer = (session: typeof jarvis, name: string) =>
      Promise.all(
        Array.from({ length: PER_PROCESS }, (_, i) =>
          i % 2 === 0
            ? session.call('team_task', { action: 'create', title: `${name} task ${i}`, labels: [name] })
            : session.call('team_memory', { action: 'fact_save', key: `${name}-${i}`, value: String(i) }),
        ),
      );
    await Promise.all([writer(jarvis, 'jarvis'), writer(loki, 'loki')]);
    for (const name of ['jarvis', 'loki']) {
      const { tasks, truncated } = await owner.call('team_task', { action: 'list', label: name, limit: 500 });
      expect(truncated).toBe(false);
      expect(new Set(tasks.map((t: any) => t.title)).size).toBe(PER_PROCESS / 2);
    }
    const { facts } = await owner.call('team_memory', { action: 'fact_list' });
    expect(facts).toHaveLength(PER_PROCESS);
  });
});
