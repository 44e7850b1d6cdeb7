import { z } from 'zod';
import { sql } from 'kysely';
import type { Compilable } from 'kysely';
import type { TaskRow } from '../store/schema.js';
import type { Db } from '../store/store.js';
import { defineAction } from './action.js';
import type { Ctx } from './context.js';
import { TeamTableError, denied, notFound, validation } from './errors.js';
import { RESOLVED, assertParent, assertReady, onTaskFinished, setDependencies, subtaskProgress, unblockDependents } from './dependencies.js';
import { TASK_STATUSES, agentRef, cursor, limit, longText, priority, shortText, stringList, taskRef, teamRef } from './fields.js';
import type { TaskStatus } from './fields.js';
import { taskFeed } from './feed.js';
import { newId } from './ids.js';
import { numberedSet, prepared } from './prepared.js';
import { teamOf } from './notificationRouting.js';
import { LIMITS } from './limits.js';
import { PAGE_BUDGET, after, cutFields, decodeCursor, jsonBytes, pageFields, takePage } from './paging.js';
import { defined } from './patch.js';
import { subscribe } from './threads.js';
import { assertTransition } from './workflow.js';
import { startWork, stopWork } from './working.js';

export type Task = ReturnType<typeof toTask>;

interface Relations {
  assignees: string[];
  labels: string[];
  blocked_by: string[];
  waiting_on: string[];
}

export const toTask = (row: TaskRow, relations: Relations) => ({ ...row, ...relations });

const groupBy = <T extends { task_id: string }>(items: T[], pick: (item: T) => string) => {
  const byTask = new Map<string, string[]>();
  for (const item of items) byTask.set(item.task_id, [...(byTask.get(item.task_id) ?? []), pick(item)]);
  return byTask;
};

// The relations of a page of tasks, prepared for a few lengths of the id list (`numberedSet`).
const ofTasks = <R>(build: (db: Db, ids: string[]) => Compilable<R>) => prepared((db, ids: Record<string, string>) => build(db, Object.values(ids)), (ids) => String(Object.keys(ids).length));
const assigneesOfTasks = ofTasks((db, ids) => db.selectFrom('team_task_assignees').select(['task_id', 'agent_id']).where('task_id', 'in', ids).orderBy('position'));
const LABEL = 0;
const DEPENDENCY = 1;
/**
 * Labels and dependencies in one read, a row each (`kind`): a dependency is `open` while the task it depends on is
 * not resolved (a dependency on a task since deleted is not).
 */
const labelsAndDependenciesOfTasks = ofTasks((db, ids) =>
  db
    .selectFrom('team_task_labels')
    .select(['task_id', sql.lit(LABEL).as('kind'), 'label as value', sql<number>`0`.as('open')])
    .where('task_id', 'in', ids)
    .unionAll(
      db
        .selectFrom('team_task_dependencies as d')
        .leftJoin('team_tasks as dep', 'dep.id', 'd.depends_on')
        .select(['d.task_id', sql.lit(DEPENDENCY).as('kind'), 'd.depends_on as value', sql<number>`case when ${sql.ref('dep.status')} not in (${sql.raw(RESOLVED.map((status) => `'${status}'`).join(', '))}) then 1 else 0 end`.as('open')])
        .where('d.task_id', 'in', ids),
    )
    .orderBy('kind')
    .orderBy('value'),
);

/**
 * Loads assignees, labels and dependencies for many tasks in two queries; relations the caller already knows for
 * every row (`known`) are not read again (labels and dependencies only when all three of theirs are known).
 */
