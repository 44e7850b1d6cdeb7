import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AgentRow, EventRow, RunRow, TeamRow } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { defineAction } from './action.js';
import { Ctx } from './context.js';
import type { Clock } from './context.js';
import { conflict, validation } from './errors.js';
import { agentTarget, cursor, limit, shortText } from './fields.js';
import { buildHeartbeat } from './heartbeat.js';
import type { Heartbeat } from './heartbeat.js';
import { newRowId } from './ids.js';
import { after, decodeCursor, pageFields, takePage } from './paging.js';
import { FAILED_RUNS, MISSED_HEARTBEATS, dueSlot, isDormant, isWakeable, markResponsive, markUnresponsive, nextHeartbeatAt } from './liveness.js';
import { assertLead } from './roles.js';
import { parseWakeAdapter } from './wakeAdapter.js';
import type { WakeAdapter } from './wakeAdapter.js';
import { describeReasons, mergeReasons, wakeReasonsOf } from './wakeReasons.js';
import type { WakeReason } from './wakeReasons.js';
import { renderWorkingState } from './working.js';
import { DEFAULT_SETTINGS, bindSettings } from './notificationConfig.js';
import type { NotificationSettings } from './notificationConfig.js';

/**
 * Runs: every wake of an agent, recorded. A wake queues a run — or adds its reasons to the one already waiting, so a
 * burst is one wake carrying all its reasons — and the scheduler starts it once no run of that agent is under way.
 * The database holds at most one queued and one running run per agent (unique partial indexes), so a wake that
 * arrives during a run is queued once: not lost, not duplicated, whichever process saw it.
 */

/** The name of the token each run over HTTP gets (src/runner/start.ts), revoked when the run ends or is recovered. */
export const RUN_TOKEN_NAME = 'runner: one run';

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'idle', 'failed', 'timed_out', 'interrupted', 'skipped'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** How a run can end, as the runner reports it. */
export type RunResult = 'succeeded' | 'idle' | 'failed' | 'timed_out' | 'interrupted';
/** Ends that tell whether the agent answers (an interrupted or skipped run says nothing about it). */
const ANSWERS: readonly RunStatus[] = ['succeeded', 'idle', 'failed', 'timed_out'];
const FAILING: readonly RunStatus[] = ['failed', 'timed_out'];

export type Run = Omit<RunRow, 'reasons'> & { reasons: WakeReason[] };
export const toRun = (row: RunRow): Run => ({ ...row, reasons: JSON.parse(row.reasons) as WakeReason[] });

/** Adds `reasons` to `agent`'s waiting run, or queues one. */
export async function enqueue(ctx: Ctx, agent: AgentRow, reasons: WakeReason[]): Promise<RunRow> {
  const queued = await ctx.db.selectFrom('agent_runs').selectAll().where('agent_id', '=', agent.id).where('status', '=', 'queued').executeTakeFirst();
  if (queued) {
    queued.reasons = JSON.stringify(mergeReasons(JSON.parse(queued.reasons) as WakeReason[], reasons));
    await ctx.db.updateTable('agent_runs').set({ reasons: queued.reasons }).where('id', '=', queued.id).execute();
    return queued;
  }
  const row: RunRow = {
    id: newRowId(),
    team_id: agent.team_id,
    agent_id: agent.id,
    status: 'queued',
    reasons: JSON.stringify(mergeReasons([], reasons)),
    adapter: parseWakeAdapter(agent.wake_adapter)?.type ?? '',
    session_id: '',
    queued_at: ctx.now,
    started_at: '',
    ended_at: '',
    exit_code: null,
    output: '',
    stderr: '',
    error: '',
    runner: '',
  };
  await ctx.db.insertInto('agent_runs').values(row).execute();
  return row;
}


