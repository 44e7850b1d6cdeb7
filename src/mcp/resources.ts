import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { Resource, ResourceTemplateType, Server } from '@modelcontextprotocol/server';
import type { Actor } from '../core/context.js';
import type { Core } from '../core/core.js';
import { TeamTableError } from '../core/errors.js';
import type { ResourceRef } from '../core/resources.js';

const JSON_TYPE = 'application/json';

/** The resources, as URI templates (`resources/templates/list`); every one is readable and subscribable. */
export const RESOURCE_TEMPLATES: ResourceTemplateType[] = [
  { uriTemplate: 'team://agents/{agent_id}/inbox', name: 'inbox', title: "An agent's inbox", description: "The agent's mailbox, newest first, with read state (team_comm action='inbox').", mimeType: JSON_TYPE },
  { uriTemplate: 'team://agents/{agent_id}/working', name: 'working', title: "An agent's working state", description: "The agent's WORKING.md: status, current task, next steps (team_agent action='working_get').", mimeType: JSON_TYPE },
  { uriTemplate: 'team://agents/{agent_id}/heartbeat', name: 'heartbeat', title: "An agent's heartbeat prompt", description: "What to do now: working state, mail, tasks, activity, how to answer (team_agent action='heartbeat'); the agent reading it takes its heartbeat.", mimeType: JSON_TYPE },
  { uriTemplate: 'team://teams/{team_id}/tasks/{task_id}', name: 'task', title: 'A task with its feed', description: "The task with subtasks, dependencies and its feed (team_task action='get').", mimeType: JSON_TYPE },
  { uriTemplate: 'team://teams/{team_id}/board', name: 'board', title: "The team's board", description: 'Open tasks by status (inbox, assigned, in_progress, review, blocked), 50 a column.', mimeType: JSON_TYPE },
];

const segment = String.raw`([^/?#]+)`;
const PATTERNS: [RegExp, (...ids: string[]) => ResourceRef][] = [
  [new RegExp(`^team://agents/${segment}/inbox$`), (agentId) => ({ kind: 'inbox', agentId: agentId! })],
  [new RegExp(`^team://agents/${segment}/working$`), (agentId) => ({ kind: 'working', agentId: agentId! })],
  [new RegExp(`^team://agents/${segment}/heartbeat$`), (agentId) => ({ kind: 'heartbeat', agentId: agentId! })],
  [new RegExp(`^team://teams/${segment}/tasks/${segment}$`), (teamId, taskId) => ({ kind: 'task', teamId: teamId!, taskId: taskId! })],
  [new RegExp(`^team://teams/${segment}/board$`), (teamId) => ({ kind: 'board', teamId: teamId! })],
];

