/**
 * Leadership of background work that must happen once per database — the scheduler, the notification sender —
 * whichever and however many processes serve it. A leader holds a named lease for a short time and renews it well
 * before it runs out; when it dies, another process takes the lease over once it has expired.
 *
 * Leadership alone does not make work happen once: a leader that stalls past its lease may still finish a step
 * after another has taken over. Work that must not repeat claims its own rows too (a lease per delivery, a
 * conditional write per heartbeat); leadership only keeps the others from trying.
 */
export interface LeaseStore {
  /**
   * Takes the lease `name` for `holder` until `ttlMs` from now, or extends it when `holder` already has it.
   * False while another holder's lease is still running.
   */
  acquire(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up, if `holder` has it, so another process may take it at once. */
  release(name: string, holder: string): Promise<void>;
}

export interface LeaderOptions {
  /** How long a lease lasts without renewal: how soon another process takes over from a dead leader. */
  ttlMs?: number;
  /** How often the leader renews (and a follower tries to take over). */
  renewMs?: number;
  log?: (line: string) => void;
}

/**
 * Keeps trying to lead `name` and says when this process gains or loses it.
 *
 * @example
 *   const leader = new Leader(store.leases, 'scheduler', 'pid-1234');
 *   leader.onChange((leading) => (leading ? scheduler.start() : scheduler.stop()));
 *   leader.start();
 */
export class Leader {
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(leading: boolean) => void>();
  private readonly ttlMs: number;
  private readonly renewMs: number;
  private readonly log: (line: string) => void;
  private round: Promise<void> | undefined;

  constructor(
    private readonly leases: LeaseStore,
    readonly name: string,
    readonly holder: string,
    options: LeaderOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 10_000;
    this.renewMs = options.renewMs ?? Math.floor(this.ttlMs / 3);
    this.log = options.log ?? (() => {});
  }

  get isLeader(): boolean {
    return this.leading;
  }

  onChange(listener: (leading: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tries at once, then every `renewMs`. Resolves after the first attempt. */
  async start(): Promise<void> {
    if (this.timer) return;
    this.timer = setInterval(() => void this.attempt(), this.renewMs);
    this.timer.unref();
    await this.attempt();
  }

  /** Stops trying and gives the lease up, so a follower takes over without waiting for it to expire. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.round;
    if (this.leading) {
      this.set(false);
      await this.leases.release(this.name, this.holder).catch((error) => this.log(`leader ${this.name}: release failed: ${error}`));
    }
  }

  private attempt(): Promise<void> {
    // One attempt at a time: a slow database must not stack renewals.
    this.round ??= this.leases
      .acquire(this.name, this.holder, this.ttlMs)
      .then((won) => this.set(won))
      .catch((error) => {
        // Unable to renew means unable to know: stop acting as leader rather than risk two.
        this.log(`leader ${this.name}: ${(error as Error)?.message ?? error}`);
        this.set(false);
      })
      .finally(() => (this.round = undefined));
    return this.round;
  }

  private set(leading: boolean) {
    if (leading === this.leading) return;
    this.leading = leading;
    for (const listener of this.listeners) listener(leading);
  }
}
