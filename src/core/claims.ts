import { z } from 'zod';
import { sql } from 'kysely';
import type { RawBuilder, SelectQueryBuilder } from 'kysely';
import type { AgentRow, TaskRow } from '../store/schema.js';
import type { DialectName } from '../store/dialect.js';
import type { Db } from '../store/store.js';
import { defineAction } from './action.js';
import type { Ctx } from './context.js';
import { TeamTableError, conflict } from './errors.js';
import { RESOLVED, assertReady } from './dependencies.js';
import { agentRef, taskRef, teamRef } from './fields.js';
import { LIMITS } from './limits.js';
import { Lru } from './lru.js';
import { createNotification } from './notifications.js';
import { prepared } from './prepared.js';
import { affinityOf } from './roles.js';
import { addAssignee, changeStatus, expectedVersion, hydrateOne, leaseUntil, loadTask, readTask, saveTask, setAssignees } from './tasks.js';

/**
 * Claims with leases. A claim moves a ready task to in_progress for one agent until its lease runs out; the holder
 * renews it explicitly or by any activity on the task; an expired lease puts the task back in the queue.
 *
 * A claim is one conditional write in one transaction: on SQLite the transaction holds the database's write lock
 * from its first statement (BEGIN IMMEDIATE), so the read of the candidate and the write that takes it cannot
 * interleave with another claimer in any process; on PostgreSQL the candidate read locks its row and skips rows
 * another claimer holds (FOR UPDATE SKIP LOCKED), the graphile-worker shape.
 */

const CLAIMABLE = ['inbox', 'assigned'] as const;

async function claimer(ctx: Ctx, agentId: string | undefined, teamRef: string | undefined): Promise<AgentRow> {
  const agent = await ctx.agent(agentId, teamRef);
  ctx.assertActsFor(agent, 'claim work');
  return agent;
}

/**
 * Takes `row`, found ready in this transaction, for `agent`: it becomes an assignee and the holder, and the task
 * moves to in_progress.
 */
async function take(ctx: Ctx, row: TaskRow, agent: AgentRow, assignees: string[], { hasRelations = true, subscribed }: { hasRelations?: boolean; subscribed?: boolean } = {}) {
  row.claimed_by = agent.id;
  row.lease_expires_at = await leaseUntil(ctx, row.team_id);
  if (!assignees.includes(agent.id)) await addAssignee(ctx, row, agent.id, assignees.length, subscribed);
  // changeStatus keeps the claim fields for in_progress, which this is, and sets the holder working on it. The row
  // was read in this transaction, locked: under the exclusive write lock, or FOR UPDATE under the shared one.
  await changeStatus(ctx, row, 'in_progress', { event: 'task_claimed', message: `${agent.id} claimed '${row.title}'`, data: { holder: agent.id, lease_expires_at: row.lease_expires_at }, ready: true, locked: true });
  // Ready means nothing left to wait on; the assignees are those read with the task, and the holder last.
  return await hydrateOne(ctx, row, { assignees: assignees.includes(agent.id) ? assignees : [...assignees, agent.id], waiting_on: [], ...(hasRelations ? {} : { labels: [], blocked_by: [] }) });
}

function assertClaimable(row: TaskRow, agent: AgentRow, assignees: string[]) {
  if (row.claimed_by && row.claimed_by !== agent.id) {
    throw new TeamTableError('TASK_ALREADY_CLAIMED', `task ${row.id} is claimed by ${row.claimed_by} until ${row.lease_expires_at}`, { holder: row.claimed_by, lease_expires_at: row.lease_expires_at });
  }
  if (!(CLAIMABLE as readonly string[]).includes(row.status)) {
    throw new TeamTableError('INVALID_TRANSITION', `task ${row.id} is '${row.status}'; only inbox or assigned tasks can be claimed`, { from: row.status, to: 'in_progress' });
  }
  if (row.status === 'assigned' && !assignees.includes(agent.id)) {
    throw new TeamTableError('TASK_ALREADY_CLAIMED', `task ${row.id} is assigned to ${assignees.join(', ')}, not ${agent.id}`, { assignees });
  }
}

const claim = defineAction({
  tool: 'team_task',
  action: 'claim',
  summary: 'take a ready task: in_progress for you, with a lease (renew, or any activity on it, extends it)',
  input: z.strictObject({ team_id: teamRef, task_id: taskRef, agent_id: agentRef.optional(), expected_version: expectedVersion }),
  write: true,
  answersWithTask: true,
  async run(ctx, input) {
    const { row, task } = await loadTask(ctx, input.team_id, input.task_id, input.expected_version);
    const agent = await claimer(ctx, input.agent_id, row.team_id);
    if (row.claimed_by === agent.id && row.status === 'in_progress') return renewLease(ctx, row);
    assertClaimable(row, agent, task.assignees);
    await assertReady(ctx, row, 'claimed');
    return take(ctx, row, agent, task.assignees);
  },
});

