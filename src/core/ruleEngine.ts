import type { TaskRow } from '../store/schema.js';
import type { Ctx, EmittedEvent } from './context.js';
import { TeamTableError } from './errors.js';
import type { TaskStatus } from './fields.js';
import { assertReady } from './dependencies.js';
import { createNotification } from './notifications.js';
import { escalationTargets, leadsOf } from './roles.js';
import { rulesOf } from './rules.js';
import type { Condition, Rule, Trigger } from './rules.js';
import { addLabel, changeStatus, setAssignees, saveTask } from './tasks.js';
import { post } from './threads.js';

/**
 * Evaluates the team's rules on every event a use case appended, in order, inside its transaction: whatever
 * adapter or process made the change, its rules fire once, and their effects commit or roll back with it.
 * Events the rules append are evaluated too. A rule firing twice on the same task within one change would loop:
 * it is stopped there and reported (event `rule_loop_stopped` and a notification), and the change goes through.
 */

/** More rule-caused events than this in one change means a loop across several rules. */
const MAX_EVENTS = 500;

function triggersOf(event: EmittedEvent): { triggers: Trigger[]; taskId: string } {
  const data = event.data ?? {};
  const taskId = event.type === 'message_sent' ? String(data.task_id ?? '') : (event.related_id ?? '');
  const triggers: Trigger[] = [];
  if (event.type.startsWith('task_') && typeof data.to === 'string') triggers.push('task.status_changed');
  const byType: Record<string, Trigger> = {
    task_created: 'task.created',
    task_assigned: 'task.assigned',
    task_reassigned: 'task.assigned',
    task_subtasks_done: 'task.all_subtasks_done',
    task_unblocked: 'task.unblocked',
    task_lease_expired: 'task.lease_expired',
  };
  if (byType[event.type]) triggers.push(byType[event.type]!);
  if (event.type === 'message_sent' && taskId) triggers.push('task.comment');
  return { triggers, taskId };
}

/** The conditions the event alone decides: checked before the task is read, so most events cost no read. */
function matchesEvent(condition: Condition, trigger: Trigger, event: EmittedEvent): boolean {
  const data = event.data ?? {};
  return (
    (trigger !== 'task.status_changed' || condition.status === undefined || condition.status === data.to) &&
    (condition.from_status === undefined || condition.from_status === data.from) &&
    (condition.comment_type === undefined || condition.comment_type === (data.comment_type || 'comment'))
  );
}

function matches(condition: Condition, trigger: Trigger, event: EmittedEvent, task: TaskRow, labels: string[]): boolean {
  const data = event.data ?? {};
  const status = trigger === 'task.status_changed' ? data.to : task.status;
  return (
    (condition.status === undefined || condition.status === status) &&
    (condition.from_status === undefined || condition.from_status === data.from) &&
    (condition.priority_at_most === undefined || task.priority <= condition.priority_at_most) &&
    (condition.label === undefined || labels.includes(condition.label)) &&
    (condition.task_type === undefined || condition.task_type === task.task_type) &&
    (condition.comment_type === undefined || condition.comment_type === (data.comment_type || 'comment'))
  );
}

export async function runRules(ctx: Ctx): Promise<void> {
  const rulesByTeam = new Map<string, Rule[]>();
  const fired = new Set<string>();
  const reported = new Set<string>();
  for (let i = 0; i < ctx.emitted.length; i++) {
    const event = ctx.emitted[i]!;
    const { triggers, taskId } = triggersOf(event);
    if (!triggers.length || !taskId) continue;
    if (!rulesByTeam.has(event.team_id)) rulesByTeam.set(event.team_id, await rulesOf(ctx, event.team_id));
    const rules = rulesByTeam.get(event.team_id)!.filter((r) => r.enabled && triggers.includes(r.trigger) && matchesEvent(r.condition, r.trigger, event));
    if (!rules.length) continue;
    const task = await ctx.db.selectFrom('team_tasks').selectAll().where('id', '=', taskId).executeTakeFirst();
    if (!task) continue;
    const labels = (await ctx.db.selectFrom('team_task_labels').select('label').where('task_id', '=', task.id).execute()).map((l) => l.label);
    for (const rule of rules) {
      if (!matches(rule.condition, rule.trigger, event, task, labels)) continue;
      ctx.requireExclusive();
      const key = `${rule.id}:${task.id}`;
      if (fired.has(key) || i >= MAX_EVENTS) {
        if (!reported.has(rule.id)) await reportLoop(ctx, rule, task);
        reported.add(rule.id);
        continue;
      }
      fired.add(key);
      const ruleCtx = ctx.asRule(rule.id, event.depth + 1);
      try {
        await perform(ruleCtx, rule, event, (await ctx.db.selectFrom('team_tasks').selectAll().where('id', '=', task.id).executeTakeFirst()) ?? task);
      } catch (error) {
        if (!(error instanceof TeamTableError)) throw error;
        ruleCtx.emit({ team_id: rule.team_id, type: 'rule_failed', message: `rule '${rule.name}' could not act on ${task.id}: ${error.message}`, related_id: task.id, data: { rule_id: rule.id, code: error.code } });
      }
    }
  }
}

