import { CronPattern } from 'croner';
import { z } from 'zod';
import type { AgentRow } from '../store/schema.js';
import { defineAction } from './action.js';
import type { Ctx } from './context.js';
import { conflict, denied, validation } from './errors.js';
import { requeue } from './claims.js';
import { LIVENESS, agentView, agentViews, markResponsive, withLiveness } from './liveness.js';
import { assertLead, assertRoleExists } from './roles.js';
import { AGENT_STATUSES, LEVELS, agentRef, agentTarget, cursor, limit, longText, name, shortText, stringList, teamRef } from './fields.js';
import { agentIdFromName } from './ids.js';
import { LIMITS } from './limits.js';
import { after, cutFields, decodeCursor, pageFields, takePage } from './paging.js';
import { defined } from './patch.js';
import { timezoneParam } from './schedule.js';
import { adapterToStore, wakeAdapterParam } from './wakeAdapter.js';

/** A cron expression (five fields, or six with seconds), checked by the scheduler's own parser. */
const cron = z
  .string()
  .trim()
  .max(LIMITS.name)
  .superRefine((expression, check) => {
    try {
      new CronPattern(expression);
    } catch (error) {
      check.addIssue({ code: 'custom', message: `must be a cron expression like '*/15 * * * *' (${(error as Error).message.replace(/^CronPattern: /, '')})` });
    }
  });

const profile = {
  role: shortText.optional(),
  level: z.enum(LEVELS).optional(),
  status: z.enum(AGENT_STATUSES).optional(),
  personality: longText.optional(),
  instructions: longText.optional(),
  model: z.string().max(LIMITS.name).optional(),
  skills: stringList(LIMITS.name).optional(),
  heartbeat_schedule: cron.optional(),
  /** The role that sets the agent's permissions (a template or a team role); '' follows the level. */
  role_definition: z.union([z.string().trim().toLowerCase().max(LIMITS.label), z.literal('')]).optional(),
  /** The heartbeat schedule's timezone; '' follows the team's (UTC by default). */
  timezone: timezoneParam,
  wake_adapter: wakeAdapterParam,
};

/** Changes after which the next heartbeat is the schedule's next slot, not one it missed meanwhile. */
const RESCHEDULING = ['heartbeat_schedule', 'timezone', 'wake_adapter'] as const;

/**
 * An agent may edit its own profile; changing another agent, or anyone's level or role definition, is a lead's or
 * the owner's — whatever a role's action list says, so that no agent can grant itself more.
 */
function assertMayEdit(ctx: Ctx, agent: AgentRow | undefined, changes: { level?: string; role_definition?: string; wake_adapter?: unknown }) {
  // A wake adapter runs a program (or calls out) on the runner's machine: the owner's decision, not an agent's.
  if (changes.wake_adapter !== undefined && !ctx.isOwner) throw denied(`agent '${ctx.actorId}' may not set a wake_adapter: only the owner may`, { field: 'wake_adapter' });
  if (changes.level !== undefined || changes.role_definition !== undefined) return assertLead(ctx, 'set a level or a role definition');
  if (agent && agent.id !== ctx.actorId) assertLead(ctx, `change agent '${agent.id}'`);
}

/**
 * The level of an agent created without one. Published as the schema's default but applied here, not by zod: create
 * must tell a level asked for (a lead's to give, see assertMayEdit) from none.
 */
const DEFAULT_LEVEL = 'mid';

