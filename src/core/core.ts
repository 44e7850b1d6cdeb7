import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Writable } from 'node:stream';
import type { ImportResult, Progress } from '../store/dump.js';
import type { EventFeed } from '../store/feed.js';
import { Leader } from '../store/leader.js';
import { definitionsStamp } from '../store/migrations/015_definitions_stamp.js';
import type { LeaderOptions } from '../store/leader.js';
import type { RateLimitStore } from '../store/rateLimits.js';
import type { AgentRow, EventRow } from '../store/schema.js';
import type { WriteMode } from '../store/dialect.js';
import type { Db, Store } from '../store/store.js';
import { TOOL_NAMES } from './action.js';
import type { ActionDef, ToolName } from './action.js';
import { ACTIONS, actionsOf } from './catalog.js';
import { Ctx, SharedLockTooWeak } from './context.js';
import { DefinitionCache, knowDefinitionsStamp } from './definitions.js';
import { prepared } from './prepared.js';
import type { Actor, Clock, ResolvedActor } from './context.js';
import { TeamTableError, denied, notFound, validation } from './errors.js';
import { remember, replay, requestHash } from './idempotency.js';
import { assertBounded } from './paging.js';
import { authorize, isLeadAgent } from './roles.js';
import { concerns, mayView } from './audience.js';
import { runRules } from './ruleEngine.js';
import { DEFAULT_SETTINGS, bindSettings } from './notificationConfig.js';
import type { NotificationSettings } from './notificationConfig.js';
import { notifyOnChange, raiseNotification } from './notifications.js';
import type { NotificationInput } from './notifications.js';
import { NotificationOutbox } from './outbox.js';
import { RunBook } from './runs.js';
import { hydrateOne } from './tasks.js';
import { sweep, sweepIsDue } from './sweep.js';
import { authenticate } from './tokens.js';
import type { Authenticated } from './tokens.js';
import { assertWellFormedText, parseInput } from './validate.js';

const agentById = prepared((db, p: { id: string }) => db.selectFrom('persistent_agents').selectAll().where('id', '=', p.id));
/** Records a call as the agent's activity, answering with its row. */
const touch = (db: Db, p: { id: string; now: string }) => db.updateTable('persistent_agents').set({ last_active_at: p.now }).where('id', '=', p.id).returningAll();
const touchAgent = prepared(touch);
const STAMP_COLUMN = 'definitions_stamp';
/** touchAgent, answering with the definitions stamp too: on PostgreSQL a write then needs no round trip to read it. */
const touchAgentReadingStamp = prepared((db, p: { id: string; now: string }) =>
  touch(db, p).returning((eb) => eb.selectFrom('definitions_stamp').select('stamp').where('id', '=', 1).as(STAMP_COLUMN)),
);

/** How often (in clock time) a process sweeps expired leases and idle agents before a write. */
const SWEEP_EVERY_MS = 1_000;

/** What a push stream sends: whom it is for, and which events of the log (Core.streamScope). */
export interface StreamScope {
  /** `agent:<id>` (what concerns that agent), `team:<id>` (everything in the team), or `all` (the owner's default). */
  name: string;
  /** The agent whose concerns it carries; undefined for a team's or everything. */
  agentId: string | undefined;
  wants(event: EventRow): boolean;
}

export interface CoreOptions {
  clock?: Clock;
  /** Where background failures go (a failed sweep never fails the call that set it off). */
  log?: (line: string) => void;
  /** The `notifications:` section of the config file (src/config/load.ts); defaults without one. */
  notifications?: NotificationSettings;
}

/**
 * The one entry point of every adapter: `call(actor, tool, args)` validates the arguments against the action's
 * schema, resolves the actor, and runs the use case — a write in one transaction together with its events.
 * Every answer fits LIMITS.answerBytes; a storage failure is a STORE_UNAVAILABLE error naming its cause.
 *
 * @example
 *   await core.call({ kind: 'owner', name: 'ana' }, 'team_manage', { action: 'create', name: 'Engineering' });
 */
export class Core {
  readonly clock: Clock;
  /** Clock time of this process's last sweep; sweeps run at most once per SWEEP_EVERY_MS of it. */
  private lastSweep = 0;
  private readonly byKey = new Map<string, ActionDef>(ACTIONS.map((a) => [`${a.tool}.${a.action}`, a]));