export interface ReadyFilters {
  label?: string;
  task_type?: string;
}

/**
 * Tasks ready to be claimed from one team's queue in one status: unclaimed, every dependency resolved, and the
 * filters. On PostgreSQL a claim's read locks the rows it reads and skips rows another claimer holds (the
 * graphile-worker shape); on SQLite the write transaction already holds the database's write lock. `look` reads
 * without locking (what a heartbeat shows).
 *
 * The constants are written into the SQL, not bound: PostgreSQL then reads the queue off its index of open tasks
 * (`tasks_open_queue`, partial on inbox and assigned) whatever its statistics say of the statuses (with none
 * gathered since a backlog arrived, it walked the team's list order past every task already claimed), and a plan
 * made once costs no more than one made with the values, so that it keeps that plan (bound, they cost 2–3 ms of
 * planning on every claim once statistics were gathered).
 */
function readyIn(ctx: Pick<Ctx, 'db' | 'dialect'>, teamId: string, status: 'inbox' | 'assigned', filters: ReadyFilters, look = false) {
  let query = ctx.db
    .selectFrom('team_tasks as t')
    .selectAll('t')
    .where('t.team_id', '=', teamId)
    .where('t.status', '=', sql.lit(status))
    .where('t.claimed_by', '=', sql.lit(''))
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('team_task_dependencies as d')
            .innerJoin('team_tasks as dep', 'dep.id', 'd.depends_on')
            .select('d.task_id')
            .whereRef('d.task_id', '=', 't.id')
            .where('dep.status', 'not in', RESOLVED.map((status) => sql.lit(status))),
        ),
      ),
    );
  if (filters.task_type) query = query.where('t.task_type', '=', filters.task_type);
  if (filters.label) {
    const label = filters.label;
    query = query.where(({ exists, selectFrom }) => exists(selectFrom('team_task_labels as l').select('l.task_id').whereRef('l.task_id', '=', 't.id').where('l.label', '=', label)));
  }
  return ctx.dialect === 'postgres' && !look ? query.forUpdate('t').skipLocked() : query;
}

/**
 * The inbox's ready tasks, best first: read off the `tasks_ready_queue` index (team, status, priority, created_at, id;
 * on PostgreSQL `tasks_open_queue`, the same of the open tasks only)
 * in order, stopping after the first ready rows asked for, so the cost does not grow with done tasks or with the
 * backlog. A single query ordering by a CASE over the role's task types was rejected: it cannot follow the index, so
 * SQLite sorted every task of the team on every claim (5 ms at 10k tasks, 30× slower with 100k done). Instead, at the
 * best priority, each preferred type is one indexed lookup (`tasks_ready_by_type`, `tasks_open_by_type`).
 */
export function readyInbox(ctx: Pick<Ctx, 'db' | 'dialect'>, teamId: string, filters: ReadyFilters, look = false) {
  return readyIn(ctx, teamId, 'inbox', filters, look).orderBy('t.priority').orderBy('t.created_at').orderBy('t.id');
}

/** The inbox's best ready task, as claim_next reads it. */
export const inboxHead = (ctx: Pick<Ctx, 'db' | 'dialect'>, teamId: string, filters: ReadyFilters) => readyInbox(ctx, teamId, filters).limit(sql.lit(1));

/**
 * Ready tasks assigned to `agentId`, best first (the page claim_next ranks with the inbox's best): in the queue's
 * order, so that the plan follows the queue's index and the page holds the best of them.
 */
function assignedReady(ctx: Pick<Ctx, 'db' | 'dialect'>, teamId: string, filters: ReadyFilters, agentId: string) {
  return readyIn(ctx, teamId, 'assigned', filters)
    .where(({ exists, selectFrom }) => exists(selectFrom('team_task_assignees as a').select('a.task_id').whereRef('a.task_id', '=', 't.id').where('a.agent_id', '=', agentId)))
    .orderBy('t.priority')
    .orderBy('t.created_at')
    .orderBy('t.id')
    .limit(sql.lit(LIMITS.pageSize));
}

/**
 * A task claim_next may take, with what the read that found it says of its relations: whether it has assignees,
 * whether it has labels or dependencies, and whether the claimer follows its thread (undefined: not read). Taking it
 * reads only those it has (most have none), and writes without waiting for answers.
 */
