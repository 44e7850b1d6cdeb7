import type { AgentRow } from '../store/schema.js';
import type { Ctx } from './context.js';

/** The task types `agent`'s role prefers, best first (claim_next orders ready work by them). */
export async function affinityOf(_ctx: Ctx, _agent: AgentRow): Promise<string[]> {
  return [];
}

/** Who a blocker on `task` escalates to: the team's leads (never the assignees themselves). */
export async function escalationTargets(ctx: Ctx, task: { team_id: string }, assignees: string[]): Promise<string[]> {
  const leads = await ctx.db.selectFrom('persistent_agents').select('id').where('team_id', '=', task.team_id).where('level', '=', 'lead').execute();
  return leads.map((l) => l.id).filter((id) => !assignees.includes(id));
}
