import type { Ctx } from './context.js';
import { prepared } from './prepared.js';

/**
 * How far apart the log's order and its events' times can be. An event carries the time its call began, and the call
 * numbers it later, when it writes: after waiting for the write lock (SQLite's busy timeout is 30 s; PostgreSQL's
 * statement timeout defaults to 30 s too), and on PostgreSQL on replicas whose clocks may differ a little.
 */
export const LOG_CLOCK_SLACK_MS = 10 * 60_000;

const firstEventFrom = prepared((db, p: { team: string; seq: number }) =>
  db.selectFrom('team_events').select(['seq', 'created_at']).where('team_id', '=', p.team).where('seq', '>=', p.seq).orderBy('seq').limit(1),
);
const lastSeq = prepared((db, p: { team: string }) => db.selectFrom('team_events').select((eb) => eb.fn.max<number | null>('seq').as('seq')).where('team_id', '=', p.team));

/**
 * A number of the team's log from which every one of its events at or after `since` lies (later ones, and those of
 * the slack before it, may lie there too: callers still filter by time). Found by a binary search over the team's
 * events by number (`events_by_team`), each step one seek — about as many seeks as the numbers have binary digits,
 * whatever the history and however many events the window holds — instead of an index on the time written by every
 * event of every call. By team, not over the whole log: a team imported into a database that already has others
 * takes numbers after theirs with its own, older times (`import`), while one team's events stay in order.
 */
export async function firstSeqOfWindow(ctx: Ctx, teamId: string, since: string): Promise<number> {
  const bound = new Date(Date.parse(since) - LOG_CLOCK_SLACK_MS).toISOString();
  const last = Number((await lastSeq(ctx, { team: teamId })).rows[0]?.seq ?? 0);
  // The smallest number from which the team's first event is at or after the bound (or there is none).
  let low = 0;
  let high = last + 1;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    const [first] = (await firstEventFrom(ctx, { team: teamId, seq: middle })).rows;
    if (!first || first.created_at >= bound) high = middle;
    else low = Number(first.seq) + 1;
  }
  return low;
}
