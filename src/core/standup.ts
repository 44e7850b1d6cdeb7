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
    const rows = await ctx.db
      .selectFrom('team_tasks')
      .selectAll()
      .where('team_id', '=', team.id)
      .where((eb) =>
        eb.or([
          eb('status', 'in', ['in_progress', 'blocked', 'review']),
          eb.and([eb('status', '=', 'done'), eb('completed_at', '>=', start), eb('completed_at', '<', end)]),
        ]),
      )
      .orderBy('priority')
      .orderBy('updated_at')
      .execute();
    const of = (status: string) => rows.filter((r) => r.status === status);
    const [done, inProgress, blocked, review] = [of('done'), of('in_progress'), of('blocked'), of('review')];
    const shown = await hydrate(ctx, [done, inProgress, blocked, review].flatMap((section) => section.slice(0, SECTION_ITEMS)));
    const pick = (status: string, withReason = false) => shown.filter((t) => t.status === status).map((t) => item(t, withReason));
    const sections: Sections = { completed_today: pick('done'), in_progress: pick('in_progress'), blocked: pick('blocked', true), needs_review: pick('review') };
    const more = {
      completed_today: done.length - sections.completed_today.length,
      in_progress: inProgress.length - sections.in_progress.length,
      blocked: blocked.length - sections.blocked.length,
      needs_review: review.length - sections.needs_review.length,
    };
    const truncated = Object.values(more).some((n) => n > 0);
    return { team_id: team.id, date: start.slice(0, 10), ...sections, text: renderStandup(day, sections, more), ...(truncated ? { truncated, more } : {}) };
  },
});

export const standupActions = [standup];
