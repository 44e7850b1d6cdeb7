import type { Context, Hono } from 'hono';
import type { Core } from '../core/core.js';
import { validation } from '../core/errors.js';
import type { Route } from './routes.js';
import { routes } from './routes.js';
import type { Env } from './env.js';

/** `/tasks/{task_id}` → `/tasks/:task_id`. */
const honoPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

/**
 * A query string is text: a parameter the schema types as a number or boolean is read as one when it looks like one
 * (otherwise left as text, so the core's validation names the field); an array takes every repetition
 * (`?labels=a&labels=b`).
 */
function fromQuery(type: string | undefined, values: string[]): unknown {
  const last = values.at(-1)!;
  if (type === 'array') return values;
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(last)) return Number(last);
  if (type === 'boolean' && (last === 'true' || last === 'false')) return last === 'true';
  return last;
}

async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (!text.trim()) return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw validation('body', `is not valid JSON (${(error as Error).message})`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw validation('body', 'must be a JSON object of the parameters');
  return body as Record<string, unknown>;
}

/**
 * The action's arguments: the JSON body (writes other than DELETE), the query string, then the path's parameters,
 * which nothing may contradict.
 */
async function argumentsOf(c: Context, route: Route): Promise<Record<string, unknown>> {
  const args: Record<string, unknown> = route.method === 'GET' || route.method === 'DELETE' ? {} : await jsonBody(c);
  for (const [name, values] of Object.entries(c.req.queries())) args[name] = fromQuery(route.types[name], values);
  for (const [name, value] of Object.entries(c.req.param() as Record<string, string>)) {
    if (name in args && args[name] !== value) throw validation(name, `is given by the path ('${value}'); leave it out of the query and body`);
    args[name] = value;
  }
  if ('action' in args) throw validation('action', `is given by the route (${route.def.action}); leave it out`);
  const idempotencyKey = c.req.header('idempotency-key');
  if (idempotencyKey !== undefined && 'idempotency_key' in route.types) args.idempotency_key ??= idempotencyKey;
  return args;
}

/**
 * Mounts every action's route (`src/http/routes.ts`). Each calls `Core.call` as the token's actor and answers its
 * result as JSON — the same answer, bounded the same way, as the tool's — or the error mapped once
 * (`src/http/errors.ts`).
 */
export function mountRest(app: Hono<Env>, core: Core): void {
  for (const route of routes()) {
    app.on(route.method, `/api/v1${honoPath(route.path)}`, async (c) => {
      const args = await argumentsOf(c, route);
      return c.json(await core.call(c.var.auth.actor, route.def.tool, { ...args, action: route.def.action }));
    });
  }
}