const create = defineAction({
  tool: 'team_agent',
  action: 'create',
  summary: 'create an agent (id derived from name)',
  input: z.strictObject({ team_id: teamRef, name, ...profile, level: z.enum(LEVELS).optional().meta({ default: DEFAULT_LEVEL }), status: z.enum(AGENT_STATUSES).default('idle'), heartbeat_schedule: cron.default('*/15 * * * *') }),
  write: true,
  creates: true,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    assertMayEdit(ctx, undefined, input);
    if (input.role_definition) await assertRoleExists(ctx, team.id, input.role_definition, 'role_definition');
    const id = agentIdFromName(input.name);
    if (!id) throw validation('name', 'must contain a letter or digit (the agent id is derived from it)');
    const clash = await ctx.db.selectFrom('persistent_agents').select(['id', 'team_id']).where('id', '=', id).executeTakeFirst();
    if (clash) {
      throw conflict(`agent id '${id}' (from name '${input.name}') is already taken${clash.team_id === team.id ? ' in this team' : ' by another team'}; choose another name`, { field: 'name', agent_id: id });
    }
    const adapter = adapterToStore(input.wake_adapter ?? null, '');
    const row: AgentRow = {
      id,
      name: input.name,
      role: input.role ?? '',
      team_id: team.id,
      level: input.level ?? DEFAULT_LEVEL,
      status: input.status,
      personality: input.personality ?? '',
      instructions: input.instructions ?? '',
      model: input.model ?? '',
      skills: JSON.stringify(input.skills ?? []),
      heartbeat_schedule: input.heartbeat_schedule,
      current_task_id: '',
      created_at: ctx.now,
      last_active_at: '',
      last_heartbeat_at: '',
      role_definition: input.role_definition ?? '',
      wake_adapter: adapter.stored,
      timezone: input.timezone ?? '',
      heartbeat_slot: ctx.now,
      missed_heartbeats: 0,
      unresponsive_since: '',
    };
    await ctx.db.insertInto('persistent_agents').values(row).execute();
    ctx.emit({ team_id: team.id, type: 'agent_created', message: `agent '${row.name}' (${id}) joined as ${row.level}`, related_id: id });
    return withSecret(await agentView(ctx, row), adapter.generatedSecret);
  },
});

const list = defineAction({
  tool: 'team_agent',
  action: 'list',
  summary: 'agents with their liveness, long texts cut',
  input: z.strictObject({ team_id: teamRef, status: z.enum(AGENT_STATUSES).optional(), level: z.enum(LEVELS).optional(), liveness: z.enum(LIVENESS).optional(), limit: limit(LIMITS.pageSize), cursor }),
  write: false,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const position = decodeCursor('agents', input.cursor, 2);
    let query = ctx.db.selectFrom('persistent_agents').selectAll().where('team_id', '=', team.id);
    if (input.status) query = query.where('status', '=', input.status);
    if (input.level) query = query.where('level', '=', input.level);
    if (input.liveness) query = query.where(withLiveness(input.liveness));
    if (position) query = query.where(after(['created_at', 'id'], position));
    const rows = await query.orderBy('created_at').orderBy('id').limit(input.limit + 1).execute();
    const views = new Map((await agentViews(ctx, rows.slice(0, input.limit))).map((view) => [view.id, view]));
    const page = takePage(rows, {
      limit: input.limit,
      list: 'agents',
      position: (a) => [a.created_at, a.id],
      render: (a) => cutFields(views.get(a.id)!, ['instructions', 'personality'], `team_agent(action='get', agent_id='${a.id}')`),
    });
    return { team_id: team.id, agents: page.items, count: page.items.length, ...pageFields(page) };
  },
});

const get = defineAction({
  tool: 'team_agent',
  action: 'get',
  summary: 'an agent: profile, liveness, next_heartbeat_at, wake_adapter (secrets masked)',
  input: z.strictObject(agentTarget),
  write: false,
  async run(ctx, input) {
    return agentView(ctx, await ctx.agent(input.agent_id, input.team_id));
  },
});

/** A webhook secret generated by this call is answered once, in full; `get` masks it from then on. */
const withSecret = <T extends object>(view: T, secret: string | undefined) => (secret ? { ...view, webhook_secret: secret } : view);

async function saveAgent(ctx: Ctx, agent: AgentRow, changes: Partial<AgentRow>, type: string, message: string) {
  const next = { ...agent, ...changes };
  await ctx.db.updateTable('persistent_agents').set(changes).where('id', '=', agent.id).execute();
  ctx.emit({ team_id: agent.team_id, type, message, related_id: agent.id, data: { fields: Object.keys(changes).filter((f) => f !== 'heartbeat_slot') } });
  return agentView(ctx, next);
}

