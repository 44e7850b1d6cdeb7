import type { EventRow, MessageRow, TaskRow } from '../store/schema.js';
import type { Ctx } from './context.js';

export interface FeedEntry {
  at: string;
  /** comment, blocker, resolution, status_change (typed comments and status events), or the event's kind. */
  kind: string;
  agent: string;
  text: string;
  id: string;
}

const FEED_LIMIT = 200;
const QUIET_EVENTS = ['subscribed', 'mention', 'notification_sent'];

function fromEvent(event: EventRow): FeedEntry {
  const data = JSON.parse(event.data) as Record<string, unknown>;
  const who = event.agent_id;
  const to = data.to as string | undefined;
  const status = (text: string) => ({ kind: 'status_change', text });
  const { kind, text } = ((): { kind: string; text: string } => {
    switch (event.type) {
      case 'task_created':
        return { kind: 'created', text: `${who} created task` };
      case 'task_claimed':
        return status(`${who} claimed task`);
      case 'task_approved':
        return status(`${who} approved → ${to}`);
      case 'task_changes_requested':
        return status(`${who} requested changes → ${to}`);
      case 'task_lease_expired':
        return status(`lease of ${data.holder} expired → ${to}`);
      case 'task_released':
        return status(`${who} released task → ${to}`);
      case 'task_reassigned':
        return { kind: 'assigned', text: `${who} reassigned task to ${data.to_agent}` };
      case 'task_assigned':
        return { kind: 'assigned', text: `${who} assigned ${(data.assignees as string[]).join(', ') || 'nobody'}` };
      case 'task_updated':
        return to ? status(`${who} moved task ${data.from} → ${to}${data.reason ? ` (${data.reason})` : ''}`) : { kind: 'updated', text: `${who} updated ${(data.fields as string[] | undefined)?.join(', ') || 'task'}` };
      default:
        return to ? status(`${who}: ${event.message}`) : { kind: event.type.replace(/^task_/, ''), text: event.message };
    }
  })();
  return { at: event.created_at, kind, agent: who, text, id: event.id };
}

const fromMessage = (message: MessageRow): FeedEntry => ({
  at: message.created_at,
  kind: message.type || (message.to_agent ? 'message' : 'comment'),
  agent: message.from_agent || message.from_user,
  text: `${message.from_agent || message.from_user}${message.to_agent ? ` → ${message.to_agent}` : ''}: ${message.content}`,
  id: message.id,
});

const clock = (iso: string) => iso.slice(11, 16);

/**
 * A task's activity in one chronological feed — its comments, the messages linked to it and its events — and the
 * same as the roadmap's text feed (`[status_change] codex claimed task — 03:00`).
 */
export async function taskFeed(ctx: Ctx, task: TaskRow): Promise<{ feed: FeedEntry[]; feed_text: string }> {
  const [messages, events] = await Promise.all([
    ctx.db
      .selectFrom('team_messages')
      .selectAll()
      .where('team_id', '=', task.team_id)
      .where((eb) => eb.or([eb('task_id', '=', task.id), eb('thread_id', '=', task.id)]))
      .where('deleted_at', '=', '')
      // A direct message linked to the task stays between its two ends (and the leads).
      .$if(!ctx.isLead, (q) => q.where((eb) => eb.or([eb('to_agent', '=', ''), eb('to_agent', '=', ctx.actorId), eb('from_agent', '=', ctx.actorId)])))
      .orderBy('created_at', 'desc')
      .limit(FEED_LIMIT)
      .execute(),
    ctx.db
      .selectFrom('team_events')
      .selectAll()
      .where('related_id', '=', task.id)
      .where('type', 'not in', QUIET_EVENTS)
      .orderBy('seq', 'desc')
      .limit(FEED_LIMIT)
      .execute(),
  ]);
  // Stable merge by time: within one instant, the order each source recorded.
  const entries = [...events.reverse().map(fromEvent), ...messages.reverse().map(fromMessage)]
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => a.entry.at.localeCompare(b.entry.at) || a.index - b.index)
    .map(({ entry }) => entry)
    .slice(-FEED_LIMIT);
  return { feed: entries, feed_text: entries.map((e) => `[${e.kind}] ${e.text} — ${clock(e.at)}`).join('\n') };
}
