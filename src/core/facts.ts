import { sql } from 'kysely';
import type { ExpressionBuilder } from 'kysely';
import { z } from 'zod';
import type { Database, FactRow } from '../store/schema.js';
import { defineAction } from './action.js';
import type { Ctx } from './context.js';
import { TeamTableError, notFound } from './errors.js';
import { cursor, limit, teamRef } from './fields.js';
import { newId } from './ids.js';
import { LIMITS } from './limits.js';
import { after, cutFields, decodeCursor, pageFields, takePage } from './paging.js';

/**
 * Shared facts: one value per key in a namespace (`default` unless given, so the seed's calls are unchanged),
 * each save a new version kept in the history, an optional time to live after which the fact vanishes from reads
 * (and is swept), and compare-and-set: a save or delete carrying `expected_version` applies only to that version
 * (0: only if the key does not exist yet).
 */

const key = z.string().trim().min(1).max(LIMITS.factKey);
const namespace = z.string().trim().min(1).max(LIMITS.label).regex(/^[\w.:-]+$/, 'must be letters, digits, and . _ : -').default('default');
const casVersion = z.number().int().min(0).optional();

/** Facts whose time to live has not run out. */
const live = (ctx: Ctx) => (eb: ExpressionBuilder<Database, 'team_facts'>) => eb.or([eb('expires_at', '=', ''), eb('expires_at', '>', ctx.now)]);

async function findFact(ctx: Ctx, teamId: string, ns: string, factKey: string): Promise<FactRow | undefined> {
  return ctx.db.selectFrom('team_facts').selectAll().where('team_id', '=', teamId).where('namespace', '=', ns).where('key', '=', factKey).executeTakeFirst();
}

function assertVersion(current: FactRow | undefined, expected: number | undefined, ns: string, factKey: string) {
  if (expected === undefined) return;
  const actual = current?.version ?? 0;
  if (actual !== expected) {
    throw new TeamTableError(
      'VERSION_CONFLICT',
      `fact '${factKey}' in namespace '${ns}' is at version ${actual}${actual === 0 ? ' (absent)' : ''}, not ${expected}: read it again and retry`,
      { field: 'expected_version', version: actual },
    );
  }
}

const save = defineAction({
  tool: 'team_memory',
  action: 'fact_save',
  summary: 'save a fact (overwrites; ttl in seconds; expected_version: compare-and-set)',
  input: z.strictObject({
    team_id: teamRef,
    key,
    value: z.string().max(LIMITS.factValue),
    namespace,
    ttl: z.number().int().min(1).max(366 * 86_400).optional(),
    expected_version: casVersion,
  }),
  write: true,
  creates: true,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const stored = await findFact(ctx, team.id, input.namespace, input.key);
    const current = stored && (stored.expires_at === '' || stored.expires_at > ctx.now) ? stored : undefined;
    assertVersion(current, input.expected_version, input.namespace, input.key);
    const last = await ctx.db
      .selectFrom('team_fact_versions')
      .select(sql<number>`coalesce(max(version), 0)`.as('v'))
      .where('team_id', '=', team.id)
      .where('namespace', '=', input.namespace)
      .where('key', '=', input.key)
      .executeTakeFirstOrThrow();
    const fact: FactRow = {
      id: stored?.id ?? newId(),
      team_id: team.id,
      namespace: input.namespace,
      key: input.key,
      value: input.value,
      author: ctx.actorId,
      created_at: current?.created_at ?? ctx.now,
      updated_at: ctx.now,
      version: Number(last.v) + 1,
      expires_at: input.ttl ? new Date(Date.parse(ctx.now) + input.ttl * 1000).toISOString() : '',
    };
    if (stored) await ctx.db.updateTable('team_facts').set(fact).where('id', '=', fact.id).execute();
    else await ctx.db.insertInto('team_facts').values(fact).execute();
    const { id: fact_id, updated_at: _u, created_at: _c, ...versioned } = fact;
    await ctx.db.insertInto('team_fact_versions').values({ ...versioned, fact_id, created_at: ctx.now }).execute();
    ctx.emit({
      team_id: team.id,
      type: current ? 'fact_updated' : 'fact_created',
      message: `${ctx.actorId} saved fact '${fact.namespace === 'default' ? '' : `${fact.namespace}/`}${fact.key}' (version ${fact.version})`,
      related_id: fact.id,
      data: { key: fact.key, namespace: fact.namespace, version: fact.version },
    });
    return { ...fact, created: !current };
  },
});

