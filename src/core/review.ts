import { z } from 'zod';
import type { TaskRow } from '../store/schema.js';
import { defineAction } from './action.js';
import type { ActionDef } from './action.js';
import { authorize } from './roles.js';
import type { Ctx } from './context.js';
import { TeamTableError, denied } from './errors.js';
import { agentRef, taskRef, teamRef } from './fields.js';
import { LIMITS } from './limits.js';
import { assertTeamAgents, changeStatus, expectedVersion, hydrateOne, leaseUntil, loadTask, saveTask, setAssignees } from './tasks.js';
import { post } from './threads.js';
import { startWork, stopWork } from './working.js';

/**
 * The hand-off: work moves to `review`, which notifies the reviewer (built-in rule `review-notify`); the reviewer
 * approves it (→ done) or requests changes (→ in_progress, with a comment the assignees receive); `reassign` hands
 * a task, and its claim, to another agent.
 */

const content = z.string().trim().min(1).max(LIMITS.messageContent);

/**
 * Who decides on work in review: the agent named reviewer, whatever its role (naming it is what entrusts it);
 * otherwise one whose role allows the action, and then only a lead or the owner standing in — or anyone so
 * allowed when the task has no reviewer.
 */
async function assertMayReview(ctx: Ctx, row: TaskRow, def: Pick<ActionDef, 'tool' | 'action'>, what: string) {
  if (row.reviewer && row.reviewer === ctx.actorId) return;
  await authorize(ctx, def);
  if (!row.reviewer || ctx.isLead) return;
  throw denied(`only the reviewer ${row.reviewer}, a lead or the owner may ${what} task ${row.id}`, { reviewer: row.reviewer });
}

function assertInReview(row: TaskRow, action: string) {
  if (row.status !== 'review') {
    throw new TeamTableError('INVALID_TRANSITION', `task ${row.id} is '${row.status}': ${action} takes a task in 'review'`, { from: row.status, allowed: ['review'] });
  }
}

async function comment(ctx: Ctx, row: TaskRow, text: string | undefined, type: string) {
  if (text) await post(ctx, { teamId: row.team_id, threadId: row.id, taskId: row.id, content: text, type });
}

const approve = defineAction({
  tool: 'team_task',
  action: 'approve',
  summary: 'reviewer accepts: review → done (optional content as a resolution comment)',
  input: z.strictObject({ team_id: teamRef, task_id: taskRef, content: content.optional(), expected_version: expectedVersion }),
  write: true,
  answersWithTask: true,
  checksPermission: true,
  async run(ctx, input) {
    const { row } = await loadTask(ctx, input.team_id, input.task_id, input.expected_version);
    await assertMayReview(ctx, row, { tool: 'team_task', action: 'approve' }, 'approve');
    assertInReview(row, 'approve');
    await changeStatus(ctx, row, 'done', { event: 'task_approved', message: `${ctx.actorId} approved '${row.title}'` });
    await comment(ctx, row, input.content, 'resolution');
    return await hydrateOne(ctx, row);
  },
});

const requestChanges = defineAction({
  tool: 'team_task',
  action: 'request_changes',
  summary: 'reviewer sends back: review → in_progress, content is the comment',
  input: z.strictObject({ team_id: teamRef, task_id: taskRef, content, expected_version: expectedVersion }),
  write: true,
  answersWithTask: true,
  checksPermission: true,
  async run(ctx, input) {
    const { row } = await loadTask(ctx, input.team_id, input.task_id, input.expected_version);
    await assertMayReview(ctx, row, { tool: 'team_task', action: 'request_changes' }, 'request changes on');
    assertInReview(row, 'request_changes');
    await changeStatus(ctx, row, 'in_progress', { event: 'task_changes_requested', message: `${ctx.actorId} requested changes on '${row.title}'` });
    await comment(ctx, row, input.content, 'comment');
    return await hydrateOne(ctx, row);
  },
});

const reassign = defineAction({
  tool: 'team_task',
  action: 'reassign',
  summary: 'hand the task (and its claim) to new_assignee',
  input: z.strictObject({ team_id: teamRef, task_id: taskRef, new_assignee: agentRef, expected_version: expectedVersion }),
  write: true,
  answersWithTask: true,
  async run(ctx, input) {
    const { row, task } = await loadTask(ctx, input.team_id, input.task_id, input.expected_version);
    // A hand-off is the holder's or an assignee's to make (or a lead's); taking over others' work is not.
    const involved = row.claimed_by ? row.claimed_by === ctx.actorId : task.assignees.length === 0 || task.assignees.includes(ctx.actorId);
    if (!involved && !ctx.isLead) {
      throw denied(`only ${row.claimed_by ? `the holder ${row.claimed_by}` : `an assignee (${task.assignees.join(', ')})`}, a lead or the owner may hand task ${row.id} over`, { holder: row.claimed_by, assignees: task.assignees });
    }
    const to = input.new_assignee.toLowerCase();
    await assertTeamAgents(ctx, row.team_id, [to], 'new_assignee');
    const previousHolder = row.claimed_by;
    if (previousHolder) {
      row.claimed_by = to;
      row.lease_expires_at = await leaseUntil(ctx, row.team_id);
      await stopWork(ctx, previousHolder, row.id);
      await startWork(ctx, to, row.id);
    }
    await setAssignees(ctx, row, [to]);
    if (row.status === 'inbox') await changeStatus(ctx, row, 'assigned');
    else await saveTask(ctx, row);
    ctx.emit({ team_id: row.team_id, type: 'task_reassigned', message: `${ctx.actorId} handed '${row.title}' to ${to}`, related_id: row.id, data: { to_agent: to, previous: task.assignees } });
    return await hydrateOne(ctx, row);
  },
});

export const reviewActions = [approve, requestChanges, reassign];
