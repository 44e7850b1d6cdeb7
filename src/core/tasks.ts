import { z } from 'zod';
import type { TaskRow } from '../store/schema.js';
import { defineAction } from './action.js';
import type { Ctx } from './context.js';
import { notFound, validation } from './errors.js';
import { TASK_STATUSES, agentRef, limit, longText, priority, shortText, stringList, taskRef, teamRef } from './fields.js';
import type { TaskStatus } from './fields.js';
import { newId } from './ids.js';
import { LIMITS } from './limits.js';
import { defined } from './patch.js';
import { subscribe } from './threads.js';
import { assertTransition } from './workflow.js';

export type Task = ReturnType<typeof toTask>;

export const toTask = ({ blocked_from: _from, ...row }: TaskRow, assignees: string[], labels: string[]) => ({ ...row, assignees, labels });

/** Loads assignees and labels for many tasks in two queries. */
export async function hydrate(ctx: Ctx, rows: TaskRow[]): Promise<Task[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [assignees, labels] = await Promise.all([
    ctx.db.selectFrom('team_task_assignees').select(['task_id', 'agent_id']).where('task_id', 'in', ids).orderBy('position').execute(),
    ctx.db.selectFrom('team_task_labels').select(['task_id', 'label']).where('task_id', 'in', ids).orderBy('label').execute(),
  ]);
  const group = <T extends { task_id: string }>(items: T[], pick: (item: T) => string) => {
    const byTask = new Map<string, string[]>();
    for (const item of items) byTask.set(item.task_id, [...(byTask.get(item.task_id) ?? []), pick(item)]);
    return byTask;
  };
  const assigneesByTask = group(assignees, (a) => a.agent_id);
  const labelsByTask = group(labels, (l) => l.label);
  return rows.map((row) => toTask(row, assigneesByTask.get(row.id) ?? [], labelsByTask.get(row.id) ?? []));
}

/** The task `taskId` of the team `teamRef` resolves to. */
export async function loadTask(ctx: Ctx, teamRef: string | undefined, taskId: string): Promise<{ row: TaskRow; task: Task }> {
  const team = await ctx.team(teamRef);
  const row = await ctx.db.selectFrom('team_tasks').selectAll().where('id', '=', taskId).where('team_id', '=', team.id).executeTakeFirst();
  if (!row) throw notFound('task', taskId, `it is not in team '${team.name}'; list tasks with team_task(action='list')`);
  const [task] = await hydrate(ctx, [row]);
  return { row, task: task! };
}

/** Checks that every id names an agent of the team; the error lists those that do not. */
async function assertTeamAgents(ctx: Ctx, teamId: string, ids: string[], field: string) {
  if (ids.length === 0) return;
  const found = await ctx.db.selectFrom('persistent_agents').select('id').where('team_id', '=', teamId).where('id', 'in', ids).execute();
  const missing = ids.filter((id) => !found.some((a) => a.id === id));
  if (missing.length) throw validation(field, `names no agent of this team: ${missing.join(', ')}`, { missing });
}

const normaliseIds = (ids: string[]) => [...new Set(ids.map((id) => id.toLowerCase()))];

async function setAssignees(ctx: Ctx, task: TaskRow, assignees: string[]) {
  await ctx.db.deleteFrom('team_task_assignees').where('task_id', '=', task.id).execute();
  if (assignees.length) {
    await ctx.db
      .insertInto('team_task_assignees')
      .values(assignees.map((agent_id, position) => ({ task_id: task.id, agent_id, position })))
      .execute();
  }
  for (const id of assignees) await subscribe(ctx, task.team_id, task.id, id, 'assigned');
}

async function setLabels(ctx: Ctx, taskId: string, labels: string[]) {
  await ctx.db.deleteFrom('team_task_labels').where('task_id', '=', taskId).execute();
  if (labels.length) await ctx.db.insertInto('team_task_labels').values(labels.map((label) => ({ task_id: taskId, label }))).execute();
}

/** Applies a status change to `row` (not yet saved), with its side fields; returns the event data. */
export function transition(ctx: Ctx, row: TaskRow, to: TaskStatus, blockedReason?: string) {
  assertTransition(row, to);
  const from = row.status;
  if (to === 'blocked') {
    row.blocked_from = from;
    row.blocked_reason = blockedReason ?? row.blocked_reason;
  } else {
    row.blocked_from = '';
    if (from === 'blocked') row.blocked_reason = '';
  }
  row.status = to;
  row.completed_at = to === 'done' ? ctx.now : '';
  return { from, to };
}

export async function saveTask(ctx: Ctx, row: TaskRow) {
  row.updated_at = ctx.now;
  await ctx.db.updateTable('team_tasks').set(row).where('id', '=', row.id).execute();
}

const taskFields = {
  description: longText.optional(),
  priority: priority.optional(),
  labels: stringList(LIMITS.label).optional(),
};

const create = defineAction({
  tool: 'team_task',
  action: 'create',
  summary: 'create a task (priority 1 highest … 5, default 3)',
  input: z.strictObject({
    team_id: teamRef,
    title: z.string().trim().min(1).max(LIMITS.title),
    ...taskFields,
    assignees: stringList(LIMITS.agentId).optional(),
  }),
  write: true,
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
      priority: input.priority ?? 3,
      created_by: ctx.actorId,
      created_at: ctx.now,
      updated_at: ctx.now,
      completed_at: '',
      blocked_reason: '',
      blocked_from: '',
    };
    await ctx.db.insertInto('team_tasks').values(row).execute();
    const labels = [...new Set(input.labels ?? [])];
    await setLabels(ctx, row.id, labels);
    await ctx.emit({ team_id: team.id, type: 'task_created', message: `${ctx.actorId} created task '${row.title}'`, related_id: row.id, data: { priority: row.priority } });
    await setAssignees(ctx, row, assignees);
    if (assignees.length) {
      await ctx.emit({ team_id: team.id, type: 'task_assigned', message: `task '${row.title}' assigned to ${assignees.join(', ')}`, related_id: row.id, data: { assignees } });
    }
    return toTask(row, assignees, labels.sort());
  },
});