  private readonly log: (line: string) => void;
  readonly notifications: NotificationSettings;
  private queue: NotificationOutbox | undefined;
  /** The runs of agents and the scheduler's use cases (src/runner drives them). */
  readonly runs: RunBook;
  /** Teams, roles and rules as this process last read them (see DefinitionCache); none on a schema without the stamp. */
  private readonly definitions: DefinitionCache | undefined;

  constructor(
    readonly store: Store,
    options: CoreOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.log = options.log ?? (() => {});
    this.notifications = options.notifications ?? DEFAULT_SETTINGS;
    this.runs = new RunBook(store, this.clock, this.notifications);
    if (store.schemaVersion >= definitionsStamp.version) this.definitions = new DefinitionCache();
  }

  /** The action a tool call names, or a VALIDATION error listing the tool's actions. */
  resolveAction(tool: string, args: Record<string, unknown>): ActionDef {
    if (!(TOOL_NAMES as readonly string[]).includes(tool)) {
      throw new TeamTableError('NOT_FOUND', `unknown tool '${tool}'; tools: ${TOOL_NAMES.join(', ')}`);
    }
    const def = typeof args.action === 'string' ? this.byKey.get(`${tool}.${args.action}`) : undefined;
    if (def) return def;
    // Only a missing or unknown action gets here: the schema names the tool's actions in its error.
    parseInput(z.object({ action: z.enum(actionsOf(tool as ToolName).map((a) => a.action) as [string, ...string[]]) }), args, tool);
    throw new TeamTableError('VALIDATION', `${tool}: action is invalid`, { field: 'action' });
  }

  async call(actor: Actor, tool: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    try {
      return await this.dispatch(actor, tool, args);
    } catch (error) {
      throw this.explain(error);
    }
  }

  /**
   * `error` as a caller should see it: a storage failure becomes STORE_UNAVAILABLE naming the database and the
   * cause. For what an adapter reaches past `call` — a token, a rate limit, the log's head — before its own mapping.
   */
  explain(error: unknown): unknown {
    return this.store.explain(error);
  }

  private async dispatch(actor: Actor, tool: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const def = this.resolveAction(tool, args);
    const { action: _action, ...params } = args;
    const context = `${tool}(action='${def.action}')`;
    assertWellFormedText(params, context);
    const { idempotency_key: key, ...input } = parseInput(def.input, params, context) as Record<string, unknown> & { idempotency_key?: string };
    const now = this.clock().toISOString();
    const ctxFor = (db: Db, resolved: ResolvedActor, sharedLock = false) => {
      const ctx = Ctx.forCall(db, resolved, now, this.store.dialect.name, this.definitions, sharedLock);
      bindSettings(ctx, this.notifications);
      return ctx;
    };
    await this.sweepIfDue(now);
    if (!def.write) {
      const reader = ctxFor(this.store.db, await this.resolveActor(actor));
      if (!def.checksPermission) await authorize(reader, def);
      return assertBounded(await def.run(reader, input), context);
    }
    const hash = key === undefined ? '' : requestHash(def, input);
    // A write learns who acts, and whether it may, under the write lock, by the statement that records the call as
    // the agent's activity: the agent's row and the team's roles are then those the lock holds, read once.
    const write = (mode: WriteMode) =>
      this.store.write(async (tx) => {
        const { stamp, ...resolved } = await this.resolveActor(actor, tx, def.activity === false ? undefined : now);
        const ctx = ctxFor(tx, resolved, mode === 'shared');
        if (stamp !== undefined) knowDefinitionsStamp(ctx, stamp);
        if (!def.checksPermission) await authorize(ctx, def);
        if (key !== undefined) {
          const first = await replay(ctx, key, hash);
          if (first) return first;
        }
        const result = await def.run(ctx, input);
        await runRules(ctx);
        await notifyOnChange(ctx);
        // Checked before the commit: a write whose answer could not be sent is not made.
        const answer = assertBounded(def.answersWithTask ? await afterRules(ctx, result) : result, context);
        if (key !== undefined) await remember(ctx, def, key, hash, answer);
        return answer;
      }, mode, def.rowLocked === true);
    // An idempotency key is read before it is written: two retries at once must not both miss it.
    if (!def.rowLocked || !this.store.dialect.sharedWrites || key !== undefined) return write('exclusive');
    try {
      return await write('shared');
    } catch (error) {
      // A claim that sets off rules or notifications is done again, from the start, under the exclusive lock.
      if (!(error instanceof SharedLockTooWeak)) throw error;
      return write('exclusive');
    }
  }

