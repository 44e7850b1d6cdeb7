import type { DeliveryRow, NotificationRow, TeamRow } from '../store/schema.js';
import type { Ctx } from './context.js';
import { notFound } from './errors.js';
import { prepared } from './prepared.js';
import { ruleIdOf, settingsOf } from './notificationConfig.js';
import type { Conditions, NotificationSettings } from './notificationConfig.js';
import type { Destination, RoutedDestination } from './notificationDestinations.js';
import { routeChannel } from './notificationDestinations.js';
import type { NotificationRule } from './notificationRules.js';
import { rulesForTeam } from './notificationRules.js';
import { renderTemplate } from './notificationTemplates.js';
import type { TemplateFields } from './notificationTemplates.js';
import { isQuiet, quietUntil } from './quietHours.js';
import type { QuietHours } from './quietHours.js';
import { rateLimitReason } from './rateLimits.js';
import { leadsOf } from './roles.js';
import { deliver } from './threads.js';

/**
 * Routing: which rules a notification sets off, and the outbox rows that carry it to their destinations — written
 * in the notification's own transaction, so a notification committed is a delivery that will be sent, and one
 * rolled back was never announced. In the same pass the quiet hours hold a delivery (`held`, until they end) and
 * the rate limits drop one (`dropped`); priority 1 passes both. A delivery into a mailbox is done at once (it is
 * a row of this same database); everything else is sent after commit by the sender (src/outbox).
 */

/** What a webhook or channel receives besides the rendered text (docs/notifications.md). */
export interface DeliveryPayload {
  notification: Omit<TemplateFields, 'rule_name'>;
  text: string;
  rule: { id: string; name: string };
}

/**
 * What an outbox row keeps of its payload: what its notification's row does not — the text, and the names as they
 * were when it was routed. The sender puts the payload back together with the notification's row (`payloadOf`), so
 * a routed call stringifies and writes under a third of the bytes (95 against 335 for a short notification). Rows
 * written before keep the whole payload, and are read as they are.
 */
interface KeptPayload {
  text: string;
  rule_name: string;
  team_name: string;
  task_title: string;
}

/** A notification's fields as a template sees them. */
const templateFields = (n: NotificationRow, names: Omit<KeptPayload, 'text'>): TemplateFields => ({
  id: n.id,
  team_id: n.team_id,
  team_name: names.team_name,
  type: n.type,
  message: n.message,
  priority: n.priority,
  task_id: n.task_id,
  task_title: names.task_title,
  agent_id: n.agent_id,
  to_agent: n.to_agent,
  created_at: n.created_at,
  origin: n.origin || 'agent',
  rule_name: names.rule_name,
});

/** The payload of an outbox row (`payload` as stored), with its notification's row and its rule's id. */
export function payloadOf(stored: string, n: NotificationRow, ruleId: string): DeliveryPayload {
  const kept = JSON.parse(stored) as KeptPayload | DeliveryPayload;
  if ('notification' in kept) return kept;
  const { rule_name: _ruleName, ...notification } = templateFields(n, kept);
  return { notification, text: kept.text, rule: { id: ruleId, name: kept.rule_name } };
}

type Verdict = Pick<DeliveryRow, 'state' | 'next_attempt_at' | 'last_error'>;

export interface RoutedDelivery {
  id: string;
  rule_id: string;
  destination: Record<string, unknown>;
  state: string;
}

const anyOf = (wanted: string | string[] | undefined, value: string) => wanted === undefined || (Array.isArray(wanted) ? wanted : [wanted]).includes(value);

export async function teamOf(ctx: Ctx, teamId: string): Promise<TeamRow> {
  const team = await ctx.teamWithId(teamId);
  if (!team) throw notFound('team', teamId);
  return team;
}

const taskFacts = (ctx: Ctx, taskId: string) =>
  ctx.memo(`notification-task:${taskId}`, async () => {
    const task = await ctx.db.selectFrom('team_tasks').select(['title', 'status', 'task_type']).where('id', '=', taskId).executeTakeFirst();
    const labels = task ? (await ctx.db.selectFrom('team_task_labels').select('label').where('task_id', '=', taskId).execute()).map((l) => l.label) : [];
    return task ? { ...task, labels } : undefined;
  });

