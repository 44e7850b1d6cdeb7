import type { Kysely } from 'kysely';
import type { Migration } from './index.js';
import { runRowSteps } from './steps.js';

/**
 * The standup's index of the tasks done by day no longer carries the status: keyed (team_id, status, completed_at),
 * every change of status — a claim, a release, a review — moved the task's entry, about two more pages for its
 * commit to write. Keyed (team_id, completed_at) it moves only when a task is done or leaves done (completed_at is
 * set then and cleared after), and a day's range still holds the tasks done that day.
 *
 * Not a partial index (`where status = 'done'`): SQLite checks a partial index against the values bound to the
 * columns its condition names, so every statement binding a status — a claim's queue reads among them — would be
 * planned anew on every run (ten times their cost, measured).
 */
export const doneByDayIndex: Migration = {
  version: 16,
  name: 'done_by_day_index',
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
            await tx.schema.createIndex('tasks_done_by_day').on('team_tasks').columns(['team_id', 'completed_at']).execute();
          },
        },
      ],
      'tasks done by day indexed',
      progress,
    );
  },
};
