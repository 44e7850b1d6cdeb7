import { CronPattern } from 'croner';
import { z } from 'zod';
import type { AgentRow } from '../store/schema.js';
import { defineAction } from './action.js';
import type { Ctx } from './context.js';
import { conflict, denied, validation } from './errors.js';
import { AGENT_STATUSES, LEVELS, agentRef, longText, name, shortText, stringList, teamRef } from './fields.js';
import { agentIdFromName } from './ids.js';
import { LIMITS } from './limits.js';
import { defined } from './patch.js';

export const toAgent = ({ skills, ...agent }: AgentRow) => ({ ...agent, skills: JSON.parse(skills) as string[] });

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
};

/** Creating and deleting agents is the owner's and the leads' work. */
function assertAdministers(ctx: Ctx, what: string) {
  if (ctx.isOwner || ctx.actorLevel === 'lead') return;
  throw denied(`agent '${ctx.actorId}' (level ${ctx.actorLevel}) may not ${what}: only a lead or the owner may`);
}

/** An agent may edit its own profile, but never its level; anything else is administration. */
function assertMayEdit(ctx: Ctx, agent: AgentRow, changes: { level?: string }) {
  if (agent.id === ctx.actorId && changes.level === undefined) return;
  assertAdministers(ctx, agent.id === ctx.actorId ? 'change its own level' : `change agent '${agent.id}'`);
}

const create = defineAction({
  tool: 'team_agent',
  action: 'create',
  summary: 'create an agent (id derived from name)',
  input: z.strictObject({ team_id: teamRef, name, ...profile }),
  write: true,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    assertAdministers(ctx, 'create agents');
    const id = agentIdFromName(input.name);
    if (!id) throw validation('name', 'must contain a letter or digit (the agent id is derived from it)');
    const clash = await ctx.db.selectFrom('persistent_agents').select(['id', 'team_id']).where('id', '=', id).executeTakeFirst();
    if (clash) {
      throw conflict(`agent id '${id}' (from name '${input.name}') is already taken${clash.team_id === team.id ? ' in this team' : ' by another team'}; choose another name`, { field: 'name', agent_id: id });
    }
    const row: AgentRow = {
      id,
      name: input.name,
      role: input.role ?? '',
      team_id: team.id,
      level: input.level ?? 'mid',
      status: input.status ?? 'idle',
      personality: input.personality ?? '',
      instructions: input.instructions ?? '',
      model: input.model ?? '',
      skills: JSON.stringify(input.skills ?? []),
      heartbeat_schedule: input.heartbeat_schedule ?? '*/15 * * * *',
      current_task_id: '',
      created_at: ctx.now,
      last_active_at: '',
      last_heartbeat_at: '',
    };
    await ctx.db.insertInto('persistent_agents').values(row).execute();
    await ctx.emit({ team_id: team.id, type: 'agent_created', message: `agent '${row.name}' (${id}) joined as ${row.level}`, related_id: id });
    return toAgent(row);
  },
});

const list = defineAction({
  tool: 'team_agent',
  action: 'list',
  summary: 'agents of a team',
  input: z.strictObject({ team_id: teamRef, status: z.enum(AGENT_STATUSES).optional(), level: z.enum(LEVELS).optional() }),
  write: false,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    let query = ctx.db.selectFrom('persistent_agents').selectAll().where('team_id', '=', team.id);
    if (input.status) query = query.where('status', '=', input.status);
    if (input.level) query = query.where('level', '=', input.level);
    const agents = await query.orderBy('created_at').execute();
    return { team_id: team.id, agents: agents.map(toAgent), count: agents.length };
  },
});

const agentTarget = { agent_id: agentRef.optional(), team_id: teamRef };

const get = defineAction({
  tool: 'team_agent',
  action: 'get',
  summary: 'an agent with instructions, personality, skills',
  input: z.strictObject(agentTarget),
  write: false,
  async run(ctx, input) {
    return toAgent(await ctx.agent(input.agent_id, input.team_id));
  },
});

async function saveAgent(ctx: Ctx, agent: AgentRow, changes: Partial<AgentRow>, type: string, message: string) {
  const next = { ...agent, ...changes };
  await ctx.db.updateTable('persistent_agents').set(changes).where('id', '=', agent.id).execute();
  await ctx.emit({ team_id: agent.team_id, type, message, related_id: agent.id, data: { fields: Object.keys(changes) } });
  return toAgent(next);
}

const update = defineAction({
  tool: 'team_agent',
  action: 'update',
  summary: 'change profile fields',
  input: z.strictObject({ ...agentTarget, name: name.optional(), ...profile }),
  write: true,
  async run(ctx, { agent_id, team_id, skills, ...changes }) {
    const agent = await ctx.agent(agent_id, team_id);
    assertMayEdit(ctx, agent, changes);
    const patch: Partial<AgentRow> = { ...defined(changes), ...(skills ? { skills: JSON.stringify(skills) } : {}) };
    return saveAgent(ctx, agent, patch, 'agent_updated', `agent '${agent.id}' updated`);
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
      ctx.assertActsFor(agent, `${action} the heartbeats`);
      return saveAgent(ctx, agent, { status }, `agent_${action === 'start' ? 'started' : 'stopped'}`, `agent '${agent.id}' ${action === 'start' ? 'started' : 'stopped'}`);
    },
  });

const remove = defineAction({
  tool: 'team_agent',
  action: 'delete',
  summary: 'delete an agent',
  input: z.strictObject(agentTarget),
  write: true,
  async run(ctx, input) {
    const agent = await ctx.agent(input.agent_id, input.team_id);
    assertAdministers(ctx, `delete agent '${agent.id}'`);
    await ctx.db.deleteFrom('persistent_agents').where('id', '=', agent.id).execute();
    await ctx.emit({ team_id: agent.team_id, type: 'agent_deleted', message: `agent '${agent.id}' deleted`, related_id: agent.id });
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