async function conditionsHold(ctx: Ctx, conditions: Conditions, n: NotificationRow): Promise<boolean> {
  if (!anyOf(conditions.agent_id, n.agent_id) || !anyOf(conditions.to_agent, n.to_agent) || !anyOf(conditions.task_id, n.task_id) || !anyOf(conditions.origin, n.origin || 'agent')) return false;
  if (conditions.message_contains && !n.message.toLowerCase().includes(conditions.message_contains.toLowerCase())) return false;
  if (conditions.status === undefined && conditions.labels === undefined && conditions.task_type === undefined) return true;
  const task = n.task_id ? await taskFacts(ctx, n.task_id) : undefined;
  if (!task) return false;
  const labels = conditions.labels === undefined ? undefined : Array.isArray(conditions.labels) ? conditions.labels : [conditions.labels];
  return anyOf(conditions.status, task.status) && anyOf(conditions.task_type, task.task_type) && (!labels || labels.some((l) => task.labels.includes(l)));
}

/**
 * Pending now; or dropped by a rate limit; or held until the quiet hours end. Priority 1 is always pending. Without
 * a limit or quiet hours to look at (most rules) the answer needs no read, and is given without a wait.
 */
function verdict(ctx: Ctx, n: NotificationRow, ruleId: string, ruleLimit: number, quiet: QuietHours | undefined, settings: NotificationSettings, routedHere: Iterable<string>): Verdict | Promise<Verdict> {
  const pending: Verdict = { state: 'pending', next_attempt_at: ctx.now, last_error: '' };
  if (n.priority === 1) return pending;
  const limited = ruleLimit > 0 || settings.rate_limit_per_hour > 0;
  if (!limited && !quiet?.enabled) return pending;
  return (async () => {
    if (limited) {
      const reason = await rateLimitReason(ctx, ruleId, ruleLimit, settings.rate_limit_per_hour, settings.rules.map(ruleIdOf), routedHere);
      if (reason) return { ...pending, state: 'dropped', last_error: reason };
    }
    const now = new Date(ctx.now);
    if (!quiet?.enabled || !isQuiet(quiet, now)) return pending;
    const until = quietUntil(quiet, now).toISOString();
    return { state: 'held', next_attempt_at: until, last_error: `held for quiet hours until ${until}` };
  })();
}

/** The agents an inbox destination reaches: the one it names; else the task's assignees; else the team's leads. */
async function inboxAgents(ctx: Ctx, destination: Extract<Destination, { type: 'inbox' }>, n: NotificationRow): Promise<string[]> {
  const members = (await ctx.db.selectFrom('persistent_agents').select('id').where('team_id', '=', n.team_id).execute()).map((a) => a.id);
  let agents: string[];
  if (destination.agent_id) agents = [destination.agent_id.toLowerCase()];
  else if (n.task_id) agents = (await ctx.db.selectFrom('team_task_assignees').select('agent_id').where('task_id', '=', n.task_id).orderBy('position').execute()).map((a) => a.agent_id);
  else agents = [];
  if (!destination.agent_id && agents.length === 0) agents = await leadsOf(ctx, n.team_id);
  // The addressee has it in its mailbox already; the author does not need its own news.
  return agents.filter((id) => members.includes(id) && id !== n.to_agent && id !== n.agent_id);
}

async function routeInbox(ctx: Ctx, destination: Extract<Destination, { type: 'inbox' }>, n: NotificationRow): Promise<RoutedDestination | undefined> {
  const agents = await inboxAgents(ctx, destination, n);
  return agents.length ? { type: 'inbox', agents } : undefined;
}

