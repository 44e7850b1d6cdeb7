import { audienceOf } from '../core/audience.js';
import type { EventFeed, FeedSubscription } from '../store/feed.js';
import type { EventRow } from '../store/schema.js';

/** One open event stream, as the hub dispatches to it. */
export interface HubStream {
  /** The agent whose concerns the stream carries; undefined for a broad stream (a whole team, or everything). */
  readonly agentId: string | undefined;
  /** Whether the stream carries `event` (its scope, and what its viewer may see). */
  wants(event: EventRow): boolean;
  /** Why the stream must end at `event`, if it must (its token revoked, its agent deleted …). */
  endsAt(event: EventRow): string | undefined;
  /** The token it was opened with, and the agent it was opened as (if an agent): what can end it. */
  readonly tokenId: string;
  readonly viewerId: string | undefined;
  /** Every event up to here was offered to it (it resumes after this sequence number). */
  cursor: number;
  send(text: string): void;
  /** Sends `text`, a final event, and closes. */
  end(text: string): void;
}

/** An event of the log as a stream frame: its sequence number is the SSE id, the event itself the data. */
const frames = new WeakMap<EventRow, string>();
export function frameOf(event: EventRow): string {
  let frame = frames.get(event);
  if (frame === undefined) {
    const { data, ...rest } = event;
    frame = `id: ${event.seq}\ndata: ${JSON.stringify({ ...rest, data: JSON.parse(data || '{}') })}\n\n`;
    frames.set(event, frame);
  }
  return frame;
}

export const control = (name: string, data: Record<string, unknown>) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

const add = <K, V>(map: Map<K, Set<V>>, key: K | undefined, value: V) => {
  if (key === undefined) return;
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
};
const remove = <K, V>(map: Map<K, Set<V>>, key: K | undefined, value: V) => {
  if (key === undefined) return;
  const set = map.get(key);
  set?.delete(value);
  if (set?.size === 0) map.delete(key);
};

/**
 * Dispatches the event log to every open stream of this server from ONE subscription to the feed: each event goes to
 * the streams of the agents it concerns (found by index) and to the few broad ones, so an event costs the same with
 * 5,000 streams open as with 50. (One feed subscription per stream — the obvious way — offers every event to every
 * stream: at 2,000 streams that measured ~10 ms of work per event on this machine.)
 *
 * A stream that starts behind the live tail (it resumes from an older event) reads the log through a subscription of
 * its own until it has caught up, then joins the index — the feed's catch-up guarantees it misses nothing.
 */
export class StreamHub {
  /** Every event up to here has been dispatched to the indexed streams. */
  private cursor = 0;
  private starting: Promise<void> | undefined;
  private subscription: FeedSubscription | undefined;
  private readonly byAgent = new Map<string, Set<HubStream>>();
  private readonly broad = new Set<HubStream>();
  private readonly byToken = new Map<string, Set<HubStream>>();
  private readonly byViewer = new Map<string, Set<HubStream>>();
  private readonly catchingUp = new Map<HubStream, FeedSubscription>();
  private readonly all = new Set<HubStream>();

  constructor(private readonly feed: EventFeed) {}

  get size(): number {
    return this.all.size;
  }

  streams(): Iterable<HubStream> {
    return this.all;
  }

  async add(stream: HubStream): Promise<void> {
    // A start that failed (the store was unreachable) is tried again by the next stream, not remembered.
    await (this.starting ??= this.start().catch((error) => {
      this.starting = undefined;
      throw error;
    }));
    this.all.add(stream);
    if (stream.cursor >= this.cursor) return this.index(stream);
    let subscription: FeedSubscription | undefined = undefined;
    subscription = this.feed.subscribe(stream.cursor, (events) => {
      this.catchUp(stream, events);
      // The hub has dispatched everything the stream has now seen: from here on the hub serves it.
      if (stream.cursor >= this.cursor && this.catchingUp.has(stream)) {
        subscription!.close();
        this.catchingUp.delete(stream);
        this.index(stream);
      }
    });
    this.catchingUp.set(stream, subscription);
  }

  remove(stream: HubStream): void {
    this.all.delete(stream);
    this.catchingUp.get(stream)?.close();
    this.catchingUp.delete(stream);
    remove(this.byAgent, stream.agentId, stream);
    this.broad.delete(stream);
    remove(this.byToken, stream.tokenId, stream);
    remove(this.byViewer, stream.viewerId, stream);
  }

  close(): void {
    this.subscription?.close();
    for (const stream of [...this.all]) this.remove(stream);
  }

  private async start(): Promise<void> {
    this.cursor = await this.feed.head();
    this.subscription = this.feed.subscribe(this.cursor, (events) => this.dispatch(events));
  }

  private index(stream: HubStream) {
    if (stream.agentId === undefined) this.broad.add(stream);
    else add(this.byAgent, stream.agentId, stream);
    add(this.byToken, stream.tokenId, stream);
    add(this.byViewer, stream.viewerId, stream);
  }

  private finish(stream: HubStream, pending: string, reason: string) {
    this.remove(stream);
    stream.end(pending + control('closing', { reason }));
  }

  /** The live tail: each event to the streams it may end, the streams of the agents it concerns, the broad ones. */
  private dispatch(events: readonly EventRow[]) {
    const out = new Map<HubStream, string>();
    const offer = (stream: HubStream, event: EventRow) => {
      if (event.seq <= stream.cursor || !stream.wants(event)) return;
      out.set(stream, (out.get(stream) ?? '') + frameOf(event));
      stream.cursor = event.seq;
    };
    for (const event of events) {
      this.cursor = event.seq;
      for (const stream of [...(this.byToken.get(event.related_id) ?? []), ...(this.byViewer.get(event.related_id) ?? [])]) {
        const reason = stream.endsAt(event);
        if (!reason) continue;
        this.finish(stream, out.get(stream) ?? '', reason);
        out.delete(stream);
      }
      for (const agentId of audienceOf(event).concerns) for (const stream of this.byAgent.get(agentId) ?? []) offer(stream, event);
      for (const stream of this.broad) offer(stream, event);
    }
    for (const [stream, text] of out) stream.send(text);
  }

  /** A stream reading the log on its own: every event is offered to it, and it has seen every one. */
  private catchUp(stream: HubStream, events: readonly EventRow[]) {
    let text = '';
    for (const event of events) {
      const reason = stream.endsAt(event);
      if (reason) return this.finish(stream, text, reason);
      if (event.seq > stream.cursor && stream.wants(event)) text += frameOf(event);
      stream.cursor = Math.max(stream.cursor, event.seq);
    }
    if (text) stream.send(text);
  }
}
