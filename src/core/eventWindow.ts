import type { Ctx } from './context.js';
import { prepared } from './prepared.js';

/**
 * How far apart the log's order and its events' times can be. An event carries the time its call began, and the call
 * numbers it later, when it writes: after waiting for the write lock (SQLite's busy timeout is 30 s; PostgreSQL's
 * statement timeout defaults to 30 s too), and on PostgreSQL on replicas whose clocks may differ a little.
 */
export const LOG_CLOCK_SLACK_MS = 10 * 60_000;

const firstEventFrom = prepared((db, p: { seq: number }) => db.selectFrom('team_events').select(['seq', 'created_at']).where('seq', '>=', p.seq).orderBy('seq').limit(1));
const lastSeq = prepared((db) => db.selectFrom('team_events').select((eb) => eb.fn.max<number | null>('seq').as('seq')));

/**
 * A number of the log from which every event at or after `since` lies (later ones, and those of the slack before
 * it, may lie there too: callers still filter by time). Found by a binary search over the log's numbers, each step
 * one seek on its key — about as many seeks as the log has binary digits, whatever its length and however many
 * events the window holds — instead of an index on the time written by every event of every call.
 */
export async function firstSeqOfWindow(ctx: Ctx, since: string): Promise<number> {
  const bound = new Date(Date.parse(since) - LOG_CLOCK_SLACK_MS).toISOString();
  const last = Number((await lastSeq(ctx, {})).rows[0]?.seq ?? 0);
  // The smallest number from which the first event is at or after the bound (or there is none).
  let low = 0;
  let high = last + 1;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    const [first] = (await firstEventFrom(ctx, { seq: middle })).rows;
    if (!first || first.created_at >= bound) high = middle;
    else low = Number(first.seq) + 1;
  }
  return low;
}
