import { z } from 'zod';
import type { FactRow } from '../store/schema.js';
import { defineAction } from './action.js';
import { notFound } from './errors.js';
import { teamRef } from './fields.js';
import { newId } from './ids.js';
import { LIMITS } from './limits.js';

const key = z.string().trim().min(1).max(LIMITS.factKey);

const save = defineAction({
  tool: 'team_memory',
  action: 'fact_save',
  summary: 'save a fact (one value per key; overwrites)',
  input: z.strictObject({ team_id: teamRef, key, value: z.string().max(LIMITS.factValue) }),
  write: true,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const current = await ctx.db.selectFrom('team_facts').selectAll().where('team_id', '=', team.id).where('key', '=', input.key).executeTakeFirst();
    const fact: FactRow = current
      ? { ...current, value: input.value, author: ctx.actorId, updated_at: ctx.now }
      : { id: newId(), team_id: team.id, key: input.key, value: input.value, author: ctx.actorId, created_at: ctx.now, updated_at: ctx.now };
    if (current) await ctx.db.updateTable('team_facts').set(fact).where('id', '=', fact.id).execute();
    else await ctx.db.insertInto('team_facts').values(fact).execute();
    await ctx.emit({ team_id: team.id, type: current ? 'fact_updated' : 'fact_created', message: `${ctx.actorId} saved fact '${fact.key}'`, related_id: fact.id, data: { key: fact.key } });
    return { ...fact, created: !current };
  },
});

const list = defineAction({
  tool: 'team_memory',
  action: 'fact_list',
  summary: 'all facts',
  input: z.strictObject({ team_id: teamRef }),
  write: false,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const facts = await ctx.db.selectFrom('team_facts').selectAll().where('team_id', '=', team.id).orderBy('key').execute();
    return { team_id: team.id, facts, count: facts.length };
  },
});

const remove = defineAction({
  tool: 'team_memory',
  action: 'fact_delete',
  summary: 'delete a fact',
  input: z.strictObject({ team_id: teamRef, key }),
  write: true,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const fact = await ctx.db.selectFrom('team_facts').selectAll().where('team_id', '=', team.id).where('key', '=', input.key).executeTakeFirst();
    if (!fact) throw notFound('fact', input.key, "list facts with team_memory(action='fact_list')");
    await ctx.db.deleteFrom('team_facts').where('id', '=', fact.id).execute();
    await ctx.emit({ team_id: team.id, type: 'fact_deleted', message: `${ctx.actorId} deleted fact '${fact.key}'`, related_id: fact.id, data: { key: fact.key } });
    return { deleted: true, key: fact.key };
  },
});

export const factActions = [save, list, remove];
