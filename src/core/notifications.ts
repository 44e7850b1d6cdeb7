import type { NotificationRow } from '../store/schema.js';
import type { Ctx, EmittedEvent } from './context.js';
import { newRowId } from './ids.js';
import { LOG_EVENT_TYPES, settingsOf } from './notificationConfig.js';
import { rulesForTeam } from './notificationRules.js';
import { SEED_PRIORITY, routeNotification, teamOf } from './notificationRouting.js';
import { deliver } from './threads.js';

export interface NotificationInput {
  team_id: string;
  type: string;
  message: string;
  task_id?: string;
  priority?: number;
  to_agent?: string;
  /** Who sent or raised it; the acting identity by default. */
  agent_id?: string;
  /** `table` raised by the table itself, `event` an event a rule routes; by default a call's or a workflow rule's. */
  origin?: 'agent' | 'table' | 'rule' | 'event';
}

/**
 * Stores a notification; one meant for an agent also lands in its mailbox. Its rules route it in the same
 * transaction (notificationRouting.ts): the answer carries the deliveries they made.
 */
export async function createNotification(ctx: Ctx, input: NotificationInput) {
  ctx.requireExclusive();
  const row: NotificationRow = {
    id: newRowId(),
    team_id: input.team_id,
    type: input.type,
    message: input.message,
    task_id: input.task_id ?? '',
    priority: input.priority ?? 3,
    agent_id: input.agent_id ?? ctx.actorId,
    to_agent: input.to_agent ?? '',
    created_at: ctx.now,
    read_at: '',
    origin: input.origin ?? (ctx.actorId.startsWith('rule:') ? 'rule' : 'agent'),
  };
  await ctx.db.insertInto('team_notifications').values(row).execute();
  if (row.to_agent) {
    const fromAgent = ctx.actor.kind === 'agent' ? ctx.actorId : '';
    const source = { id: '', team_id: row.team_id, from_agent: fromAgent, from_user: fromAgent ? '' : ctx.actorId, content: `[${row.type}] ${row.message}`, thread_id: row.task_id, task_id: row.task_id };
    await deliver(ctx, source, [{ to_agent: row.to_agent, reason: 'notification' }]);
  }
  const { activity, deliveries } = await routeNotification(ctx, row);
  // The log records that it was sent, never what it says (a purge removes that). It is in the activity feed (team
  // summaries) when defaults.activity_feed or an `activity` destination says so; otherwise in the audit log only.
  ctx.emit({
    team_id: row.team_id,
    type: 'notification_sent',
    message: `${row.agent_id} sent a ${row.type} notification (priority ${row.priority})${row.to_agent ? ` to ${row.to_agent}` : ''}`,
    related_id: row.id,
    data: { type: row.type, priority: row.priority, task_id: row.task_id, to_agent: row.to_agent, origin: row.origin, activity, deliveries: deliveries.length },
  });
  return { ...row, deliveries };
}

/**
 * A notification the table raises itself — `agent_error` when an agent's run fails or it stops answering,
 * `task_completed`, `task_blocked` — with the seed's priority for its type unless one is given.
 *
 * @example await raiseNotification(ctx, { team_id, type: 'agent_error', message: 'run failed: exit 1', agent_id: 'loki' })
 */
export async function raiseNotification(ctx: Ctx, input: Omit<NotificationInput, 'origin'>) {
  return createNotification(ctx, { ...input, priority: input.priority ?? SEED_PRIORITY[input.type] ?? 3, origin: 'table' });
}

const ROUTABLE_EVENTS = new Set<string>(LOG_EVENT_TYPES);

/** The task an event is about. */
const taskOf = (event: EmittedEvent) => (event.type.startsWith('task_') ? (event.related_id ?? '') : String(event.data?.task_id ?? ''));

/**
 * The end of every change, after the workflow rules: the table raises `task_completed` for each task that reached
 * done and `task_blocked` for each that became blocked; and every event a rule lists among its `events` becomes a
 * notification (origin `event`) so that it is routed like one. Only the change's own events are visited, not those
 * this pass appends, so nothing here loops.
 */
export async function notifyOnChange(ctx: Ctx): Promise<void> {
  const events = ctx.emitted.slice();
  for (const event of events) {
    const to = event.data?.to;
    if (!event.type.startsWith('task_') || !event.related_id || (to !== 'done' && to !== 'blocked')) continue;
    const task = await ctx.db.selectFrom('team_tasks').select(['title', 'blocked_reason']).where('id', '=', event.related_id).executeTakeFirst();
    if (!task) continue;
    const type = to === 'done' ? 'task_completed' : 'task_blocked';
    const message = to === 'done' ? `'${task.title}' is done` : `'${task.title}' is blocked${task.blocked_reason ? `: ${task.blocked_reason}` : ''}`;
    await raiseNotification(ctx, { team_id: event.team_id, type, message, task_id: event.related_id, agent_id: event.actor });
  }
  if (!(await settingsOf(ctx)).enabled) return;
  for (const event of events) {
    if (!ROUTABLE_EVENTS.has(event.type) || !event.team_id) continue;
    const team = await teamOf(ctx, event.team_id).catch(() => undefined);
    if (!team || !(await rulesForTeam(ctx, team)).some((r) => r.enabled && r.events.includes(event.type))) continue;
    await createNotification(ctx, { team_id: event.team_id, type: event.type, message: event.message, task_id: taskOf(event), priority: 3, agent_id: event.actor, origin: 'event' });
  }
}
