import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Migration } from './index.js';
import { runRowSteps } from './steps.js';

/**
 * Two indexes of the task table hold only the tasks their reads look for, so that a change of status moves no entry
 * of theirs unless it enters or leaves that status: the tasks done, by team and day (the standup), and the claims
 * under way, by lease expiry (the sweep). Keyed by status before, each claim, release or review moved the task's
 * entry in both, about two more pages for its commit to write. Their reads name the status as a literal, which
 * a prepared statement's plan needs to use a partial index.
 */
export const partialTaskIndexes: Migration = {
  version: 16,
  name: 'partial_task_indexes',
  async up(db: Kysely<any>, dialect, progress) {
    await runRowSteps(
      db,
      dialect,
      [
        {
          doing: 'indexing the tasks done, by day, of',
          table: 'team_tasks',
          async run(tx) {
            await tx.schema.dropIndex('tasks_done_by_day').execute();
            await tx.schema.createIndex('tasks_done_by_day').on('team_tasks').columns(['team_id', 'completed_at']).where(sql.ref('status'), '=', 'done').execute();
          },
        },
        {
          doing: 'indexing the claims under way, by lease, of',
          table: 'team_tasks',
          async run(tx) {
            await tx.schema.dropIndex('tasks_by_lease').execute();
            await tx.schema.createIndex('tasks_by_lease').on('team_tasks').column('lease_expires_at').where(sql.ref('status'), '=', 'in_progress').execute();
          },
        },
      ],
      'indexes of the task table made partial',
      progress,
    );
  },
};
