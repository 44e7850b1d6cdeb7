import { z } from 'zod';
import type { ActionDef } from '../core/action.js';
import { ACTIONS } from '../core/catalog.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Where each action lives in the REST API, under `/api/v1`. Only the place is declared here: the parameters come
 * from the action's zod schema — path parameters are named in the path, the others are the query string (reads and
 * deletions) or the JSON body (other writes). Reads are GET; an action that writes (even one called "list" or
 * "check", which marks what it hands out) never is.
 *
 * An action missing from this table is still served, at `/{tool}/{action}` (see `routes()`), so a new action is
 * reachable over HTTP the day it is added to the catalog.
 */
const PLACES: Record<string, `${Method} /${string}`> = {
  'team_manage.list': 'GET /teams',
  'team_manage.create': 'POST /teams',
  'team_manage.get': 'GET /teams/{team_id}',
  'team_manage.update': 'PATCH /teams/{team_id}',
  'team_manage.delete': 'DELETE /teams/{team_id}',
  'team_manage.rule_list': 'GET /rules',
  'team_manage.rule_create': 'POST /rules',
  'team_manage.rule_update': 'PATCH /rules/{rule_id}',
  'team_manage.rule_delete': 'DELETE /rules/{rule_id}',
  'team_manage.role_list': 'GET /roles',
  'team_manage.role_create': 'POST /roles',
  'team_manage.role_update': 'PATCH /roles/{name}',
  'team_manage.role_delete': 'DELETE /roles/{name}',

  'team_agent.list': 'GET /agents',
  'team_agent.create': 'POST /agents',
  'team_agent.get': 'GET /agents/{agent_id}',
  'team_agent.update': 'PATCH /agents/{agent_id}',
  'team_agent.delete': 'DELETE /agents/{agent_id}',
  'team_agent.start': 'POST /agents/{agent_id}/start',
  'team_agent.stop': 'POST /agents/{agent_id}/stop',
  'team_agent.working_get': 'GET /agents/{agent_id}/working',
  'team_agent.working_update': 'PATCH /agents/{agent_id}/working',
  'team_agent.working_clear': 'DELETE /agents/{agent_id}/working',
  'team_agent.heartbeat': 'POST /agents/{agent_id}/heartbeat',
  'team_agent.runs': 'GET /agents/{agent_id}/runs',
  'team_agent.wake': 'POST /agents/{agent_id}/wake',
  'team_agent.token_list': 'GET /tokens',
  'team_agent.token_create': 'POST /tokens',
  'team_agent.token_revoke': 'DELETE /tokens/{token_id}',

  'team_task.list': 'GET /tasks',
  'team_task.create': 'POST /tasks',
  'team_task.claim_next': 'POST /tasks/claim_next',
  'team_task.get': 'GET /tasks/{task_id}',
  'team_task.update': 'PATCH /tasks/{task_id}',
  'team_task.delete': 'DELETE /tasks/{task_id}',
  'team_task.assign': 'POST /tasks/{task_id}/assign',
  'team_task.claim': 'POST /tasks/{task_id}/claim',
  'team_task.renew': 'POST /tasks/{task_id}/renew',
  'team_task.release': 'POST /tasks/{task_id}/release',
  'team_task.approve': 'POST /tasks/{task_id}/approve',
  'team_task.request_changes': 'POST /tasks/{task_id}/request_changes',
  'team_task.reassign': 'POST /tasks/{task_id}/reassign',
  'team_comm.comment': 'POST /tasks/{task_id}/comments',

  'team_memory.fact_list': 'GET /facts',
  'team_memory.fact_get': 'GET /facts/{key}',
  'team_memory.fact_save': 'PUT /facts/{key}',
  'team_memory.fact_delete': 'DELETE /facts/{key}',
  'team_memory.fact_history': 'GET /facts/{key}/history',
  'team_memory.doc_list': 'GET /documents',
  'team_memory.doc_create': 'POST /documents',
  'team_memory.doc_get': 'GET /documents/{doc_id}',
  'team_memory.doc_update': 'PATCH /documents/{doc_id}',
  'team_memory.doc_delete': 'DELETE /documents/{doc_id}',
  'team_memory.doc_history': 'GET /documents/{doc_id}/history',
  'team_memory.standup': 'GET /standup',
  'team_memory.audit': 'GET /audit',
  'team_memory.summary': 'GET /summary',

  'team_comm.send_message': 'POST /messages',
  'team_comm.broadcast': 'POST /messages/broadcast',
  'team_comm.purge': 'POST /messages/purge',
  'team_comm.delete': 'DELETE /messages/{message_id}',
  'team_comm.message_get': 'GET /messages/{message_id}',
  'team_comm.inbox': 'GET /inbox',
  'team_comm.mark_read': 'POST /inbox/mark_read',
  'team_comm.archive': 'POST /inbox/archive',
  'team_comm.clear_inbox': 'POST /inbox/clear',
  'team_comm.mention_check': 'POST /mentions/check',
  'team_comm.notify': 'POST /notifications',
  'team_comm.notify_list': 'POST /notifications/check',
};

type JsonSchema = { type?: string; anyOf?: JsonSchema[]; properties?: Record<string, JsonSchema>; required?: string[] };

export interface Route {
  def: ActionDef;
  method: Method;
  /** OpenAPI form, relative to `/api/v1`: `/tasks/{task_id}`. */
  path: string;
  pathParams: string[];
  /** Parameters read from the query string (the others of a GET or DELETE), or [] when the body carries them. */
  queryParams: string[];
  /** Each parameter's JSON Schema type, to read query strings (always text) as numbers and booleans. */
  types: Record<string, string | undefined>;
}

const readsQuery = (method: Method) => method === 'GET' || method === 'DELETE';

function route(def: ActionDef, place: string): Route {
  const [method, path] = place.split(' ') as [Method, string];
  if (!def.write && method !== 'GET') throw new Error(`${def.tool}.${def.action} reads: its route must be GET`);
  if (def.write && method === 'GET') throw new Error(`${def.tool}.${def.action} writes: its route must not be GET`);
  const schema = z.toJSONSchema(def.input, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const properties = schema.properties ?? {};
  const pathParams = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  for (const param of pathParams) {
    if (!(param in properties)) throw new Error(`route ${place}: {${param}} is not a parameter of ${def.tool}.${def.action}`);
  }
  const types = Object.fromEntries(Object.entries(properties).map(([name, sub]) => [name, sub.type ?? sub.anyOf?.find((s) => s.type)?.type]));
  const queryParams = readsQuery(method) ? Object.keys(properties).filter((p) => !pathParams.includes(p)) : [];
  return { def, method, path, pathParams, queryParams, types };
}

let table: Route[] | undefined;

/** Every action's route, those of the table first; derived once per process. */
export function routes(): Route[] {
  return (table ??= ACTIONS.map((def) => route(def, PLACES[`${def.tool}.${def.action}`] ?? `${def.write ? 'POST' : 'GET'} /${def.tool}/${def.action}`)));
}
