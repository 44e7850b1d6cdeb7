import { sql } from 'kysely';
import { nextReadyTask, sweepExpiredLeases } from './claims.js';
import type { Db } from '../store/store.js';
import type { Ctx } from './context.js';
import { sweepExpiredFacts } from './facts.js';
import { keysExpired, sweepIdempotencyKeys } from './idempotency.js';
import { createNotification } from './notifications.js';
import { rulesOf } from './rules.js';
import { changeStatus, setAssignees } from './tasks.js';
import type { AgentRow } from '../store/schema.js';
import { escalationTargets, leadsOf } from './roles.js';
import { releaseUnresponsiveClaims, unresponsiveClaimsDue } from './liveness.js';

/**
 * Time-driven work: expired leases, expired facts, idle agents and old idempotency keys. Servers run it on a timer
 * and the core before calls (throttled), each step a conditional write so that processes sweeping at once act once.
 */
/**
 * Whether a sweep has anything to do: an expired lease, fact or idempotency key, or an idle-agent rule switched on.
 * Indexed reads, so that servers take the write lock for a sweep only when it will change something.
 */
export async function sweepIsDue(db: Db, now: string): Promise<boolean> {
  const [lease, fact, idleRule, oldKey] = await Promise.all([
    db.selectFrom('team_tasks').select('id').where('status', '=', 'in_progress').where('lease_expires_at', '!=', '').where('lease_expires_at', '<=', now).limit(1).executeTakeFirst(),
    db.selectFrom('team_facts').select('id').where('expires_at', '!=', '').where('expires_at', '<=', now).limit(1).executeTakeFirst(),
    db.selectFrom('team_rules').select('id').where('trigger', '=', 'agent.idle').where('enabled', '=', 1).limit(1).executeTakeFirst(),
    keysExpired({ db, now }),
  ]);
  return Boolean(lease || fact || idleRule || oldKey) || (await unresponsiveClaimsDue(db, now));
}

export async function sweep(ctx: Ctx): Promise<void> {
  await sweepExpiredLeases(ctx);
  await sweepExpiredFacts(ctx);
  await releaseUnresponsiveClaims(ctx);
  await sweepIdleAgents(ctx);
  await sweepIdempotencyKeys(ctx);
}

/**
 * The `agent.idle` rules (built in: idle 5 minutes → assign the next pending task). An agent is idle when its
 * liveness is idle (status idle, not unresponsive, no run under way), it has done nothing for the rule's minutes,
 * and no open task is assigned to it; each idle spell
 * is recorded once as an `agent_idle` event, so a rule acts once per spell.
 */
async function sweepIdleAgents(ctx: Ctx): Promise<void> {
  const teams = await ctx.db.selectFrom('teams').select('id').where('enabled', '=', 1).execute();
  for (const team of teams) {
    const rules = (await rulesOf(ctx, team.id)).filter((r) => r.enabled && r.trigger === 'agent.idle');
    for (const rule of rules) {
      const cutoff = new Date(Date.parse(ctx.now) - (rule.condition.idle_minutes ?? 5) * 60_000).toISOString();
      // The spells an earlier rule of this sweep recorded count too.
      await ctx.flushEvents();
      const idle = await ctx.db
        .selectFrom('persistent_agents as a')
        .selectAll('a')
        .where('a.team_id', '=', team.id)
        .where('a.status', '=', 'idle')
        // Idle by its liveness: an unresponsive agent gets no work, nor does one whose run is under way.
        .where('a.unresponsive_since', '=', '')
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('agent_runs as r').select('r.id').whereRef('r.agent_id', '=', 'a.id').where('r.status', '=', 'running'))))
        .where(sql<string>`coalesce(nullif(a.last_active_at, ''), a.created_at)`, '<=', cutoff)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('team_task_assignees as x')
                .innerJoin('team_tasks as t', 't.id', 'x.task_id')
                .select('x.task_id')
                .whereRef('x.agent_id', '=', 'a.id')
                .where('t.status', 'in', ['assigned', 'in_progress', 'review']),
            ),
          ),
        )
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('team_events as e')
                .select('e.seq')
                .whereRef('e.related_id', '=', 'a.id')
                .where('e.type', '=', 'agent_idle')
                .where('e.created_at', '>=', sql<string>`coalesce(nullif(a.last_active_at, ''), a.created_at)`),
            ),
          ),
        )
        .execute();
      for (const agent of idle) {
        const ruleCtx = ctx.asRule(rule.id, 1);
        if (rule.action.type === 'assign_next') {
          const task = (await nextReadyTask(ruleCtx, agent, { task_type: rule.condition.task_type, label: rule.condition.label }))?.row;
          if (!task) continue; // nothing pending: try again on a later sweep
          ruleCtx.emit({ team_id: team.id, type: 'agent_idle', message: `${agent.id} has been idle since ${agent.last_active_at || agent.created_at}`, related_id: agent.id, data: { rule_id: rule.id } });
          await setAssignees(ruleCtx, task, [agent.id]);
          await changeStatus(ruleCtx, task, 'assigned', { message: `rule '${rule.name}' assigned '${task.title}' to ${agent.id}` });
          ruleCtx.emit({ team_id: team.id, type: 'task_assigned', message: `rule '${rule.name}' assigned '${task.title}' to ${agent.id}`, related_id: task.id, data: { assignees: [agent.id], rule_id: rule.id } });
          await createNotification(ruleCtx, { team_id: team.id, type: 'task_assigned', message: `you were idle, so '${task.title}' (${task.id}) is now assigned to you`, task_id: task.id, to_agent: agent.id });
        } else if (rule.action.type === 'notify') {
          ruleCtx.emit({ team_id: team.id, type: 'agent_idle', message: `${agent.id} has been idle since ${agent.last_active_at || agent.created_at}`, related_id: agent.id, data: { rule_id: rule.id } });
          const message = rule.action.message ?? `${agent.id} has been idle for ${rule.condition.idle_minutes ?? 5} minutes`;
          for (const to of await idleTargets(ruleCtx, rule.action.to, agent)) {
            await createNotification(ruleCtx, { team_id: team.id, type: 'agent_idle', message, priority: rule.action.priority ?? 4, ...(to ? { to_agent: to } : {}) });
          }
        }
      }
    }
  }
}

/**
 * Who hears that `agent` is idle: `team` (a team-wide notification, ''), `leads`, `agent:<id>`, or `escalation`
 * (the role its role escalates to); task targets (assignees, reviewer, creator) have no meaning here.
 */
async function idleTargets(ctx: Ctx, targets: string[], agent: AgentRow): Promise<string[]> {
  const out = new Set<string>();
  for (const target of targets) {
    if (target === 'team') out.add('');
    else if (target === 'leads') (await leadsOf(ctx, agent.team_id)).forEach((id) => out.add(id));
    else if (target === 'escalation') (await escalationTargets(ctx, agent, [agent.id])).forEach((id) => out.add(id));
    else if (target.startsWith('agent:')) out.add(target.slice('agent:'.length));
  }
  out.delete(agent.id);
  const members = new Set((await ctx.db.selectFrom('persistent_agents').select('id').where('team_id', '=', agent.team_id).execute()).map((a) => a.id));
  return [...out].filter((id) => id === '' || members.has(id));
}