export async function hydrate(ctx: Ctx, rows: TaskRow[], known: Partial<Relations> = {}): Promise<Task[]> {
  if (rows.length === 0) return [];
  const byId = numberedSet('id', rows.map((r) => r.id));
  const relationsKnown = known.labels && known.blocked_by && known.waiting_on;
  const [assignees, relations] = await Promise.all([
    known.assignees ? undefined : assigneesOfTasks(ctx, byId).then((r) => r.rows),
    relationsKnown ? [] : labelsAndDependenciesOfTasks(ctx, byId).then((r) => r.rows),
  ]);
  const byAssignee = groupBy(assignees ?? [], (a) => a.agent_id);
  const byLabel = groupBy(relations.filter((r) => r.kind === LABEL), (r) => r.value);
  const dependencies = relations.filter((r) => r.kind === DEPENDENCY);
  const byDependency = groupBy(dependencies, (r) => r.value);
  const byOpenDependency = groupBy(dependencies.filter((r) => r.open), (r) => r.value);
  return rows.map((row) =>
    toTask(row, {
      assignees: known.assignees ?? byAssignee.get(row.id) ?? [],
      labels: known.labels ?? byLabel.get(row.id) ?? [],
      blocked_by: known.blocked_by ?? byDependency.get(row.id) ?? [],
      waiting_on: known.waiting_on ?? byOpenDependency.get(row.id) ?? [],
    }),
  );
}

/** One task with its relations (those in `known` as given). */
export async function hydrateOne(ctx: Ctx, row: TaskRow, known: Parameters<typeof hydrate>[2] = {}): Promise<Task> {
  return (await hydrate(ctx, [row], known))[0]!;
}

/**
 * The task `taskId` of the team `teamRef` resolves to. With `expectedVersion`, a task changed since the caller
 * read it is refused (VERSION_CONFLICT) instead of being overwritten.
 */
export async function loadTask(ctx: Ctx, teamRef: string | undefined, taskId: string, expectedVersion?: number): Promise<{ row: TaskRow; task: Task }> {
  const team = await ctx.team(teamRef);
  const row = readTask(await ctx.db.selectFrom('team_tasks').selectAll().where('id', '=', taskId).where('team_id', '=', team.id).executeTakeFirst());
  if (!row) throw notFound('task', taskId, `it is not in team '${team.name}'; list tasks with team_task(action='list')`);
  if (expectedVersion !== undefined && expectedVersion !== row.version) {
    throw new TeamTableError('VERSION_CONFLICT', `task ${row.id} is at version ${row.version}, not ${expectedVersion}: it changed since you read it; get it again and retry`, {
      field: 'expected_version',
      version: row.version,
    });
  }
  return { row, task: await hydrateOne(ctx, row) };
}

/** Checks that every id names an agent of the team; the error lists those that do not. */
export async function assertTeamAgents(ctx: Ctx, teamId: string, ids: string[], field: string) {
  if (ids.length === 0) return;
  const found = await ctx.db.selectFrom('persistent_agents').select('id').where('team_id', '=', teamId).where('id', 'in', ids).execute();
  const missing = ids.filter((id) => !found.some((a) => a.id === id));
  if (missing.length) throw validation(field, `names no agent of this team: ${missing.join(', ')}`, { missing });
}

const normaliseIds = (ids: string[]) => [...new Set(ids.map((id) => id.toLowerCase()))];

export async function setAssignees(ctx: Ctx, task: TaskRow, assignees: string[]) {
  await ctx.db.deleteFrom('team_task_assignees').where('task_id', '=', task.id).execute();
  if (assignees.length) {
    await ctx.db
      .insertInto('team_task_assignees')
      .values(assignees.map((agent_id, position) => ({ task_id: task.id, agent_id, position })))
      .execute();
  }
  for (const id of assignees) await subscribe(ctx, task.team_id, task.id, id, 'assigned');
}

const insertAssignee = prepared((db, row: { task_id: string; agent_id: string; position: number }) => db.insertInto('team_task_assignees').values(row));

/** Adds one assignee at `position` (a claim's holder joining the assignees). */
export async function addAssignee(ctx: Ctx, task: TaskRow, agentId: string, position: number, subscribed?: boolean) {
  await insertAssignee.unanswered(ctx, { task_id: task.id, agent_id: agentId, position });
  await subscribe(ctx, task.team_id, task.id, agentId, 'assigned', subscribed);
}

/**
 * A label row carries its task's place in list order (team, priority, creation), so that a list by label reads only
 * the tasks carrying it, in order (see list); a change of priority moves them too (update).
 */
const labelRow = (task: TaskRow, label: string) => ({ task_id: task.id, label, team_id: task.team_id, priority: task.priority, created_at: task.created_at });