export interface Candidate {
  row: TaskRow;
  hasAssignees: boolean;
  hasRelations: boolean;
  subscribed?: boolean;
}

/** A task found by a read that did not look at its relations. */
const unread = (row: TaskRow | undefined): Candidate | undefined => row && { row, hasAssignees: true, hasRelations: true };

type FrontRow = TaskRow & { front: 'head' | 'assigned' | 'preferred'; has_assignees: unknown; has_relations: unknown; subscribed: unknown };

/** `query`'s rows, each saying which front it is. */
const front = (db: Db, query: SelectQueryBuilder<any, any, TaskRow>, name: FrontRow['front']) => db.selectFrom(query.as('c')).selectAll('c').select(sql.lit(name).as('front'));

/**
 * The rows of `fronts`, each saying whether its task has assignees, labels or dependencies, and `agent` follows it.
 * On PostgreSQL each `exists` ends in `offset 0`, which keeps it from running as a hashed subplan: that reads every
 * row of the table (every assignment, label, subscription of the agent) into a hash on every claim, a cost growing
 * with history, where one index lookup a task will do. (SQLite runs each as a lookup; its OFFSET needs a LIMIT.)
 */
function flagged(db: Db, fronts: SelectQueryBuilder<any, any, TaskRow & { front: FrontRow['front'] }>, agent: string, dialect: DialectName) {
  const each = sql.raw(dialect === 'postgres' ? ' offset 0' : '');
  return db
    .selectFrom(fronts.as('f'))
    .selectAll('f')
    .select([
      sql<unknown>`exists (select 1 from team_task_assignees as a where a.task_id = f.id${each})`.as('has_assignees'),
      sql<unknown>`exists (select 1 from team_task_labels as l where l.task_id = f.id${each}) or exists (select 1 from team_task_dependencies as d where d.task_id = f.id${each})`.as('has_relations'),
      sql<unknown>`exists (select 1 from team_thread_subscriptions as s where s.team_id = f.team_id and s.thread_id = f.id and s.agent_id = ${agent}${each})`.as('subscribed'),
    ]);
}

// claim_next without filters, the common call: the inbox's best ready task, the ready tasks assigned to the agent and,
// for a role that prefers task types, the best ready task of each of those types at the best priority, in one
// prepared statement. Each part reads an index in its order, with every column before the order's fixed, so one plan
// fits every run (`planOnce`). The preferred types are written into the SQL, not bound: how many tasks of a type there
// are is what a plan for it depends on (a type that most tasks have is read best in list order, a rare one off its
// index), so the statement is compiled once per list of types, for the last MAX_TYPE_LISTS lists used.
const unfiltered = (filters: ReadyFilters) => !filters.label && !filters.task_type;
const MAX_TYPE_LISTS = 64;
const frontsFor = (types: readonly string[]) =>
  prepared(
    (db, { team, agent }: { team: string; agent: string }, dialect) => {
      const target = { db, dialect };
      const head = inboxHead(target, team, {});
      // Each preferred type's read compares with the head's priority. PostgreSQL reads the head once, in a common
      // table expression (it planned, and set up at every run, each copy of the read: 1.21× the claims/s at 16
      // claimers without them, with the flags below read once); SQLite would copy it into a temporary table (0.95×
      // the claims), and reads it again.
      const once = dialect === 'postgres';
      const from = once ? (db.with('head', () => head) as unknown as Db) : db;
      // From `db`: a query from `from` would carry the expression again, nested, and read the head twice.
      const headRows = once ? db.selectFrom('head' as any).selectAll() : head;
      const bestPriority = (once ? db.selectFrom('head' as any) : db.selectFrom(head.as('head'))).select('priority' as any);
      let fronts = front(db, headRows as any, 'head').unionAll(front(db, assignedReady(target, team, {}, agent), 'assigned'));
      // A NUL cannot be written into SQL text: such a type stays a bound value.
      for (const type of types) fronts = fronts.unionAll(front(db, ofType(target, team, {}, type.includes('\0') ? type : sql.lit(type)).where('t.priority', '=', bestPriority as any), 'preferred'));
      return flagged(from, fronts, agent, dialect);
    },
    undefined,
    { planOnce: true },
  );

const frontsByTypes = new Lru<string, ReturnType<typeof frontsFor>>(MAX_TYPE_LISTS);
const frontsOfQueue = (types: string[]) => frontsByTypes.use(JSON.stringify(types), () => frontsFor(types));

