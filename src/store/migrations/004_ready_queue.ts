import type { Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * The ready queue in index order down to the last tie-breaker, and by task type, so that claim_next reads the best
 * ready task of a team's inbox without sorting anything (see `inboxHead` in src/core/claims.ts).
 */
export const readyQueue: Migration = {
  version: 4,
  name: 'ready_queue',
  async up(db: Kysely<any>) {
    await db.schema.dropIndex('tasks_ready_queue').execute();
    await db.schema.createIndex('tasks_ready_queue').on('team_tasks').columns(['team_id', 'status', 'priority', 'created_at', 'id']).execute();
    await db.schema.createIndex('tasks_ready_by_type').on('team_tasks').columns(['team_id', 'status', 'priority', 'task_type', 'created_at', 'id']).execute();
  },
};