async function setLabels(ctx: Ctx, task: TaskRow, labels: string[]) {
  await ctx.db.deleteFrom('team_task_labels').where('task_id', '=', task.id).execute();
  if (labels.length) await ctx.db.insertInto('team_task_labels').values(labels.map((label) => labelRow(task, label))).execute();
}

/** Adds `label` to the task's labels (a rule's add_label); a label it has already stays as it is. */
export async function addLabel(ctx: Ctx, task: TaskRow, label: string) {
  await ctx.db.insertInto('team_task_labels').values(labelRow(task, label)).onConflict((c) => c.columns(['task_id', 'label']).doNothing()).execute();
}

/** What a save may change: everything but the task's identity and its creation. */
type Changeable = Omit<TaskRow, 'id' | 'team_id' | 'created_by' | 'created_at'>;
const CHANGEABLE: (keyof Changeable)[] = [
  'title', 'description', 'status', 'priority', 'updated_at', 'completed_at', 'blocked_reason', 'blocked_from',
  'version', 'reviewer', 'parent_id', 'task_type', 'claimed_by', 'lease_expires_at',
];

// Compiled once per set of columns saved (a claim's, an update's …); `read` is the version the save expects.
const updateTask = prepared(
  (db, { id, read, ...changes }: Partial<Changeable> & { id: string; read: number }) => db.updateTable('team_tasks').set(changes).where('id', '=', id).where('version', '=', read),
  (params) => Object.keys(params).join(),
);

/** Each task row as this call read it (see `readTask`): a save writes only what changed since. */
const asRead = new WeakMap<TaskRow, TaskRow>();

/** Remembers `row` as read, so that saving it writes only the columns the call changes (see saveTask). */
export function readTask<T extends TaskRow | undefined>(row: T): T {
  if (row) asRead.set(row, { ...row });
  return row;
}

/**
 * Saves `row` if nobody changed the task since it was read — one conditional write, whatever the database's
 * isolation — bumping its version and `updated_at`. Only the columns that changed since `readTask` are written
 * (every changeable one for a row read otherwise): setting a column, even to its value, rewrites every index on it —
 * a claim would rewrite the list-order and parent indexes for a priority it did not change.
 *
 * `locked`: the row was read in this transaction under a lock no other writer of it passes (see StatusChange), so
 * nobody can have changed it: the write is not waited for (on PostgreSQL it travels with the next statement).
 */
export async function saveTask(ctx: Ctx, row: TaskRow, { locked = false } = {}) {
  const read = row.version;
  row.version += 1;
  row.updated_at = ctx.now;
  const before = asRead.get(row);
  const changes = Object.fromEntries(CHANGEABLE.filter((column) => !before || row[column] !== before[column]).map((column) => [column, row[column]]));
  const params = { ...changes, id: row.id, read };
  if (locked) await updateTask.unanswered(ctx, params);
  else if (Number((await updateTask(ctx, params)).numAffectedRows) === 0) {
    throw new TeamTableError('VERSION_CONFLICT', `task ${row.id} changed while this call was working on it; get it again and retry`, { field: 'expected_version' });
  }
  readTask(row);
}

export interface StatusChange {
  /** The event type recorded (task_updated, task_claimed, task_approved …). */
  event?: string;
  blockedReason?: string;
  /** A system transition (lease expiry, rules) that the workflow table does not restrict. */
  force?: boolean;
  /** The caller has just checked, in this transaction, that every dependency is resolved (a claim). */
  ready?: true;
  /**
   * The caller read the row in this transaction under a lock no other writer of it passes — the exclusive write
   * lock, or (a claim under the shared one) the row's own lock (FOR UPDATE): saved without a version check.
   */
  locked?: true;
  message?: string;
  data?: Record<string, unknown>;
}

/**
 * Who holds a task that starts without an explicit claim: the acting agent when it is an assignee (or nobody is),
 * else the only assignee. Work in progress always has a holder when one can be named, so its lease can run out.
 */
async function implicitHolder(ctx: Ctx, row: TaskRow): Promise<string> {
  const assignees = (await ctx.db.selectFrom('team_task_assignees').select('agent_id').where('task_id', '=', row.id).orderBy('position').execute()).map((a) => a.agent_id);
  if (ctx.actor.kind === 'agent' && (assignees.length === 0 || assignees.includes(ctx.actorId))) {
    if (!assignees.includes(ctx.actorId)) await addAssignee(ctx, row, ctx.actorId, assignees.length);
    return ctx.actorId;
  }
  return assignees.length === 1 ? assignees[0]! : '';
}

