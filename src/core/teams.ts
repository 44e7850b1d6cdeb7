import { z } from 'zod';
import type { TeamRow } from '../store/schema.js';
import { defineAction } from './action.js';
import type { Ctx } from './context.js';
import { conflict, validation } from './errors.js';
import { name, shortText, teamRef } from './fields.js';
import { newId, teamSlug } from './ids.js';
import { LIMITS } from './limits.js';
import { defined } from './patch.js';
import { timezoneParam } from './schedule.js';

export const toTeam = ({ slug: _slug, enabled, ...team }: TeamRow) => ({ ...team, enabled: enabled === 1 });

const teamFields = {
  description: shortText.optional(),
  default_model: z.string().max(LIMITS.name).optional(),
  workspace_path: z.string().max(LIMITS.shortText).optional(),
  enabled: z.boolean().optional(),
  /** How long a claim holds a task without activity before it goes back to the queue. */
  lease_minutes: z.number().int().min(1).max(7 * 24 * 60).optional(),
  /** The timezone of the agents' heartbeat schedules (an agent may set its own); '' is UTC. */
  timezone: timezoneParam,
};

async function assertNameFree(ctx: Ctx, teamName: string, exceptId = '') {
  const slug = teamSlug(teamName);
  if (!slug) throw validation('name', 'must contain a letter or digit');
  const clash = await ctx.db.selectFrom('teams').select(['id', 'name']).where('slug', '=', slug).where('id', '!=', exceptId).executeTakeFirst();
  if (clash) throw conflict(`a team named '${clash.name}' (${clash.id}) already exists; team names must differ ignoring case, spaces, hyphens and underscores`, { field: 'name' });
  return slug;
}

const create = defineAction({
  tool: 'team_manage',
  action: 'create',
  summary: 'create a team',
  input: z.strictObject({ name, ...teamFields }),
  write: true,
  async run(ctx, input) {
    const slug = await assertNameFree(ctx, input.name);
    const row: TeamRow = {
      id: newId(),
      name: input.name,
      slug,
      description: input.description ?? '',
      owner_jid: ctx.actorId,
      default_model: input.default_model ?? '',
      workspace_path: input.workspace_path ?? '',
      created_at: ctx.now,
      enabled: input.enabled === false ? 0 : 1,
      lease_minutes: input.lease_minutes ?? 15,
      timezone: input.timezone ?? '',
    };
    await ctx.db.insertInto('teams').values(row).execute();
    await ctx.emit({ team_id: row.id, type: 'team_created', message: `team '${row.name}' created`, related_id: row.id });
    return toTeam(row);
  },
});

const list = defineAction({
  tool: 'team_manage',
  action: 'list',
  summary: 'list teams',
  input: z.strictObject({}),
  write: false,
  async run(ctx) {
    let query = ctx.db.selectFrom('teams').selectAll().orderBy('created_at');
    if (ctx.actor.kind === 'agent') query = query.where('id', '=', ctx.actor.agent.team_id);
    const teams = await query.execute();
    return { teams: teams.map(toTeam), count: teams.length };
  },
});

const get = defineAction({
  tool: 'team_manage',
  action: 'get',
  summary: 'a team with its agents',
  input: z.strictObject({ team_id: teamRef }),
  write: false,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const agents = await ctx.db
      .selectFrom('persistent_agents')
      .select(['id', 'name', 'role', 'level', 'status'])
      .where('team_id', '=', team.id)
      .orderBy('created_at')
      .execute();
    return { ...toTeam(team), agents };
  },
});

const update = defineAction({
  tool: 'team_manage',
  action: 'update',
  summary: 'change name, description, default_model, workspace_path, enabled, lease_minutes, timezone',
  input: z.strictObject({ team_id: teamRef, name: name.optional(), ...teamFields }),
  write: true,
  async run(ctx, { team_id, enabled, ...changes }) {
    const team = await ctx.team(team_id);
    const slug = changes.name === undefined ? team.slug : await assertNameFree(ctx, changes.name, team.id);
    const next: TeamRow = {
      ...team,
      ...defined(changes),
      slug,
      enabled: enabled === undefined ? team.enabled : enabled ? 1 : 0,
    };
    await ctx.db.updateTable('teams').set(next).where('id', '=', team.id).execute();
    await ctx.emit({ team_id: team.id, type: 'team_updated', message: `team '${next.name}' updated`, related_id: team.id, data: { fields: Object.keys(defined({ ...changes, enabled })) } });
    return toTeam(next);
  },
});

const remove = defineAction({
  tool: 'team_manage',
  action: 'delete',
  summary: 'delete a team and all its data',
  input: z.strictObject({ team_id: teamRef }),
  write: true,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    await ctx.db.deleteFrom('teams').where('id', '=', team.id).execute();
    await ctx.emit({ team_id: team.id, type: 'team_deleted', message: `team '${team.name}' deleted`, related_id: team.id });
    return { deleted: true, id: team.id, name: team.name };
  },
});

export const teamActions = [create, list, get, update, remove];
