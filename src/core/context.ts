import type { DialectName } from '../store/dialect.js';
import { beforeCommit, sendWithCommit } from '../store/store.js';
import type { Db } from '../store/store.js';
import type { AgentRow, EventRow, TeamRow } from '../store/schema.js';
import { TeamTableError, denied, notFound } from './errors.js';
import { DEFINITIONS_STAMP, definitionsStampOf } from './definitions.js';
import type { DefinitionCache } from './definitions.js';
import { newRowId, teamSlug } from './ids.js';
import { prepared } from './prepared.js';
import { isLeadAgent } from './roles.js';

export type Clock = () => Date;

/** A write under the shared lock reached work that needs the exclusive one (see Ctx.requireExclusive). */
export class SharedLockTooWeak extends Error {
  constructor() {
    super('this write needs the exclusive write lock');
  }
}

/** Where a call without a definition cache keeps what it read of them (see Ctx.definition). */
const DEFINITION = 'definition:';

/** The events of a change to a definition (every such change appends one, right after it). */
const DEFINITION_EVENTS = new Set(
  ['team', 'role', 'rule', 'notification_rule'].flatMap((what) => ['created', 'updated', 'deleted'].map((change) => `${what}_${change}`)),
);

/** An event's row as written: the log numbers it (`seq`). */
type EventValues = Omit<EventRow, 'seq'>;
const EVENT_COLUMNS = ['id', 'team_id', 'type', 'agent_id', 'message', 'related_id', 'data', 'created_at'] as const;
/** Events per insert statement: a prepared shape per count up to it. */
const EVENTS_PER_INSERT = 32;

/** Several events in one statement, in order (the log numbers them as they come). */
const appendEvents = prepared(
  (db, p: Record<string, string>) => {
    const count = Object.keys(p).length / EVENT_COLUMNS.length;
    const rows = Array.from({ length: count }, (_, i) => Object.fromEntries(EVENT_COLUMNS.map((c) => [c, p[`${c}${i}`]])) as unknown as EventValues);
    return db.insertInto('team_events').values(rows);
  },
  (p) => String(Object.keys(p).length),
);

const teamById = prepared((db, p: { id: string }) => db.selectFrom('teams').selectAll().where('id', '=', p.id));

/**
 * The events of one use case and the rules it sets off. They are written in one statement just before the commit
 * (`Store.write` calls `flush`), not one by one as they happen: a claim's two events cost one statement, and on
 * PostgreSQL that statement travels with the COMMIT, so the lock that numbers the log in commit order is held for
 * the two alone, inside the database, with no round trip to this process in between. A use case that reads the log
 * back in its own transaction flushes first (`Ctx.flushEvents`).
 */
class Journal {
  readonly emitted: EmittedEvent[] = [];
  private unwritten: EventValues[] = [];
  private flushing = false;

  /** Records an event of the transaction `target` runs in; its commit writes what is left unwritten. */
  add(target: { db: Db; dialect: DialectName }, event: EmittedEvent, values: EventValues): void {
    this.emitted.push(event);
    this.unwritten.push(values);
    if (this.flushing) return;
    this.flushing = true;
    beforeCommit(target.db, () => this.flush(target, true));
  }

  /** Writes the events not yet written; at the commit, the last insert goes with it (`sendWithCommit`). */
  async flush(target: { db: Db; dialect: DialectName }, atCommit = false): Promise<void> {
    while (this.unwritten.length) {
      const batch = this.unwritten.splice(0, EVENTS_PER_INSERT);
      const params: Record<string, string> = {};
      batch.forEach((event, i) => {
        for (const column of EVENT_COLUMNS) params[`${column}${i}`] = event[column];
      });
      if (atCommit && !this.unwritten.length) sendWithCommit(target.db, appendEvents.query(target, params));
      else await appendEvents(target, params);
    }
  }
}

/**
 * Who a session acts as: the team owner (a person or an operator agent), or one agent. `session` names the
 * adapter's session (one per stdio process, one per MCP/HTTP session): mail handed out to a session and never
 * acknowledged by it is handed out again to the next one. Calls without one share one session per actor.
 */
export type Actor = { kind: 'owner'; name: string; session?: string } | { kind: 'agent'; id: string; session?: string };

/** The actor as a use case sees it: an agent session carries its agent's row. */
export type ResolvedActor = { kind: 'owner'; id: string; session?: string } | { kind: 'agent'; id: string; agent: AgentRow; session?: string };

export interface EventInput {
  team_id: string;
  type: string;
  message: string;
  related_id?: string;
  data?: Record<string, unknown>;
}