/**
 * The one path of every status change — update, claim, review, lease expiry, rules: checks the workflow and the
 * dependencies, keeps the side fields right (completed_at, blocked_from, the claim, and the holder's status and
 * current task in its agent row and its working state),
 * saves, records an event carrying `from` and `to`, and sets off what finishing a task causes.
 */
export async function changeStatus(ctx: Ctx, row: TaskRow, to: TaskStatus, change: StatusChange = {}) {
  const from = row.status;
  if (!change.force) assertTransition(row, to);
  if (to === 'in_progress' && from !== 'blocked' && !change.ready) await assertReady(ctx, row, 'started');
  if (to === 'blocked') {
    row.blocked_from = from;
    row.blocked_reason = change.blockedReason ?? row.blocked_reason;
  } else {
    row.blocked_from = '';
    row.blocked_reason = '';
  }
  if (to === 'in_progress') {
    row.claimed_by ||= await implicitHolder(ctx, row);
    if (row.claimed_by && !row.lease_expires_at) row.lease_expires_at = await leaseUntil(ctx, row.team_id);
    if (row.claimed_by) await startWork(ctx, row.claimed_by, row.id);
  } else if (row.claimed_by) {
    await stopWork(ctx, row.claimed_by, row.id);
    row.claimed_by = '';
    row.lease_expires_at = '';
  }
  row.status = to;
  row.completed_at = to === 'done' ? ctx.now : '';
  await saveTask(ctx, row, { locked: change.locked === true });
  ctx.emit({
    team_id: row.team_id,
    type: change.event ?? 'task_updated',
    message: change.message ?? `${ctx.actorId} moved '${row.title}' ${from} → ${to}`,
    related_id: row.id,
    data: { from, to, ...(to === 'blocked' && row.blocked_reason ? { reason: row.blocked_reason } : {}), ...change.data },
  });
  if (to === 'done' || to === 'cancelled') await onTaskFinished(ctx, row);
}

/** The lease a claim on a task of `teamId` gets from now. */
export async function leaseUntil(ctx: Ctx, teamId: string): Promise<string> {
  const team = await teamOf(ctx, teamId);
  return new Date(Date.parse(ctx.now) + team.lease_seconds * 1000).toISOString();
}

/** Any activity of a claim's holder on its task renews the lease and bumps the task. */
export async function touchTask(ctx: Ctx, row: TaskRow) {
  const patch: Partial<TaskRow> = { updated_at: ctx.now };
  if (row.claimed_by && row.claimed_by === ctx.actorId && row.status === 'in_progress') patch.lease_expires_at = await leaseUntil(ctx, row.team_id);
  Object.assign(row, patch);
  await ctx.db.updateTable('team_tasks').set(patch).where('id', '=', row.id).execute();
}

export const expectedVersion = z.number().int().min(1).optional();

const taskFields = {
  description: longText.optional(),
  priority: priority.optional(),
  labels: stringList(LIMITS.label).optional(),
  reviewer: z.union([agentRef, z.literal('')]).optional(),
  parent_id: z.union([taskRef, z.literal('')]).optional(),
  task_type: z.string().trim().max(LIMITS.label).optional(),
  blocked_by: stringList(LIMITS.agentId).optional(),
  blocks: stringList(LIMITS.agentId).optional(),
};

async function checkReferences(ctx: Ctx, row: TaskRow, input: { reviewer?: string; parent_id?: string }) {
  if (input.reviewer) await assertTeamAgents(ctx, row.team_id, [input.reviewer], 'reviewer');
  if (input.parent_id) await assertParent(ctx, row, input.parent_id);
}

