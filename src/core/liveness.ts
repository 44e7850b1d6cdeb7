import type { ExpressionBuilder } from 'kysely';
import type { AgentRow, Database, TeamRow } from '../store/schema.js';
import type { Db } from '../store/store.js';
import type { Ctx } from './context.js';
import { requeue } from './claims.js';
import { createNotification, raiseNotification } from './notifications.js';
import { latestSlot, nextSlot, scheduleTimezone } from './schedule.js';
import { maskWakeAdapter } from './wakeAdapter.js';

/**
 * Whether an agent is alive, derived from its status, its runs and its heartbeats:
 * - `stopped`: stopped or paused — the scheduler does not wake it;
 * - `unresponsive`: it missed two heartbeats in a row (fired while no run of it was under way, and it did not take
 *   them), or its last three runs failed or timed out; it stays so until a run succeeds or it takes a heartbeat;
 * - `working`: a run of it is under way, or its status says it works;
 * - `idle`: otherwise.
 * Becoming unresponsive is recorded once (an event and an `agent_error` notification); an agent that stays so past
 * its team's lease has its claimed tasks released.
 */
export const LIVENESS = ['working', 'idle', 'unresponsive', 'stopped'] as const;
export type Liveness = (typeof LIVENESS)[number];

/** Missed heartbeats that make an agent unresponsive; runs failing in a row that do. */
export const MISSED_HEARTBEATS = 2;
export const FAILED_RUNS = 3;

export const isDormant = (agent: Pick<AgentRow, 'status'>) => agent.status === 'stopped' || agent.status === 'paused';

export function livenessOf(agent: Pick<AgentRow, 'status' | 'unresponsive_since'>, running: boolean): Liveness {
  if (isDormant(agent)) return 'stopped';
  if (agent.unresponsive_since) return 'unresponsive';
  return running || agent.status === 'working' ? 'working' : 'idle';
}

/** The agents among `ids` with a run under way. */
export async function runningAgents(db: Db, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('agent_runs').select('agent_id').where('status', '=', 'running').where('agent_id', 'in', ids).execute();
  return new Set(rows.map((r) => r.agent_id));
}

/** Whether the scheduler wakes `agent` at all: it has a wake adapter, is not stopped or paused, its team is enabled. */
export const isWakeable = (agent: Pick<AgentRow, 'status' | 'wake_adapter'>, team: Pick<TeamRow, 'enabled'>) => Boolean(agent.wake_adapter) && !isDormant(agent) && team.enabled === 1;

/** The next heartbeat the scheduler will fire for `agent`, or null when it wakes it not at all. */
export function nextHeartbeatAt(agent: AgentRow, team: TeamRow, now: Date): string | null {
  if (!isWakeable(agent, team)) return null;
  return nextSlot(agent.heartbeat_schedule, scheduleTimezone(agent, team), now)?.toISOString() ?? null;
}

/** The slot due for `agent` at `now` that the scheduler has not fired yet, or null. */
export function dueSlot(agent: AgentRow, team: TeamRow, now: Date): string | null {
  const slot = latestSlot(agent.heartbeat_schedule, scheduleTimezone(agent, team), now)?.toISOString();
  return slot && slot > (agent.heartbeat_slot || agent.created_at) ? slot : null;
}

/** An agent as answers show it: skills a list, the wake adapter masked, liveness and the next heartbeat added. */
export async function agentViews(ctx: Ctx, rows: AgentRow[]) {
  const running = await runningAgents(ctx.db, rows.map((r) => r.id));
  const teamIds = [...new Set(rows.map((r) => r.team_id))];
  const teams = teamIds.length ? await ctx.db.selectFrom('teams').selectAll().where('id', 'in', teamIds).execute() : [];
  const now = new Date(ctx.now);
  return rows.map((row) => {
    const { skills, wake_adapter, heartbeat_slot: _slot, ...agent } = row;
    const team = teams.find((t) => t.id === agent.team_id);
    return {
      ...agent,
      skills: JSON.parse(skills) as string[],
      wake_adapter: maskWakeAdapter(wake_adapter),
      liveness: livenessOf(agent, running.has(agent.id)),
      next_heartbeat_at: team ? nextHeartbeatAt(row, team, now) : null,
    };
  });
}

export async function agentView(ctx: Ctx, row: AgentRow) {
  return (await agentViews(ctx, [row]))[0]!;
}

/** Records, once, that `agent` stopped answering: an event and an agent_error notification to the team. */
export async function markUnresponsive(ctx: Ctx, agent: Pick<AgentRow, 'id' | 'team_id'>, why: string): Promise<boolean> {
  const result = await ctx.db.updateTable('persistent_agents').set({ unresponsive_since: ctx.now }).where('id', '=', agent.id).where('unresponsive_since', '=', '').executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return false;
  ctx.emit({ team_id: agent.team_id, type: 'agent_unresponsive', message: `agent '${agent.id}' is unresponsive: ${why}`, related_id: agent.id, data: { agent_id: agent.id, reason: why } });
  // Raised by the table (origin `table`, the seed's priority 2): notification rules route it like any other.
  await raiseNotification(ctx, { team_id: agent.team_id, type: 'agent_error', message: `${agent.id} is unresponsive: ${why}`, agent_id: agent.id });
  return true;
}

