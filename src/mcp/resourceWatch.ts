import type { Core } from '../core/core.js';
import type { FeedSubscription } from '../store/feed.js';
import type { EventRow } from '../store/schema.js';
import { resourceUri } from './resources.js';

/**
 * Turns the event log into resource changes: tails the process's event feed (which sees the commits of every
 * process on the database) and hands `changed` the URIs each batch of events may have changed, once per batch. The
 * adapters decide who hears of them: a 2025-era stdio session the URIs it subscribed to; a 2026-07-28 session's
 * listen streams, which the SDK's entries filter by the URIs the client named.
 */
export class ResourceWatch {
  private starting?: Promise<void>;
  private subscription?: FeedSubscription;
  /** Batches are turned into URIs one after the other, so that changes are told in the order they committed. */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly core: () => Promise<Core>,
    private readonly changed: (uris: string[]) => void,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** Starts tailing at the log's current head (idempotent); resolves once every later commit will be seen. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      const core = await this.core();
      const head = await core.feed.head();
      if (this.closed) return;
      this.subscription = core.feed.subscribe(head, (events) => {
        this.queue = this.queue.then(() => this.tell(core, events)).catch((error) => this.log(`resource watch: ${(error as Error)?.stack ?? error}`));
      });
    })().catch((error) => {
      this.starting = undefined;
      throw error;
    });
    return this.starting;
  }

  close(): void {
    this.closed = true;
    this.subscription?.close();
  }

  private async tell(core: Core, events: readonly EventRow[]): Promise<void> {
    const { changedResources } = await import('../core/resources.js');
    const uris = new Set<string>();
    for (const event of events) for (const ref of await changedResources(core, event)) uris.add(resourceUri(ref));
    if (uris.size && !this.closed) this.changed([...uris]);
  }
}
