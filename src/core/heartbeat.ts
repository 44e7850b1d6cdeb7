import { z } from 'zod';
import type { AgentRow, EventRow, TeamRow } from '../store/schema.js';
import { defineAction } from './action.js';
import { mayView } from './audience.js';
import type { Ctx } from './context.js';
import { readyInbox } from './claims.js';
import { firstSeqOfWindow } from './eventWindow.js';
import { agentTarget, isoDate } from './fields.js';
import { markResponsive } from './liveness.js';
import type { WakeReason } from './wakeReasons.js';
import { describeReasons } from './wakeReasons.js';
import { renderWorkingState } from './working.js';
import { unacknowledged } from './delivery.js';

/**
 * The heartbeat prompt (the seed's "Heartbeat Checklist"): who the agent is, its WORKING.md, its pending mail, its
 * tasks and the claimable ones, the team's activity since its last heartbeat, and how to answer. It must stay short
 * on a busy team — every run pays for it — so each list shows its newest few entries and counts the rest
 * (BENCHMARKS.md measures it with 50 pending items). Reading it previews the mail: nothing is handed out or
 * acknowledged; the agent takes its mail with mention_check.
 */

const SHOWN = { mail: 6, tasks: 6, claimable: 4, activity: 6 } as const;
const CLIP = { mail: 160, line: 120, instructions: 1_200, personality: 200 } as const;
/** How far back the activity section reads the log at most. */
const ACTIVITY_SCAN = 300;
/** Events the mail section already shows, or that say nothing to a teammate. */
const QUIET_EVENTS = ['subscribed', 'mention', 'message_sent', 'notification_sent', 'working_updated', 'working_cleared', 'task_lease_renewed', 'messages_archived', 'agent_wake', 'agent_wake_requested'];
const OPEN_TASKS = ['assigned', 'in_progress', 'review', 'blocked'];

const clip = (text: string, max: number) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};
const hhmm = (iso: string) => `${iso.slice(11, 16)}`;
const counted = (counts: Map<string, number>) => [...counts].map(([k, n]) => (n > 1 ? `${k} ×${n}` : k)).join(', ');
const tally = (values: string[]) => {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
};

export interface Heartbeat {
  agent_id: string;
  prompt: string;
  /** ≈ characters / 4, the estimator of the benchmarks. */
  tokens_estimate: number;
  since: string;
  pending_mail: number;
  open_tasks: number;
  claimable: number;
  activity: number;
}

async function mailSection(ctx: Ctx, agent: AgentRow) {
  const pending = unacknowledged(ctx, agent.id);
  const [newest, all] = await Promise.all([
    pending.select(['p.reason', 'p.from_agent', 'p.from_user', 'p.content', 'p.thread_id', 'p.created_at']).orderBy('p.created_at', 'desc').orderBy('p.id', 'desc').limit(SHOWN.mail).execute(),
    pending.select(['p.reason', 'p.from_agent', 'p.from_user']).orderBy('p.created_at', 'desc').limit(1_000).execute(),
  ]);
  const lines = newest.reverse().map((m) => `- [${m.reason}] ${m.from_agent || m.from_user}${m.thread_id ? ` in ${m.thread_id}` : ''}, ${hhmm(m.created_at)}: "${clip(m.content, CLIP.mail)}"`);
  const older = all.slice(SHOWN.mail);
  if (older.length) {
    lines.unshift(`- … ${older.length} older: ${counted(tally(older.map((m) => m.reason)))} (from ${counted(tally(older.map((m) => m.from_agent || m.from_user)))})`);
  }
  return { count: all.length, text: all.length ? [`## Pending mail (${all.length}${all.length === 1_000 ? '+' : ''} unread; mention_check takes it)`, ...lines].join('\n') : '## Pending mail\nNone.' };
}

