import type { Core } from '../core/core.js';
import type { StartedRun } from '../core/runs.js';
import type { EventRow } from '../store/schema.js';
import type { FeedSubscription } from '../store/feed.js';
import type { Leader, LeaderOptions } from '../store/leader.js';
import { runAdapter } from './adapters/index.js';
import type { Connection, WakeJob } from './job.js';
import { classify } from './job.js';
import { mirrorWorkingState, workspaceOf } from './workspace.js';

export interface SchedulerOptions extends Connection {
  /** How many runs at once at most, over all agents (each agent has one at a time anyway). */
  maxConcurrentRuns?: number;
  /** How long a wake waits for more of its burst before its run starts: one run carries all of them. */
  coalesceMs?: number;
  /** The leader lease (src/store/leader.ts): how soon another process takes over from a dead scheduler. */
  leader?: LeaderOptions;
  /** The environment adapters read and pass on; the process's by default. */
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

/** Even with no heartbeat due for hours, the scheduler looks again this often (schedules change, clocks jump). */
const MAX_SLEEP_MS = 60_000;
/** Events after which the next heartbeat may have moved. */
const RESCHEDULING_EVENTS = new Set(['agent_created', 'agent_updated', 'agent_started', 'agent_stopped', 'agent_deleted', 'team_updated']);

/**
 * The scheduler of one process. It competes for the lead of the database (`Core.leader('scheduler')`); while it
 * leads it fires each agent's heartbeat_schedule, turns the event log into wakes (active push), and runs the queued
 * runs through their agents' wake adapters, one run per agent at a time. Losing the lead (or stopping) ends its runs
 * at once, so that the next leader — which marks them interrupted — never has two runs of one agent under way.
 *
 * Time comes from the core's clock: `tick()` fires what is due by it, so a test moves the clock and ticks instead
 * of waiting for a cron slot.
 *
 * @example
 *   const scheduler = new Scheduler(core, { db: '/abs/team.db' });
 *   await scheduler.start();
 *   …
 *   await scheduler.stop();
 */
export class Scheduler {
  private readonly leader: Leader;
  private readonly options: Required<Pick<SchedulerOptions, 'maxConcurrentRuns' | 'coalesceMs'>> & SchedulerOptions;
  private readonly log: (line: string) => void;
  private leading = false;
  /** Counts takeovers and hand-overs: a takeover that lost the lead while it waited, and led again, does nothing. */
  private term = 0;
  private subscription: FeedSubscription | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private dispatchTimer: NodeJS.Timeout | undefined;
  /** Runs under way in this process, by run id. */
  private readonly active = new Map<string, { agentId: string; controller: AbortController; done: Promise<void> }>();
  /** Event batches and ticks, one at a time and in order. */
  private work: Promise<unknown> = Promise.resolve();
  private dispatching: Promise<void> | undefined;
  private dispatchAgain = false;

  constructor(
    private readonly core: Core,
    options: SchedulerOptions = {},
  ) {
    this.options = { maxConcurrentRuns: 4, coalesceMs: 100, ...options };
    this.log = options.log ?? (() => {});
    this.leader = core.leader('scheduler', options.leader);
  }

  /** The id this scheduler records on the runs it starts. */
  get holder(): string {
    return this.leader.holder;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Runs under way in this process. */
  get running(): number {
    return this.active.size;
  }

  /** Starts competing for the lead; resolves after the first attempt (and, when it won, after taking over). */
  async start(): Promise<void> {
    let takingOver: Promise<void> | undefined;
    this.leader.onChange((leading) => {
      takingOver = leading ? this.lead() : this.follow();
    });
    await this.leader.start();
    await takingOver;
  }

  /** Gives the lead up (another process takes over at once) and ends the runs under way. */
  async stop(): Promise<void> {
    await this.leader.stop();
    await this.follow();
    await this.work; // an event batch or a tick under way finishes before the store may close
  }

  /** Fires the heartbeats due by the core's clock and starts what is queued. */
  tick(): Promise<void> {
    return this.serial(async () => {
      if (!this.leading) return;
      const fired = await this.core.runs.fireHeartbeats();
      if (fired.length) this.log(`heartbeat: ${fired.join(', ')}`);
      await this.dispatch();
      await this.armHeartbeats();
    });
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.work.then(work);
    this.work = next.catch((error) => this.log(`scheduler: ${(error as Error)?.stack ?? error}`));
    return next;
  }

  private async lead(): Promise<void> {
    if (this.leading) return;
    this.leading = true;
    const term = ++this.term;
    try {
      const recovered = await this.core.runs.recover(this.holder);
      if (recovered) this.log(`scheduler: ${recovered} run(s) of a previous scheduler marked interrupted`);
      const cursor = await this.core.runs.cursor();
      // Lost the lead meanwhile; or lost it and took it again, when the later takeover subscribes.
      if (term !== this.term) return;
      this.subscription = this.core.feed.subscribe(cursor, (events) => void this.serial(() => this.onEvents(events)));
      this.log('scheduler: leading');
      await this.tick();
    } catch (error) {
      this.log(`scheduler: taking the lead failed: ${(error as Error)?.stack ?? error}`);
    }
  }

  private async follow(): Promise<void> {
    const was = this.leading;
    this.leading = false;
    this.term++;
    this.subscription?.close();
    this.subscription = undefined;
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.dispatchTimer);
    this.dispatchTimer = undefined;
    for (const run of this.active.values()) run.controller.abort();
    await Promise.allSettled([...this.active.values()].map((r) => r.done));
    if (was) this.log('scheduler: no longer leading');
  }

