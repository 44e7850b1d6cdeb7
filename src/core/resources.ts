import type { EventRow } from '../store/schema.js';
import { audienceOf } from './audience.js';
import type { Actor } from './context.js';
import type { Core } from './core.js';

/**
 * What an adapter can offer to read and watch beside the tools (MCP resources): an agent's inbox, its working
 * state, a task with its feed, a team's board. Each is read through `Core.call` as the reader, so a resource shows
 * exactly what the same read action would — same permissions, same bounds.
 */
export type ResourceRef =
  | { kind: 'inbox'; agentId: string }
  | { kind: 'working'; agentId: string }
  | { kind: 'heartbeat'; agentId: string }
  | { kind: 'task'; teamId: string; taskId: string }
  | { kind: 'board'; teamId: string };

/** The columns of a board: every status a task is still open in. */
const BOARD_STATUSES = ['inbox', 'assigned', 'in_progress', 'review', 'blocked'] as const;
/** Tasks shown per column; a column with more says `truncated`, and team_task(action='list') pages the rest. */
const BOARD_COLUMN_LIMIT = 50;

/** The team's board: its open tasks by status, each as a short card, so that the board stays small. */
async function board(core: Core, actor: Actor, teamId: string): Promise<Record<string, unknown>> {
  const columns = await Promise.all(
    BOARD_STATUSES.map((status) => core.call(actor, 'team_task', { action: 'list', team_id: teamId, status, limit: BOARD_COLUMN_LIMIT })),
  );
  const card = ({ id, title, priority, assignees, claimed_by, reviewer, updated_at }: Record<string, unknown>) => ({ id, title, priority, assignees, claimed_by, reviewer, updated_at });
  return {
    team_id: columns[0]!.team_id,
    columns: BOARD_STATUSES.map((status, i) => ({
      status,
      tasks: (columns[i]!.tasks as Record<string, unknown>[]).map(card),
      truncated: columns[i]!.truncated,
    })),
  };
}

export function readResource(core: Core, actor: Actor, ref: ResourceRef): Promise<Record<string, unknown>> {
  switch (ref.kind) {
    case 'inbox':
      return core.call(actor, 'team_comm', { action: 'inbox', agent_id: ref.agentId });
    case 'working':
      return core.call(actor, 'team_agent', { action: 'working_get', agent_id: ref.agentId });
    case 'heartbeat':
      return core.call(actor, 'team_agent', { action: 'heartbeat', agent_id: ref.agentId });
    case 'task':
      return core.call(actor, 'team_task', { action: 'get', team_id: ref.teamId, task_id: ref.taskId });
    case 'board':
      return board(core, actor, ref.teamId);
  }
}

/**
 * The resource as the log names it: its team by id (a URI may name it by name), its agent id in lower case. A
 * subscription is kept under this form, the one `changedResources` reports.
 */
export async function canonicalRef(core: Core, actor: Actor, ref: ResourceRef): Promise<ResourceRef> {
  if (ref.kind === 'inbox' || ref.kind === 'working' || ref.kind === 'heartbeat') return { ...ref, agentId: ref.agentId.toLowerCase() };
  const team = (await core.call(actor, 'team_manage', { action: 'get', team_id: ref.teamId })) as { id: string };
  return { ...ref, teamId: team.id };
}

const present = (...values: unknown[]): string[] => values.filter((v): v is string => typeof v === 'string' && v !== '');

/**
 * The resources an event of the log may have changed. It errs on the side of more: a subscriber told of a change
 * reads the resource again, while one not told would keep a stale copy.
 *
 * - a task: its own task_* events, and events naming it as `task_id`, `thread_id` (its comments) or `parent_id`;
 * - a board: any task_* event of its team;
 * - an agent's working state: its working_* and agent_* events, and task events it caused or that hand it work;
 * - an agent's inbox: mail events (message*, mention, mail*) addressed to it; a message deleted or purged, every
 *   inbox of the team (the event does not say whose copies it removed).
 * - an agent's heartbeat: never — it is built when read, and reading it is the agent taking its heartbeat.
 */
export async function changedResources(core: Core, event: EventRow): Promise<ResourceRef[]> {
  const data = JSON.parse(event.data || '{}') as Record<string, unknown>;
  const teamId = event.team_id;
  const refs: ResourceRef[] = [];
  const isTaskEvent = event.type.startsWith('task_');
  const taskIds = new Set(present(isTaskEvent ? event.related_id : '', data.task_id, data.thread_id, data.parent_id));
  for (const taskId of taskIds) refs.push({ kind: 'task', teamId, taskId });
  if (isTaskEvent) refs.push({ kind: 'board', teamId });

  const working = new Set(present(/^(working|agent)_/.test(event.type) ? event.related_id : ''));
  if (isTaskEvent) for (const id of present(event.agent_id, data.holder, data.to_agent, ...audienceOf(event).concerns)) working.add(id);
  for (const agentId of working) refs.push({ kind: 'working', agentId });

  if (/^(message|mention|mail)/.test(event.type)) {
    const removed = event.type === 'message_deleted' || event.type === 'message_purged';
    const inboxes = removed ? await teamAgents(core, teamId) : audienceOf(event).concerns;
    for (const agentId of inboxes) refs.push({ kind: 'inbox', agentId });
  }
  return refs;
}

async function teamAgents(core: Core, teamId: string): Promise<string[]> {
  const rows = await core.store.db.selectFrom('persistent_agents').select('id').where('team_id', '=', teamId).execute();
  return rows.map((row) => row.id);
}