const create = defineAction({
  tool: 'team_task',
  action: 'create',
  summary: 'create a task (priority 1 highest … 5)',
  input: z.strictObject({
    team_id: teamRef,
    title: z.string().trim().min(1).max(LIMITS.title),
    ...taskFields,
    priority: priority.default(3),
    assignees: stringList(LIMITS.agentId).optional(),
  }),
  write: true,
  creates: true,
  answersWithTask: true,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const assignees = normaliseIds(input.assignees ?? []);
    await assertTeamAgents(ctx, team.id, assignees, 'assignees');
    const row: TaskRow = {
      id: newId(),
      team_id: team.id,
      title: input.title,
      description: input.description ?? '',
      status: assignees.length ? 'assigned' : 'inbox',
      priority: input.priority,
      created_by: ctx.actorId,
      created_at: ctx.now,
      updated_at: ctx.now,
      completed_at: '',
      blocked_reason: '',
      blocked_from: '',
      version: 1,
      reviewer: input.reviewer?.toLowerCase() ?? '',
      parent_id: input.parent_id ?? '',
      task_type: input.task_type ?? '',
      claimed_by: '',
      lease_expires_at: '',
    };
    await checkReferences(ctx, row, row);
    await ctx.db.insertInto('team_tasks').values(row).execute();
    await setLabels(ctx, row, [...new Set(input.labels ?? [])]);
    await setDependencies(ctx, row, { blockedBy: input.blocked_by, blocks: input.blocks });
    ctx.emit({ team_id: team.id, type: 'task_created', message: `${ctx.actorId} created task '${row.title}'`, related_id: row.id, data: { priority: row.priority, parent_id: row.parent_id } });
    await setAssignees(ctx, row, assignees);
    if (assignees.length) {
      ctx.emit({ team_id: team.id, type: 'task_assigned', message: `task '${row.title}' assigned to ${assignees.join(', ')}`, related_id: row.id, data: { assignees } });
    }
    return await hydrateOne(ctx, row);
  },
});

/** A task in a list: its description cut (see cutFields) so that a page holds many. */
const listed = (task: Task) => cutFields(task, ['description'], `team_task(action='get', task_id='${task.id}')`);

const list = defineAction({
  tool: 'team_task',
  action: 'list',
  summary: "tasks, highest priority first (assignee_filter: an agent id or 'me')",
  input: z.strictObject({
    team_id: teamRef,
    status: z.enum(TASK_STATUSES).optional(),
    assignee_filter: agentRef.optional(),
    label: z.string().max(LIMITS.label).optional(),
    priority: priority.optional(),
    parent_id: taskRef.optional(),
    limit: limit(100),
    cursor,
  }),
  write: false,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const position = decodeCursor('tasks', input.cursor, 3);
    const agentId = input.assignee_filter ? await assigneeOf(ctx, team.id, input.assignee_filter) : undefined;
    // By assignee, the agent's tasks are read first and sorted (SQLite keeps a CROSS JOIN's order): walking the
    // team's tasks in list order until a page of one agent's turns up reads the whole history for an agent with few.
    // By label, the label's rows are read in list order (they carry it: see labelRow), each joined to its task:
    // walking the team's tasks and probing each for the label reads n tasks for each one of a label on one task in n.
    const ofTeam = ctx.db.selectFrom('team_tasks').selectAll('team_tasks');
    const ofAgent = agentId && ctx.db.selectFrom('team_task_assignees as a').crossJoin('team_tasks').whereRef('team_tasks.id', '=', 'a.task_id').where('a.agent_id', '=', agentId).selectAll('team_tasks');
    const label = input.label;
    const ofLabel = !agentId && label !== undefined && ctx.db.selectFrom('team_task_labels as l').crossJoin('team_tasks').whereRef('team_tasks.id', '=', 'l.task_id').where('l.team_id', '=', team.id).where('l.label', '=', label).selectAll('team_tasks');
    // The order is read in the driving table's columns, so that its index gives it without a sort.
    const order = ofLabel ? (['l.priority', 'l.created_at', 'l.task_id'] as const) : (['team_tasks.priority', 'team_tasks.created_at', 'team_tasks.id'] as const);
    let query = ((ofAgent || ofLabel || ofTeam) as typeof ofTeam).where('team_tasks.team_id', '=', team.id);
    if (input.status) query = query.where('team_tasks.status', '=', input.status);
    if (input.priority) query = query.where(order[0] as 'team_tasks.priority', '=', input.priority);
    if (input.parent_id) query = query.where('team_tasks.parent_id', '=', input.parent_id);
    if (label !== undefined && !ofLabel) {
      query = query.where(({ exists, selectFrom }) =>
        exists(selectFrom('team_task_labels as l').select('l.task_id').whereRef('l.task_id', '=', 'team_tasks.id').where('l.label', '=', label)),
      );
    }
    if (position) query = query.where(after(order, position));
    const rows = await query.orderBy(order[0] as 'team_tasks.priority').orderBy(order[1] as 'team_tasks.created_at').orderBy(order[2] as 'team_tasks.id').limit(input.limit + 1).execute();
    const tasks = await hydrate(ctx, rows.slice(0, input.limit));
    const page = takePage(tasks, { limit: input.limit, list: 'tasks', position: (t) => [t.priority, t.created_at, t.id], render: listed, more: rows.length > input.limit });
    return { team_id: team.id, tasks: page.items, count: page.items.length, ...pageFields(page) };
  },
});