const update = defineAction({
  tool: 'team_agent',
  action: 'update',
  summary: 'change profile fields',
  input: z.strictObject({ ...agentTarget, name: name.optional(), ...profile }),
  write: true,
  async run(ctx, { agent_id, team_id, skills, wake_adapter, ...changes }) {
    const agent = await ctx.agent(agent_id, team_id);
    assertMayEdit(ctx, agent, { ...changes, wake_adapter });
    if (changes.role_definition) await assertRoleExists(ctx, agent.team_id, changes.role_definition, 'role_definition');
    const adapter = wake_adapter === undefined ? undefined : adapterToStore(wake_adapter, agent.wake_adapter);
    const patch: Partial<AgentRow> = {
      ...defined(changes),
      ...(skills ? { skills: JSON.stringify(skills) } : {}),
      ...(adapter ? { wake_adapter: adapter.stored } : {}),
    };
    if (Object.keys(patch).length === 0) {
      throw validation('fields', `nothing to change: give at least one of ${['name', ...Object.keys(profile)].join(', ')}`, { accepted: ['name', ...Object.keys(profile)] });
    }
    if (RESCHEDULING.some((field) => patch[field] !== undefined && patch[field] !== agent[field])) patch.heartbeat_slot = ctx.now;
    return withSecret(await saveAgent(ctx, agent, patch, 'agent_updated', `agent '${agent.id}' updated`), adapter?.generatedSecret);
  },
});

const lifecycle = (action: 'start' | 'stop', status: 'idle' | 'stopped', summary: string) =>
  defineAction({
    tool: 'team_agent',
    action,
    summary,
    input: z.strictObject(agentTarget),
    write: true,
    async run(ctx, input) {
      const agent = await ctx.agent(input.agent_id, input.team_id);
      assertMayEdit(ctx, agent, {});
      // Started again, it is woken from the next slot on, with a clean slate: missed heartbeats were not its doing.
      const changes: Partial<AgentRow> = action === 'start' ? { status, heartbeat_slot: ctx.now, missed_heartbeats: 0, unresponsive_since: '' } : { status };
      if (action === 'start') await markResponsive(ctx, agent, 'it was started');
      return saveAgent(ctx, agent, changes, `agent_${action === 'start' ? 'started' : 'stopped'}`, `agent '${agent.id}' ${action === 'start' ? 'started' : 'stopped'}`);
    },
  });

const remove = defineAction({
  tool: 'team_agent',
  action: 'delete',
  summary: 'delete an agent (agent_id required: never the calling agent by default)',
  // Required: a destructive action never picks its target (the caller itself) for the caller.
  input: z.strictObject({ ...agentTarget, agent_id: agentRef }),
  write: true,
  async run(ctx, input) {
    const agent = await ctx.agent(input.agent_id, input.team_id);
    // Its claims go back to the queue and its reviews to nobody, so no task waits on an agent that is gone.
    const claimed = await ctx.db.selectFrom('team_tasks').selectAll().where('claimed_by', '=', agent.id).where('status', '=', 'in_progress').execute();
    for (const task of claimed) await requeue(ctx, task, 'task_released', `'${task.title}' went back to the queue: its holder ${agent.id} was deleted`);
    const reviewed = await ctx.db.selectFrom('team_tasks').select(['id', 'title', 'team_id']).where('reviewer', '=', agent.id).execute();
    await ctx.db.updateTable('team_tasks').set({ reviewer: '' }).where('reviewer', '=', agent.id).execute();
    for (const task of reviewed) {
      ctx.emit({ team_id: task.team_id, type: 'task_updated', message: `'${task.title}' lost its reviewer ${agent.id} (deleted)`, related_id: task.id, data: { fields: ['reviewer'] } });
    }
    await ctx.db.deleteFrom('persistent_agents').where('id', '=', agent.id).execute();
    ctx.emit({ team_id: agent.team_id, type: 'agent_deleted', message: `agent '${agent.id}' deleted`, related_id: agent.id });
    return { deleted: true, id: agent.id };
  },
});

export const agentActions = [
  create,
  list,
  get,
  update,
  lifecycle('start', 'idle', 'resume heartbeats'),
  lifecycle('stop', 'stopped', 'disable heartbeats'),
  remove,
];