const list = defineAction({
  tool: 'team_task',
  action: 'list',
  summary: 'tasks, highest priority first; filters status, assignee_filter, label, priority',
  input: z.strictObject({
    team_id: teamRef,
    status: z.enum(TASK_STATUSES).optional(),
    assignee_filter: agentRef.optional(),
    label: z.string().max(LIMITS.label).optional(),
    priority: priority.optional(),
    limit: limit(100),
  }),
  write: false,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    let query = ctx.db.selectFrom('team_tasks').selectAll('team_tasks').where('team_tasks.team_id', '=', team.id);
    if (input.status) query = query.where('status', '=', input.status);
    if (input.priority) query = query.where('priority', '=', input.priority);
    if (input.assignee_filter) {
      const agentId = input.assignee_filter.toLowerCase();
      query = query.where(({ exists, selectFrom }) =>
        exists(selectFrom('team_task_assignees as a').select('a.task_id').whereRef('a.task_id', '=', 'team_tasks.id').where('a.agent_id', '=', agentId)),
      );
    }
    if (input.label) {
      const label = input.label;
      query = query.where(({ exists, selectFrom }) =>
        exists(selectFrom('team_task_labels as l').select('l.task_id').whereRef('l.task_id', '=', 'team_tasks.id').where('l.label', '=', label)),
      );
    }
    const rows = await query.orderBy('priority').orderBy('created_at').orderBy('id').limit(input.limit + 1).execute();
    const tasks = await hydrate(ctx, rows.slice(0, input.limit));
    return { team_id: team.id, tasks, count: tasks.length, truncated: rows.length > input.limit };
  },
});

const get = defineAction({
  tool: 'team_task',
  action: 'get',
  summary: 'a task',
  input: z.strictObject({ team_id: teamRef, task_id: taskRef }),
  write: false,
  async run(ctx, input) {
    return (await loadTask(ctx, input.team_id, input.task_id)).task;
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
  }),
  write: true,
  async run(ctx, { team_id, task_id, status, labels, blocked_reason, ...fields }) {
    const { row, task } = await loadTask(ctx, team_id, task_id);
    Object.assign(row, defined(fields));
    let change: { from: string; to: string } | undefined;
    if (status && status !== row.status) {
      if (status === 'assigned' && task.assignees.length === 0) throw validation('status', `'assigned' needs assignees; use team_task(action='assign') first`);
      change = transition(ctx, row, status, blocked_reason);
    } else if (blocked_reason !== undefined) {
      if (row.status !== 'blocked') throw validation('blocked_reason', "goes with status='blocked'");
      row.blocked_reason = blocked_reason;
    }
    await saveTask(ctx, row);
    if (labels) await setLabels(ctx, row.id, [...new Set(labels)]);
    await ctx.emit({
      team_id: row.team_id,
      type: 'task_updated',
      message: change ? `${ctx.actorId} moved '${row.title}' ${change.from} → ${change.to}` : `${ctx.actorId} updated '${row.title}'`,
      related_id: row.id,
      data: { ...change, fields: Object.keys(defined({ ...fields, labels, blocked_reason })) },
    });
    return toTask(row, task.assignees, labels ? [...new Set(labels)].sort() : task.labels);
  },
});

const assign = defineAction({
  tool: 'team_task',
  action: 'assign',
  summary: 'set the assignees (replaces them)',
  input: z.strictObject({ team_id: teamRef, task_id: taskRef, assignees: stringList(LIMITS.agentId) }),
  write: true,
  async run(ctx, input) {
    const { row, task } = await loadTask(ctx, input.team_id, input.task_id);
    const assignees = normaliseIds(input.assignees);
    await assertTeamAgents(ctx, row.team_id, assignees, 'assignees');
    if (row.status === 'inbox' && assignees.length) row.status = 'assigned';
    else if (row.status === 'assigned' && !assignees.length) row.status = 'inbox';
    await saveTask(ctx, row);
    await setAssignees(ctx, row, assignees);
    await ctx.emit({
      team_id: row.team_id,
      type: 'task_assigned',
      message: assignees.length ? `task '${row.title}' assigned to ${assignees.join(', ')}` : `task '${row.title}' unassigned`,
      related_id: row.id,
      data: { assignees, previous: task.assignees },
    });
    return toTask(row, assignees, task.labels);
  },
});

const remove = defineAction({
  tool: 'team_task',
  action: 'delete',
  summary: 'delete a task',
  input: z.strictObject({ team_id: teamRef, task_id: taskRef }),
  write: true,
  async run(ctx, input) {
    const { row } = await loadTask(ctx, input.team_id, input.task_id);
    await ctx.db.deleteFrom('team_tasks').where('id', '=', row.id).execute();
    await ctx.emit({ team_id: row.team_id, type: 'task_deleted', message: `${ctx.actorId} deleted task '${row.title}'`, related_id: row.id });
    return { deleted: true, id: row.id };
  },
});

export const taskActions = [create, list, get, update, assign, remove];
