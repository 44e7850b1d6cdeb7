import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { spawnSession, tempDbPath } from '../helpers.js';

describe('a server killed mid-write', () => {
  // After 800 writes (some 10,000 frames) the log has been checkpointed by a commit and has started over: the kill
  // lands in a log that overwrites its own earlier frames.
  it.each([50, 800])('loses nothing it acknowledged and leaves a consistent database (killed after %i writes)', async (writes) => {
    const db = tempDbPath();
    const owner = await spawnSession(db);
    await owner.call('team_manage', { action: 'create', name: 'Chaos' });
    await owner.call('team_agent', { action: 'create', name: 'Worker', level: 'lead' });
    const worker = await spawnSession(db, { agent: 'worker' });
    const acknowledged: string[] = [];
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          const task = await worker.call('team_task', { action: 'create', title: `job ${i}`, labels: ['chaos'] });
          acknowledged.push(task.id);
        } catch {
          return; // the process is gone
        }
      }
    })();
    while (acknowledged.length < writes) await new Promise((r) => setTimeout(r, 5));
    const pid = (worker.client.transport as unknown as { pid: number | null }).pid!;
    process.kill(pid, 'SIGKILL');
    stop = true;
    await writer;

    const store = await Store.open(db);
    try {
      const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(store.db);
      expect(integrity.rows[0]!.integrity_check).toBe('ok');
      const stored = await store.db.selectFrom('team_tasks').select('id').execute();
      const ids = new Set(stored.map((t) => t.id));
      expect(acknowledged.filter((id) => !ids.has(id))).toEqual([]);
      // every stored task is whole: its label and its creation event committed with it
      const labels = await store.db.selectFrom('team_task_labels').select('task_id').execute();
      expect(labels).toHaveLength(stored.length);
      const events = await store.db.selectFrom('team_events').select('related_id').where('type', '=', 'task_created').execute();
      expect(events).toHaveLength(stored.length);
    } finally {
      await store.close();
    }
  });
});