const runs = defineAction({
  tool: 'team_agent',
  action: 'runs',
  summary: "an agent's runs, newest first",
  input: z.strictObject({ ...agentTarget, status: z.enum(RUN_STATUSES).optional(), limit: limit(20), cursor }),
  write: false,
  async run(ctx, input) {
    const agent = await ctx.agent(input.agent_id, input.team_id);
    ctx.assertActsFor(agent, 'read the runs');
    let query = ctx.db.selectFrom('agent_runs').selectAll().where('agent_id', '=', agent.id);
    if (input.status) query = query.where('status', '=', input.status);
    const position = decodeCursor('runs', input.cursor, 2);
    if (position) query = query.where(after(['queued_at', 'id'], position, 'desc'));
    const rows = await query.orderBy('queued_at', 'desc').orderBy('id', 'desc').limit(input.limit + 1).execute();
    // Each run carries up to three 4,000-character tails (output, stderr, error): pages are bounded by bytes too.
    const page = takePage(rows, { limit: input.limit, list: 'runs', position: (r) => [r.queued_at, r.id], render: toRun });
    return { agent_id: agent.id, runs: page.items, count: page.items.length, ...pageFields(page) };
  },
});

const wake = defineAction({
  tool: 'team_agent',
  action: 'wake',
  summary: 'owner or lead: wake the agent now',
  input: z.strictObject({ ...agentTarget, note: shortText.optional() }),
  write: true,
  async run(ctx, input) {
    assertLead(ctx, 'wake an agent');
    const agent = await ctx.agent(input.agent_id, input.team_id);
    if (!agent.wake_adapter) throw validation('agent_id', `agent '${agent.id}' has no wake_adapter; set one with team_agent(action='update', wake_adapter=…)`);
    if (isDormant(agent)) throw conflict(`agent '${agent.id}' is ${agent.status}; start it with team_agent(action='start') first`, { status: agent.status });
    const reason: WakeReason = { kind: 'manual', key: `manual:${newRowId()}`, at: ctx.now, by: ctx.actorId, ...(input.note ? { ref: input.note.slice(0, 200) } : {}) };
    const run = await enqueue(ctx, agent, [reason]);
    ctx.emit({ team_id: agent.team_id, type: 'agent_wake_requested', message: `${ctx.actorId} woke ${agent.id}`, related_id: agent.id, data: { agent_id: agent.id, run_id: run.id } });
    return { agent_id: agent.id, run: toRun(run) };
  },
});

export const runActions = [runs, wake];

/** A run the scheduler has just started, with what its adapter needs. */
export interface StartedRun {
  run: Run;
  agent: AgentRow;
  team: TeamRow;
  adapter: WakeAdapter;
  /** The agent's previous heartbeat: its prompt's activity starts there. */
  since: string;
}

export interface RunOutcome {
  status: RunResult;
  exit_code?: number | null;
  output?: string;
  stderr?: string;
  error?: string;
}

/** The actor of the runner's own writes. */
const RUNNER_ACTOR = { kind: 'owner', id: 'runner' } as const;
const SCHEDULER_CURSOR = 'scheduler';

/**
 * What the scheduler asks of the store, each a use case in its own transaction, each a conditional write — so two
 * schedulers on one database (a stalled leader and its successor) never queue a wake twice for one reason, and a
 * run finished by a process that no longer owns it changes nothing.
 */
