import { z } from 'zod';
import type { Ctx } from './context.js';
import { defineAction } from './action.js';
import { denied, notFound, validation } from './errors.js';
import { agentRef, agentTarget, cursor, isoDate, limit, teamRef } from './fields.js';
import { LIMITS } from './limits.js';
import { acknowledgeCopies } from './delivery.js';
import { after, countUpTo, cutFields, decodeCursor, pageFields, takePage } from './paging.js';
import { assertLead } from './roles.js';
import { post } from './threads.js';

/**
 * Mail management. Every message reaches an agent as its own mailbox copy (direct, broadcast, mention, thread
 * activity, notification), so read and archived state is per recipient: archiving a broadcast hides it for that
 * agent only, and archived copies never count as unread. Deleting a message (its author, or a lead) removes its copy
 * from every mailbox (so a mailbox is read, and its unread mail counted, without looking at the messages behind it);
 * purging (a lead) removes messages for good, and the event log keeps only that they existed.
 */

const ids = z.array(z.string().min(1).max(LIMITS.agentId)).min(1).max(LIMITS.pageSize);

async function mailboxOwner(ctx: Ctx, agentId: string | undefined, teamRef: string | undefined, what: string) {
  const agent = await ctx.agent(agentId, teamRef);
  ctx.assertActsFor(agent, what);
  return agent;
}

/** The recipient's copies among `messageIds` (a copy's own id or its message's id). */
async function copies(ctx: Ctx, agentId: string, messageIds: string[]) {
  const found = await ctx.db
    .selectFrom('team_pending_messages')
    .select(['id', 'message_id'])
    .where('to_agent', '=', agentId)
    .where((eb) => eb.or([eb('id', 'in', messageIds), eb('message_id', 'in', messageIds)]))
    .execute();
  const missing = messageIds.filter((id) => !found.some((c) => c.id === id || c.message_id === id));
  if (missing.length) throw validation('message_ids', `not in ${agentId}'s mailbox: ${missing.join(', ')}`, { missing });
  return found.map((c) => c.id);
}

const inbox = defineAction({
  tool: 'team_comm',
  action: 'inbox',
  summary: 'your mailbox, newest first, with read state and unread_count (up to 1000: unread_count_capped)',
  input: z.strictObject({
    ...agentTarget,
    unread_only: z.boolean().default(false),
    sender: agentRef.optional(),
    since: isoDate.optional(),
    thread_id: z.string().max(LIMITS.agentId).optional(),
    include_archived: z.boolean().default(false),
    limit: limit(50),
    cursor,
  }),
  write: false,
  async run(ctx, input) {
    const agent = await mailboxOwner(ctx, input.agent_id, input.team_id, 'read the mailbox');
    const position = decodeCursor('inbox', input.cursor, 2);
    const mailbox = ctx.db.selectFrom('team_pending_messages as p').where('p.to_agent', '=', agent.id);
    let query = mailbox.select(['p.id', 'p.message_id', 'p.from_agent', 'p.from_user', 'p.content', 'p.thread_id', 'p.task_id', 'p.reason', 'p.created_at', 'p.delivered', 'p.read_at', 'p.archived_at']);
    if (!input.include_archived) query = query.where('p.archived_at', '=', '');
    if (input.unread_only) query = query.where('p.read_at', '=', '');
    if (input.sender) {
      const sender = input.sender.toLowerCase();
      query = query.where((eb) => eb.or([eb('p.from_agent', '=', sender), eb('p.from_user', '=', input.sender!)]));
    }
    if (input.since) query = query.where('p.created_at', '>=', input.since);
    if (input.thread_id) query = query.where('p.thread_id', '=', input.thread_id);
    if (position) query = query.where(after(['p.created_at', 'p.id'], position, 'desc'));
    const rows = await query.orderBy('p.created_at', 'desc').orderBy('p.id', 'desc').limit(input.limit + 1).execute();
    const page = takePage(rows, {
      limit: input.limit,
      list: 'inbox',
      position: (r) => [r.created_at, r.id],
      render: (r) => cutFields({ ...r, read: r.read_at !== '', archived: r.archived_at !== '' }, ['content'], `team_comm(action='message_get', message_id='${r.id}')`),
    });
    const unread = await countUpTo(ctx, mailbox.where('p.archived_at', '=', '').where('p.read_at', '=', ''));
    return { agent_id: agent.id, messages: page.items, count: page.items.length, unread_count: unread.count, unread_count_capped: unread.capped, ...pageFields(page) };
  },
});

