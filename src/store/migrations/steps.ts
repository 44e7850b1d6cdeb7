import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { StoreDialect } from '../dialect.js';
import type { MigrationProgress } from './index.js';

/** One step of a migration that goes through every row of a table (an index, a backfill). */
export interface RowStep {
  /** What the progress line says before "N rows of <table>", e.g. "adding index x to". */
  doing: string;
  table: string;
  run(db: Kysely<any>, dialect: StoreDialect): Promise<void>;
}

/**
 * Runs `steps` in order. On a big database this takes a while, so progress counts the rows gone through so far, and
 * each step's label says about how long is left (extrapolated from the rows done so far); a new database has
 * nothing to go through and shows nothing. `finished` is the last progress line.
 */
export async function runRowSteps(db: Kysely<any>, dialect: StoreDialect, steps: readonly RowStep[], finished: string, progress?: MigrationProgress): Promise<void> {
  const rows = new Map<string, number>();
  for (const table of new Set(steps.map((s) => s.table))) {
    const row = await db.selectFrom(table).select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
    rows.set(table, Number(row.n));
  }
  const total = steps.reduce((n, s) => n + rows.get(s.table)!, 0);
  const report = total > 0 ? progress : undefined;
  const started = Date.now();
  let done = 0;
  for (const step of steps) {
    const elapsed = (Date.now() - started) / 1000;
    const left = done > 0 ? ` (about ${Math.ceil((elapsed / done) * (total - done))} s left)` : '';
    report?.(`${step.doing} ${rows.get(step.table)!.toLocaleString('en-US')} rows of ${step.table}${left}`, done, total);
    await step.run(db, dialect);
    done += rows.get(step.table)!;
  }
  report?.(finished, total, total);
}
