import { z } from 'zod';
import { defineAction } from './action.js';
import { isoDay, teamRef } from './fields.js';
import { hydrate } from './tasks.js';
import type { Task } from './tasks.js';

interface StandupItem {
  id: string;
  title: string;
  assignees: string[];
  reason?: string;
}

/** Items of one section, at most: a standup is read at a glance (all of them: team_task(action='list', status=…)). */
const SECTION_ITEMS = 50;
/** A blocked reason in a standup, at most (the whole: team_task(action='get')). */
const REASON_CHARS = 200;

const item = (task: Task, withReason = false): StandupItem => ({
  id: task.id,
  title: task.title,
  assignees: task.assignees,
  ...(withReason ? { reason: task.blocked_reason.length > REASON_CHARS ? `${task.blocked_reason.slice(0, REASON_CHARS)}…` : task.blocked_reason } : {}),
});

type Sections = { completed_today: StandupItem[]; in_progress: StandupItem[]; blocked: StandupItem[]; needs_review: StandupItem[] };

export function renderStandup(day: Date, sections: Sections, more: Partial<Record<keyof Sections, number>> = {}): string {
  const date = day.toLocaleDateString('en-US', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' });
  const who = (i: StandupItem) => i.assignees.join(', ');
  const block = (heading: string, key: keyof Sections, line: (i: StandupItem) => string) =>
    [heading, ...(sections[key].length ? sections[key].map((i) => `• ${line(i)}`) : ['• none']), ...(more[key] ? [`• … and ${more[key]} more`] : [])].join('\n');
  return [
    `DAILY STANDUP — ${date}`,
    block('✅ COMPLETED TODAY', 'completed_today', (i) => `${i.title}${who(i) ? ` (by ${who(i)})` : ''}`),
    block('IN PROGRESS', 'in_progress', (i) => `${i.title}${who(i) ? ` (${who(i)})` : ''}`),
    block('BLOCKED', 'blocked', (i) => `${i.title}${i.reason ? ` — ${i.reason}` : ''}`),
    block('NEEDS REVIEW', 'needs_review', (i) => i.title),
  ].join('\n\n');
}

const standup = defineAction({
  tool: 'team_memory',
  action: 'standup',
  summary: 'daily standup: completed today, in progress, blocked (with reasons), needs review',
  input: z.strictObject({ team_id: teamRef, date: isoDay.optional() }),
  write: false,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const day = new Date(`${input.date ?? ctx.now.slice(0, 10)}T00:00:00.000Z`);
    const start = day.toISOString();
    const end = new Date(day.getTime() + 86_400_000).toISOString();
    // Each section on its own, so that each reads its status off an index (done: that day's only) and only its
    // first SECTION_ITEMS rows come back whole; the rest are counted.
    const section = (status: string) => {
      const rows = ctx.db
        .selectFrom('team_tasks')
        .where('team_id', '=', team.id)
        .where('status', '=', status)
        .$if(status === 'done', (q) => q.where('completed_at', '>=', start).where('completed_at', '<', end));
      return Promise.all([
        rows.selectAll().orderBy('priority').orderBy('updated_at').orderBy('id').limit(SECTION_ITEMS).execute(),
        rows.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      ]);
    };
    const [done, inProgress, blocked, review] = await Promise.all([section('done'), section('in_progress'), section('blocked'), section('review')]);
    const shown = await hydrate(ctx, [done, inProgress, blocked, review].flatMap(([rows]) => rows));
    const pick = (status: string, withReason = false) => shown.filter((t) => t.status === status).map((t) => item(t, withReason));
    const sections: Sections = { completed_today: pick('done'), in_progress: pick('in_progress'), blocked: pick('blocked', true), needs_review: pick('review') };
    const left = ([, count]: typeof done, shownItems: StandupItem[]) => Number(count.n) - shownItems.length;
    const more = {
      completed_today: left(done, sections.completed_today),
      in_progress: left(inProgress, sections.in_progress),
      blocked: left(blocked, sections.blocked),
      needs_review: left(review, sections.needs_review),
    };
    const truncated = Object.values(more).some((n) => n > 0);
    return { team_id: team.id, date: start.slice(0, 10), ...sections, text: renderStandup(day, sections, more), ...(truncated ? { truncated, more } : {}) };
  },
});

export const standupActions = [standup];
