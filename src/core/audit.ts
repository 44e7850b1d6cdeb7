import { z } from 'zod';
import type { EventRow } from '../store/schema.js';
import { defineAction } from './action.js';
import type { Ctx } from './context.js';
import { firstSeqOfWindow } from './eventWindow.js';
import { agentRef, cursor, isoDate, teamRef } from './fields.js';
import { LIMITS } from './limits.js';
import { decodeCursor, pageFields, takePage } from './paging.js';

/**
 * The audit log and "what happened while I was away", both read off the event log, which nobody can alter
 * (the database refuses UPDATE and DELETE on it).
 */

const toEntry = ({ data, ...event }: EventRow) => ({ ...event, data: JSON.parse(data) as Record<string, unknown> });

/**
 * Every event that changed a task's status, whatever caused it — update, claim, approve, request_changes, release,
 * lease expiry, a rule — carries `from` and `to` in its data; `type: 'task_status_changed'` in the audit finds
 * them all in one filter, beside each one's own type.
 */
export const STATUS_CHANGED = 'task_status_changed';
const STATUS_EVENT_TYPES = ['task_updated', 'task_claimed', 'task_approved', 'task_changes_requested', 'task_released', 'task_lease_expired'];

const audit = defineAction({
  tool: 'team_memory',
  action: 'audit',
  summary: `the audit log in order (type ${STATUS_CHANGED}: every status change)`,
  input: z.strictObject({
    team_id: teamRef,
    agent_id: agentRef.optional(),
    type: z.string().max(LIMITS.label).optional(),
    since: isoDate.optional(),
    after_seq: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(LIMITS.pageSize).default(50),
    cursor,
  }),
  write: false,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const [afterSeq] = decodeCursor('audit', input.cursor, 1) ?? [input.after_seq];
    // One lower bound on seq, so that the index is read from there (SQLite seeks by one of two).
    const from = input.since ? Math.max(Number(afterSeq), (await firstSeqOfWindow(ctx, team.id, input.since)) - 1) : Number(afterSeq);
    let query = ctx.db.selectFrom('team_events').selectAll().where('team_id', '=', team.id).where('seq', '>', from);
    if (input.agent_id) query = query.where('agent_id', '=', input.agent_id);
    if (input.type === STATUS_CHANGED) query = query.where('type', 'in', STATUS_EVENT_TYPES).where('data', 'like', '%"to":"%');
    else if (input.type) query = query.where('type', '=', input.type);
    if (input.since) query = query.where('created_at', '>=', input.since);
    const rows = await query.orderBy('seq').limit(input.limit + 1).execute();
    const page = takePage(rows, { limit: input.limit, list: 'audit', position: (e) => [e.seq], render: toEntry });
    return { team_id: team.id, events: page.items, count: page.items.length, next_after_seq: page.truncated ? page.items.at(-1)!.seq : null, ...pageFields(page) };
  },
});

const GROUPS: [string, (type: string) => boolean][] = [
  ['Tasks', (t) => t.startsWith('task_')],
  ['Messages', (t) => t.startsWith('message') || t === 'mention' || t === 'notification_sent'],
  ['Knowledge', (t) => t.startsWith('fact_') || t.startsWith('document_')],
  ['Team', (t) => /^(team|agent|rule|role)_/.test(t)],
];
const QUIET = new Set(['subscribed', 'working_updated', 'task_lease_renewed', 'messages_archived']);
const LINES_PER_GROUP = 8;
const SCAN_LIMIT = 2_000;

/** When the caller was last active: an agent's last write, the owner's last event; a day ago otherwise. */
async function lastSeen(ctx: Ctx): Promise<string> {
  if (ctx.actor.kind === 'agent' && ctx.actor.agent.last_active_at) return ctx.actor.agent.last_active_at;
  const last = await ctx.db.selectFrom('team_events').select('created_at').where('agent_id', '=', ctx.actorId).where('created_at', '<', ctx.now).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return last?.created_at ?? new Date(Date.parse(ctx.now) - 86_400_000).toISOString();
}

const summary = defineAction({
  tool: 'team_memory',
  action: 'summary',
  summary: 'what happened while you were away: others\' activity since your last (or since), grouped',
  input: z.strictObject({ team_id: teamRef, since: isoDate.optional() }),
  write: false,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const since = input.since ?? (await lastSeen(ctx));
    const events = await ctx.db
      .selectFrom('team_events')
      .selectAll()
      .where('team_id', '=', team.id)
      .where('created_at', '>', since)
      .where('seq', '>=', await firstSeqOfWindow(ctx, team.id, since))
      .where('agent_id', '!=', ctx.actorId)
      .orderBy('seq')
      .limit(SCAN_LIMIT)
      .execute();
    // A notification kept out of the activity feed (defaults.activity_feed: false, no activity destination) stays in the audit log only.
    const shown = events.filter((e) => !QUIET.has(e.type) && !(e.type === 'notification_sent' && e.data.includes('"activity":false')));
    const about = ctx.actor.kind === 'agent' ? ctx.actorId : '';
    const forYou = about ? shown.filter((e) => e.data.includes(`"${about}"`) || e.related_id === about) : [];
    const sections = GROUPS.map(([title, test]) => ({ title, events: shown.filter((e) => test(e.type)) }))
      .concat([{ title: 'Other', events: shown.filter((e) => !GROUPS.some(([, test]) => test(e.type))) }])
      .filter((s) => s.events.length)
      .map((s) => ({
        title: s.title,
        count: s.events.length,
        lines: s.events.slice(-LINES_PER_GROUP).map((e) => `${e.created_at.slice(11, 16)} ${e.message}`),
      }));
    const by_type: Record<string, number> = {};
    for (const e of shown) by_type[e.type] = (by_type[e.type] ?? 0) + 1;
    const text = [
      `Since ${since.replace('T', ' ').slice(0, 16)} UTC: ${shown.length ? `${shown.length} events by others${forYou.length ? `, ${forYou.length} concerning you` : ''}` : 'nothing happened'}.`,
      ...sections.map((s) => [`${s.title} (${s.count})`, ...(s.count > s.lines.length ? [`  … ${s.count - s.lines.length} earlier`] : []), ...s.lines.map((l) => `  ${l}`)].join('\n')),
    ].join('\n');
    return { team_id: team.id, since, until: ctx.now, total: shown.length, concerning_you: forYou.length, by_type, sections, text, truncated: events.length === SCAN_LIMIT };
  },
});

export const auditActions = [audit, summary];
