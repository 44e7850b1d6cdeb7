import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { StoreDialect } from '../dialect.js';
import type { Migration } from './index.js';
import { runRowSteps } from './steps.js';

/**
 * PostgreSQL: claim_next reads its queue off indexes of the open tasks only (inbox and assigned). Its cost-based
 * planner chose among the task indexes by their statistics, and with none gathered since a backlog arrived — or
 * gathered while every task was in the inbox — it read the inbox's head off the team's list order, past every task
 * already claimed (a read that grew with each claim), and the tasks assigned to an agent off the done-by-day index.
 * An index holding only the open tasks, whose condition the claim's read names as written (the status is a literal
 * there), is the cheapest for any statistics, and its plan can be made once for every run. `tasks_ready_by_type`
 * serves only the claim's reads of preferred task types and becomes partial too; `tasks_ready_queue` stays for
 * lists by status.
 *
 * Not on SQLite, whose planner picks these reads' indexes by their columns, and which plans anew, on every run, a
 * statement binding a column that a partial index's condition names (migration 16).
 */
export const openWorkIndexes: Migration = {
  version: 20,
  name: 'open_work_indexes',
  async up(db: Kysely<any>, dialect: StoreDialect, progress) {
    if (dialect.name !== 'postgres') return;
    await runRowSteps(
      db,
      dialect,
      [
        {
          doing: 'indexing the open tasks of',
          table: 'team_tasks',
          async run(tx) {
            await sql`create index tasks_open_queue on team_tasks (team_id, status, priority, created_at, id) where status in ('inbox', 'assigned')`.execute(tx);
            await sql`drop index tasks_ready_by_type`.execute(tx);
            await sql`create index tasks_open_by_type on team_tasks (team_id, status, priority, task_type, created_at, id) where status in ('inbox', 'assigned')`.execute(tx);
          },
        },
      ],
      'open tasks indexed',
      progress,
    );
  },
};