/** The agent `assignee_filter` names: an agent of the team, or `me` (the calling agent). */
async function assigneeOf(ctx: Ctx, teamId: string, filter: string): Promise<string> {
  if (filter.toLowerCase() === 'me') {
    if (ctx.actor.kind !== 'agent') throw validation('assignee_filter', "'me' means the calling agent, and this session acts as the owner: name an agent");
    return ctx.actor.id;
  }
  const id = filter.toLowerCase();
  await assertTeamAgents(ctx, teamId, [id], 'assignee_filter');
  return id;
}

/** Subtasks listed in a task's answer, at most (the rest: team_task(action='list', parent_id=…)). */
const SUBTASKS_SHOWN = 100;

const get = defineAction({
  tool: 'team_task',
  action: 'get',
  summary: 'a task with subtasks, dependencies and its feed (newest page; cursor for older)',
  input: z.strictObject({ team_id: teamRef, task_id: taskRef, cursor }),
  write: false,
  async run(ctx, input) {
    const { row, task } = await loadTask(ctx, input.team_id, input.task_id);
    const [blocks, subtasks, progress] = await Promise.all([
      ctx.db.selectFrom('team_task_dependencies').select('task_id').where('depends_on', '=', row.id).orderBy('task_id').execute(),
      ctx.db.selectFrom('team_tasks').select(['id', 'title', 'status']).where('parent_id', '=', row.id).orderBy('created_at').limit(SUBTASKS_SHOWN).execute(),
      subtaskProgress(ctx, [row.id]),
    ]);
    const shown = progress.get(row.id) ?? { total: 0, done: 0 };
    const answer = {
      ...task,
      blocks: blocks.map((b) => b.task_id),
      subtasks,
      ...(shown.total > subtasks.length ? { subtasks_total: shown.total } : {}),
      progress: shown,
    };
    // The feed gets what the rest of the answer leaves of the budget.
    const feed = await taskFeed(ctx, row, input.cursor, PAGE_BUDGET - jsonBytes(answer));
    return { ...answer, ...feed };
  },
});