  /** The actor a bearer token acts as (HTTP), or an UNAUTHENTICATED error saying why not. */
  authenticate(token: string | undefined): Promise<Authenticated> {
    return authenticate(this.store.db, token);
  }

  /**
   * Which events of the log a push stream carries for `viewer`: what concerns an agent (its own by default, another's
   * with `agent_id` for a lead of its team or the owner), a whole team with `team_id` (a lead of it, or the owner), or
   * everything (the owner without either). Private events reach only those allowed to see them (`mayView`).
   */
  async streamScope(actor: Actor, viewer: ResolvedActor, request: { agent_id?: string; team_id?: string }): Promise<StreamScope> {
    const agentId = request.agent_id?.toLowerCase();
    if (agentId && request.team_id) throw validation('team_id', 'ask for one stream: agent_id (an agent’s) or team_id (a whole team), not both');
    const isLeadOf = (teamId: string) => viewer.kind === 'owner' || (viewer.agent.team_id === teamId && isLeadAgent(viewer.agent));
    const agentScope = (id: string): StreamScope => ({ name: `agent:${id}`, agentId: id, wants: (e) => concerns(e, id) && mayView(e, viewer) });
    if (agentId && agentId !== viewer.id) {
      const target = (await this.call(actor, 'team_agent', { action: 'get', agent_id: agentId })) as { id: string; team_id: string };
      if (!isLeadOf(target.team_id)) throw denied(`agent '${viewer.id}' may not follow the stream of agent '${target.id}': only that agent, a lead of its team or the owner may`, { agent_id: target.id });
      return agentScope(target.id);
    }
    if (request.team_id !== undefined) {
      const team = (await this.call(actor, 'team_manage', { action: 'get', team_id: request.team_id })) as { id: string };
      if (!isLeadOf(team.id)) throw denied(`agent '${viewer.id}' may not follow the whole team's stream: only a lead of the team or the owner may; without team_id you get what concerns you`, { team_id: team.id });
      return { name: `team:${team.id}`, agentId: undefined, wants: (e) => e.team_id === team.id && mayView(e, viewer) };
    }
    if (viewer.kind === 'owner') return { name: 'all', agentId: undefined, wants: () => true };
    return agentScope(viewer.id);
  }

  /** The event log as this process tails it: push streams, resource subscriptions and the runner subscribe to it. */
  get feed(): EventFeed {
    return this.store.feed;
  }

  /**
   * Leadership of the background work `name` (the scheduler, the notification sender) that one process per
   * database does at a time; call `start()` on it.
   */
  leader(name: string, options: LeaderOptions = {}): Leader {
    return new Leader(this.store.leases, name, `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`, { log: this.log, ...options });
  }

  /**
   * Request budgets every server on this database shares (replicas of one PostgreSQL database); undefined where
   * one server's memory is the right place for them (SQLite).
   */
  get sharedRateLimits(): RateLimitStore | undefined {
    return this.store.dialect.rateLimits;
  }

  /** Requeues expired leases, drops expired facts and runs the idle-agent rules, in one transaction; servers call it on a timer. */
  async sweep(): Promise<void> {
    const now = this.clock().toISOString();
    this.lastSweep = Date.parse(now);
    try {
      await this.store.write(async (tx) => {
        const ctx = new Ctx(tx, { kind: 'owner', id: 'system' }, now, this.store.dialect.name);
        bindSettings(ctx, this.notifications);
        await sweep(ctx);
        await runRules(ctx);
        await notifyOnChange(ctx);
      });
    } catch (error) {
      throw this.explain(error);
    }
  }

  /**
   * Raises a notification as the table itself (origin `table`): the runner's `agent_error` when an agent's run
   * fails or it stops answering. Its rules route it in the same transaction, as for a notify call.
   *
   * @example await core.raiseNotification({ team_id, type: 'agent_error', message: 'run failed: exit code 1', agent_id: 'loki' })
   */
  async raiseNotification(input: Omit<NotificationInput, 'origin'>): Promise<Record<string, unknown>> {
    const now = this.clock().toISOString();
    try {
      return await this.store.write(async (tx) => {
        const ctx = new Ctx(tx, { kind: 'owner', id: 'system' }, now, this.store.dialect.name);
        bindSettings(ctx, this.notifications);
        return raiseNotification(ctx, input);
      });
    } catch (error) {
      throw this.explain(error);
    }
  }

