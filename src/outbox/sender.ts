import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Core } from '../core/core.js';
import type { AttemptOutcome, DueDelivery } from '../core/outbox.js';
import type { FeedSubscription } from '../store/feed.js';
import type { Leader } from '../store/leader.js';
import { NotConfigured, requestFor } from './formats.js';
import { attempt } from './http.js';
import type { Post } from './http.js';

/**
 * The notification sender: sends the outbox's deliveries after their transaction committed, at least once. One
 * process per database sends (the leader lease `notification-sender`); each delivery is also taken under a lease
 * of its own, so a leader that stalled and was replaced never sends one twice while both live. It wakes on the
 * event feed when a notification is written (in this process or another), at the time the next retry or the end
 * of quiet hours falls due, and at least every `idleMs` (5 s); on taking the lead it picks up whatever is pending,
 * which is how deliveries survive a restart.
 */

export interface SenderOptions {
  log?: (line: string) => void;
  /** Deliveries in flight at once. */
  concurrency?: number;
  /** Longest sleep between two looks at the outbox. */
  idleMs?: number;
  /** How a request is sent (tests stand in a receiver's answers). */
  post?: Post;
  /** Where `url_env`, `token_env` and `secret_env` are read. */
  env?: Record<string, string | undefined>;
}

/** How long a wake from the event feed waits for more notifications to claim with it. */
const COALESCE_MS = 50;

/** Events after which deliveries may be due. */
const WAKE_EVENTS = new Set(['notification_sent', 'notification_retried']);

type Finished = { delivery: DueDelivery; outcome: AttemptOutcome };

export class NotificationSender {
  readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private leader: Leader | undefined;
  private active = false;
  /** Counts takeovers and hand-overs: a takeover that lost the lead while it waited, and led again, does nothing. */
  private term = 0;
  private subscription: FeedSubscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private again = false;
  private pumping: Promise<void> | undefined;
  private flushing: Promise<void> | undefined;
  private readonly finished: Finished[] = [];
  private readonly sending = new Set<Promise<void>>();
  private readonly log: (line: string) => void;
  private readonly concurrency: number;
  private readonly idleMs: number;

  constructor(
    private readonly core: Core,
    private readonly options: SenderOptions = {},
  ) {
    this.log = options.log ?? (() => {});
    this.concurrency = options.concurrency ?? 16;
    this.idleMs = options.idleMs ?? 5_000;
  }

  /** Competes for the lead and sends while it has it. */
  async start(): Promise<void> {
    if (this.leader) return;
    this.leader = this.core.leader('notification-sender', { log: this.log });
    this.leader.onChange((leading) => (leading ? this.activate() : this.deactivate()));
    await this.leader.start();
  }

  /** Gives the lead up at once (another process takes over) after the attempts under way have been recorded. */
  async stop(): Promise<void> {
    this.deactivate();
    while (this.sending.size || this.flushing) await Promise.allSettled([...this.sending, this.flushing]);
    await this.leader?.stop();
  }

  get isSending(): boolean {
    return this.active;
  }

  /**
   * Sends everything due now and waits for the outcomes, without the lead: for tests with an injected clock and for
   * one-off runs. Answers how many attempts were made.
   */
  async sendDue(): Promise<number> {
    let attempts = 0;
    for (let round = 0; round < 1_000; round++) {
      const { deliveries, scanned } = await this.core.outbox.claimDue(this.holder, this.concurrency);
      if (scanned === 0) break;
      const results = await Promise.all(deliveries.map(async (delivery) => ({ delivery, outcome: await this.send(delivery) })));
      await this.core.outbox.complete(this.holder, results);
      attempts += results.length;
    }
    return attempts;
  }

  private activate() {
    this.active = true;
    const term = ++this.term;
    this.core.feed
      .head()
      .then((head) => {
        if (term !== this.term) return;
        this.subscription = this.core.feed.subscribe(head, (events) => {
          if (events.some((e) => WAKE_EVENTS.has(e.type))) this.wakeSoon();
        });
      })
      .catch((error) => this.log(`notification sender: cannot follow the event feed: ${error}`));
    this.wake();
  }