/** An event appended during this use case, with how many rule firings deep it was caused. */
export interface EmittedEvent extends EventInput {
  depth: number;
  /** Who caused it (an agent id, the owner's name, or `rule:<id>`). */
  actor: string;
}

/**
 * Everything one use case needs: its transaction (or the database, for reads), the actor, one timestamp for the
 * whole call, and the events it appends. Handed to every action's `run`.
 */
export class Ctx {
  constructor(
    readonly db: Db,
    readonly actor: ResolvedActor,
    readonly now: string,
    readonly dialect: DialectName = 'sqlite',
    /** Shared by the use case and the rules it sets off. */
    private readonly journal = new Journal(),
    readonly depth = 0,
    private readonly memos = new Map<string, Promise<unknown>>(),
    /** The write holds the shared write lock (a claim on PostgreSQL): others write beside it. */
    private readonly sharedLock = false,
    /** The process's definitions kept between calls; without it, each call reads its own. */
    private readonly definitions?: DefinitionCache,
  ) {}

  /** The context of one call from an adapter, whose definitions the process keeps between calls (`definitions`). */
  static forCall(db: Db, actor: ResolvedActor, now: string, dialect: DialectName, definitions: DefinitionCache | undefined, sharedLock = false): Ctx {
    return new Ctx(db, actor, now, dialect, undefined, undefined, undefined, sharedLock, definitions);
  }

  /**
   * Reads `key` once per call: what a call consults several times and nothing in the same call changes before
   * reading it again (the notification settings, a notified task's fields).
   */
  memo<T>(key: string, read: () => Promise<T>): Promise<T> {
    if (!this.memos.has(key)) this.memos.set(key, read());
    return this.memos.get(key) as Promise<T>;
  }

  /**
   * Reads the definition `key` (a team, its roles, its rules: see DefinitionCache) through the process's cache, or
   * once per call without one.
   */
  definition<T>(key: string, read: () => Promise<T>): Promise<T> {
    const cache = this.definitions;
    if (!cache) return this.memo(`${DEFINITION}${key}`, read);
    return definitionsStampOf(this).then((stamp) => cache.get(stamp, key, read));
  }

  /** The call changed a definition (its event says so): its later reads of definitions read them again. */
  private definitionsChanged(): void {
    for (const key of [...this.memos.keys()]) if (key.startsWith(DEFINITION) || key.startsWith(DEFINITIONS_STAMP)) this.memos.delete(key);
  }

  /** The context a workflow rule acts in: same transaction and time, the rule as actor, one level deeper. */
  asRule(ruleId: string, depth: number): Ctx {
    return new Ctx(this.db, { kind: 'owner', id: `rule:${ruleId}` }, this.now, this.dialect, this.journal, depth, this.memos, this.sharedLock, this.definitions);
  }

  /**
   * Refuses to go on under the shared write lock: what follows reads rows no lock of this write holds and writes by
   * them (a rule acting on a task, a notification counted against a rate limit), which only the exclusive lock
   * keeps from interleaving with another write. The call is then done again under it (Core).
   */
  requireExclusive(): void {
    if (this.sharedLock) throw new SharedLockTooWeak();
  }

  /** The events this use case and its rules appended, in order: the rule engine walks them. */
  get emitted(): readonly EmittedEvent[] {
    return this.journal.emitted;
  }

  get actorId(): string {
    return this.actor.id;
  }

  /** The actor as one string, unambiguous across kinds (an agent and the owner may share a name). */
  get actorKey(): string {
    return `${this.actor.kind}:${this.actor.id}`;
  }

  /** The session the call came from (see Actor). */
  get sessionKey(): string {
    return `${this.actorKey}#${this.actor.session ?? ''}`;
  }

  get isOwner(): boolean {
    return this.actor.kind === 'owner';
  }

  /** The level of the acting agent, or `owner`. */
  get actorLevel(): string {
    return this.actor.kind === 'owner' ? 'owner' : this.actor.agent.level;
  }

  /** The owner, or an agent that is a lead by level or by role: who administers the team. */
  get isLead(): boolean {
    return this.actor.kind === 'owner' || isLeadAgent(this.actor.agent);
  }

  /** Appends an event to the log in this use case's transaction (written at its commit, see Journal). */
  emit(event: EventInput): void {
    if (!this.db.isTransaction) throw new Error(`event ${event.type} emitted outside a write transaction`);
    if (DEFINITION_EVENTS.has(event.type)) this.definitionsChanged();
    this.journal.add(
      this,
      { ...event, depth: this.depth, actor: this.actorId },
      {
        id: newRowId(),
        team_id: event.team_id,
        type: event.type,
        agent_id: this.actorId,
        message: event.message,
        related_id: event.related_id ?? '',
        data: JSON.stringify(event.data ?? {}),
        created_at: this.now,
      },
    );
  }

