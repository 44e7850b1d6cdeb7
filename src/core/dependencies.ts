import type { TaskRow } from '../store/schema.js';
import { createNotification } from './notifications.js';
import type { Ctx } from './context.js';
import { validation } from './errors.js';

/**
 * Task dependencies (`blocked_by` / `blocks`) and subtasks (`parent_id`). A task waits while any task it depends
 * on is not done: it cannot be claimed or started. When the last one is done it is unblocked — an event and a
 * notification — and when every subtask of a parent is finished the parent hears of it (the built-in rule
 * `parent-complete` then completes it).
 */

/** A dependency done — or cancelled, so that it will never be done — no longer holds anything up. */
export const RESOLVED = ['done', 'cancelled'];

/** The dependencies of each task that are not resolved yet. */
export async function openDependencies(ctx: Ctx, taskIds: string[]): Promise<Map<string, string[]>> {
  const waiting = new Map<string, string[]>();
  if (taskIds.length === 0) return waiting;
  const rows = await ctx.db
    .selectFrom('team_task_dependencies as d')
    .innerJoin('team_tasks as t', 't.id', 'd.depends_on')
    .select(['d.task_id', 'd.depends_on'])
    .where('d.task_id', 'in', taskIds)
    .where('t.status', 'not in', RESOLVED)
    .orderBy('d.depends_on')
    .execute();
  for (const row of rows) waiting.set(row.task_id, [...(waiting.get(row.task_id) ?? []), row.depends_on]);
  return waiting;
}

export async function assertReady(ctx: Ctx, task: TaskRow, doing: string): Promise<void> {
  const waiting = (await openDependencies(ctx, [task.id])).get(task.id);
  if (waiting?.length) {
    throw validation('task_id', `task ${task.id} cannot be ${doing}: it waits on ${waiting.join(', ')} (not done yet)`, { waiting_on: waiting });
  }
}

async function teamEdges(ctx: Ctx, teamId: string): Promise<Map<string, string[]>> {
  const edges = await ctx.db
    .selectFrom('team_task_dependencies as d')
    .innerJoin('team_tasks as t', 't.id', 'd.task_id')
    .select(['d.task_id', 'd.depends_on'])
    .where('t.team_id', '=', teamId)
    .execute();
  const graph = new Map<string, string[]>();
  for (const e of edges) graph.set(e.task_id, [...(graph.get(e.task_id) ?? []), e.depends_on]);
  return graph;
}

/** Whether `from` reaches `to` following depends-on edges. */
function reaches(graph: Map<string, string[]>, from: string, to: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(graph.get(id) ?? []));
  }
  return false;
}

async function assertTeamTasks(ctx: Ctx, teamId: string, ids: string[], field: string) {
  if (ids.length === 0) return;
  const found = await ctx.db.selectFrom('team_tasks').select('id').where('team_id', '=', teamId).where('id', 'in', ids).execute();
  const missing = ids.filter((id) => !found.some((t) => t.id === id));
  if (missing.length) throw validation(field, `names no task of this team: ${missing.join(', ')}`, { missing });
}

/**
 * Makes `task` depend on exactly `blockedBy` and, with `blocks`, makes those tasks depend on it too. A dependency
 * that would close a cycle is refused, naming it; nothing is written then.
 */
export async function setDependencies(ctx: Ctx, task: TaskRow, change: { blockedBy?: string[]; blocks?: string[] }) {
  const blockedBy = change.blockedBy && [...new Set(change.blockedBy)];
  const blocks = change.blocks && [...new Set(change.blocks)];
  await assertTeamTasks(ctx, task.team_id, blockedBy ?? [], 'blocked_by');
  await assertTeamTasks(ctx, task.team_id, blocks ?? [], 'blocks');
  const graph = await teamEdges(ctx, task.team_id);
  if (blockedBy) graph.set(task.id, blockedBy);
  for (const other of blocks ?? []) graph.set(other, [...new Set([...(graph.get(other) ?? []), task.id])]);
  for (const [field, ids] of [['blocked_by', blockedBy], ['blocks', blocks]] as const) {
    for (const id of ids ?? []) {
      if (id === task.id) throw validation(field, 'a task cannot depend on itself');
      const [from, to] = field === 'blocked_by' ? [id, task.id] : [task.id, id];
      if (reaches(graph, from, to)) throw validation(field, `${id} would close a dependency cycle (${to} → ${from} → … → ${to})`, { cycle_with: id });
    }
  }
  if (blockedBy) {
    await ctx.db.deleteFrom('team_task_dependencies').where('task_id', '=', task.id).execute();
    if (blockedBy.length) await ctx.db.insertInto('team_task_dependencies').values(blockedBy.map((depends_on) => ({ task_id: task.id, depends_on }))).execute();
  }
  if (blocks?.length) {
    await ctx.db
      .insertInto('team_task_dependencies')
      .values(blocks.map((id) => ({ task_id: id, depends_on: task.id })))
      .onConflict((c) => c.columns(['task_id', 'depends_on']).doNothing())
      .execute();
  }
}