/** The resource a `team://` URI names, or undefined for any other URI. */
export function parseResourceUri(uri: string): ResourceRef | undefined {
  for (const [pattern, make] of PATTERNS) {
    const match = pattern.exec(uri);
    if (match) {
      try {
        return make(...match.slice(1).map(decodeURIComponent));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export function resourceUri(ref: ResourceRef): string {
  const e = encodeURIComponent;
  switch (ref.kind) {
    case 'inbox':
      return `team://agents/${e(ref.agentId)}/inbox`;
    case 'working':
      return `team://agents/${e(ref.agentId)}/working`;
    case 'heartbeat':
      return `team://agents/${e(ref.agentId)}/heartbeat`;
    case 'task':
      return `team://teams/${e(ref.teamId)}/tasks/${e(ref.taskId)}`;
    case 'board':
      return `team://teams/${e(ref.teamId)}/board`;
  }
}

/** Most resources `resources/list` names; the templates describe the rest. */
const LIST_LIMIT = 100;

/**
 * What `resources/list` offers the actor: an agent its inbox, working state, team board and the open tasks assigned
 * to it; the owner every team's board and every agent's inbox and working state.
 */
async function listFor(core: Core, actor: Actor): Promise<Resource[]> {
  const entry = (ref: ResourceRef, name: string): Resource => ({ uri: resourceUri(ref), name, mimeType: JSON_TYPE });
  const out: Resource[] = [];
  if (actor.kind === 'agent') {
    const resolved = await core.resolveActor(actor);
    const teamId = resolved.kind === 'agent' ? resolved.agent.team_id : '';
    out.push(
      entry({ kind: 'inbox', agentId: actor.id }, `inbox of ${actor.id}`),
      entry({ kind: 'working', agentId: actor.id }, `working state of ${actor.id}`),
      entry({ kind: 'heartbeat', agentId: actor.id }, `heartbeat prompt of ${actor.id}`),
      entry({ kind: 'board', teamId }, 'board of your team'),
    );
    const { tasks } = (await core.call(actor, 'team_task', { action: 'list', team_id: teamId, assignee_filter: actor.id, limit: LIST_LIMIT })) as { tasks: { id: string; title: string; status: string }[] };
    for (const task of tasks.filter((t) => t.status !== 'done' && t.status !== 'cancelled')) out.push(entry({ kind: 'task', teamId, taskId: task.id }, `task ${task.id}: ${task.title}`));
  } else {
    const { teams } = (await core.call(actor, 'team_manage', { action: 'list' })) as { teams: { id: string; name: string }[] };
    for (const team of teams) {
      out.push(entry({ kind: 'board', teamId: team.id }, `board of ${team.name}`));
      const { agents } = (await core.call(actor, 'team_agent', { action: 'list', team_id: team.id })) as { agents: { id: string }[] };
      for (const { id } of agents) out.push(entry({ kind: 'inbox', agentId: id }, `inbox of ${id}`), entry({ kind: 'working', agentId: id }, `working state of ${id}`));
    }
  }
  return out.slice(0, LIST_LIMIT);
}

/**
 * A read that failed, as the JSON-RPC error resources use (they have no `isError` result): what the caller can fix —
 * a URI naming nothing, a resource it may not read — is Invalid params with the URI in `data`, as SEP-2164 asks of a
 * resource not found; the store failing is an internal error. `data.code` is the domain error's code.
 */
function readError(error: unknown, uri: string): ProtocolError {
  if (error instanceof ProtocolError) return error;
  const code = error instanceof TeamTableError ? error.code : 'INTERNAL';
  const message = error instanceof Error ? error.message : String(error);
  const callerCanFix = error instanceof TeamTableError && error.httpStatus < 500;
  const label = code === 'NOT_FOUND' ? 'Resource not found' : code;
  return new ProtocolError(callerCanFix ? ProtocolErrorCode.InvalidParams : ProtocolErrorCode.InternalError, `${label}: ${message}`, {
    uri,
    code,
    ...(error instanceof TeamTableError ? error.details : {}),
  });
}

/** Parses a URI this server serves, or refuses it as a resource not found. */
function refOf(uri: string): ResourceRef {
  const ref = parseResourceUri(uri);
  if (!ref) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Resource not found: ${uri} is not a team:// resource of this server; see resources/templates/list`, { uri });
  return ref;
}

/**
 * A 2025-era session's subscriptions: the URIs it subscribed to, filed under the form the log's changes are
 * reported in (`canonicalRef`), so that `team://teams/engineering/board` hears of changes to the team's board too.
 */
export class SubscriptionBook {
  private readonly byCanonical = new Map<string, Set<string>>();

  /** `ready` starts whatever tells of changes (the session's resource watch) before the first subscription. */
  constructor(readonly ready: () => Promise<void>) {}

  add(uri: string, canonical: string): void {
    this.byCanonical.set(canonical, (this.byCanonical.get(canonical) ?? new Set()).add(uri));
  }

  remove(uri: string): void {
    for (const [canonical, uris] of this.byCanonical) if (uris.delete(uri) && uris.size === 0) this.byCanonical.delete(canonical);
  }

  /** The subscribed URIs among the changed ones, as the client named them. */
  subscribed(changed: string[]): string[] {
    return changed.flatMap((canonical) => [...(this.byCanonical.get(canonical) ?? [])]);
  }
}

export interface ResourceOptions {
  core: () => Promise<Core>;
  actor: Actor;
  /** The session's subscriptions (a 2025-era session); without them `resources/subscribe` is acknowledged only. */
  subscriptions?: SubscriptionBook;
}

/**
 * Answers the resource methods on `server` for `actor`: list, templates, read, subscribe, unsubscribe. Without a
 * subscription book (the stateless HTTP leg, where no stream outlives a request) a subscription to a readable
 * resource is acknowledged and nothing is pushed: such a client reads again, or takes the 2026-07-28 listen stream.
 */
export function installResources(server: Server, { core, actor, subscriptions }: ResourceOptions): void {
  const resources = () => import('../core/resources.js');
  const read = async (uri: string) => {
    const ref = refOf(uri);
    try {
      return await (await resources()).readResource(await core(), actor, ref);
    } catch (error) {
      throw readError(error, uri);
    }
  };
  server.setRequestHandler('resources/templates/list', async () => ({ resourceTemplates: RESOURCE_TEMPLATES }));
  server.setRequestHandler('resources/list', async () => {
    try {
      return { resources: await listFor(await core(), actor) };
    } catch (error) {
      throw readError(error, 'team://');
    }
  });
  server.setRequestHandler('resources/read', async (request) => {
    const { uri } = request.params;
    return { contents: [{ uri, mimeType: JSON_TYPE, text: JSON.stringify(await read(uri)) }] };
  });
  server.setRequestHandler('resources/subscribe', async (request) => {
    const { uri } = request.params;
    // A URI of another scheme names nothing here that could ever change: acknowledged, never told (a client may
    // subscribe before it knows; the conformance suite subscribes to test://watched-resource). A team:// URI is ours
    // and is checked.
    if (!uri.startsWith('team://')) return {};
    const ref = refOf(uri);
    if (!subscriptions) {
      await read(uri);
      return {};
    }
    // Watching first, filing the subscription, then reading: a change after the read is told; a resource the actor
    // may not read (or that does not exist) is refused and leaves no subscription behind.
    try {
      await subscriptions.ready();
      const { canonicalRef, readResource } = await resources();
      subscriptions.add(uri, resourceUri(await canonicalRef(await core(), actor, ref)));
      await readResource(await core(), actor, ref);
    } catch (error) {
      subscriptions.remove(uri);
      throw readError(error, uri);
    }
    return {};
  });
  server.setRequestHandler('resources/unsubscribe', async (request) => {
    subscriptions?.remove(request.params.uri);
    return {};
  });
}