  /** Writes the events appended so far: before this transaction reads the log back. */
  flushEvents(): Promise<void> {
    return this.journal.flush(this);
  }

  /**
   * Resolves `team_id` — an exact id, or a name compared case-insensitively with spaces, hyphens and underscores
   * equivalent. Without one: an agent's own team, else the only team, else an error listing the teams.
   * An agent may only reach its own team.
   */
  async team(ref: string | undefined): Promise<TeamRow> {
    const team = ref === undefined || ref.trim() === '' ? await this.defaultTeam() : await this.findTeam(ref);
    if (this.actor.kind === 'agent' && team.id !== this.actor.agent.team_id) {
      throw denied(`agent '${this.actor.id}' belongs to another team and cannot act on team '${team.name}'`, {
        team_id: team.id,
      });
    }
    return team;
  }

  /** The team whose id is `id`, if any (a definition: a claim needs it to resolve the team and for the lease). */
  teamWithId(id: string): Promise<TeamRow | undefined> {
    return this.definition(`team:${id}`, async () => (await teamById(this, { id })).rows[0]);
  }

  private async findTeam(ref: string): Promise<TeamRow> {
    const byId = await this.teamWithId(ref);
    if (byId) return byId;
    const slug = teamSlug(ref);
    const bySlug = await this.db.selectFrom('teams').selectAll().where('slug', '=', slug).executeTakeFirst();
    if (bySlug) return bySlug;
    // A name's leading words, like a short git ref: 'engineering' still finds 'Engineering Team' after a rename.
    const byPrefix = slug ? await this.db.selectFrom('teams').selectAll().where('slug', 'like', `${slug.replace(/[%_]/g, '')}-%`).orderBy('created_at').limit(20).execute() : [];
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) {
      // A destructive call must never pick one of several teams for the caller.
      throw new TeamTableError('AMBIGUOUS', `team '${ref}' could be any of ${byPrefix.map((t) => `'${t.name}' (${t.id})`).join(', ')}${byPrefix.length === 20 ? ', …' : ''}; pass the id or the full name`, {
        field: 'team_id',
        teams: byPrefix.map((t) => ({ id: t.id, name: t.name })),
      });
    }
    throw notFound('team', ref, "list teams with team_manage(action='list')");
  }

  private async defaultTeam(): Promise<TeamRow> {
    if (this.actor.kind === 'agent') return this.findTeam(this.actor.agent.team_id);
    const teams = await this.db.selectFrom('teams').selectAll().orderBy('created_at').limit(20).execute();
    if (teams.length === 1) return teams[0]!;
    if (teams.length === 0) {
      throw new TeamTableError('NOT_FOUND', "no team exists yet; create one with team_manage(action='create', name=…)");
    }
    throw new TeamTableError(
      'AMBIGUOUS',
      `team_id is required when there are several teams; pass one of: ${teams.map((t) => `'${t.name}' (${t.id})`).join(', ')}`,
      { field: 'team_id', teams: teams.map((t) => ({ id: t.id, name: t.name })) },
    );
  }

  /**
   * The agent `agentId` names, or the acting agent when omitted; `teamRef`, when given, must be its team. The acting
   * agent's row is the one this call read (in a write, under its lock), not read again.
   */
  async agent(agentId: string | undefined, teamRef?: string): Promise<AgentRow> {
    const id = agentId ?? (this.actor.kind === 'agent' ? this.actor.id : undefined);
    if (!id) {
      throw new TeamTableError('VALIDATION', 'agent_id is required (this session acts as the owner, not as an agent)', {
        field: 'agent_id',
      });
    }
    const own = this.actor.kind === 'agent' && this.actor.id === id.toLowerCase() ? this.actor.agent : undefined;
    const agent = own ?? (await this.db.selectFrom('persistent_agents').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst());
    if (!agent) throw notFound('agent', id, "list agents with team_agent(action='list')");
    if (teamRef !== undefined) {
      const team = await this.team(teamRef);
      if (team.id !== agent.team_id) throw notFound('agent', id, `it is not in team '${team.name}'`);
    } else if (this.actor.kind === 'agent' && agent.team_id !== this.actor.agent.team_id) {
      throw notFound('agent', id, 'it is not in your team');
    }
    return agent;
  }

  /** Mailboxes and working state are private: only the agent itself, a lead or the owner touch them. */
  assertActsFor(agent: AgentRow, what: string): void {
    if (this.isLead || this.actor.id === agent.id) return;
    throw denied(`agent '${this.actor.id}' may not ${what} of agent '${agent.id}': only that agent, a lead or the owner may`, {
      agent_id: agent.id,
    });
  }
}