async function reportLoop(ctx: Ctx, rule: Rule, task: TaskRow) {
  const message = `rule '${rule.name}' (${rule.id}) was stopped: it fired again on task ${task.id} within one change, which would loop`;
  const ruleCtx = ctx.asRule(rule.id, Number.MAX_SAFE_INTEGER);
  ruleCtx.emit({ team_id: rule.team_id, type: 'rule_loop_stopped', message, related_id: task.id, data: { rule_id: rule.id } });
  await createNotification(ruleCtx, { team_id: rule.team_id, type: 'rule_loop', message, task_id: task.id, priority: 2 });
}

/** Who a notify action reaches; `team` means a team-wide notification. */
async function resolveTargets(ctx: Ctx, targets: string[], task: TaskRow): Promise<{ agents: Set<string>; team: boolean }> {
  const agents = new Set<string>();
  let team = false;
  const assignees = async () => (await ctx.db.selectFrom('team_task_assignees').select('agent_id').where('task_id', '=', task.id).orderBy('position').execute()).map((a) => a.agent_id);
  for (const target of targets) {
    if (target === 'team') team = true;
    else if (target === 'assignees') (await assignees()).forEach((a) => agents.add(a));
    else if (target === 'reviewer' && task.reviewer) agents.add(task.reviewer);
    else if (target === 'creator') agents.add(task.created_by);
    else if (target === 'escalation') (await escalationTargets(ctx, task, await assignees())).forEach((a) => agents.add(a));
    else if (target === 'leads') (await leadsOf(ctx, task.team_id)).forEach((id) => agents.add(id));
    else if (target.startsWith('agent:')) agents.add(target.slice('agent:'.length));
  }
  const inTeam = await ctx.db.selectFrom('persistent_agents').select('id').where('team_id', '=', task.team_id).execute();
  return { agents: new Set([...agents].filter((id) => inTeam.some((a) => a.id === id))), team };
}

function notificationType(rule: Rule, event: EmittedEvent): string {
  const to = event.data?.to;
  if (to === 'blocked' || event.data?.comment_type === 'blocker') return 'task_blocked';
  if (to === 'review') return 'review_requested';
  if (rule.trigger === 'task.unblocked') return 'task_unblocked';
  return 'workflow_rule';
}

async function perform(ctx: Ctx, rule: Rule, event: EmittedEvent, task: TaskRow): Promise<void> {
  const action = rule.action;
  switch (action.type) {
    case 'set_status': {
      // Done means review first once a task has a reviewer, for rules as for people.
      const to: TaskStatus = action.status === 'done' && task.reviewer && task.status !== 'review' ? 'review' : action.status;
      if (task.status === to) return;
      // A built-in rule may skip workflow steps (a parent nobody worked on completes from the inbox), but never
      // revives a finished task, unblocks a blocked one, overrules a reviewer or skips unmet dependencies.
      const force = rule.builtin && ['inbox', 'assigned', 'in_progress'].includes(task.status);
      if (rule.builtin && !force) return;
      if (force) await assertReady(ctx, task, `moved to ${to}`);
      await changeStatus(ctx, task, to, { force, message: `rule '${rule.name}' moved '${task.title}' ${task.status} → ${to}`, data: { rule_id: rule.id } });
      return;
    }
    case 'notify': {
      const { agents, team } = await resolveTargets(ctx, action.to, task);
      const why = event.data?.reason ? ` — ${event.data.reason}` : '';
      const message = action.message ?? `${event.message}${why} ('${task.title}', ${task.id})`;
      const common = { team_id: task.team_id, type: notificationType(rule, event), message, task_id: task.id, priority: action.priority ?? 3 };
      if (team) await createNotification(ctx, common);
      for (const agentId of agents) if (agentId !== event.actor) await createNotification(ctx, { ...common, to_agent: agentId });
      return;
    }
    case 'assign': {
      const assignees = (await ctx.db.selectFrom('team_task_assignees').select('agent_id').where('task_id', '=', task.id).orderBy('position').execute()).map((a) => a.agent_id);
      const agent = await ctx.db.selectFrom('persistent_agents').select('id').where('id', '=', action.agent_id).where('team_id', '=', task.team_id).executeTakeFirst();
      if (!agent || assignees.includes(agent.id)) return;
      await setAssignees(ctx, task, [...assignees, agent.id]);
      // Through changeStatus, so that the move is recorded (and found) like every status change.
      if (task.status === 'inbox') await changeStatus(ctx, task, 'assigned', { message: `rule '${rule.name}' assigned '${task.title}' to ${agent.id}`, data: { rule_id: rule.id } });
      else await saveTask(ctx, task);
      ctx.emit({ team_id: task.team_id, type: 'task_assigned', message: `rule '${rule.name}' assigned '${task.title}' to ${agent.id}`, related_id: task.id, data: { assignees: [...assignees, agent.id], rule_id: rule.id } });
      return;
    }
    case 'add_label':
      await addLabel(ctx, task, action.label);
      ctx.emit({ team_id: task.team_id, type: 'task_updated', message: `rule '${rule.name}' labelled '${task.title}' ${action.label}`, related_id: task.id, data: { fields: ['labels'], rule_id: rule.id } });
      return;
    case 'comment':
      await post(ctx, { teamId: task.team_id, threadId: task.id, taskId: task.id, content: action.content, type: 'comment' });
      return;
    case 'assign_next':
      return; // agent.idle only: run by the idle sweep
  }
}