/** Refuses a parent that is missing, the task itself, or one of its own subtasks. */
export async function assertParent(ctx: Ctx, task: Pick<TaskRow, 'id' | 'team_id'>, parentId: string) {
  let cursor: string = parentId;
  for (let depth = 0; cursor; depth++) {
    if (cursor === task.id || depth > 100) throw validation('parent_id', `${parentId} is ${cursor === task.id ? 'this task or one of its subtasks' : 'too deeply nested'}`);
    const parent = await ctx.db.selectFrom('team_tasks').select(['parent_id', 'team_id']).where('id', '=', cursor).executeTakeFirst();
    if (!parent || parent.team_id !== task.team_id) throw validation('parent_id', `names no task of this team: ${cursor}`);
    cursor = parent.parent_id;
  }
}

/** Subtask progress of each parent among `taskIds`. */
export async function subtaskProgress(ctx: Ctx, taskIds: string[]): Promise<Map<string, { total: number; done: number }>> {
  const progress = new Map<string, { total: number; done: number }>();
  if (taskIds.length === 0) return progress;
  const rows = await ctx.db.selectFrom('team_tasks').select(['parent_id', 'status']).where('parent_id', 'in', taskIds).execute();
  for (const row of rows) {
    const p = progress.get(row.parent_id) ?? { total: 0, done: 0 };
    p.total += 1;
    if (row.status === 'done') p.done += 1;
    progress.set(row.parent_id, p);
  }
  return progress;
}

/** Tells each of `dependentIds` that is left waiting on nothing that it is ready: an event and a notification. */
export async function unblockDependents(ctx: Ctx, doneId: string, dependentIds: string[]) {
  if (dependentIds.length === 0) return;
  const dependents = await ctx.db.selectFrom('team_tasks').select(['id', 'title', 'team_id']).where('id', 'in', dependentIds).where('status', 'not in', ['done', 'cancelled']).execute();
  const stillWaiting = await openDependencies(ctx, dependents.map((d) => d.id));
  for (const dependent of dependents.filter((d) => !stillWaiting.has(d.id))) {
    ctx.emit({ team_id: dependent.team_id, type: 'task_unblocked', message: `task '${dependent.title}' is ready: its last dependency ${doneId} is resolved`, related_id: dependent.id, data: { dependency: doneId } });
    const assignees = await ctx.db.selectFrom('team_task_assignees').select('agent_id').where('task_id', '=', dependent.id).execute();
    const message = `'${dependent.title}' (${dependent.id}) is unblocked: all its dependencies are done`;
    if (assignees.length === 0) await createNotification(ctx, { team_id: dependent.team_id, type: 'task_unblocked', message, task_id: dependent.id, priority: 3 });
    for (const { agent_id } of assignees) {
      await createNotification(ctx, { team_id: dependent.team_id, type: 'task_unblocked', message, task_id: dependent.id, priority: 3, to_agent: agent_id });
    }
  }
}

/** What finishing `task` (done or cancelled) sets off: dependents unblocked, a parent whose subtasks are all finished. */
export async function onTaskFinished(ctx: Ctx, task: TaskRow) {
  {
    const dependents = await ctx.db.selectFrom('team_task_dependencies').select('task_id').where('depends_on', '=', task.id).execute();
    await unblockDependents(ctx, task.id, dependents.map((d) => d.task_id));
  }
  if (task.parent_id) {
    const siblings = await ctx.db.selectFrom('team_tasks').select('status').where('parent_id', '=', task.parent_id).execute();
    const finished = siblings.every((s) => s.status === 'done' || s.status === 'cancelled');
    if (finished && siblings.some((s) => s.status === 'done')) {
      ctx.emit({ team_id: task.team_id, type: 'task_subtasks_done', message: `all ${siblings.length} subtasks of ${task.parent_id} are finished`, related_id: task.parent_id, data: { subtasks: siblings.length } });
    }
  }
}
