import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../store/store.js';
import type { TokenRow } from '../store/schema.js';
import { defineAction } from './action.js';
import type { Actor, Ctx } from './context.js';
import { TeamTableError, denied, notFound, validation } from './errors.js';
import { agentRef, cursor, limit, teamRef } from './fields.js';
import { newId } from './ids.js';
import { LIMITS } from './limits.js';
import { after, decodeCursor, pageFields, takePage } from './paging.js';
import { assertLead } from './roles.js';

/**
 * Bearer tokens: who an HTTP request acts as. A token is `tt_` and 43 base64url characters (32 random bytes); it is
 * shown once, when it is created, and only its SHA-256 is stored.
 *
 * Why SHA-256 and not bcrypt or argon2: those are slow on purpose, to make guessing a low-entropy password from its
 * hash expensive. A 256-bit random token cannot be guessed however fast the hash is, and a fast hash can be looked up
 * by index on every request (bcrypt's salt would need the token to carry a row id, and ~50 ms of CPU per request).
 */
export const TOKEN_PREFIX = 'tt_';
const TOKEN_PATTERN = /^tt_[A-Za-z0-9_-]{43}$/;

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Who a valid token acts as, and which token it was (rate limits and revocation watch it). */
export interface Authenticated {
  actor: Actor;
  tokenId: string;
}

/** Why a request is not authenticated; each is a 401. */
export type AuthFailure = 'missing' | 'malformed' | 'unknown' | 'revoked';

const unauthenticated = (reason: AuthFailure, message: string) => new TeamTableError('UNAUTHENTICATED', message, { reason });

/**
 * The actor `token` acts as, or UNAUTHENTICATED saying why not. One indexed read: revocation takes effect on the
 * next request in every process.
 *
 * @example
 *   const { actor } = await authenticate(db, 'tt_…'); // { kind: 'agent', id: 'jarvis' }
 */
export async function authenticate(db: Db, token: string | undefined): Promise<Authenticated> {
  if (!token) throw unauthenticated('missing', 'a bearer token is required: Authorization: Bearer tt_…');
  if (!TOKEN_PATTERN.test(token)) throw unauthenticated('malformed', "the bearer token is malformed: a team-table token is 'tt_' and 43 characters");
  const row = await db.selectFrom('tokens').select(['id', 'agent_id', 'owner_name', 'revoked_at']).where('token_hash', '=', hashToken(token)).executeTakeFirst();
  if (!row) throw unauthenticated('unknown', 'the bearer token is not valid');
  if (row.revoked_at) throw unauthenticated('revoked', `the bearer token ${row.id} was revoked at ${row.revoked_at}`);
  // A token is one client, so one session (see Actor): mail it was handed and did not acknowledge goes to the next.
  const session = `token:${row.id}`;
  return { actor: row.agent_id ? { kind: 'agent', id: row.agent_id, session } : { kind: 'owner', name: row.owner_name, session }, tokenId: row.id };
}

/** A token as listings show it: never the token, never its hash. */
const toToken = ({ token_hash: _hash, ...row }: TokenRow) => ({ ...row, kind: row.agent_id ? ('agent' as const) : ('owner' as const) });

const label = z.string().trim().max(LIMITS.name).describe('what the token is for, e.g. a machine');

/** The owner manages every token; a lead those of its team's agents; an agent may revoke its own. */
function assertManages(ctx: Ctx, row: Pick<TokenRow, 'id' | 'agent_id' | 'team_id'>, what: string) {
  if (ctx.isOwner) return;
  if (ctx.actor.kind === 'agent' && row.agent_id === ctx.actorId && what === 'revoke') return;
  if (ctx.isLead && ctx.actor.kind === 'agent' && row.team_id === ctx.actor.agent.team_id) return;
  throw denied(`agent '${ctx.actorId}' may not ${what} token ${row.id}: only the owner, a lead of its team${what === 'revoke' ? ' or its own agent' : ''} may`, { token_id: row.id });
}

/**
 * Not `creates` (no idempotency_key): replaying a lost answer would mean keeping the token itself with it. A client
 * that lost the token revokes the one it cannot see and creates another.
 */
