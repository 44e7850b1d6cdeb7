import { z } from 'zod';
import type { WorkingStateRow } from '../store/schema.js';
import { defineAction } from './action.js';
import type { Ctx } from './context.js';
import { WORKING_STATUSES, agentTarget, longText, taskRef } from './fields.js';
import { defined } from './patch.js';
import { prepared } from './prepared.js';

/** The WORKING.md block of a heartbeat prompt: what the agent was doing and what comes next. */
export function renderWorkingState(state: Pick<WorkingStateRow, 'status' | 'current_task_id' | 'next_steps' | 'context'>): string {
  const lines = ['## Current Work State (WORKING.md)', `- Status: ${state.status}`];
  if (state.current_task_id) lines.push(`- Current Task: ${state.current_task_id}`);
  if (state.next_steps) lines.push('- Next Steps:', state.next_steps);
  if (state.context) lines.push(`- Context: ${state.context}`);
  return lines.join('\n');
}

const withMarkdown = (state: WorkingStateRow) => ({ ...state, markdown: renderWorkingState(state) });

/**
 * An agent's status and current task are said in two places — its row (team_agent get) and its working state
 * (working_get, WORKING.md); every change of them goes through these two, so the two always agree.
 */

const agentWorksOn = prepared((db, p: { agent: string; task: string }) =>
  db.updateTable('persistent_agents').set({ status: 'working', current_task_id: p.task }).where('id', '=', p.agent).where('status', 'in', ['idle', 'working']),
);
/** The working state follows the agent's row: set working on the task when the row now says so. */
const stateWorksOn = prepared((db, p: { agent: string; task: string; now: string }) =>
  db
    .updateTable('agent_working_state')
    .set({ status: 'working', current_task_id: p.task, updated_at: p.now })
    .where('agent_id', '=', p.agent)
    .where(({ exists, selectFrom }) => exists(selectFrom('persistent_agents').select('id').where('id', '=', p.agent).where('status', '=', 'working').where('current_task_id', '=', p.task))),
);

/**
 * The agent works on `taskId` now (a claim, a start, a hand-over); a paused or stopped agent keeps its status. Two
 * writes whose answers nobody reads: on PostgreSQL they travel with the call's next statement.
 */
export async function startWork(ctx: Ctx, agentId: string, taskId: string): Promise<void> {
  await agentWorksOn.unanswered(ctx, { agent: agentId, task: taskId });
  await stateWorksOn.unanswered(ctx, { agent: agentId, task: taskId, now: ctx.now });
}

/** The agent no longer works on `taskId` (it left in_progress, or went to another agent), if that is what it did. */
export async function stopWork(ctx: Ctx, agentId: string, taskId: string): Promise<void> {
  await ctx.db.updateTable('persistent_agents').set({ current_task_id: '', status: 'idle' }).where('id', '=', agentId).where('current_task_id', '=', taskId).where('status', '=', 'working').execute();
  await ctx.db.updateTable('agent_working_state').set({ current_task_id: '', status: 'idle', updated_at: ctx.now }).where('agent_id', '=', agentId).where('current_task_id', '=', taskId).execute();
}

const get = defineAction({
  tool: 'team_agent',
  action: 'working_get',
  summary: 'working state (WORKING.md)',
  input: z.strictObject(agentTarget),
  write: false,
  async run(ctx, input) {
    const agent = await ctx.agent(input.agent_id, input.team_id);
    ctx.assertActsFor(agent, 'read the working state');
    const state = await ctx.db.selectFrom('agent_working_state').selectAll().where('agent_id', '=', agent.id).executeTakeFirst();
    // Without a saved state, what the agent row says (a claim sets it working on the task).
    return withMarkdown(
      state ?? { agent_id: agent.id, team_id: agent.team_id, current_task_id: agent.current_task_id, status: agent.status === 'working' ? 'working' : 'idle', next_steps: '', context: '', updated_at: '' },
    );
  },
});

/** Agent status follows the working state where they mean the same thing; a stopped or paused agent stays so. */
const AGENT_STATUS_OF = { working: 'working', idle: 'idle' } as Record<string, string | undefined>;

const update = defineAction({
  tool: 'team_agent',
  action: 'working_update',
  summary: 'save working state (fields given are replaced)',
  input: z.strictObject({
    ...agentTarget,
    status: z.enum(WORKING_STATUSES).optional(),
    current_task_id: z.union([taskRef, z.literal('')]).optional(),
    next_steps: longText.optional(),
    context: longText.optional(),
  }),
  write: true,
  async run(ctx, { agent_id, team_id, ...fields }) {
    const agent = await ctx.agent(agent_id, team_id);
    ctx.assertActsFor(agent, 'update the working state');
    const current = await ctx.db.selectFrom('agent_working_state').selectAll().where('agent_id', '=', agent.id).executeTakeFirst();
    const next: WorkingStateRow = {
      agent_id: agent.id,
      team_id: agent.team_id,
      current_task_id: '',
      status: 'idle',
      next_steps: '',
      context: '',
      ...current,
      ...defined(fields),
      updated_at: ctx.now,
    };
    await ctx.db
      .insertInto('agent_working_state')
      .values(next)
      .onConflict((c) => c.column('agent_id').doUpdateSet(next))
      .execute();
    const agentStatus = ['stopped', 'paused'].includes(agent.status) ? agent.status : (AGENT_STATUS_OF[next.status] ?? agent.status);
    await ctx.db
      .updateTable('persistent_agents')
      .set({ status: agentStatus, current_task_id: next.current_task_id, last_active_at: ctx.now })
      .where('id', '=', agent.id)
      .execute();
    ctx.emit({ team_id: agent.team_id, type: 'working_updated', message: `agent '${agent.id}' is ${next.status}${next.current_task_id ? ` on ${next.current_task_id}` : ''}`, related_id: agent.id });
    return withMarkdown(next);
  },
});

const clear = defineAction({
  tool: 'team_agent',
  action: 'working_clear',
  summary: 'clear working state',
  input: z.strictObject(agentTarget),
  write: true,
  async run(ctx, input) {
    const agent = await ctx.agent(input.agent_id, input.team_id);
    ctx.assertActsFor(agent, 'clear the working state');
    await ctx.db.deleteFrom('agent_working_state').where('agent_id', '=', agent.id).execute();
    const status = ['stopped', 'paused'].includes(agent.status) ? agent.status : 'idle';
    await ctx.db.updateTable('persistent_agents').set({ status, current_task_id: '', last_active_at: ctx.now }).where('id', '=', agent.id).execute();
    ctx.emit({ team_id: agent.team_id, type: 'working_cleared', message: `agent '${agent.id}' cleared its working state`, related_id: agent.id });
    return { cleared: true, agent_id: agent.id };
  },
});

export const workingActions = [get, update, clear];