const get = defineAction({
  tool: 'team_memory',
  action: 'fact_get',
  summary: 'one fact with its version (version: an earlier one, from fact_history)',
  input: z.strictObject({ team_id: teamRef, key, namespace, version: z.number().int().min(1).optional() }),
  write: false,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const fact = await ctx.db.selectFrom('team_facts').selectAll().where('team_id', '=', team.id).where('namespace', '=', input.namespace).where('key', '=', input.key).where(live(ctx)).executeTakeFirst();
    if (input.version !== undefined && input.version !== fact?.version) {
      const old = await ctx.db.selectFrom('team_fact_versions').selectAll().where('team_id', '=', team.id).where('namespace', '=', input.namespace).where('key', '=', input.key).where('version', '=', input.version).executeTakeFirst();
      if (!old) throw notFound('version', String(input.version), `fact '${input.key}' (namespace '${input.namespace}') has no such version; see team_memory(action='fact_history')`);
      const { fact_id, ...version } = old;
      return { id: fact_id, ...version, updated_at: old.created_at };
    }
    if (!fact) throw notFound('fact', input.key, `namespace '${input.namespace}'; list facts with team_memory(action='fact_list')`);
    return fact;
  },
});

/** Where a fact's whole value is (lists cut long ones). */
const factGet = (f: { key: string; namespace: string }, version?: number) =>
  `team_memory(action='fact_get', key=${JSON.stringify(f.key)}${f.namespace === 'default' ? '' : `, namespace='${f.namespace}'`}${version === undefined ? '' : `, version=${version}`})`;

const list = defineAction({
  tool: 'team_memory',
  action: 'fact_list',
  summary: 'facts (every namespace unless one is given), long values cut',
  input: z.strictObject({ team_id: teamRef, namespace: namespace.removeDefault().optional(), limit: limit(LIMITS.pageSize), cursor }),
  write: false,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const position = decodeCursor('facts', input.cursor, 2);
    let query = ctx.db.selectFrom('team_facts').selectAll().where('team_id', '=', team.id).where(live(ctx));
    if (input.namespace) query = query.where('namespace', '=', input.namespace);
    if (position) query = query.where(after(['namespace', 'key'], position));
    const rows = await query.orderBy('namespace').orderBy('key').limit(input.limit + 1).execute();
    const page = takePage(rows, { limit: input.limit, list: 'facts', position: (f) => [f.namespace, f.key], render: (f) => cutFields(f, ['value'], factGet(f)) });
    return { team_id: team.id, facts: page.items, count: page.items.length, ...pageFields(page) };
  },
});

const history = defineAction({
  tool: 'team_memory',
  action: 'fact_history',
  summary: 'every version of a fact, newest first',
  input: z.strictObject({ team_id: teamRef, key, namespace, limit: limit(50), cursor }),
  write: false,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const position = decodeCursor('fact_history', input.cursor, 1);
    const rows = await ctx.db
      .selectFrom('team_fact_versions')
      .select(['version', 'value', 'author', 'created_at', 'expires_at'])
      .where('team_id', '=', team.id)
      .where('namespace', '=', input.namespace)
      .where('key', '=', input.key)
      .$if(position !== undefined, (q) => q.where('version', '<', Number(position![0])))
      .orderBy('version', 'desc')
      .limit(input.limit + 1)
      .execute();
    if (!rows.length && !position) throw notFound('fact', input.key, `namespace '${input.namespace}' has no history of it`);
    const page = takePage(rows, { limit: input.limit, list: 'fact_history', position: (v) => [v.version], render: (v) => cutFields(v, ['value'], factGet(input, v.version)) });
    return { team_id: team.id, namespace: input.namespace, key: input.key, versions: page.items, count: page.items.length, ...pageFields(page) };
  },
});

const remove = defineAction({
  tool: 'team_memory',
  action: 'fact_delete',
  summary: 'delete a fact (history is kept)',
  input: z.strictObject({ team_id: teamRef, key, namespace, expected_version: casVersion }),
  write: true,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const stored = await findFact(ctx, team.id, input.namespace, input.key);
    const fact = stored && (stored.expires_at === '' || stored.expires_at > ctx.now) ? stored : undefined;
    if (!fact) throw notFound('fact', input.key, `namespace '${input.namespace}'; list facts with team_memory(action='fact_list')`);
    assertVersion(fact, input.expected_version, input.namespace, input.key);
    await ctx.db.deleteFrom('team_facts').where('id', '=', fact.id).execute();
    ctx.emit({ team_id: team.id, type: 'fact_deleted', message: `${ctx.actorId} deleted fact '${fact.key}'`, related_id: fact.id, data: { key: fact.key, namespace: fact.namespace } });
    return { deleted: true, key: fact.key, namespace: fact.namespace };
  },
});

/** Deletes facts whose time to live has run out (they are already invisible to reads). */
export async function sweepExpiredFacts(ctx: Ctx): Promise<number> {
  const expired = await ctx.db.selectFrom('team_facts').select(['id', 'team_id', 'key', 'namespace']).where('expires_at', '!=', '').where('expires_at', '<=', ctx.now).limit(500).execute();
  if (expired.length === 0) return 0;
  await ctx.db.deleteFrom('team_facts').where('id', 'in', expired.map((f) => f.id)).execute();
  for (const fact of expired) {
    ctx.emit({ team_id: fact.team_id, type: 'fact_expired', message: `fact '${fact.key}' expired`, related_id: fact.id, data: { key: fact.key, namespace: fact.namespace } });
  }
  return expired.length;
}

export const factActions = [save, get, list, history, remove];