async function taskSections(ctx: Ctx, agent: AgentRow) {
  const mine = await ctx.db
    .selectFrom('team_tasks as t')
    .selectAll('t')
    .where('t.team_id', '=', agent.team_id)
    .where('t.status', 'in', OPEN_TASKS)
    .where((eb) =>
      eb.or([
        eb('t.reviewer', '=', agent.id),
        eb.exists(eb.selectFrom('team_task_assignees as a').select('a.task_id').whereRef('a.task_id', '=', 't.id').where('a.agent_id', '=', agent.id)),
      ]),
    )
    .orderBy('t.priority')
    .orderBy('t.updated_at', 'desc')
    .limit(200)
    .execute();
  const relevant = mine.filter((t) => t.status !== 'review' || t.reviewer === agent.id || t.claimed_by === agent.id || !t.reviewer);
  const taskLine = (t: (typeof mine)[number]) => {
    const note = t.claimed_by === agent.id ? ` — yours until ${hhmm(t.lease_expires_at)}` : t.status === 'review' && t.reviewer === agent.id ? ' — you review it' : t.status === 'blocked' && t.blocked_reason ? ` — ${clip(t.blocked_reason, 60)}` : '';
    return `- ${t.id} ${t.status} p${t.priority} "${clip(t.title, 80)}"${t.task_type ? ` [${t.task_type}]` : ''}${note}`;
  };
  const tasksText = relevant.length
    ? [`## Your tasks (${relevant.length})`, ...relevant.slice(0, SHOWN.tasks).map(taskLine), ...(relevant.length > SHOWN.tasks ? [`- … ${relevant.length - SHOWN.tasks} more: team_task(action='list', assignee_filter='${agent.id}')`] : [])].join('\n')
    : '## Your tasks\nNone assigned.';

  // The first ready ones, however many wait on dependencies before them.
  const ready = await readyInbox(ctx, agent.team_id, {}, true).limit(SHOWN.claimable).execute();
  const total = Number(
    (await ctx.db.selectFrom('team_tasks').select((eb) => eb.fn.countAll<number>().as('n')).where('team_id', '=', agent.team_id).where('status', '=', 'inbox').executeTakeFirstOrThrow()).n,
  );
  const claimableText = ready.length
    ? [`## Claimable (${total} in the inbox; team_task(action='claim_next') takes the best for you)`, ...ready.map((t) => `- ${t.id} p${t.priority} "${clip(t.title, 80)}"${t.task_type ? ` [${t.task_type}]` : ''}`)].join('\n')
    : '## Claimable\nNothing ready in the inbox.';
  return { open: relevant.length, claimable: total, tasksText, claimableText };
}

async function activitySection(ctx: Ctx, agent: AgentRow, since: string) {
  const events = await ctx.db
    .selectFrom('team_events')
    .selectAll()
    .where('team_id', '=', agent.team_id)
    .where('seq', '>=', await firstSeqOfWindow(ctx, agent.team_id, since))
    .where('created_at', '>', since)
    .where('agent_id', '!=', agent.id)
    .where('type', 'not in', QUIET_EVENTS)
    .orderBy('seq', 'desc')
    .limit(ACTIVITY_SCAN)
    .execute();
  const viewer = { kind: 'agent' as const, id: agent.id, agent };
  const visible = events.filter((e: EventRow) => mayView(e, viewer)).reverse();
  if (visible.length === 0) return { count: 0, text: `## Activity since ${since.replace('T', ' ').slice(0, 16)} UTC\nNothing new from the team.` };
  const shown = visible.slice(-SHOWN.activity);
  const older = visible.slice(0, -SHOWN.activity);
  const group = (type: string) => type.split('_')[0]!;
  return {
    count: visible.length,
    text: [
      `## Activity since ${since.replace('T', ' ').slice(0, 16)} UTC (${visible.length}${events.length === ACTIVITY_SCAN ? '+' : ''} by others)`,
      ...(older.length ? [`- … ${older.length} earlier: ${counted(tally(older.map((e) => group(e.type))))}`] : []),
      ...shown.map((e) => `- ${hhmm(e.created_at)} ${clip(e.message, CLIP.line)}`),
    ].join('\n'),
  };
}

function reasonsLine(reasons: readonly WakeReason[]): string {
  if (reasons.length === 0) return '';
  const detail = reasons
    .slice(-4)
    .map((r) => (r.kind === 'cron' ? `heartbeat ${hhmm(r.key.slice('cron:'.length))} UTC` : `${r.kind}${r.by ? ` by ${r.by}` : ''}${r.ref ? ` (${r.ref})` : ''}`));
  return `Woken by ${describeReasons(reasons)}: ${detail.join('; ')}${reasons.length > 4 ? '; …' : ''}.`;
}

