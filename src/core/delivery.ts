import type { AgentRow } from '../store/schema.js';
import type { Ctx } from './context.js';
import { validation } from './errors.js';
import { newOpaqueId } from './ids.js';
import { countUpTo, takePage } from './paging.js';

/**
 * Mail is delivered at least once. mention_check hands out an agent's unacknowledged mailbox copies, oldest first,
 * as much as one answer holds, and names the hand-out with an `ack_cursor`. Nothing is delivered or read until
 * it is acknowledged:
 * - by passing the cursor back (`mention_check(ack=<ack_cursor>)`, which then hands out the next batch),
 * - by mark_read or archive,
 * - or, when a session calls mention_check again without `ack`, for everything handed out to that same session
 *   before (it evidently got it: the seed's plain repeated mention_check never sees the same mail twice; a stdio
 *   session whose client gave up on a mention_check starts afresh, src/mcp/stdio.ts).
 * A copy handed out to a session that never acknowledged it — its process killed, its client gone, its answer
 * lost — is handed out again to the next call that asks, marked `redelivered`. A visibility timeout was the
 * alternative; it was rejected because it redelivers to a slow but live reader, and holds back the mail of a dead
 * one for the whole timeout.
 */

/** A hand-out id: the ack_cursor of one mention_check answer. */
const ACK_CURSOR = /^[0-9a-z]{16}$/;

/** The agent's copies not acknowledged yet, that mention_check hands out: not archived (a deleted message has none). */
export function unacknowledged(ctx: Ctx, agentId: string) {
  return ctx.db.selectFrom('team_pending_messages as p').where('p.to_agent', '=', agentId).where('p.delivered', '=', 0).where('p.archived_at', '=', '');
}

/** Which of an agent's copies to acknowledge: all of them, or those of one hand-out, of one session, or by id. */
export interface CopySelection {
  copyIds?: string[];
  handoutId?: string;
  handoutSession?: string;
  /** The copies archived at that instant (by the call under way). */
  archivedAt?: string;
}

/**
 * Marks the agent's unacknowledged copies that `which` selects delivered and read, and the messages all of whose
 * copies are now delivered; returns how many copies it acknowledged.
 */
export async function acknowledgeCopies(ctx: Ctx, agentId: string, which: CopySelection): Promise<number> {
  const copies = await ctx.db
    .selectFrom('team_pending_messages')
    .select(['id', 'message_id'])
    .where('to_agent', '=', agentId)
    .where('delivered', '=', 0)
    .$if(which.copyIds !== undefined, (q) => q.where('id', 'in', which.copyIds!.length ? which.copyIds! : ['']))
    .$if(which.handoutId !== undefined, (q) => q.where('handout_id', '=', which.handoutId!))
    .$if(which.handoutSession !== undefined, (q) => q.where('handout_session', '=', which.handoutSession!).where('handout_id', '!=', ''))
    .$if(which.archivedAt !== undefined, (q) => q.where('archived_at', '=', which.archivedAt!))
    .execute();
  if (copies.length === 0) return 0;
  const ids = copies.map((c) => c.id);
  await ctx.db.updateTable('team_pending_messages').set({ delivered: 1, delivered_at: ctx.now }).where('id', 'in', ids).execute();
  await ctx.db.updateTable('team_pending_messages').set({ read_at: ctx.now }).where('id', 'in', ids).where('read_at', '=', '').execute();
  const messageIds = [...new Set(copies.map((c) => c.message_id).filter(Boolean))];
  if (messageIds.length) {
    // A message counts as delivered once every mailbox copy of it has been acknowledged.
    await ctx.db
      .updateTable('team_messages')
      .set({ delivered: 1 })
      .where('id', 'in', messageIds)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('team_pending_messages as p').select('p.id').whereRef('p.message_id', '=', 'team_messages.id').where('p.delivered', '=', 0))),
      )
      .execute();
  }
  return copies.length;
}

/**
 * What a mention_check acknowledges before handing out more: the hand-out `ack` names, or without one, whatever
 * was handed out to this very session before. Recorded as a `mail_acknowledged` event.
 */
async function acknowledgeBefore(ctx: Ctx, agent: AgentRow, ack: string | undefined): Promise<number> {
  if (ack !== undefined && !ACK_CURSOR.test(ack)) throw validation('ack', 'is not an ack_cursor (pass the ack_cursor of your last mention_check)');
  const count = await acknowledgeCopies(ctx, agent.id, ack !== undefined ? { handoutId: ack } : { handoutSession: ctx.sessionKey });
  if (count) {
    ctx.emit({
      team_id: agent.team_id,
      type: 'mail_acknowledged',
      message: `${agent.id}'s mail acknowledged (${count})`,
      related_id: agent.id,
      data: { agent_id: agent.id, count, ...(ack ? { ack_cursor: ack } : { by: 'next mention_check of the session' }) },
    });
  }
  return count;
}

/**
 * One mention_check: acknowledges (see acknowledgeBefore), then hands out the oldest unacknowledged copies that fit
 * `limit` and one answer, recorded as a `mail_handed_out` event.
 */
export async function checkMail(ctx: Ctx, agent: AgentRow, options: { limit: number; ack?: string }) {
  const acknowledged = await acknowledgeBefore(ctx, agent, options.ack);
  const rows = await unacknowledged(ctx, agent.id)
    .selectAll('p')
    .orderBy('p.created_at')
    .orderBy('p.id')
    .limit(options.limit + 1)
    .execute();
  const page = takePage(rows, {
    limit: options.limit,
    list: 'mail',
    position: (row) => [row.id],
    render: ({ handout_id, handout_session: _session, handed_out_at: _at, ...copy }) => ({ ...copy, redelivered: handout_id !== '' }),
  });
  const ackCursor = page.items.length ? newOpaqueId() : null;
  if (ackCursor) {
    const ids = page.items.map((m) => m.id);
    await ctx.db.updateTable('team_pending_messages').set({ handout_id: ackCursor, handout_session: ctx.sessionKey, handed_out_at: ctx.now }).where('id', 'in', ids).execute();
    const redelivered = page.items.filter((m) => m.redelivered).length;
    ctx.emit({
      team_id: agent.team_id,
      type: 'mail_handed_out',
      message: `${agent.id}'s mail handed out (${ids.length}${redelivered ? `, ${redelivered} again` : ''})`,
      related_id: agent.id,
      data: { agent_id: agent.id, count: ids.length, redelivered, ack_cursor: ackCursor },
    });
  }
  // The page's copies are still unacknowledged: counted, then taken off.
  const left = await countUpTo(ctx, unacknowledged(ctx, agent.id), page.items.length);
  const remaining = left.count - page.items.length;
  return {
    agent_id: agent.id,
    messages: page.items,
    count: page.items.length,
    remaining,
    remaining_capped: left.capped,
    acknowledged,
    ack_cursor: ackCursor,
    truncated: remaining > 0,
    next_cursor: remaining > 0 ? ackCursor : null,
  };
}
