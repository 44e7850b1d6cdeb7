import type { Db } from './store.js';
import type { EventRow } from './schema.js';

export type FeedListener = (events: readonly EventRow[]) => void;

export interface FeedSubscription {
  close(): void;
}

/**
 * Tails the event log for one process. Each subscriber receives every committed event after the sequence number it
 * started from exactly once, in sequence order: first what the log already holds (catch-up), then each new commit.
 * A wake — an in-process commit, another process's commit noticed by the dialect — is only a hint: the feed always
 * reads the log from where it stopped, so a missed or duplicated hint never loses or repeats an event.
 *
 * Consumers (SSE streams, MCP resource subscriptions, the runner, the notification sender) filter what they receive;
 * `src/core/audience.ts` says whom an event concerns and who may see it.
 */
export interface EventFeed {
  /** The sequence number of the newest committed event (0 for an empty log). */
  head(): Promise<number>;
  subscribe(afterSeq: number, listener: FeedListener): FeedSubscription;
  /** Something may have committed: read the log now rather than at the next poll. */
  wake(): void;
  close(): Promise<void>;
}

/** How a dialect notices commits made by other connections without reading the log. */
export interface CommitSignal {
  /** Resolves to a value that differs from the last one whenever another connection may have committed. */
  version(): Promise<unknown>;
  /** How often to ask `version` while anyone listens. */
  readonly pollMs: number;
  /** Calls `wake` as soon as another connection commits, when the dialect can tell (a hint, beside polling); returns how to stop. */
  listen?(wake: () => void): () => void;
  /**
   * Resolves once every commit that was visible when it was called is durable, where a commit may be seen before it
   * is (PostgreSQL's shared flushes, `commitInGroups`): the feed hands on only durable events and heads. Absent where
   * a commit is seen only once durable.
   */
  durable?(): Promise<void>;
}

interface Subscriber {
  cursor: number;
  listener: FeedListener;
  /** Still reading the log up to the live tail on its own; the live tail skips it meanwhile. */
  catchingUp: boolean;
}

const PAGE = 500;

/**
 * The feed over any dialect: the live tail reads new rows once for all subscribers; a subscriber that starts behind
 * it reads its own pages until it reaches the tail, then joins. Polling runs only while someone listens.
 */
export class LogFeed implements EventFeed {
  private readonly subscribers = new Set<Subscriber>();
  /** Every event up to here has been read by the live tail (and handed to each live subscriber). */
  private tail: number | undefined;
  private lastVersion: unknown;
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => void) | undefined;
  private pumping: Promise<void> | undefined;
  private dirty = false;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly signal: CommitSignal,
    private readonly log: (line: string) => void = () => {},
  ) {}

  async head(): Promise<number> {
    const row = await this.db.selectFrom('team_events').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
    // A head a crash could take back would let the sequence hand its number out again, behind whoever starts there.
    await this.signal.durable?.();
    return Number(row?.seq ?? 0);
  }

  subscribe(afterSeq: number, listener: FeedListener): FeedSubscription {
    const subscriber: Subscriber = { cursor: afterSeq, listener, catchingUp: true };
    this.subscribers.add(subscriber);
    this.startPolling();
    void this.catchUp(subscriber).catch((error) => this.log(`event feed: catch-up failed: ${(error as Error)?.stack ?? error}`));
    return {
      close: () => {
        this.subscribers.delete(subscriber);
        if (this.subscribers.size === 0) this.stopPolling();
      },
    };
  }

  wake(): void {
    if (this.closed || this.subscribers.size === 0) return;
    this.dirty = true;
    this.pumping ??= this.pump().finally(() => (this.pumping = undefined));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopPolling();
    this.subscribers.clear();
    await this.pumping;
  }

  private async readAfter(seq: number): Promise<EventRow[]> {
    const rows = await this.db.selectFrom('team_events').selectAll().where('seq', '>', seq).orderBy('seq').limit(PAGE).execute();
    // What is handed on — to a push stream, the notification sender, the runner — must outlive a crash of the database.
    if (rows.length) await this.signal.durable?.();
    return rows;
  }

  private deliver(subscriber: Subscriber, rows: readonly EventRow[]) {
    const fresh = rows.filter((row) => row.seq > subscriber.cursor);
    if (fresh.length === 0) return;
    subscriber.cursor = fresh.at(-1)!.seq;
    try {
      subscriber.listener(fresh);
    } catch (error) {
      this.log(`event feed: a listener failed: ${(error as Error)?.stack ?? error}`);
    }
  }

  /** The live tail starts at the log's head when the first subscriber arrives. */
  private async tailSeq(): Promise<number> {
    if (this.tail === undefined) {
      const head = await this.head();
      this.tail ??= head;
    }
    return this.tail;
  }

  private async catchUp(subscriber: Subscriber): Promise<void> {
    await this.tailSeq();
    for (;;) {
      if (!this.subscribers.has(subscriber)) return;
      // Joining is decided in the same tick as the check, so no live delivery can slip between them.
      if (subscriber.cursor >= this.tail!) {
        subscriber.catchingUp = false;
        return;
      }
      const tailBefore = this.tail!;
      const rows = await this.readAfter(subscriber.cursor);
      const tail = this.tail!;
      this.deliver(subscriber, rows.filter((row) => row.seq <= tail));
      // A short page read everything committed when it ran: every event up to the tail known before it is behind
      // the cursor now, even across gaps in the sequence. A full page reaching past the tail holds all up to it.
      if (rows.length < PAGE) subscriber.cursor = Math.max(subscriber.cursor, tailBefore);
      else if (rows.at(-1)!.seq > tail) subscriber.cursor = Math.max(subscriber.cursor, tail);
    }
  }

  private async pump(): Promise<void> {
    while (this.dirty && !this.closed) {
      this.dirty = false;
      try {
        for (;;) {
          const rows = await this.readAfter(await this.tailSeq());
          if (rows.length === 0) break;
          this.tail = rows.at(-1)!.seq;
          for (const subscriber of this.subscribers) if (!subscriber.catchingUp) this.deliver(subscriber, rows);
          if (rows.length < PAGE) break;
        }
      } catch (error) {
        this.log(`event feed: reading the log failed: ${(error as Error)?.stack ?? error}`);
      }
    }
  }

  private startPolling() {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => {
      this.signal
        .version()
        .then((version) => {
          if (version !== this.lastVersion) {
            this.lastVersion = version;
            this.wake();
          }
        })
        .catch((error) => this.log(`event feed: polling failed: ${(error as Error)?.message ?? error}`));
    }, this.signal.pollMs);
    this.timer.unref();
    this.unlisten = this.signal.listen?.(() => this.wake());
  }

  private stopPolling() {
    clearInterval(this.timer);
    this.timer = undefined;
    this.unlisten?.();
    this.unlisten = undefined;
  }
}