const markRead = defineAction({
  tool: 'team_comm',
  action: 'mark_read',
  summary: 'mark message_ids (or all=true) read in your mailbox (acknowledges them)',
  input: z.strictObject({ ...agentTarget, message_ids: ids.optional(), all: z.boolean().optional() }),
  write: true,
  activity: false,
  async run(ctx, input) {
    const agent = await mailboxOwner(ctx, input.agent_id, input.team_id, 'change the mailbox');
    if (!input.message_ids && !input.all) throw validation('message_ids', 'is required (or all=true)');
    const copyIds = input.message_ids ? await copies(ctx, agent.id, input.message_ids) : undefined;
    let query = ctx.db.updateTable('team_pending_messages').set({ read_at: ctx.now }).where('to_agent', '=', agent.id).where('read_at', '=', '');
    if (copyIds) query = query.where('id', 'in', copyIds);
    const marked = Number((await query.executeTakeFirst()).numUpdatedRows);
    // Read is acknowledged: mention_check will not hand it out again.
    const acknowledged = await acknowledgeCopies(ctx, agent.id, copyIds ? { copyIds } : {});
    if (marked || acknowledged) {
      ctx.emit({ team_id: agent.team_id, type: 'messages_read', message: `${agent.id} marked mail read (${marked})`, related_id: agent.id, data: { agent_id: agent.id, count: marked, acknowledged } });
    }
    return { agent_id: agent.id, marked_read: marked };
  },
});

interface Selection {
  copyIds?: string[];
  before?: string;
  sender?: string;
}

/** Archives the recipient's selected copies: hidden unless include_archived, read and acknowledged. */
async function archiveCopies(ctx: Ctx, agentId: string, teamId: string, selection: Selection, why: string) {
  let query = ctx.db.updateTable('team_pending_messages').set({ archived_at: ctx.now }).where('to_agent', '=', agentId).where('archived_at', '=', '');
  if (selection.copyIds) query = query.where('id', 'in', selection.copyIds);
  if (selection.before) query = query.where('created_at', '<', selection.before);
  if (selection.sender) {
    const sender = selection.sender;
    query = query.where((eb) => eb.or([eb('from_agent', '=', sender.toLowerCase()), eb('from_user', '=', sender)]));
  }
  const count = Number((await query.executeTakeFirst()).numUpdatedRows);
  await ctx.db.updateTable('team_pending_messages').set({ read_at: ctx.now }).where('to_agent', '=', agentId).where('archived_at', '=', ctx.now).where('read_at', '=', '').execute();
  // Archived is acknowledged: mention_check will not hand it out again.
  const acknowledged = await acknowledgeCopies(ctx, agentId, { archivedAt: ctx.now });
  if (count) ctx.emit({ team_id: teamId, type: 'messages_archived', message: `${agentId} ${why} (${count})`, related_id: agentId, data: { count, acknowledged } });
  return count;
}

const archive = defineAction({
  tool: 'team_comm',
  action: 'archive',
  summary: 'archive message_ids in your mailbox (marks them read)',
  input: z.strictObject({ ...agentTarget, message_ids: ids }),
  write: true,
  activity: false,
  async run(ctx, input) {
    const agent = await mailboxOwner(ctx, input.agent_id, input.team_id, 'change the mailbox');
    const copyIds = await copies(ctx, agent.id, input.message_ids);
    const archived = await archiveCopies(ctx, agent.id, agent.team_id, { copyIds }, 'archived messages');
    return { agent_id: agent.id, archived };
  },
});

const clearInbox = defineAction({
  tool: 'team_comm',
  action: 'clear_inbox',
  summary: 'archive your whole mailbox, or what came before_date and/or from sender',
  input: z.strictObject({ ...agentTarget, before_date: isoDate.optional(), sender: agentRef.optional() }),
  write: true,
  activity: false,
  async run(ctx, input) {
    const agent = await mailboxOwner(ctx, input.agent_id, input.team_id, 'change the mailbox');
    const archived = await archiveCopies(ctx, agent.id, agent.team_id, { before: input.before_date, sender: input.sender }, 'cleared the inbox');
    return { agent_id: agent.id, archived };
  },
});