export async function markResponsive(ctx: Ctx, agent: Pick<AgentRow, 'id' | 'team_id'>, why: string): Promise<void> {
  const result = await ctx.db.updateTable('persistent_agents').set({ unresponsive_since: '', missed_heartbeats: 0 }).where('id', '=', agent.id).where('unresponsive_since', '!=', '').executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return;
  ctx.emit({ team_id: agent.team_id, type: 'agent_responsive', message: `agent '${agent.id}' answers again: ${why}`, related_id: agent.id, data: { agent_id: agent.id } });
}

/** Claims held by unresponsive agents, with since when their agent is unresponsive and the team's lease. */
function unresponsiveClaims(db: Db) {
  return db
    .selectFrom('team_tasks as t')
    .innerJoin('persistent_agents as a', 'a.id', 't.claimed_by')
    .innerJoin('teams as m', 'm.id', 't.team_id')
    .selectAll('t')
    .select(['a.unresponsive_since', 'm.lease_seconds'])
    .where('a.unresponsive_since', '!=', '')
    .where('t.status', '=', 'in_progress')
    // The longest unresponsive first: those are the ones past their lease, whichever hundred a sweep takes.
    .orderBy('a.unresponsive_since')
    .limit(100);
}

const pastLease = (row: { unresponsive_since: string; lease_seconds: number }, now: string) => Date.parse(row.unresponsive_since) + row.lease_seconds * 1000 <= Date.parse(now);

/**
 * Whether any agent has been unresponsive for longer than its team's lease, read off the agents alone. The claims'
 * read goes through every task in progress (no index leads with the holder), and servers ask once a second: 3 ms
 * with 11,000 tasks in progress, 30–40 ms under sixteen claimers with 26,000, though nearly always no agent is past
 * its lease.
 */
async function anyAgentPastLease(db: Db, now: string): Promise<boolean> {
  const agents = await db
    .selectFrom('persistent_agents as a')
    .innerJoin('teams as m', 'm.id', 'a.team_id')
    .select(['a.unresponsive_since', 'm.lease_seconds'])
    .where('a.unresponsive_since', '!=', '')
    .execute();
  return agents.some((agent) => pastLease(agent, now));
}

/** The claims whose holder has been unresponsive for longer than its team's lease (a hundred at most). */
async function claimsPastLease(db: Db, now: string) {
  if (!(await anyAgentPastLease(db, now))) return [];
  return (await unresponsiveClaims(db).execute()).filter((row) => pastLease(row, now));
}

/** Whether a sweep has claims of unresponsive agents to release. */
export async function unresponsiveClaimsDue(db: Db, now: string): Promise<boolean> {
  return (await claimsPastLease(db, now)).length > 0;
}

/**
 * Releases the claims of agents unresponsive for longer than their team's lease: a claim renewed by a failing
 * agent (its runs act, then crash) would otherwise never run out. Each release is a conditional write (requeue).
 */
export async function releaseUnresponsiveClaims(ctx: Ctx): Promise<number> {
  const due = await claimsPastLease(ctx.db, ctx.now);
  for (const { unresponsive_since, lease_seconds: _lease, ...task } of due) {
    const holder = await requeue(ctx, task, 'task_released', `'${task.title}' went back to the queue: its holder ${task.claimed_by} has been unresponsive since ${unresponsive_since}`);
    await createNotification(ctx, { team_id: task.team_id, type: 'lease_expired', message: `${holder} is unresponsive; its claim on '${task.title}' (${task.id}) was released`, task_id: task.id, priority: 2 });
  }
  return due.length;
}

/** Agents whose liveness is `liveness`, as a condition on `persistent_agents`: livenessOf's rules in SQL, so lists filter before they page. */
export function withLiveness(liveness: Liveness) {
  return (eb: ExpressionBuilder<Database, 'persistent_agents'>) => {
    const dormant = eb('persistent_agents.status', 'in', ['stopped', 'paused']);
    const unresponsive = eb('persistent_agents.unresponsive_since', '!=', '');
    const running = eb.exists(
      eb.selectFrom('agent_runs').select('agent_runs.id').whereRef('agent_runs.agent_id', '=', 'persistent_agents.id').where('agent_runs.status', '=', 'running'),
    );
    const alive = [eb.not(dormant), eb.not(unresponsive)];
    switch (liveness) {
      case 'stopped':
        return dormant;
      case 'unresponsive':
        return eb.and([eb.not(dormant), unresponsive]);
      case 'working':
        return eb.and([...alive, eb.or([eb('persistent_agents.status', '=', 'working'), running])]);
      case 'idle':
        return eb.and([...alive, eb('persistent_agents.status', '!=', 'working'), eb.not(running)]);
    }
  };
}
