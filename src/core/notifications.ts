import type { NotificationRow } from '../store/schema.js';
import type { Ctx } from './context.js';
import { newRowId } from './ids.js';
import { deliver } from './threads.js';

/** Stores a notification; one meant for an agent also lands in its mailbox. */
export async function createNotification(
  ctx: Ctx,
  input: { team_id: string; type: string; message: string; task_id?: string; priority?: number; to_agent?: string },
) {
  const row: NotificationRow = {
    id: newRowId(),
    team_id: input.team_id,
    type: input.type,
    message: input.message,
    task_id: input.task_id ?? '',
    priority: input.priority ?? 3,
    agent_id: ctx.actorId,
    to_agent: input.to_agent ?? '',
    created_at: ctx.now,
    read_at: '',
  };
  await ctx.db.insertInto('team_notifications').values(row).execute();
  if (row.to_agent) {
    const fromAgent = ctx.actor.kind === 'agent' ? ctx.actorId : '';
    const source = { id: '', team_id: row.team_id, from_agent: fromAgent, from_user: fromAgent ? '' : ctx.actorId, content: `[${row.type}] ${row.message}`, thread_id: row.task_id };
    await deliver(ctx, source, [{ to_agent: row.to_agent, reason: 'notification' }]);
  }
  await ctx.emit({ team_id: row.team_id, type: 'notification_sent', message: `${ctx.actorId} sent a ${row.type} notification (priority ${row.priority})${row.to_agent ? ` to ${row.to_agent}` : ''}`, related_id: row.id, data: { type: row.type, priority: row.priority, task_id: row.task_id, to_agent: row.to_agent } });
  return row;
}