const update = defineAction({
  tool: 'team_task',
  action: 'update',
  summary: 'change status (workflow-checked) or fields; blocked_reason with status=blocked',
  input: z.strictObject({
    team_id: teamRef,
    task_id: taskRef,
    status: z.enum(TASK_STATUSES).optional(),
    title: z.string().trim().min(1).max(LIMITS.title).optional(),
    ...taskFields,
    blocked_reason: shortText.optional(),
    expected_version: expectedVersion,
  }),
  write: true,
  answersWithTask: true,
  async run(ctx, { team_id, task_id, status, labels, blocked_reason, blocked_by, blocks, expected_version, ...fields }) {
    const { row, task } = await loadTask(ctx, team_id, task_id, expected_version);
    if (status && status !== row.status) {
      // Checked against the task as it was: clearing the reviewer in the same call does not skip review.
      assertTransition(row, status);
      if (row.status === 'review' && !ctx.isLead) {
        throw denied(`task ${row.id} is in review: approve or request_changes move it on${row.reviewer ? ` (the reviewer ${row.reviewer}'s)` : ''}; an update out of review is a lead's or the owner's`, { from: 'review', to: status, reviewer: row.reviewer });
      }
    }
    // A reviewer once named is the owner's or a lead's to change: an assignee must not swap in a friendlier one.
    if (fields.reviewer !== undefined && row.reviewer && fields.reviewer.toLowerCase() !== row.reviewer && !ctx.isLead) {
      throw denied(`task ${row.id} has reviewer ${row.reviewer}: only a lead or the owner may change or clear it`, { field: 'reviewer', reviewer: row.reviewer });
    }
    const patch = defined({ ...fields, reviewer: fields.reviewer?.toLowerCase() });
    await checkReferences(ctx, row, patch);
    Object.assign(row, patch);
    if (blocked_by || blocks) await setDependencies(ctx, row, { blockedBy: blocked_by, blocks });
    if (labels) await setLabels(ctx, row, [...new Set(labels)]);
    else if (patch.priority !== undefined) await ctx.db.updateTable('team_task_labels').set({ priority: row.priority }).where('task_id', '=', row.id).execute();
    const changed = Object.keys(defined({ ...fields, labels, blocked_by, blocks }));
    if (status && status !== row.status) {
      if (status === 'assigned' && task.assignees.length === 0) throw validation('status', `'assigned' needs assignees; use team_task(action='assign') first`);
      await changeStatus(ctx, row, status, { blockedReason: blocked_reason, data: changed.length ? { fields: changed } : {} });
    } else {
      if (blocked_reason !== undefined) {
        if (row.status !== 'blocked') throw validation('blocked_reason', "goes with status='blocked'");
        row.blocked_reason = blocked_reason;
        changed.push('blocked_reason');
      }
      await saveTask(ctx, row);
      ctx.emit({ team_id: row.team_id, type: 'task_updated', message: `${ctx.actorId} updated '${row.title}' (${changed.join(', ') || 'no change'})`, related_id: row.id, data: { fields: changed } });
    }
    if (row.claimed_by === ctx.actorId) await touchTask(ctx, row);
    return await hydrateOne(ctx, row);
  },
});

const assign = defineAction({
  tool: 'team_task',
  action: 'assign',
  summary: 'set the assignees (replaces them)',
  input: z.strictObject({ team_id: teamRef, task_id: taskRef, assignees: stringList(LIMITS.agentId), expected_version: expectedVersion }),
  write: true,
  answersWithTask: true,
  async run(ctx, input) {
    const { row, task } = await loadTask(ctx, input.team_id, input.task_id, input.expected_version);
    const assignees = normaliseIds(input.assignees);
    await assertTeamAgents(ctx, row.team_id, assignees, 'assignees');
    await setAssignees(ctx, row, assignees);
    if (row.status === 'inbox' && assignees.length) await changeStatus(ctx, row, 'assigned');
    else if (row.status === 'assigned' && !assignees.length) await changeStatus(ctx, row, 'inbox');
    else await saveTask(ctx, row);
    ctx.emit({
      team_id: row.team_id,
      type: 'task_assigned',
      message: assignees.length ? `task '${row.title}' assigned to ${assignees.join(', ')}` : `task '${row.title}' unassigned`,
      related_id: row.id,
      data: { assignees, previous: task.assignees },
    });
    return await hydrateOne(ctx, row);
  },
});

const remove = defineAction({
  tool: 'team_task',
  action: 'delete',
  summary: 'delete a task',
  input: z.strictObject({ team_id: teamRef, task_id: taskRef, expected_version: expectedVersion }),
  write: true,
  async run(ctx, input) {
    const { row } = await loadTask(ctx, input.team_id, input.task_id, input.expected_version);
    const dependents = await ctx.db.selectFrom('team_task_dependencies').select('task_id').where('depends_on', '=', row.id).execute();
    await ctx.db.updateTable('team_tasks').set({ parent_id: '' }).where('parent_id', '=', row.id).execute();
    await ctx.db.deleteFrom('team_tasks').where('id', '=', row.id).execute();
    ctx.emit({ team_id: row.team_id, type: 'task_deleted', message: `${ctx.actorId} deleted task '${row.title}'`, related_id: row.id });
    if (!RESOLVED.includes(row.status)) await unblockDependents(ctx, row.id, dependents.map((d) => d.task_id));
    return { deleted: true, id: row.id };
  },
});

export const taskActions = [create, list, get, update, assign, remove];
