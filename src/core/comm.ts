import { z } from 'zod';
import { defineAction } from './action.js';
import { COMMENT_TYPES, NOTIFICATION_TYPES, agentRef, agentTarget, limit, priority, taskRef, teamRef } from './fields.js';
import { LIMITS } from './limits.js';
import { createNotification } from './notifications.js';
import { withDeliveries } from './outbox.js';
import { loadTask, touchTask } from './tasks.js';
import { post } from './threads.js';

const content = z.string().trim().min(1).max(LIMITS.messageContent);

const comment = defineAction({
  tool: 'team_comm',
  action: 'comment',
  summary: "post in a task's thread (type comment|status_change|blocker|resolution); @id mentions notify agents, subscribers get it too",
  input: z.strictObject({ team_id: teamRef, task_id: taskRef, content, type: z.enum(COMMENT_TYPES).default('comment') }),
  write: true,
  async run(ctx, input) {
    const { row } = await loadTask(ctx, input.team_id, input.task_id);
    const message = await post(ctx, { teamId: row.team_id, threadId: row.id, taskId: row.id, content: input.content, type: input.type });
    await touchTask(ctx, row);
    return message;
  },
});

const mentionCheck = defineAction({
  tool: 'team_comm',
  action: 'mention_check',
  summary: 'new mail (mentions, thread activity, direct, broadcasts, notifications); marks it delivered and read',
  input: z.strictObject({ ...agentTarget, limit: limit(100) }),
  write: true,
  activity: false,
  async run(ctx, input) {
    const agent = await ctx.agent(input.agent_id, input.team_id);
    ctx.assertActsFor(agent, 'read the mailbox');
    const pending = await ctx.db
      .selectFrom('team_pending_messages as p')
      .leftJoin('team_messages as m', 'm.id', 'p.message_id')
      .selectAll('p')
      .where('p.to_agent', '=', agent.id)
      .where('p.delivered', '=', 0)
      .where('p.archived_at', '=', '')
      .where((eb) => eb.or([eb('m.deleted_at', 'is', null), eb('m.deleted_at', '=', '')]))
      .orderBy('p.created_at')
      .orderBy('p.id')
      .limit(input.limit)
      .execute();
    if (pending.length) {
      const ids = pending.map((p) => p.id);
      // Fetched is seen: delivered, and read in the inbox's terms.
      await ctx.db.updateTable('team_pending_messages').set({ delivered: 1, delivered_at: ctx.now }).where('id', 'in', ids).execute();
      await ctx.db.updateTable('team_pending_messages').set({ read_at: ctx.now }).where('id', 'in', ids).where('read_at', '=', '').execute();
      const messageIds = [...new Set(pending.map((p) => p.message_id).filter(Boolean))];
      if (messageIds.length) {
        // A message counts as delivered once every mailbox copy of it has been fetched.
        await ctx.db
          .updateTable('team_messages')
          .set({ delivered: 1 })
          .where('id', 'in', messageIds)
          .where(({ not, exists, selectFrom }) =>
            not(exists(selectFrom('team_pending_messages as p').select('p.id').whereRef('p.message_id', '=', 'team_messages.id').where('p.delivered', '=', 0))),
          )
          .execute();
      }
    }
    const remaining = await ctx.db
      .selectFrom('team_pending_messages as p')
      .leftJoin('team_messages as m', 'm.id', 'p.message_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('p.to_agent', '=', agent.id)
      .where('p.delivered', '=', 0)
      .where('p.archived_at', '=', '')
      .where((eb) => eb.or([eb('m.deleted_at', 'is', null), eb('m.deleted_at', '=', '')]))
      .executeTakeFirstOrThrow();
    return {
      agent_id: agent.id,
      messages: pending.map((p) => ({ ...p, delivered: 1, delivered_at: ctx.now, read_at: p.read_at || ctx.now })),
      count: pending.length,
      remaining: Number(remaining.n),
    };
  },
});

const sendMessage = defineAction({
  tool: 'team_comm',
  action: 'send_message',
  summary: "direct message into an agent's mailbox (task_id links it to a task)",
  input: z.strictObject({ team_id: teamRef, to_agent: agentRef, content, thread_id: z.string().max(LIMITS.agentId).optional(), task_id: taskRef.optional() }),
  write: true,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const recipient = await ctx.agent(input.to_agent.toLowerCase(), team.id);
    const task = input.task_id ? (await loadTask(ctx, team.id, input.task_id)).row : undefined;
    const message = await post(ctx, { teamId: team.id, threadId: input.thread_id ?? '', content: input.content, toAgent: recipient.id, taskId: task?.id });
    if (task) await touchTask(ctx, task);
    return message;
  },
});

const notify = defineAction({
  tool: 'team_comm',
  action: 'notify',
  summary: 'send a notification (priority 1 urgent … 5 minimal, default 3)',
  input: z.strictObject({
    team_id: teamRef,
    type: z.enum(NOTIFICATION_TYPES),
    message: z.string().trim().min(1).max(LIMITS.shortText),
    task_id: taskRef.optional(),
    priority: priority.default(3),
    to_agent: agentRef.optional(),
  }),
  write: true,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    // task_id is a reference kept as given: a notification about a task deleted since is still worth delivering.
    const toAgent = input.to_agent ? (await ctx.agent(input.to_agent.toLowerCase(), team.id)).id : undefined;
    return createNotification(ctx, { ...input, team_id: team.id, to_agent: toAgent });
  },
});

const notifyList = defineAction({
  tool: 'team_comm',
  action: 'notify_list',
  summary: 'team notifications, newest first; marks those returned read',
  input: z.strictObject({ team_id: teamRef, limit: limit(20), unread_only: z.boolean().default(false) }),
  write: true,
  activity: false,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    // An agent sees the team-wide notifications and its own; the owner and leads see all.
    const visible = ctx.db
      .selectFrom('team_notifications')
      .where('team_id', '=', team.id)
      .$if(!ctx.isLead, (q) => q.where((eb) => eb.or([eb('to_agent', '=', ''), eb('to_agent', '=', ctx.actorId)])));
    let query = visible.selectAll();
    if (input.unread_only) query = query.where('read_at', '=', '');
    const notifications = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(input.limit).execute();
    // Read means read by whom it is for: the addressee, or for team-wide ones the owner or a lead.
    const unread = notifications.filter((n) => !n.read_at && (n.to_agent ? n.to_agent === ctx.actorId || ctx.isOwner : ctx.isLead)).map((n) => n.id);
    if (unread.length) await ctx.db.updateTable('team_notifications').set({ read_at: ctx.now }).where('id', 'in', unread).execute();
    const left = await visible
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('read_at', '=', '')
      .where('id', 'not in', unread.length ? unread : [''])
      .executeTakeFirstOrThrow();
    return { team_id: team.id, notifications: await withDeliveries(ctx, notifications), count: notifications.length, unread_remaining: Number(left.n) };
  },
});

export const commActions = [comment, mentionCheck, sendMessage, notify, notifyList];