/**
 * Builds `agent`'s heartbeat prompt as of `ctx.now`; `since` bounds the activity section (default: its last
 * heartbeat, else a day ago).
 */
export async function buildHeartbeat(ctx: Ctx, agent: AgentRow, team: TeamRow, options: { reasons?: readonly WakeReason[]; since?: string } = {}): Promise<Heartbeat> {
  const since = options.since || agent.last_heartbeat_at || new Date(Date.parse(ctx.now) - 86_400_000).toISOString();
  const state = await ctx.db.selectFrom('agent_working_state').selectAll().where('agent_id', '=', agent.id).executeTakeFirst();
  const [mail, tasks, activity] = await Promise.all([mailSection(ctx, agent), taskSections(ctx, agent), activitySection(ctx, agent, since)]);
  const skills = JSON.parse(agent.skills) as string[];
  const identity = [
    `# Heartbeat — ${agent.name} (${agent.id})${agent.role ? `, ${agent.role}` : ''}, team ${team.name}, ${ctx.now.replace('T', ' ').slice(0, 16)} UTC`,
    reasonsLine(options.reasons ?? []),
    `You are ${agent.name}, level ${agent.level}.${agent.personality ? ` Personality: ${clip(agent.personality, CLIP.personality)}.` : ''}${skills.length ? ` Skills: ${skills.join(', ')}.` : ''}`,
    agent.instructions ? `Instructions: ${clip(agent.instructions, CLIP.instructions)}${agent.instructions.length > CLIP.instructions ? ' (in full: team_agent get)' : ''}` : '',
  ].filter(Boolean);
  const working = renderWorkingState(state ?? { status: 'idle', current_task_id: '', next_steps: '', context: '' });
  const howTo = [
    '## How to answer',
    `Act through the team tools as ${agent.id} (your own identity; agent_id defaults to you):`,
    "1. Resume WORKING.md's next steps, if any. 2. team_comm(action='mention_check') takes your mail (above is a preview); once you have it, acknowledge it with team_comm(action='mention_check', ack=<its ack_cursor>), or it comes back.",
    "3. Work your tasks, or team_task(action='claim_next'); keep team_agent(action='working_update', status, current_task_id, next_steps, context) current.",
    "4. Report with team_comm(action='notify', type='task_completed'|'task_failed'|'task_blocked'|'task_progress', message, task_id).",
    'If there is nothing to do, answer exactly HEARTBEAT_OK and nothing else.',
  ].join('\n');
  const prompt = [identity.join('\n'), working, mail.text, tasks.tasksText, tasks.claimableText, activity.text, howTo].join('\n\n');
  return {
    agent_id: agent.id,
    prompt,
    tokens_estimate: Math.ceil(Buffer.byteLength(prompt) / 4),
    since,
    pending_mail: mail.count,
    open_tasks: tasks.open,
    claimable: tasks.claimable,
    activity: activity.count,
  };
}

/** An agent took its heartbeat: it answers, so the count of missed ones starts again. */
export async function recordHeartbeat(ctx: Ctx, agent: AgentRow): Promise<void> {
  await ctx.db.updateTable('persistent_agents').set({ last_heartbeat_at: ctx.now, missed_heartbeats: 0 }).where('id', '=', agent.id).execute();
  if (agent.unresponsive_since) await markResponsive(ctx, agent, 'it took its heartbeat');
}

const heartbeat = defineAction({
  tool: 'team_agent',
  action: 'heartbeat',
  summary: 'your heartbeat prompt (working state, mail, tasks, activity); counts as your heartbeat',
  input: z.strictObject({ ...agentTarget, since: isoDate.optional() }),
  write: true,
  activity: false,
  async run(ctx, input) {
    const agent = await ctx.agent(input.agent_id, input.team_id);
    ctx.assertActsFor(agent, 'read the heartbeat');
    const team = await ctx.db.selectFrom('teams').selectAll().where('id', '=', agent.team_id).executeTakeFirstOrThrow();
    const built = await buildHeartbeat(ctx, agent, team, { since: input.since });
    // A lead or the owner looking at another agent's heartbeat is not that agent answering it.
    if (ctx.actorId === agent.id) await recordHeartbeat(ctx, agent);
    return { ...built };
  },
});

export const heartbeatActions = [heartbeat];