/**
 * The inbox's best ready task, the ready tasks assigned to `agentId`, and the best ready task of each of the
 * `affinity` types at the best priority (undefined: not looked for).
 */
async function queueFronts(ctx: Ctx, teamId: string, filters: ReadyFilters, agentId: string, affinity: string[]): Promise<{ head?: Candidate; assigned: Candidate[]; preferred?: Candidate[] }> {
  if (unfiltered(filters)) {
    const { rows } = await frontsOfQueue(affinity)(ctx, { team: teamId, agent: agentId });
    const fronts = (rows as FrontRow[]).map(({ front, has_assignees, has_relations, subscribed, ...row }) => ({ front, row: row as TaskRow, hasAssignees: Boolean(has_assignees), hasRelations: Boolean(has_relations), subscribed: Boolean(subscribed) }));
    const of = (front: FrontRow['front']) => fronts.filter((f) => f.front === front);
    return { head: of('head')[0], assigned: of('assigned'), ...(affinity.length ? { preferred: of('preferred') } : {}) };
  }
  const [head, assigned] = await Promise.all([inboxHead(ctx, teamId, filters).executeTakeFirst(), assignedReady(ctx, teamId, filters, agentId).execute()]);
  return { head: unread(head), assigned: assigned.map((row) => unread(row)!) };
}

/** Ready inbox tasks of one of `types`. */
const ofTypes = (target: Pick<Ctx, 'db' | 'dialect'>, teamId: string, filters: ReadyFilters, types: string[]) =>
  readyIn(target, teamId, 'inbox', filters).where('t.task_type', 'in', types).limit(1);

/** The oldest ready inbox task of `type` (`tasks_ready_by_type`, on PostgreSQL `tasks_open_by_type`, in order). */
const ofType = (target: Pick<Ctx, 'db' | 'dialect'>, teamId: string, filters: ReadyFilters, type: string | RawBuilder<string>) =>
  readyIn(target, teamId, 'inbox', filters).where('t.task_type', '=', type).orderBy('t.created_at').orderBy('t.id').limit(sql.lit(1));

/**
 * The inbox's best ready task for an agent whose role prefers `affinity`, given the best of all (`head`) and the
 * best of each preferred type at its priority (`preferred`, looked for here when undefined).
 */
async function bestInInbox(ctx: Ctx, teamId: string, filters: ReadyFilters, affinity: string[], head: Candidate | undefined, preferred: Candidate[] | undefined): Promise<Candidate | undefined> {
  if (!head || !affinity.length || head.row.task_type === affinity[0]) return head;
  const { priority } = head.row;
  // Most inboxes hold none of the preferred types at the best priority: one probe says so for all of them.
  if (!preferred && !(await ofTypes(ctx, teamId, filters, affinity).where('t.priority', '=', priority).executeTakeFirst())) return head;
  for (const type of affinity) {
    if (head.row.task_type === type) return head;
    const match = preferred
      ? preferred.find(({ row }) => row.task_type === type && row.priority === priority)
      : unread(await ofType(ctx, teamId, filters, type).where('t.priority', '=', priority).executeTakeFirst());
    if (match) return match;
  }
  return head;
}

/**
 * The best ready task for `agent`: from the inbox, or assigned to it and unclaimed; highest priority, then the
 * task types its role prefers (in their order), then oldest.
 */