/** Where a destination outside the database leads, with the config's channels and owner line filled in. */
function routeOutward(destination: Destination, settings: NotificationSettings): RoutedDestination | undefined {
  switch (destination.type) {
    case 'webhook':
      return destination;
    case 'channel':
      return routeChannel(destination, settings.channels);
    case 'owner': {
      const line = settings.owner_destination;
      return { type: 'owner', via: line ? (line.type === 'channel' ? routeChannel(line, settings.channels) : line) : null };
    }
    case 'activity':
    case 'inbox':
      return undefined;
  }
}

/** Puts a copy in each agent's mailbox: an inbox delivery, done in the transaction that decides it. */
export async function deliverToInbox(ctx: Ctx, agents: string[], n: Pick<TemplateFields, 'team_id' | 'type' | 'task_id' | 'agent_id'>, text: string): Promise<void> {
  const byAgent = (await ctx.db.selectFrom('persistent_agents').select('id').where('id', '=', String(n.agent_id)).executeTakeFirst()) !== undefined;
  const taskId = String(n.task_id);
  const source = { id: '', team_id: String(n.team_id), from_agent: byAgent ? String(n.agent_id) : '', from_user: byAgent ? '' : String(n.agent_id), content: `[${n.type}] ${text}`, thread_id: taskId, task_id: taskId };
  await deliver(ctx, source, agents.map((to_agent) => ({ to_agent, reason: 'notification' })));
}

/** A destination as the notify answer names it: its kind and channel; notify_list shows the rest (redacted). */
const summary = (destination: RoutedDestination): Record<string, unknown> =>
  destination.type === 'channel' ? { type: 'channel', channel: destination.channel, service: destination.service } : destination.type === 'inbox' ? { type: 'inbox', agents: destination.agents } : { type: destination.type };

/**
 * One outbox row, compiled once: every column but the lease ones, whose default ('') says no sender holds it. A
 * pending row is `fresh`: the sender finds it through the notification's event, and it enters `deliveries_due` only
 * when the sender first takes it (migration 019), after this call's commit.
 */
const insertDelivery = prepared((db, row: Omit<DeliveryRow, 'lease_holder' | 'lease_expires_at'>) => db.insertInto('notification_deliveries').values(row));

/** A destination as its outbox row keeps it (JSON); a rule's own destinations, which are shared and never change, once. */
const destinationTexts = new WeakMap<RoutedDestination, string>();
function destinationText(destination: RoutedDestination): string {
  let text = destinationTexts.get(destination);
  if (text === undefined) {
    text = JSON.stringify(destination);
    destinationTexts.set(destination, text);
  }
  return text;
}

/**
 * A delivery's id: its notification's, then its number among the notification's deliveries. The outbox is keyed by
 * notification then delivery (migration 017), so an id alone finds its row (notify_retry); ids made before have no
 * dot, and say nothing of their notification.
 */
const deliveryId = (notificationId: string, number: number) => `${notificationId}.${number}`;

/** The notification a delivery id names, or undefined for an id made before migration 017. */
export function notificationOfDelivery(id: string): string | undefined {
  const dot = id.lastIndexOf('.');
  return dot > 0 ? id.slice(0, dot) : undefined;
}

/** Writes the outbox rows of one rule's destinations, numbered from `first` among the notification's deliveries. */
async function enqueue(ctx: Ctx, n: NotificationRow, first: number, ruleId: string, destinations: RoutedDestination[], kept: KeptPayload, decided: Verdict): Promise<RoutedDelivery[]> {
  const payload = JSON.stringify(kept);
  const routed: RoutedDelivery[] = [];
  for (const destination of destinations) {
    let outcome: Pick<DeliveryRow, 'state' | 'last_error' | 'attempts' | 'sent_at'> = { state: decided.state, last_error: decided.last_error, attempts: 0, sent_at: '' };
    if (decided.state === 'pending' && destination.type === 'inbox') {
      await deliverToInbox(ctx, destination.agents, n, kept.text);
      outcome = { ...outcome, state: 'sent', attempts: 1, sent_at: ctx.now };
    } else if (decided.state !== 'dropped' && destination.type === 'owner' && !destination.via) {
      outcome = { ...outcome, state: 'failed', last_error: 'no owner line: set notifications.owner_destination in the config file' };
    }
    const id = deliveryId(n.id, first + routed.length);
    await insertDelivery(ctx, {
      id,
      notification_id: n.id,
      team_id: n.team_id,
      rule_id: ruleId,
      destination: destinationText(destination),
      payload,
      state: outcome.state,
      attempts: outcome.attempts,
      last_error: outcome.last_error,
      next_attempt_at: decided.next_attempt_at,
      counted: routed.length === 0 && decided.state !== 'dropped' ? 1 : 0,
      fresh: outcome.state === 'pending' ? 1 : 0,
      created_at: ctx.now,
      updated_at: ctx.now,
      sent_at: outcome.sent_at,
    });
    routed.push({ id, rule_id: ruleId, destination: summary(destination), state: outcome.state });
  }
  return routed;
}