export class RunBook {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** Notification rules of the config file route what the runner raises (agent_error). */
    private readonly notifications: NotificationSettings = DEFAULT_SETTINGS,
  ) {}

  private context(db = this.store.db): Ctx {
    const ctx = new Ctx(db, RUNNER_ACTOR, this.clock().toISOString(), this.store.dialect.name);
    bindSettings(ctx, this.notifications);
    return ctx;
  }

  private write<T>(work: (ctx: Ctx) => Promise<T>): Promise<T> {
    return this.store.write((tx) => work(this.context(tx)));
  }

  /** Where the scheduler resumes reading the log: its stored cursor, set to the log's head the first time. */
  async cursor(): Promise<number> {
    const head = await this.store.feed.head();
    await this.store.db.insertInto('runner_cursors').values({ name: SCHEDULER_CURSOR, seq: head }).onConflict((c) => c.column('name').doNothing()).execute();
    const row = await this.store.db.selectFrom('runner_cursors').select('seq').where('name', '=', SCHEDULER_CURSOR).executeTakeFirstOrThrow();
    return Number(row.seq);
  }

  /**
   * Queues the wakes `events` cause (active push), once: events at or before the stored cursor were acted on
   * already, by this scheduler or another. Returns the agents woken.
   */
  async wakeFromEvents(events: readonly EventRow[]): Promise<string[]> {
    if (!events.some((e) => wakeReasonsOf(e).size > 0)) return [];
    return this.write(async (ctx) => {
      const cursor = Number((await ctx.db.selectFrom('runner_cursors').select('seq').where('name', '=', SCHEDULER_CURSOR).executeTakeFirst())?.seq ?? 0);
      const fresh = events.filter((e) => e.seq > cursor);
      if (fresh.length === 0) return [];
      const reasons = new Map<string, WakeReason[]>();
      for (const event of fresh) for (const [agentId, reason] of wakeReasonsOf(event)) reasons.set(agentId, [...(reasons.get(agentId) ?? []), reason]);
      const woken: string[] = [];
      if (reasons.size) {
        const agents = await ctx.db.selectFrom('persistent_agents').selectAll().where('id', 'in', [...reasons.keys()]).execute();
        const teams = await ctx.db.selectFrom('teams').selectAll().where('id', 'in', [...new Set(agents.map((a) => a.team_id))]).execute();
        for (const agent of agents) {
          const team = teams.find((t) => t.id === agent.team_id);
          if (!team || !isWakeable(agent, team)) continue;
          await enqueue(ctx, agent, reasons.get(agent.id)!);
          woken.push(agent.id);
        }
      }
      await ctx.db
        .insertInto('runner_cursors')
        .values({ name: SCHEDULER_CURSOR, seq: fresh.at(-1)!.seq })
        .onConflict((c) => c.column('name').doUpdateSet({ seq: fresh.at(-1)!.seq }))
        .execute();
      return woken;
    });
  }

  private async wakeable(ctx: Ctx): Promise<{ agent: AgentRow; team: TeamRow }[]> {
    const agents = await ctx.db.selectFrom('persistent_agents').selectAll().where('wake_adapter', '!=', '').where('status', 'not in', ['stopped', 'paused']).execute();
    if (agents.length === 0) return [];
    const teams = await ctx.db.selectFrom('teams').selectAll().where('id', 'in', [...new Set(agents.map((a) => a.team_id))]).execute();
    return agents.flatMap((agent) => {
      const team = teams.find((t) => t.id === agent.team_id);
      return team && isWakeable(agent, team) ? [{ agent, team }] : [];
    });
  }

  /**
   * Fires every heartbeat that has come due since its agent's last one (a slot missed while no scheduler ran is
   * fired once, not once per slot). Each fire is a conditional write on the agent's last slot.
   */
  async fireHeartbeats(): Promise<string[]> {
    const now = this.clock();
    if (!(await this.wakeable(this.context())).some(({ agent, team }) => dueSlot(agent, team, now))) return [];
    return this.write(async (ctx) => {
      const fired: string[] = [];
      for (const { agent, team } of await this.wakeable(ctx)) {
        const slot = dueSlot(agent, team, now);
        if (!slot) continue;
        const running = await ctx.db.selectFrom('agent_runs').select('id').where('agent_id', '=', agent.id).where('status', '=', 'running').executeTakeFirst();
        // A heartbeat fired while a run of the agent is under way is not missed: the run answers it.
        const missed = running ? agent.missed_heartbeats : agent.missed_heartbeats + 1;
        const result = await ctx.db
          .updateTable('persistent_agents')
          .set({ heartbeat_slot: slot, missed_heartbeats: missed })
          .where('id', '=', agent.id)
          .where('heartbeat_slot', '=', agent.heartbeat_slot)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) continue;
        await enqueue(ctx, agent, [{ kind: 'cron', key: `cron:${slot}`, at: slot }]);
        if (missed >= MISSED_HEARTBEATS) await markUnresponsive(ctx, agent, `it missed ${missed} heartbeats in a row`);
        fired.push(agent.id);
      }
      return fired;
    });
  }

  /** The next heartbeat due among the agents the scheduler wakes, or null. */
  async nextHeartbeat(): Promise<Date | null> {
    const now = this.clock();
    const times = (await this.wakeable(this.context())).map(({ agent, team }) => nextHeartbeatAt(agent, team, now)).filter((t): t is string => t !== null);
    return times.length ? new Date(times.sort()[0]!) : null;
  }

  /**
   * Starts up to `limit` queued runs of agents with no run under way and not in `busy`, oldest first, for `holder`.
   * A run whose agent was stopped (or lost its adapter) while it waited is skipped.
   */
  async start(holder: string, limit: number, busy: ReadonlySet<string> = new Set()): Promise<StartedRun[]> {
    if (limit <= 0) return [];
    return this.write(async (ctx) => {
      const queued = await ctx.db
        .selectFrom('agent_runs as r')
        .selectAll('r')
        .where('r.status', '=', 'queued')
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('agent_runs as x').select('x.id').whereRef('x.agent_id', '=', 'r.agent_id').where('x.status', '=', 'running'))))
        .orderBy('r.queued_at')
        .orderBy('r.id')
        .limit(limit + busy.size)
        .execute();
      const started: StartedRun[] = [];
      for (const row of queued) {
        if (started.length >= limit || busy.has(row.agent_id)) continue;
        const agent = await ctx.db.selectFrom('persistent_agents').selectAll().where('id', '=', row.agent_id).executeTakeFirstOrThrow();
        const team = await ctx.db.selectFrom('teams').selectAll().where('id', '=', agent.team_id).executeTakeFirstOrThrow();
        const adapter = parseWakeAdapter(agent.wake_adapter);
        if (!adapter || !isWakeable(agent, team)) {
          const why = adapter ? `agent '${agent.id}' is ${agent.status}` : `agent '${agent.id}' has no wake_adapter any more`;
          await ctx.db.updateTable('agent_runs').set({ status: 'skipped', ended_at: ctx.now, error: why }).where('id', '=', row.id).where('status', '=', 'queued').execute();
          continue;
        }
        const sessionId = await this.sessionId(ctx, agent);
        const result = await ctx.db
          .updateTable('agent_runs')
          .set({ status: 'running', started_at: ctx.now, runner: holder, adapter: adapter.type, session_id: sessionId })
          .where('id', '=', row.id)
          .where('status', '=', 'queued')
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) continue;
        // The run answers the slot (an sse agent answers by fetching its heartbeat). That the agent has the prompt —
        // its last_heartbeat_at, where its next "activity since" starts — is recorded only when the run succeeds.
        if (adapter.type !== 'sse') await ctx.db.updateTable('persistent_agents').set({ missed_heartbeats: 0 }).where('id', '=', agent.id).execute();
        started.push({
          run: toRun({ ...row, status: 'running', started_at: ctx.now, runner: holder, adapter: adapter.type, session_id: sessionId }),
          agent,
          team,
          adapter,
          since: agent.last_heartbeat_at,
        });
      }
      return started;
    });
  }

  /** Records how a run ended — unless it is no longer `holder`'s — and what that says of the agent's liveness. */
  async finish(runId: string, holder: string, outcome: RunOutcome): Promise<boolean> {
    return this.write(async (ctx) => {
      const result = await ctx.db
        .updateTable('agent_runs')
        .set({ status: outcome.status, ended_at: ctx.now, exit_code: outcome.exit_code ?? null, output: outcome.output ?? '', stderr: outcome.stderr ?? '', error: outcome.error ?? '' })
        .where('id', '=', runId)
        .where('status', '=', 'running')
        .where('runner', '=', holder)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      const run = await ctx.db.selectFrom('agent_runs').select(['agent_id', 'team_id', 'adapter', 'started_at']).where('id', '=', runId).executeTakeFirstOrThrow();
      const agent = { id: run.agent_id, team_id: run.team_id };
      // An sse run only delivers the wake: the agent answers by taking its heartbeat, or misses it.
      if (outcome.status === 'interrupted' || run.adapter === 'sse') return true;
      if (!FAILING.includes(outcome.status)) {
        // The agent had its prompt: the activity up to the run's start is now seen.
        await ctx.db.updateTable('persistent_agents').set({ last_heartbeat_at: run.started_at }).where('id', '=', agent.id).execute();
        await markResponsive(ctx, agent, `a run ${outcome.status === 'idle' ? 'answered HEARTBEAT_OK' : 'succeeded'}`);
        return true;
      }
      const last = await ctx.db
        .selectFrom('agent_runs')
        .select('status')
        .where('agent_id', '=', agent.id)
        .where('status', 'in', ANSWERS)
        .orderBy('ended_at', 'desc')
        .orderBy('id', 'desc')
        .limit(FAILED_RUNS)
        .execute();
      if (last.length === FAILED_RUNS && last.every((r) => FAILING.includes(r.status as RunStatus))) {
        await markUnresponsive(ctx, agent, `its last ${FAILED_RUNS} runs failed or timed out (last: ${outcome.status}${outcome.error ? `, ${outcome.error.slice(0, 200)}` : ''})`);
      }
      return true;
    });
  }

  /**
   * Runs left `running` by another scheduler — one that died, or lost its leadership and killed them — are
   * `interrupted`: their agent may be woken again. Called by a scheduler when it becomes the leader, before it
   * starts a run: every run token still valid then was made for a run of an earlier leader, and is revoked.
   */
  async recover(holder: string): Promise<number> {
    return this.write(async (ctx) => {
      const result = await ctx.db
        .updateTable('agent_runs')
        .set({ status: 'interrupted', ended_at: ctx.now, error: 'the scheduler running it stopped (its process ended or it lost the lead)' })
        .where('status', '=', 'running')
        .where('runner', '!=', holder)
        .executeTakeFirst();
      await ctx.db.updateTable('tokens').set({ revoked_at: ctx.now, revoked_by: 'runner' }).where('name', '=', RUN_TOKEN_NAME).where('revoked_at', '=', '').execute();
      return Number(result.numUpdatedRows);
    });
  }

  /** The heartbeat prompt of a started run. */
  async prompt(started: StartedRun): Promise<Heartbeat> {
    const ctx = this.context();
    const agent = (await ctx.db.selectFrom('persistent_agents').selectAll().where('id', '=', started.agent.id).executeTakeFirst()) ?? started.agent;
    return buildHeartbeat(ctx, agent, started.team, { reasons: started.run.reasons, since: started.since });
  }

  /** The agent's WORKING.md, as the runner mirrors it into the agent's folder. */
  async workingMarkdown(agentId: string): Promise<string> {
    const state = await this.store.db.selectFrom('agent_working_state').selectAll().where('agent_id', '=', agentId).executeTakeFirst();
    return `${renderWorkingState(state ?? { status: 'idle', current_task_id: '', next_steps: '', context: '' })}\n`;
  }

  /** The `sse` adapter: an `agent_wake` event for the agent's open stream (reasons only; the agent fetches its prompt). */
  async appendWake(started: StartedRun, details: Record<string, unknown>): Promise<number> {
    return this.write(async (ctx) => {
      const { agent, run } = started;
      ctx.emit({
        team_id: agent.team_id,
        type: 'agent_wake',
        message: `runner woke ${agent.id} (${describeReasons(run.reasons)})`,
        related_id: agent.id,
        data: { agent_id: agent.id, run_id: run.id, session_id: run.session_id, reasons: run.reasons.map(({ kind, key, by, ref }) => ({ kind, key, by, ref })), ...details },
      });
      // This wake's own event: on PostgreSQL another writer's may have committed later with a higher number.
      await ctx.flushEvents();
      const own = await ctx.db.selectFrom('team_events').select('seq').where('team_id', '=', agent.team_id).where('type', '=', 'agent_wake').where('related_id', '=', agent.id).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
      return Number(own.seq);
    });
  }

  private async sessionId(ctx: Ctx, agent: AgentRow): Promise<string> {
    const session = await ctx.db.selectFrom('agent_sessions').select('session_id').where('agent_id', '=', agent.id).executeTakeFirst();
    if (session) return session.session_id;
    const id = randomUUID();
    await ctx.db.insertInto('agent_sessions').values({ agent_id: agent.id, session_id: id, history: '[]', updated_at: ctx.now }).execute();
    return id;
  }

  /** The conversation an adapter keeps for the agent (the openai adapter's turns). */
  async history<T>(agentId: string): Promise<T[]> {
    const row = await this.store.db.selectFrom('agent_sessions').select('history').where('agent_id', '=', agentId).executeTakeFirst();
    return row ? (JSON.parse(row.history) as T[]) : [];
  }

  async saveHistory(agentId: string, history: unknown[]): Promise<void> {
    await this.write(async (ctx) => {
      await ctx.db.updateTable('agent_sessions').set({ history: JSON.stringify(history), updated_at: ctx.now }).where('agent_id', '=', agentId).execute();
    });
  }
}
