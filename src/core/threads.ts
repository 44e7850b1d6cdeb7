import type { MessageRow } from '../store/schema.js';
import type { Ctx } from './context.js';
import { newRowId } from './ids.js';
import { parseMentions } from './mentions.js';
import { prepared } from './prepared.js';

export type SubscriptionReason = 'auto' | 'mentioned' | 'assigned';

const insertSubscription = prepared((db, row: { id: string; team_id: string; thread_id: string; agent_id: string; subscribed_at: string; reason: string }) =>
  db
    .insertInto('team_thread_subscriptions')
    .values(row)
    .onConflict((c) => c.columns(['team_id', 'thread_id', 'agent_id']).doNothing()),
);

/**
 * Subscribes `agentId` to a thread (once; the first reason stays) and records it. `subscribed`: whether it is
 * already, as read in this transaction under a lock that keeps others from subscribing it meanwhile (a claim's
 * read); the insert is then not waited for (on PostgreSQL it travels with the next statement), or not made.
 */
export async function subscribe(ctx: Ctx, teamId: string, threadId: string, agentId: string, reason: SubscriptionReason, subscribed?: boolean) {
  if (subscribed) return;
  const row = { id: newRowId(), team_id: teamId, thread_id: threadId, agent_id: agentId, subscribed_at: ctx.now, reason };
  if (subscribed === false) await insertSubscription.unanswered(ctx, row);
  else if (Number((await insertSubscription(ctx, row)).numAffectedRows ?? 0) === 0) return;
  ctx.emit({ team_id: teamId, type: 'subscribed', message: `${agentId} subscribed to thread ${threadId} (${reason})`, related_id: threadId, data: { agent_id: agentId, reason } });
}

export interface Delivery {
  to_agent: string;
  reason: string;
}

/**
 * Puts a copy of a message in each recipient's mailbox (their next mention_check returns it). A notification for an
 * agent is delivered the same way, with no message behind it (`id` ''). The copy carries what its mailbox shows, so
 * that reading a mailbox reads no message.
 */
export async function deliver(ctx: Ctx, message: Pick<MessageRow, 'id' | 'team_id' | 'from_agent' | 'from_user' | 'content' | 'thread_id' | 'task_id'>, deliveries: Delivery[]) {
  if (deliveries.length === 0) return;
  await ctx.db
    .insertInto('team_pending_messages')
    .values(
      deliveries.map((d) => ({
        id: newRowId(),
        team_id: message.team_id,
        message_id: message.id,
        to_agent: d.to_agent,
        from_agent: message.from_agent,
        from_user: message.from_user,
        content: message.content,
        thread_id: message.thread_id,
        task_id: message.task_id,
        reason: d.reason,
        created_at: ctx.now,
        delivered: 0,
        delivered_at: '',
        read_at: '',
        archived_at: '',
        handout_id: '',
        handout_session: '',
        handed_out_at: '',
      })),
    )
    .execute();
}

export interface PostInput {
  teamId: string;
  threadId: string;
  content: string;
  /** A direct message's recipient. */
  toAgent?: string;
  /** The task the message is about; its activity renews the author's claim and bumps the task. */
  taskId?: string;
  /** A task comment's type. */
  type?: string;
  /** To every agent of the team. */
  broadcast?: boolean;
}

/**
 * Posts a message: stores it, parses its @mentions (agents of the team), subscribes the author and the mentioned
 * to the thread, and delivers one pending message to each agent concerned — the mentioned and every subscriber of
 * the thread, or a direct message's recipient alone — never to the author, and never twice.
 */
export async function post(ctx: Ctx, input: PostInput) {
  const teamAgents = await ctx.db.selectFrom('persistent_agents').select('id').where('team_id', '=', input.teamId).execute();
  // A direct message stays private: its @names are text, not deliveries, and its thread's subscribers do not get it.
  const direct = Boolean(input.toAgent);
  const { known, unknown } = parseMentions(input.content, new Set(teamAgents.map((a) => a.id)));
  const mentions = direct ? [] : known;
  const fromAgent = ctx.actor.kind === 'agent' ? ctx.actorId : '';
  const message: MessageRow = {
    id: newRowId(),
    team_id: input.teamId,
    thread_id: input.threadId,
    from_agent: fromAgent,
    from_user: fromAgent ? '' : ctx.actorId,
    to_agent: input.toAgent ?? '',
    content: input.content,
    mentions: JSON.stringify(mentions),
    created_at: ctx.now,
    delivered: 0,
    task_id: input.taskId ?? '',
    type: input.type ?? '',
    deleted_at: '',
  };
  await ctx.db.insertInto('team_messages').values(message).execute();

  const deliveries = new Map<string, string>();
  if (input.toAgent) deliveries.set(input.toAgent, 'direct');
  if (input.broadcast) for (const { id } of teamAgents) deliveries.set(id, 'broadcast');
  for (const id of mentions) if (!deliveries.has(id)) deliveries.set(id, 'mention');
  if (input.threadId && !direct) {
    const subscribers = await ctx.db
      .selectFrom('team_thread_subscriptions')
      .select('agent_id')
      .where('team_id', '=', input.teamId)
      .where('thread_id', '=', input.threadId)
      .execute();
    for (const { agent_id } of subscribers) if (!deliveries.has(agent_id)) deliveries.set(agent_id, 'subscribed');
  }
  deliveries.delete(fromAgent);
  await deliver(ctx, message, [...deliveries].map(([to_agent, reason]) => ({ to_agent, reason })));

  ctx.emit({
    team_id: input.teamId,
    type: 'message_sent',
    message: `${ctx.actorId} ${input.broadcast ? 'broadcast to the team' : `posted ${input.toAgent ? `to ${input.toAgent}` : `in thread ${input.threadId}`}`}`,
    related_id: message.id,
    data: { thread_id: input.threadId, to_agent: input.toAgent ?? '', task_id: message.task_id, comment_type: message.type, recipients: [...deliveries.keys()] },
  });
  for (const id of mentions) {
    ctx.emit({ team_id: input.teamId, type: 'mention', message: `${ctx.actorId} mentioned @${id}`, related_id: message.id, data: { agent_id: id, thread_id: input.threadId } });
  }
  if (input.threadId && !direct) {
    if (fromAgent) await subscribe(ctx, input.teamId, input.threadId, fromAgent, 'auto');
    for (const id of mentions) await subscribe(ctx, input.teamId, input.threadId, id, 'mentioned');
  }
  // An @name that is no agent of the team reached nobody: said, rather than dropped silently.
  return { ...message, mentions, recipients: [...deliveries.keys()], unresolved_mentions: direct ? [] : unknown };
}