/**
 * Routes a notification just stored: every enabled rule of its team (and the global ones) whose events include its
 * type, whose priority it meets and whose conditions hold, plus `defaults.owner`. Within one change a rule carries
 * one notification per type and task: blocking a task raises `task_blocked` for the team and for each agent the
 * blocked-notify rule tells, and a channel hears of it once. Answers whether it belongs in the activity feed.
 */
export async function routeNotification(ctx: Ctx, n: NotificationRow): Promise<{ activity: boolean; deliveries: RoutedDelivery[] }> {
  const settings = await settingsOf(ctx);
  if (!settings.enabled) return { activity: true, deliveries: [] };
  let activity = settings.defaults.activity_feed;
  const team = await teamOf(ctx, n.team_id);
  const rules = (await rulesForTeam(ctx, team)).filter((r) => r.enabled && r.events.includes(n.type) && n.priority <= r.priority);
  if (rules.length === 0 && !settings.defaults.owner) return { activity, deliveries: [] };
  // What this change has routed: the rules that carried a notification of a type and task, and the notifications.
  const routing = await ctx.memo('notification-routing', async () => ({ carried: new Set<string>(), notifications: new Set<string>() }));
  routing.notifications.add(n.id);
  const taskTitle = n.task_id ? ((await taskFacts(ctx, n.task_id))?.title ?? '') : '';
  const deliveries: RoutedDelivery[] = [];
  const route = async (rule: Pick<NotificationRule, 'id' | 'name' | 'template' | 'rate_limit'>, destinations: Destination[], quiet: QuietHours | undefined) => {
    if (destinations.some((d) => d.type === 'activity')) activity = true;
    const targets: RoutedDestination[] = [];
    for (const destination of destinations) {
      const target = destination.type === 'inbox' ? await routeInbox(ctx, destination, n) : routeOutward(destination, settings);
      if (target) targets.push(target);
    }
    if (targets.length === 0) return;
    const names = { rule_name: rule.name, team_name: team.name, task_title: taskTitle };
    const kept: KeptPayload = { text: renderTemplate(rule.template, templateFields(n, names)), ...names };
    deliveries.push(...(await enqueue(ctx, n, deliveries.length, rule.id, targets, kept, await verdict(ctx, n, rule.id, rule.rate_limit, quiet, settings, routing.notifications))));
  };
  for (const rule of rules) {
    const key = `${rule.id}|${n.type}|${n.task_id || n.id}`;
    if (routing.carried.has(key) || !(await conditionsHold(ctx, rule.conditions, n))) continue;
    routing.carried.add(key);
    await route(rule, rule.destinations, (rule.quiet_hours ?? settings.quiet_hours) || undefined);
  }
  if (settings.defaults.owner) await route({ id: '', name: 'defaults.owner', template: '', rate_limit: 0 }, [{ type: 'owner' }], settings.quiet_hours);
  return { activity, deliveries };
}

/** The seed's priorities for the types the table raises: failures and blocks 2, completions 3, progress 4. */
export const SEED_PRIORITY: Record<string, number> = { task_failed: 2, task_blocked: 2, agent_error: 2, task_completed: 3, task_progress: 4 };
