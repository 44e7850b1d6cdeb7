import { createHash } from 'node:crypto';
import type { ActionDef } from './action.js';
import type { Ctx } from './context.js';
import { validation } from './errors.js';

/**
 * Idempotent creates. A client that lost the answer of a create (its process killed, the connection dropped)
 * cannot know whether it committed; retrying with the same `idempotency_key` returns the first call's answer and
 * writes nothing. Keys are per actor, remembered in the create's own transaction (so a key exists exactly when
 * its create committed), and kept for KEY_TTL_MS. The same key with other arguments is refused: it would
 * otherwise silently answer for a different request.
 */

/** How long a key is remembered: far longer than any client retries a lost answer. */
export const KEY_TTL_MS = 24 * 3_600_000;

/** JSON with object keys sorted, so that equal arguments hash equally whatever their order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export const requestHash = (def: Pick<ActionDef, 'tool' | 'action'>, input: unknown): string =>
  createHash('sha256').update(canonical([def.tool, def.action, input])).digest('hex');

/** The first answer given to `key`, if the actor used it before (for these same arguments). */
export async function replay(ctx: Ctx, key: string, hash: string): Promise<Record<string, unknown> | undefined> {
  const row = await ctx.db.selectFrom('team_idempotency_keys').selectAll().where('actor', '=', ctx.actorKey).where('key', '=', key).executeTakeFirst();
  if (!row) return undefined;
  if (row.request_hash !== hash) {
    throw validation('idempotency_key', `'${key}' was already used at ${row.created_at} for another request (${row.tool}(action='${row.action}') with other arguments); use a new key for a new request`, {
      first_tool: row.tool,
      first_action: row.action,
    });
  }
  return JSON.parse(row.result) as Record<string, unknown>;
}

export async function remember(ctx: Ctx, def: Pick<ActionDef, 'tool' | 'action'>, key: string, hash: string, answer: Record<string, unknown>): Promise<void> {
  await ctx.db
    .insertInto('team_idempotency_keys')
    .values({ actor: ctx.actorKey, key, tool: def.tool, action: def.action, request_hash: hash, result: JSON.stringify(answer), created_at: ctx.now })
    .execute();
}

const cutoff = (now: string) => new Date(Date.parse(now) - KEY_TTL_MS).toISOString();

/** Whether keys past their time are waiting to be forgotten (an indexed read, for sweepIsDue). */
export const keysExpired = (ctx: Pick<Ctx, 'db' | 'now'>) => ctx.db.selectFrom('team_idempotency_keys').select('key').where('created_at', '<', cutoff(ctx.now)).limit(1).executeTakeFirst();

/** Forgets keys older than KEY_TTL_MS (in batches; a sweep comes again). */
export async function sweepIdempotencyKeys(ctx: Ctx): Promise<number> {
  const old = await ctx.db.selectFrom('team_idempotency_keys').select(['actor', 'key']).where('created_at', '<', cutoff(ctx.now)).limit(500).execute();
  for (const { actor, key } of old) await ctx.db.deleteFrom('team_idempotency_keys').where('actor', '=', actor).where('key', '=', key).execute();
  return old.length;
}