  /**
   * Writes one line per row of the teams `teamIds` (every team when omitted) to `out` — ids, the event log with its
   * numbers, private mail included (the owner's `export`); answers how many rows.
   */
  async exportTeams(out: Writable, options: { teamIds?: string[]; progress?: Progress } = {}): Promise<number> {
    const { exportDump } = await import('../store/dump.js'); // only the operator's command needs it
    return exportDump(this.store, out, { ...options, now: this.clock().toISOString() });
  }

  /** Loads an export, all of it or nothing; its teams must not exist here yet (the owner's `import`). */
  async importTeams(lines: AsyncIterable<string>, options: { progress?: (bytes: number) => void } = {}): Promise<ImportResult> {
    const { importDump } = await import('../store/dump.js');
    return importDump(this.store, lines, options);
  }

  /** Closes the database; the core is not used after. */
  close(): Promise<void> {
    return this.store.close();
  }

  /** The notification outbox, as the sender (src/outbox) takes and settles its deliveries. */
  get outbox(): NotificationOutbox {
    return (this.queue ??= new NotificationOutbox(this.store, this.clock, this.notifications));
  }

  /**
   * Before a call, at most once a second: sweeps, in its own transaction, when something has come due — so a
   * read right after a lease runs out already sees the task back in the queue.
   */
  private async sweepIfDue(now: string): Promise<void> {
    if (Date.parse(now) - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = Date.parse(now);
    try {
      if (await sweepIsDue(this.store.db, now)) await this.sweep();
    } catch (error) {
      this.log(`sweep failed: ${(error as Error)?.stack ?? error}`);
    }
  }

  /**
   * The actor with its agent's row, or NOT_FOUND for an agent that does not exist. With `activeAt`, the statement
   * that reads the row records the call as the agent's activity (`last_active_at`), and reads the definitions stamp
   * under the write's lock (`stamp`).
   */
  async resolveActor(actor: Actor, db: Db = this.store.db, activeAt?: string): Promise<ResolvedActor & { stamp?: string }> {
    const session = actor.session === undefined ? {} : { session: actor.session };
    if (actor.kind === 'owner') return { kind: 'owner', id: actor.name, ...session };
    const target = { db, dialect: this.store.dialect.name };
    if (activeAt === undefined) return { kind: 'agent', id: actor.id, agent: this.found(actor.id, await agentById(target, { id: actor.id })), ...session };
    if (!this.definitions) return { kind: 'agent', id: actor.id, agent: this.found(actor.id, await touchAgent(target, { id: actor.id, now: activeAt })), ...session };
    const { [STAMP_COLUMN]: stamp, ...agent } = this.found(actor.id, await touchAgentReadingStamp(target, { id: actor.id, now: activeAt }));
    return { kind: 'agent', id: actor.id, agent, ...session, stamp: stamp ?? '' };
  }

  /** The agent row a query found, or NOT_FOUND: the session's agent does not exist. */
  private found<Row extends AgentRow>(id: string, { rows: [agent] }: { rows: Row[] }): Row {
    if (!agent) {
      throw notFound('agent', id, "this session acts as that agent (--agent), but it does not exist yet: the owner creates it with team_agent(action='create', team_id=…, name=…)");
    }
    return agent;
  }
}

/** The answer's task as it is now, if a rule set off by this call changed it; the answer unchanged otherwise. */
async function afterRules(ctx: Ctx, result: Record<string, unknown>): Promise<Record<string, unknown>> {
  const nested = 'task' in result;
  const task = (nested ? result.task : result) as { id?: string } | null;
  if (!task?.id || !ctx.emitted.some((e) => e.depth > 0 && e.related_id === task.id)) return result;
  const row = await ctx.db.selectFrom('team_tasks').selectAll().where('id', '=', task.id).executeTakeFirst();
  if (!row) return result;
  const fresh = await hydrateOne(ctx, row);
  return nested ? { ...result, task: fresh } : fresh;
}
