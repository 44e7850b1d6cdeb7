import { describe, expect, it } from 'vitest';
import { spawnSession, tempDbPath } from '../helpers.js';

describe('claim race across processes', () => {
  it('gives every task of one backlog to exactly one of many agents in several processes', async () => {
    const db = tempDbPath();
    const owner = await spawnSession(db);
    await owner.call('team_manage', { action: 'create', name: 'Race' });
    const AGENTS = 4;
    const TASKS = 120;
    for (let i = 0; i < AGENTS; i++) await owner.call('team_agent', { action: 'create', name: `worker ${i}` });
    for (let i = 0; i < TASKS; i++) await owner.call('team_task', { action: 'create', title: `job ${i}`, priority: 1 + (i % 5) });
    const workers = await Promise.all(Array.from({ length: AGENTS }, (_, i) => spawnSession(db, { agent: `worker-${i}` })));
    const claimed = await Promise.all(
      workers.map(async (worker) => {
        const mine: string[] = [];
        for (;;) {
          const { task } = await worker.call('team_task', { action: 'claim_next' });
          if (!task) return mine;
          mine.push(task.id);
        }
      }),
    );
    const all = claimed.flat();
    expect(all).toHaveLength(TASKS);
    expect(new Set(all).size).toBe(TASKS);
    // Which worker got how many is up to the scheduler (on a busy machine the first one may drain the backlog).
    const { tasks } = await owner.call('team_task', { action: 'list', status: 'in_progress', limit: 500 });
    expect(tasks).toHaveLength(TASKS);
    for (const [i, mine] of claimed.entries()) {
      for (const id of mine) expect(tasks.find((t: any) => t.id === id).claimed_by).toBe(`worker-${i}`);
    }
  });
});
