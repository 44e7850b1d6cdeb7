import { TeamTableError } from './errors.js';
import type { TaskStatus } from './fields.js';

/**
 * The task status workflow of the seed: inbox → assigned → in_progress → review → done. `blocked` and
 * `cancelled` are reachable from every open state; a blocked task goes back to the state it was blocked in.
 * `done` and `cancelled` are final. `in_progress → done` skips review unless the task has a reviewer.
 */
const NEXT: Record<TaskStatus, readonly TaskStatus[]> = {
  inbox: ['assigned', 'in_progress'],
  assigned: ['inbox', 'in_progress'],
  in_progress: ['assigned', 'review', 'done'],
  review: ['in_progress', 'done'],
  blocked: [],
  done: [],
  cancelled: [],
};

export const OPEN_STATUSES: readonly TaskStatus[] = ['inbox', 'assigned', 'in_progress', 'review', 'blocked'];

export interface WorkflowTask {
  id: string;
  status: string;
  blocked_from: string;
  reviewer?: string;
}

/** The statuses `task` may move to next. */
export function allowedTransitions(task: WorkflowTask): TaskStatus[] {
  const from = task.status as TaskStatus;
  if (from === 'blocked') return [(task.blocked_from || 'inbox') as TaskStatus, 'cancelled'];
  if (!OPEN_STATUSES.includes(from)) return [];
  return [...NEXT[from].filter((to) => !(to === 'done' && from === 'in_progress' && task.reviewer)), 'blocked', 'cancelled'];
}

/** Throws INVALID_TRANSITION, naming both states and what is allowed, unless `task` may move to `to`. */
export function assertTransition(task: WorkflowTask, to: TaskStatus): void {
  const allowed = allowedTransitions(task);
  if (allowed.includes(to)) return;
  const why =
    to === 'done' && task.status === 'in_progress' && task.reviewer
      ? ` (the task has reviewer '${task.reviewer}': move it to review first)`
      : task.status === 'blocked' && to !== 'cancelled'
        ? ` (a blocked task returns to '${task.blocked_from || 'inbox'}')`
        : '';
  throw new TeamTableError(
    'INVALID_TRANSITION',
    `task ${task.id} cannot go from '${task.status}' to '${to}'${why}; allowed: ${allowed.length ? allowed.join(', ') : `none ('${task.status}' is final)`}`,
    { field: 'status', from: task.status, to, allowed },
  );
}
