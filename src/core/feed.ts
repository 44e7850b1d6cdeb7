import { sql } from 'kysely';
import type { EventRow, MessageRow, TaskRow } from '../store/schema.js';
import type { Ctx } from './context.js';
import { cutFields, decodeCursor, encodeCursor, jsonBytes } from './paging.js';
import type { Page } from './paging.js';

export interface FeedEntry {
  at: string;
  /** comment, blocker, resolution, status_change (typed comments and status events), or the event's kind. */
  kind: string;
  agent: string;
  text: string;
  id: string;
  /** ['text'] when the text was cut (the marker in it names the call with the whole message). */
  cut?: string[];
}

/** Entries of one page of the feed, at most. */
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

/** A message in the feed, its content cut (see cutFields) with the call that returns it whole. */
const fromMessage = (message: MessageRow): FeedEntry =>
  cutFields(
    {
      at: message.created_at,
      kind: message.type || (message.to_agent ? 'message' : 'comment'),
      agent: message.from_agent || message.from_user,
      text: `${message.from_agent || message.from_user}${message.to_agent ? ` → ${message.to_agent}` : ''}: ${message.content}`,
      id: message.id,
    },
    ['text'],
    `team_comm(action='message_get', message_id='${message.id}')`,
  );

const clock = (iso: string) => iso.slice(11, 16);
const line = (e: FeedEntry) => `[${e.kind}] ${e.text} — ${clock(e.at)}`;

/** Where a page of the feed stops: its oldest entry's time, source (event or message) and seq or id. */
type FeedPosition = [at: string, source: 'e' | 'm', key: string | number];

/**
 * A task's activity in one chronological feed — its comments, the messages linked to it and its events — and the
 * same as the roadmap's text feed (`[status_change] codex claimed task — 03:00`). One page holds the newest
 * entries that fit `budget` bytes (both forms counted) and FEED_LIMIT; `next_cursor` pages to older ones.
 */
export async function taskFeed(ctx: Ctx, task: TaskRow, cursor: string | undefined, budget: number): Promise<{ feed: FeedEntry[]; feed_text: string } & Omit<Page<never>, 'items'>> {
  const before = decodeCursor('feed', cursor, 3) as FeedPosition | undefined;
  // The task's comments (its thread) and the messages linked to it, each read off its own index and merged: one
  // query with `task_id = ? or thread_id = ?` walked the team's messages newest first until it found a page.
  const linked = (column: 'task_id' | 'thread_id') =>
    ctx.db
      .selectFrom('team_messages')
      .selectAll()
      .where('team_id', '=', task.team_id)
      .where(column, '=', task.id)
      .where('deleted_at', '=', '')
      // A direct message linked to the task stays between its two ends (and the leads).
      .$if(!ctx.isLead, (q) => q.where((eb) => eb.or([eb('to_agent', '=', ''), eb('to_agent', '=', ctx.actorId), eb('from_agent', '=', ctx.actorId)])))
      // Within one instant a page's events come before its messages (see the merge below).
      .$if(before !== undefined, (q) => q.where(before![1] === 'm' ? sql<boolean>`(created_at, id) < (${before![0]}, ${before![2]})` : sql<boolean>`created_at < ${before![0]}`))
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(FEED_LIMIT + 1)
      .execute();
  const [byTask, inThread, events] = await Promise.all([
    linked('task_id'),
    linked('thread_id'),
    ctx.db
      .selectFrom('team_events')
      .selectAll()
      .where('related_id', '=', task.id)
      .where('type', 'not in', QUIET_EVENTS)
      .$if(before !== undefined, (q) => q.where(before![1] === 'e' ? sql<boolean>`(created_at, seq) < (${before![0]}, ${before![2]})` : sql<boolean>`created_at <= ${before![0]}`))
      .orderBy('created_at', 'desc')
      .orderBy('seq', 'desc')
      .limit(FEED_LIMIT + 1)
      .execute(),
  ]);
  const newestMessageFirst = (a: MessageRow, b: MessageRow) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1);
  const messages = [...new Map([...byTask, ...inThread].map((m) => [m.id, m])).values()].sort(newestMessageFirst).slice(0, FEED_LIMIT + 1);
  // Newest first: by time, and within one instant messages after events, each source in its own order.
  type Sourced = { entry: FeedEntry; position: FeedPosition };
  const sourced: Sourced[] = [
    ...events.map((e) => ({ entry: fromEvent(e), position: [e.created_at, 'e', e.seq] as FeedPosition })),
    ...messages.map((m) => ({ entry: fromMessage(m), position: [m.created_at, 'm', m.id] as FeedPosition })),
  ];
  const rank = ({ position: [at, source] }: Sourced) => `${at}${source === 'm' ? 1 : 0}`;
  const newestFirst = sourced
    .map((s, index) => ({ s, index }))
    .sort((a, b) => (rank(a.s) < rank(b.s) ? 1 : rank(a.s) > rank(b.s) ? -1 : a.index - b.index))
    .map(({ s }) => s);
  const page: Sourced[] = [];
  let used = 0;
  for (const s of newestFirst.slice(0, FEED_LIMIT)) {
    const bytes = jsonBytes(s.entry) + jsonBytes(line(s.entry)) + 2;
    if (page.length && used + bytes > budget) break;
    page.push(s);
    used += bytes;
  }
  const truncated = page.length < newestFirst.length;
  const entries = page.map((s) => s.entry).reverse();
  return {
    feed: entries,
    feed_text: entries.map(line).join('\n'),
    truncated,
    next_cursor: truncated ? encodeCursor('feed', page.at(-1)!.position) : null,
  };
}