const create = defineAction({
  tool: 'team_agent',
  action: 'token_create',
  summary: 'an HTTP bearer token acting as agent_id (owner=true: as the owner), shown once',
  input: z.strictObject({
    team_id: teamRef,
    agent_id: agentRef.optional(),
    owner: z.boolean().optional().describe("a token acting as the owner (the owner's alone)"),
    name: label.optional(),
  }),
  write: true,
  async run(ctx, input) {
    assertLead(ctx, 'create tokens');
    if (input.owner && (input.agent_id || input.team_id)) throw validation('owner', 'an owner token belongs to no agent or team: pass owner=true alone, or agent_id');
    if (input.owner && !ctx.isOwner) throw denied(`agent '${ctx.actorId}' may not create an owner token: only the owner may`);
    const agent = input.owner ? undefined : await ctx.agent(input.agent_id, input.team_id);
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const row: TokenRow = {
      id: newId(),
      token_hash: hashToken(token),
      agent_id: agent?.id ?? null,
      team_id: agent?.team_id ?? null,
      owner_name: agent ? '' : ctx.actorId,
      name: input.name ?? '',
      created_by: ctx.actorId,
      created_at: ctx.now,
      revoked_at: '',
      revoked_by: '',
    };
    await ctx.db.insertInto('tokens').values(row).execute();
    const who = agent ? `agent '${agent.id}'` : `the owner '${row.owner_name}'`;
    ctx.emit({ team_id: row.team_id ?? '', type: 'token_created', message: `${ctx.actorId} created token ${row.id} for ${who}`, related_id: row.id, data: { agent_id: row.agent_id ?? '' } });
    return { ...toToken(row), token, note: 'The token is shown this once: store it now. Only its hash is kept; revoke it with token_revoke.' };
  },
});

const list = defineAction({
  tool: 'team_agent',
  action: 'token_list',
  summary: 'tokens you manage, newest first (never the token itself)',
  input: z.strictObject({
    team_id: teamRef,
    agent_id: agentRef.optional(),
    owner: z.boolean().optional().describe("only the owner's tokens (true) or only agents' (false)"),
    include_revoked: z.boolean().default(false),
    limit: limit(100),
    cursor,
  }),
  write: false,
  async run(ctx, input) {
    assertLead(ctx, 'list tokens');
    let query = ctx.db.selectFrom('tokens').selectAll();
    if (input.agent_id) query = query.where('agent_id', '=', (await ctx.agent(input.agent_id, input.team_id)).id);
    else if (input.team_id !== undefined || !ctx.isOwner) query = query.where('team_id', '=', (await ctx.team(input.team_id)).id);
    if (input.owner !== undefined) query = query.where('agent_id', input.owner ? 'is' : 'is not', null);
    if (!input.include_revoked) query = query.where('revoked_at', '=', '');
    const position = decodeCursor('tokens', input.cursor, 2);
    if (position) query = query.where(after(['created_at', 'id'], position, 'desc'));
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(input.limit + 1).execute();
    const page = takePage(rows, { limit: input.limit, list: 'tokens', position: (t) => [t.created_at, t.id], render: toToken });
    return { tokens: page.items, count: page.items.length, ...pageFields(page) };
  },
});

const revoke = defineAction({
  tool: 'team_agent',
  action: 'token_revoke',
  summary: 'revoke token_id, in every server at once',
  input: z.strictObject({ token_id: z.string().min(1).max(LIMITS.agentId) }),
  write: true,
  async run(ctx, input) {
    const row = await ctx.db.selectFrom('tokens').selectAll().where('id', '=', input.token_id).executeTakeFirst();
    if (!row) throw notFound('token', input.token_id, "list tokens with team_agent(action='token_list')");
    assertManages(ctx, row, 'revoke');
    if (row.revoked_at) return { ...toToken(row), already_revoked: true };
    const revoked = { ...row, revoked_at: ctx.now, revoked_by: ctx.actorId };
    await ctx.db.updateTable('tokens').set({ revoked_at: revoked.revoked_at, revoked_by: revoked.revoked_by }).where('id', '=', row.id).execute();
    ctx.emit({ team_id: row.team_id ?? '', type: 'token_revoked', message: `${ctx.actorId} revoked token ${row.id}`, related_id: row.id, data: { agent_id: row.agent_id ?? '' } });
    return toToken(revoked);
  },
});

export const tokenActions = [create, list, revoke];