const remove = defineAction({
  tool: 'team_comm',
  action: 'delete',
  summary: 'delete a message you sent (a lead: any) from every mailbox',
  input: z.strictObject({ team_id: teamRef, message_id: z.string().min(1).max(LIMITS.agentId) }),
  write: true,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const message = await ctx.db.selectFrom('team_messages').selectAll().where('team_id', '=', team.id).where('id', '=', input.message_id).where('deleted_at', '=', '').executeTakeFirst();
    if (!message) throw notFound('message', input.message_id, "a mailbox copy's message_id names it (team_comm(action='inbox'))");
    const author = message.from_agent || message.from_user;
    const own = ctx.actor.kind === 'agent' ? message.from_agent === ctx.actorId : message.from_user === ctx.actorId;
    if (!own && !ctx.isLead) throw denied(`agent '${ctx.actorId}' may delete only its own messages (this one is ${author}'s); a lead or the owner may delete any`, { author });
    await ctx.db.updateTable('team_messages').set({ deleted_at: ctx.now }).where('id', '=', message.id).execute();
    await ctx.db.deleteFrom('team_pending_messages').where('message_id', '=', message.id).execute();
    ctx.emit({ team_id: team.id, type: 'message_deleted', message: `${ctx.actorId} deleted a message by ${author}`, related_id: message.id, data: { author, thread_id: message.thread_id } });
    return { deleted: true, id: message.id };
  },
});

const purge = defineAction({
  tool: 'team_comm',
  action: 'purge',
  summary: 'lead/owner: hard-delete messages and notifications before before_date',
  input: z.strictObject({ team_id: teamRef, before_date: isoDate }),
  write: true,
  async run(ctx, input) {
    assertLead(ctx, 'purge messages');
    const team = await ctx.team(input.team_id);
    const doomed = await ctx.db.selectFrom('team_messages').select(['id', 'thread_id', 'from_agent', 'from_user', 'created_at']).where('team_id', '=', team.id).where('created_at', '<', input.before_date).execute();
    const messageIds = doomed.map((m) => m.id);
    for (let i = 0; i < messageIds.length; i += 500) {
      const chunk = messageIds.slice(i, i + 500);
      await ctx.db.deleteFrom('team_pending_messages').where('message_id', 'in', chunk).execute();
      await ctx.db.deleteFrom('team_messages').where('id', 'in', chunk).execute();
    }
    await ctx.db.deleteFrom('team_pending_messages').where('team_id', '=', team.id).where('message_id', '=', '').where('created_at', '<', input.before_date).execute();
    const notifications = await ctx.db.deleteFrom('team_notifications').where('team_id', '=', team.id).where('created_at', '<', input.before_date).executeTakeFirst();
    for (const m of doomed) {
      ctx.emit({ team_id: team.id, type: 'message_purged', message: `a message by ${m.from_agent || m.from_user} of ${m.created_at} was purged`, related_id: m.id, data: { thread_id: m.thread_id, sent_at: m.created_at } });
    }
    const notificationsPurged = Number(notifications.numDeletedRows);
    if (notificationsPurged) {
      ctx.emit({ team_id: team.id, type: 'notifications_purged', message: `${notificationsPurged} notifications from before ${input.before_date} were purged`, related_id: team.id, data: { count: notificationsPurged, before_date: input.before_date } });
    }
    return { purged: messageIds.length, notifications_purged: notificationsPurged, before_date: input.before_date };
  },
});

const broadcast = defineAction({
  tool: 'team_comm',
  action: 'broadcast',
  summary: 'message every agent of the team',
  input: z.strictObject({ team_id: teamRef, content: z.string().trim().min(1).max(LIMITS.messageContent) }),
  write: true,
  creates: true,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    return post(ctx, { teamId: team.id, threadId: '', content: input.content, broadcast: true });
  },
});

const messageGet = defineAction({
  tool: 'team_comm',
  action: 'message_get',
  summary: 'one message in full (its id, or your mailbox copy\'s)',
  input: z.strictObject({ team_id: teamRef, message_id: z.string().min(1).max(LIMITS.agentId) }),
  write: false,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const copy = await ctx.db.selectFrom('team_pending_messages').selectAll().where('id', '=', input.message_id).where('team_id', '=', team.id).executeTakeFirst();
    if (copy && (copy.to_agent === ctx.actorId || ctx.isLead) && !copy.message_id) {
      // A notification's copy has no message behind it.
      const { handout_id: _h, handout_session: _s, handed_out_at: _a, ...mail } = copy;
      return mail;
    }
    const messageId = copy && (copy.to_agent === ctx.actorId || ctx.isLead) ? copy.message_id : input.message_id;
    const message = await ctx.db.selectFrom('team_messages').selectAll().where('id', '=', messageId).where('team_id', '=', team.id).where('deleted_at', '=', '').executeTakeFirst();
    // A direct message stays between its two ends (and the leads), as in the task feed.
    const visible = message && (!message.to_agent || ctx.isLead || message.to_agent === ctx.actorId || message.from_agent === ctx.actorId);
    if (!message || !visible) throw notFound('message', input.message_id, "its id comes from team_comm(action='inbox') or a task's feed");
    return { ...message, mentions: JSON.parse(message.mentions) as string[] };
  },
});

export const mailboxActions = [inbox, messageGet, markRead, archive, clearInbox, remove, purge, broadcast];