  private deactivate() {
    this.active = false;
    this.term++;
    this.subscription?.close();
    this.subscription = undefined;
    clearTimeout(this.timer);
    clearTimeout(this.soon);
    this.soon = undefined;
  }

  /**
   * Looks at the outbox a few milliseconds from now: a burst of notifications is then claimed in a few
   * transactions rather than one per notification, each competing for the write lock with the notifying calls.
   */
  private wakeSoon(): void {
    if (!this.active || this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.wake();
    }, COALESCE_MS);
  }

  /** Looks at the outbox now (again, if a look is under way). */
  wake(): void {
    if (!this.active) return;
    this.again = true;
    this.pumping ??= this.pump().finally(() => {
      this.pumping = undefined;
      void this.schedule();
    });
  }

  private async pump() {
    while (this.again && this.active) {
      this.again = false;
      while (this.active && this.inFlight < this.concurrency) {
        const wanted = this.concurrency - this.inFlight;
        let claimed: { deliveries: DueDelivery[]; scanned: number };
        try {
          claimed = await this.core.outbox.claimDue(this.holder, wanted);
        } catch (error) {
          this.log(`notification sender: cannot read the outbox: ${(error as Error)?.message ?? error}`);
          return;
        }
        for (const delivery of claimed.deliveries) this.launch(delivery);
        if (claimed.scanned < wanted) break;
      }
    }
  }

  private launch(delivery: DueDelivery) {
    this.inFlight++;
    const sent: Promise<void> = this.send(delivery).then((outcome) => {
      this.finished.push({ delivery, outcome });
      this.flushSoon();
    });
    this.sending.add(sent);
    void sent.finally(() => this.sending.delete(sent));
  }

  private async send(delivery: DueDelivery): Promise<AttemptOutcome> {
    try {
      const request = requestFor(delivery, this.options.env ?? process.env, this.core.clock());
      return await attempt(request, this.core.notifications.delivery.timeout_seconds * 1000, this.options.post);
    } catch (error) {
      if (error instanceof NotConfigured) return { ok: false, final: false, error: error.message };
      return { ok: false, final: true, error: `cannot send: ${(error as Error)?.message ?? error}` };
    }
  }

  /** Records finished attempts in one transaction per batch: sending 10,000 costs far fewer than 10,000 commits. */
  private flushSoon() {
    this.flushing ??= (async () => {
      await new Promise((resolve) => setImmediate(resolve));
      while (this.finished.length) {
        const batch = this.finished.splice(0);
        try {
          await this.core.outbox.complete(this.holder, batch);
        } catch (error) {
          // The deliveries stay leased and are sent again once their lease runs out: at least once.
          this.log(`notification sender: cannot record ${batch.length} attempts: ${(error as Error)?.message ?? error}`);
        }
        this.inFlight -= batch.length;
      }
    })().finally(() => {
      this.flushing = undefined;
      this.wake();
    });
  }

  /** Sleeps until the next delivery falls due, or `idleMs` at most. With sends under way, their records wake it. */
  private async schedule() {
    if (!this.active || this.inFlight > 0) return;
    let delay = this.idleMs;
    try {
      const next = await this.core.outbox.nextDueAt();
      if (next) delay = Math.min(delay, Math.max(10, Date.parse(next) - this.core.clock().getTime()));
    } catch (error) {
      this.log(`notification sender: ${(error as Error)?.message ?? error}`);
    }
    if (!this.active) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), delay);
    this.timer.unref();
  }
}

/**
 * Starts the notification sender of a server (`serve` over stdio, the HTTP server): it sends while this process
 * holds the lead. Stop it before closing the store.
 *
 * @example const sender = await startNotificationSender(core, { log }); … await sender.stop();
 */
export async function startNotificationSender(core: Core, options: SenderOptions = {}): Promise<NotificationSender> {
  const sender = new NotificationSender(core, options);
  await sender.start();
  return sender;
}