  private async onEvents(events: readonly EventRow[]): Promise<void> {
    if (!this.leading) return;
    const woken = await this.core.runs.wakeFromEvents(events);
    if (woken.length || events.some((e) => e.type === 'agent_wake_requested')) this.dispatchSoon();
    if (events.some((e) => RESCHEDULING_EVENTS.has(e.type))) await this.armHeartbeats();
  }

  /** A burst of wakes within `coalesceMs` of the first is one run. */
  private dispatchSoon() {
    this.dispatchTimer ??= setTimeout(() => {
      this.dispatchTimer = undefined;
      void this.dispatch();
    }, this.options.coalesceMs);
  }

  private async armHeartbeats(): Promise<void> {
    clearTimeout(this.heartbeatTimer);
    if (!this.leading) return;
    const next = await this.core.runs.nextHeartbeat();
    const wait = next ? next.getTime() - this.core.clock().getTime() : MAX_SLEEP_MS;
    this.heartbeatTimer = setTimeout(() => void this.tick(), Math.max(0, Math.min(wait, MAX_SLEEP_MS)));
    this.heartbeatTimer.unref();
  }

  /** Starts queued runs while there is room; one pass at a time, another right after if asked meanwhile. */
  private dispatch(): Promise<void> {
    if (this.dispatching) {
      this.dispatchAgain = true;
      return this.dispatching;
    }
    this.dispatching = (async () => {
      do {
        this.dispatchAgain = false;
        if (!this.leading) return;
        const busy = new Set([...this.active.values()].map((r) => r.agentId));
        const started = await this.core.runs.start(this.holder, this.options.maxConcurrentRuns - this.active.size, busy);
        for (const run of started) this.execute(run);
      } while (this.dispatchAgain);
    })()
      .catch((error) => this.log(`scheduler: dispatch failed: ${(error as Error)?.stack ?? error}`))
      .finally(() => (this.dispatching = undefined));
    return this.dispatching;
  }

  private execute(started: StartedRun) {
    const controller = new AbortController();
    const done = this.runOne(started, controller.signal).finally(() => {
      this.active.delete(started.run.id);
      void this.dispatch();
    });
    this.active.set(started.run.id, { agentId: started.agent.id, controller, done });
  }

  private async runOne(started: StartedRun, signal: AbortSignal): Promise<void> {
    const { agent, run, adapter } = started;
    const workspace = workspaceOf(started);
    let outcome;
    try {
      const prompt = adapter.type === 'sse' ? '' : (await this.core.runs.prompt(started)).prompt;
      await mirrorWorkingState(this.core, agent.id, workspace);
      const job: WakeJob = {
        started,
        prompt,
        model: agent.model || started.team.default_model,
        workspace,
        connection: { db: this.options.db, url: this.options.url, tokenFor: this.options.tokenFor },
        signal,
        core: this.core,
        env: this.options.env ?? process.env,
      };
      this.log(`run ${run.id}: waking ${agent.id} (${adapter.type})`);
      outcome = signal.aborted ? { status: 'interrupted' as const, error: 'the scheduler stopped' } : classify(await runAdapter(job, adapter));
      await mirrorWorkingState(this.core, agent.id, workspace).catch((error) => this.log(`run ${run.id}: WORKING.md: ${(error as Error).message}`));
    } catch (error) {
      outcome = { status: 'failed' as const, error: `the runner failed: ${(error as Error)?.message ?? error}` };
    }
    this.log(`run ${run.id}: ${agent.id} ${outcome.status}${outcome.error ? ` (${outcome.error})` : ''}`);
    try {
      await this.core.runs.finish(run.id, this.holder, outcome);
    } catch (error) {
      this.log(`run ${run.id}: recording its end failed: ${(error as Error)?.stack ?? error}`);
    }
  }
}
