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

const item = (task: Task, withReason = false): StandupItem => ({
  id: task.id,
  title: task.title,
  assignees: task.assignees,
  ...(withReason ? { reason: task.blocked_reason } : {}),
});

export function renderStandup(day: Date, sections: { completed_today: StandupItem[]; in_progress: StandupItem[]; blocked: StandupItem[]; needs_review: StandupItem[] }): string {
  const date = day.toLocaleDateString('en-US', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' });
  const who = (i: StandupItem) => i.assignees.join(', ');
  const block = (heading: string, items: StandupItem[], line: (i: StandupItem) => string) =>
    [heading, ...(items.length ? items.map((i) => `• ${line(i)}`) : ['• none'])].join('\n');
  return [
    `DAILY STANDUP — ${date}`,
    block('✅ COMPLETED TODAY', sections.completed_today, (i) => `${i.title}${who(i) ? ` (by ${who(i)})` : ''}`),
    block('IN PROGRESS', sections.in_progress, (i) => `${i.title}${who(i) ? ` (${who(i)})` : ''}`),
    block('BLOCKED', sections.blocked, (i) => `${i.title}${i.reason ? ` — ${i.reason}` : ''}`),
    block('NEEDS REVIEW', sections.needs_review, (i) => i.title),
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
    const tasks = await hydrate(ctx, rows);
    const sections = {
      completed_today: tasks.filter((t) => t.status === 'done').map((t) => item(t)),
      in_progress: tasks.filter((t) => t.status === 'in_progress').map((t) => item(t)),
      blocked: tasks.filter((t) => t.status === 'blocked').map((t) => item(t, true)),
      needs_review: tasks.filter((t) => t.status === 'review').map((t) => item(t)),
    };
    return { team_id: team.id, date: start.slice(0, 10), ...sections, text: renderStandup(day, sections) };
  },
});

export const standupActions = [standup];
