import { z } from 'zod';
import { defineAction } from './action.js';
import { COMMENT_TYPES, NOTIFICATION_TYPES, agentRef, agentTarget, cursor, limit, priority, taskRef, teamRef } from './fields.js';
import { LIMITS } from './limits.js';
import { checkMail } from './delivery.js';
import { createNotification } from './notifications.js';
import { deliveryViews } from './outbox.js';
import { after, countUpTo, decodeCursor, pageFields, takePage } from './paging.js';
import { loadTask, touchTask } from './tasks.js';
import { post } from './threads.js';

const content = z.string().trim().min(1).max(LIMITS.messageContent);

const comment = defineAction({
  tool: 'team_comm',
  action: 'comment',
  summary: "post in a task's thread; @id mentions and the thread's subscribers get it",
  input: z.strictObject({ team_id: teamRef, task_id: taskRef, content, type: z.enum(COMMENT_TYPES).default('comment') }),
  write: true,
  creates: true,
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
  summary: 'new mail, oldest first; handed out again until acknowledged (ack=<ack_cursor>, mark_read, or your next check)',
  input: z.strictObject({
    ...agentTarget,
    limit: limit(100),
    ack: z.string().min(1).max(LIMITS.cursor).optional().describe('ack_cursor of your last mention_check: acknowledges that mail'),
  }),
  write: true,
  activity: false,
  async run(ctx, input) {
    const agent = await ctx.agent(input.agent_id, input.team_id);
    ctx.assertActsFor(agent, 'read the mailbox');
    return checkMail(ctx, agent, { limit: input.limit, ack: input.ack });
  },
});

const sendMessage = defineAction({
  tool: 'team_comm',
  action: 'send_message',
  summary: "direct message into an agent's mailbox (task_id links it to a task)",
  input: z.strictObject({ team_id: teamRef, to_agent: agentRef, content, thread_id: z.string().max(LIMITS.agentId).optional(), task_id: taskRef.optional() }),
  write: true,
  creates: true,
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
  creates: true,
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
  summary: 'team notifications, newest first; marks those returned read for you',
  input: z.strictObject({ team_id: teamRef, limit: limit(20), unread_only: z.boolean().default(false), cursor }),
  write: true,
  activity: false,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const position = decodeCursor('notifications', input.cursor, 2);
    const reader = ctx.actorKey;
    // An agent sees the team-wide notifications and its own; the owner and leads see all. Each reader has its
    // own read state: one listing them marks them read for it alone.
    const visible = ctx.db
      .selectFrom('team_notifications as n')
      .leftJoin('team_notification_reads as r', (join) => join.onRef('r.notification_id', '=', 'n.id').on('r.reader', '=', reader))
      .where('n.team_id', '=', team.id)
      .$if(!ctx.isLead, (q) => q.where((eb) => eb.or([eb('n.to_agent', '=', ''), eb('n.to_agent', '=', ctx.actorId)])));
    const rows = await visible
      .selectAll('n')
      .select('r.read_at as read_by_you_at')
      .$if(input.unread_only, (q) => q.where('r.read_at', 'is', null))
      .$if(position !== undefined, (q) => q.where(after(['n.created_at', 'n.id'], position!, 'desc')))
      .orderBy('n.created_at', 'desc')
      .orderBy('n.id', 'desc')
      .limit(input.limit + 1)
      .execute();
    // Each with its deliveries and their states (pending, sent, failed, held, dropped): see docs/notifications.md.
    const deliveries = await deliveryViews(ctx, rows.slice(0, input.limit).map((n) => n.id));
    const page = takePage(rows, {
      limit: input.limit,
      list: 'notifications',
      position: (n) => [n.created_at, n.id],
      render: ({ read_by_you_at, ...n }) => ({ ...n, read_at: read_by_you_at ?? '', ...deliveries(n.id) }),
    });
    const unread = page.items.filter((n) => !n.read_at).map((n) => n.id);
    if (unread.length) {
      await ctx.db.insertInto('team_notification_reads').values(unread.map((id) => ({ notification_id: id, reader, read_at: ctx.now }))).onConflict((c) => c.doNothing()).execute();
      ctx.emit({ team_id: team.id, type: 'notifications_read', message: `${ctx.actorId} read ${unread.length} notification${unread.length === 1 ? '' : 's'}`, related_id: ctx.actorId, data: { reader, count: unread.length } });
    }
    const left = await countUpTo(ctx, visible.where('r.read_at', 'is', null));
    return { team_id: team.id, notifications: page.items, count: page.items.length, unread_remaining: left.count, unread_remaining_capped: left.capped, ...pageFields(page) };
  },
});

export const commActions = [comment, mentionCheck, sendMessage, notify, notifyList];
