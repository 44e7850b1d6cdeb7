import { z } from 'zod';
import type { TeamRow } from '../store/schema.js';
import { defineAction } from './action.js';
import type { Ctx } from './context.js';
import { conflict, validation } from './errors.js';
import { cursor, limit, name, shortText, teamRef } from './fields.js';
import { newId, teamSlug } from './ids.js';
import { LIMITS } from './limits.js';
import { after, cutFields, decodeCursor, pageFields, takePage } from './paging.js';
import { defined } from './patch.js';
import { timezoneParam } from './schedule.js';

/** lease_minutes is the lease's exact length in minutes (a fraction when it was set in seconds). */
export const toTeam = ({ slug: _slug, enabled, lease_minutes: _minutes, lease_seconds, ...team }: TeamRow) => ({
  ...team,
  enabled: enabled === 1,
  lease_minutes: lease_seconds / 60,
  lease_seconds,
});

const teamFields = {
  description: shortText.optional(),
  default_model: z.string().max(LIMITS.name).optional(),
  workspace_path: z.string().max(LIMITS.shortText).optional(),
  enabled: z.boolean().optional(),
  /** How long a claim holds a task without activity before it goes back to the queue. */
  lease_minutes: z.number().int().min(1).max(7 * 24 * 60).optional(),
  /** The same in seconds, for leases shorter than a minute. */
  lease_seconds: z.number().int().min(1).max(7 * 24 * 3600).optional(),
  /** The timezone of the agents' heartbeat schedules (an agent may set its own); '' is UTC. */
  timezone: timezoneParam,
};

/** The lease length the call asks for, in seconds, and the minutes column rounded up; undefined when not asked. */
function leaseOf(input: { lease_minutes?: number; lease_seconds?: number }): { lease_seconds: number; lease_minutes: number } | undefined {
  if (input.lease_minutes !== undefined && input.lease_seconds !== undefined) throw validation('lease_seconds', 'give lease_minutes or lease_seconds, not both');
  const seconds = input.lease_seconds ?? (input.lease_minutes === undefined ? undefined : input.lease_minutes * 60);
  return seconds === undefined ? undefined : { lease_seconds: seconds, lease_minutes: Math.ceil(seconds / 60) };
}

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
  creates: true,
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
      ...(leaseOf(input) ?? { lease_seconds: 15 * 60, lease_minutes: 15 }),
      timezone: input.timezone ?? '',
    };
    await ctx.db.insertInto('teams').values(row).execute();
    ctx.emit({ team_id: row.id, type: 'team_created', message: `team '${row.name}' created`, related_id: row.id });
    return toTeam(row);
  },
});

const list = defineAction({
  tool: 'team_manage',
  action: 'list',
  summary: 'list teams',
  input: z.strictObject({ limit: limit(LIMITS.pageSize), cursor }),
  write: false,
  async run(ctx, input) {
    const position = decodeCursor('teams', input.cursor, 2);
    let query = ctx.db.selectFrom('teams').selectAll();
    if (ctx.actor.kind === 'agent') query = query.where('id', '=', ctx.actor.agent.team_id);
    if (position) query = query.where(after(['created_at', 'id'], position));
    const rows = await query.orderBy('created_at').orderBy('id').limit(input.limit + 1).execute();
    const page = takePage(rows, { limit: input.limit, list: 'teams', position: (t) => [t.created_at, t.id], render: toTeam });
    return { teams: page.items, count: page.items.length, ...pageFields(page) };
  },
});

/** Agents a team's answer lists, at most (all of them: team_agent(action='list')). */
const AGENTS_SHOWN = 200;

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
      .limit(AGENTS_SHOWN + 1)
      .execute();
    const page = takePage(agents, { limit: AGENTS_SHOWN, list: 'agents', position: () => [], render: (a) => cutFields(a, ['role'], `team_agent(action='get', agent_id='${a.id}')`, LIMITS.title) });
    return { ...toTeam(team), agents: page.items, ...(page.truncated ? { agents_truncated: true } : {}) };
  },
});

const update = defineAction({
  tool: 'team_manage',
  action: 'update',
  summary: 'change the team\'s fields',
  input: z.strictObject({ team_id: teamRef, name: name.optional(), ...teamFields }),
  write: true,
  async run(ctx, { team_id, enabled, lease_minutes, lease_seconds, ...changes }) {
    const team = await ctx.team(team_id);
    const slug = changes.name === undefined ? team.slug : await assertNameFree(ctx, changes.name, team.id);
    const next: TeamRow = {
      ...team,
      ...defined(changes),
      ...leaseOf({ lease_minutes, lease_seconds }),
      slug,
      enabled: enabled === undefined ? team.enabled : enabled ? 1 : 0,
    };
    await ctx.db.updateTable('teams').set(next).where('id', '=', team.id).execute();
    ctx.emit({ team_id: team.id, type: 'team_updated', message: `team '${next.name}' updated`, related_id: team.id, data: { fields: Object.keys(defined({ ...changes, enabled, lease_minutes, lease_seconds })) } });
    return toTeam(next);
  },
});

const remove = defineAction({
  tool: 'team_manage',
  action: 'delete',
  summary: 'delete a team and all its data (team_id required: never the default team)',
  // Required: a destructive action never picks its target (the only team) for the caller.
  input: z.strictObject({ team_id: z.string().trim().min(1).max(LIMITS.name).describe('team id or name') }),
  write: true,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    await ctx.db.deleteFrom('teams').where('id', '=', team.id).execute();
    ctx.emit({ team_id: team.id, type: 'team_deleted', message: `team '${team.name}' deleted`, related_id: team.id });
    return { deleted: true, id: team.id, name: team.name };
  },
});

export const teamActions = [create, list, get, update, remove];