export async function nextReadyTask(ctx: Ctx, agent: AgentRow, filters: ReadyFilters): Promise<Candidate | undefined> {
  const affinity = filters.task_type ? [] : await affinityOf(ctx, agent);
  const { head, assigned, preferred } = await queueFronts(ctx, agent.team_id, filters, agent.id, affinity);
  const fromInbox = await bestInInbox(ctx, agent.team_id, filters, affinity, head, preferred);
  const rank = (task: TaskRow) => (affinity.includes(task.task_type) ? affinity.indexOf(task.task_type) : affinity.length);
  const [best] = [...(fromInbox ? [fromInbox] : []), ...assigned].sort(({ row: a }, { row: b }) => a.priority - b.priority || rank(a) - rank(b) || a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  if (best) readTask(best.row);
  return best;
}

const assigneesOf = prepared((db, p: { task: string }) => db.selectFrom('team_task_assignees').select('agent_id').where('task_id', '=', p.task).orderBy('position'));

const claimNext = defineAction({
  tool: 'team_task',
  action: 'claim_next',
  summary: 'claim the best ready task for you (priority, role task types, age); none → task null',
  input: z.strictObject({ team_id: teamRef, agent_id: agentRef.optional(), label: z.string().max(LIMITS.label).optional(), task_type: z.string().max(LIMITS.label).optional() }),
  write: true,
  creates: true,
  rowLocked: true,
  answersWithTask: true,
  async run(ctx, input) {
    const agent = await claimer(ctx, input.agent_id, input.team_id);
    const next = await nextReadyTask(ctx, agent, input);
    if (!next) return { task: null, reason: 'no ready task: nothing in the inbox or assigned to you whose dependencies are done' };
    const assignees = next.hasAssignees ? (await assigneesOf(ctx, { task: next.row.id })).rows.map((a) => a.agent_id) : [];
    return { task: await take(ctx, next.row, agent, assignees, next) };
  },
});

async function renewLease(ctx: Ctx, row: TaskRow) {
  row.lease_expires_at = await leaseUntil(ctx, row.team_id);
  await saveTask(ctx, row);
  ctx.emit({ team_id: row.team_id, type: 'task_lease_renewed', message: `${row.claimed_by} renewed the lease on '${row.title}'`, related_id: row.id, data: { lease_expires_at: row.lease_expires_at } });
  return await hydrateOne(ctx, row);
}

const holderInput = z.strictObject({ team_id: teamRef, task_id: taskRef, agent_id: agentRef.optional() });

/** The task a renew or release names, refused unless the agent (the caller by default) holds its claim. */
async function heldTask(ctx: Ctx, input: z.infer<typeof holderInput>): Promise<TaskRow> {
  const { row } = await loadTask(ctx, input.team_id, input.task_id);
  const agent = await claimer(ctx, input.agent_id, row.team_id);
  if (row.claimed_by !== agent.id || row.status !== 'in_progress') {
    throw conflict(`task ${row.id} is not claimed by ${agent.id}${row.claimed_by ? ` (holder: ${row.claimed_by})` : ` (it is '${row.status}', held by nobody)`}; claim it first`, { field: 'task_id', holder: row.claimed_by, status: row.status });
  }
  return row;
}

const renew = defineAction({
  tool: 'team_task',
  action: 'renew',
  summary: "extend your claim's lease",
  input: holderInput,
  write: true,
  answersWithTask: true,
  async run(ctx, input) {
    return renewLease(ctx, await heldTask(ctx, input));
  },
});

/** Back to the queue: without the holder among its assignees, assigned if others remain, else inbox. */
export async function requeue(ctx: Ctx, row: TaskRow, event: string, message: string) {
  const holder = row.claimed_by;
  const rest = (await ctx.db.selectFrom('team_task_assignees').select('agent_id').where('task_id', '=', row.id).orderBy('position').execute())
    .map((a) => a.agent_id)
    .filter((id) => id !== holder);
  await setAssignees(ctx, row, rest);
  await changeStatus(ctx, row, rest.length ? 'assigned' : 'inbox', { force: true, event, message, data: { holder } });
  return holder;
}

const release = defineAction({
  tool: 'team_task',
  action: 'release',
  summary: 'give your claimed task back to the queue',
  input: holderInput,
  write: true,
  answersWithTask: true,
  async run(ctx, input) {
    const row = await heldTask(ctx, input);
    await requeue(ctx, row, 'task_released', `${row.claimed_by} released '${row.title}'`);
    return await hydrateOne(ctx, row);
  },
});

/**
 * Requeues every task whose lease has run out, with an event and a notification to the team and to the former
 * holder. Run at the start of write use cases and on a timer by servers; each expiry is a conditional write, so
 * processes sweeping at once requeue a task once.
 */
export async function sweepExpiredLeases(ctx: Ctx): Promise<number> {
  const expired = await ctx.db
    .selectFrom('team_tasks')
    .selectAll()
    .where('status', '=', 'in_progress')
    .where('lease_expires_at', '!=', '')
    .where('lease_expires_at', '<=', ctx.now)
    .limit(100)
    .execute();
  for (const row of expired) {
    const holder = await requeue(ctx, row, 'task_lease_expired', `the lease of ${row.claimed_by} on '${row.title}' expired`);
    const message = `${holder}'s claim on '${row.title}' (${row.id}) expired; the task is back in the queue (${row.status})`;
    await createNotification(ctx, { team_id: row.team_id, type: 'lease_expired', message, task_id: row.id, priority: 2 });
    const stillHere = await ctx.db.selectFrom('persistent_agents').select('id').where('id', '=', holder).executeTakeFirst();
    if (stillHere) await createNotification(ctx, { team_id: row.team_id, type: 'lease_expired', message, task_id: row.id, priority: 2, to_agent: holder });
  }
  return expired.length;
}

export const claimActions = [claim, claimNext, renew, release];
