import { z } from 'zod';
import type { AgentRow, RoleRow } from '../store/schema.js';
import type { ActionDef } from './action.js';
import { TOOL_NAMES, defineAction } from './action.js';
import type { Ctx } from './context.js';
import { conflict, denied, notFound, validation } from './errors.js';
import { shortText, stringList, teamRef } from './fields.js';
import { LIMITS } from './limits.js';
import { prepared } from './prepared.js';

/**
 * Declarative roles. A role names the restricted actions it may use, the task types it prefers (claim_next and
 * auto-assignment order by them) and the role its blockers escalate to. An agent's role is its `role_definition`,
 * or, without one, its level's: `lead` → the lead template, any other level → `coder`. The owner may do anything.
 * Checked once, in the core, before every action — whichever adapter the call came through.
 */

export interface RoleDefinition {
  name: string;
  description: string;
  actions: string[];
  prefers: string[];
  escalates_to: string;
  template: boolean;
}

/**
 * The actions a role must grant. Everything else — reading, one's own mailbox, working state and claims,
 * comments, messages and notifications — is open to every agent of the team.
 */
export const RESTRICTED_ACTIONS = [
  'team_manage.update',
  'team_manage.rule_create',
  'team_manage.rule_update',
  'team_manage.rule_delete',
  'team_agent.create',
  'team_agent.delete',
  'team_task.create',
  'team_task.update',
  'team_task.assign',
  'team_task.delete',
  'team_task.claim',
  'team_task.claim_next',
  'team_task.approve',
  'team_task.request_changes',
  'team_task.reassign',
  'team_memory.fact_save',
  'team_memory.fact_delete',
  'team_memory.doc_create',
  'team_memory.doc_update',
  'team_memory.doc_delete',
  'team_comm.broadcast',
] as const;

/**
 * Administration, never granted by a role's action list: the owner's, or a lead's (level lead, or role lead).
 * Creating and deleting teams is the owner's alone: an agent belongs to the team it was created in.
 */
const OWNER_ONLY = new Set(['team_manage.create', 'team_manage.delete']);
export const LEAD_ONLY = new Set([
  'team_manage.role_create',
  'team_manage.role_update',
  'team_manage.role_delete',
  'team_comm.purge',
  // Notification rules send the team's news to URLs outside it.
  'team_manage.notify_rule_create',
  'team_manage.notify_rule_update',
  'team_manage.notify_rule_delete',
  'team_comm.notify_retry',
]);

const template = (name: string, description: string, actions: string[], prefers: string[], escalates_to: string): RoleDefinition => ({
  name,
  description,
  actions,
  prefers,
  escalates_to,
  template: true,
});

export const ROLE_TEMPLATES: readonly RoleDefinition[] = [
  template('lead', 'coordinates the team: every action', ['*'], ['planning', 'coordination'], ''),
  template(
    'architect',
    'designs and plans: shapes tasks, reviews, writes the shared knowledge',
    ['team_task.*', 'team_memory.*', 'team_comm.broadcast'],
    ['design', 'architecture'],
    'lead',
  ),
  template(
    'coder',
    'implements: creates and works tasks, writes facts and documents',
    ['team_task.create', 'team_task.update', 'team_task.claim', 'team_task.claim_next', 'team_task.reassign', 'team_memory.fact_save', 'team_memory.doc_create', 'team_memory.doc_update'],
    ['implement', 'bug', 'test'],
    'architect',
  ),
  template(
    'reviewer',
    'verifies: approves or sends back work in review',
    ['team_task.update', 'team_task.claim', 'team_task.claim_next', 'team_task.approve', 'team_task.request_changes', 'team_memory.fact_save', 'team_memory.doc_create', 'team_memory.doc_update'],
    ['review'],
    'lead',
  ),
  template(
    'async-worker',
    'works unattended from the queue: claims, works and hands off tasks',
    ['team_task.claim', 'team_task.claim_next', 'team_task.update', 'team_task.reassign', 'team_memory.doc_create', 'team_memory.doc_update'],
    ['implement', 'test'],
    'lead',
  ),
];

const toDefinition = (row: RoleRow): RoleDefinition => ({
  name: row.name,
  description: row.description,
  actions: JSON.parse(row.actions) as string[],
  prefers: JSON.parse(row.prefers) as string[],
  escalates_to: row.escalates_to,
  template: false,
});

const teamRoles = prepared((db, p: { team: string }) => db.selectFrom('team_roles').selectAll().where('team_id', '=', p.team).orderBy('created_at'));

/** A team's roles: the templates, each replaced by the team's own definition of that name, then the team's others. */
export async function rolesOf(ctx: Ctx, teamId: string): Promise<RoleDefinition[]> {
  return ctx.definition(`roles:${teamId}`, async () => {
    const own = (await teamRoles(ctx, { team: teamId })).rows.map(toDefinition);
    return [...ROLE_TEMPLATES.map((t) => own.find((r) => r.name === t.name) ?? t), ...own.filter((r) => !ROLE_TEMPLATES.some((t) => t.name === r.name))];
  });
}

export const roleNameOf = (agent: Pick<AgentRow, 'role_definition' | 'level'>): string => agent.role_definition || (agent.level === 'lead' ? 'lead' : 'coder');

/** An agent that administers its team: level lead, or role lead. */
export const isLeadAgent = (agent: Pick<AgentRow, 'role_definition' | 'level'>): boolean => agent.level === 'lead' || roleNameOf(agent) === 'lead';

/** The role `agent` acts under. */
export async function roleOf(ctx: Ctx, agent: AgentRow): Promise<RoleDefinition> {
  const name = roleNameOf(agent);
  const roles = await rolesOf(ctx, agent.team_id);
  return roles.find((r) => r.name === name) ?? ROLE_TEMPLATES.find((t) => t.name === 'coder')!;
}

export const allows = (role: RoleDefinition, permission: string): boolean =>
  role.actions.some((a) => a === '*' || a === permission || (a.endsWith('.*') && permission.startsWith(a.slice(0, -1))));

export function assertLead(ctx: Ctx, what: string): void {
  if (ctx.isLead) return;
  throw denied(`agent '${ctx.actorId}' may not ${what}: only a lead or the owner may`, { required: 'lead' });
}

/**
 * Refuses an action the actor's role does not allow, saying which roles would. Runs before the use case, so a
 * refused call reads and writes nothing.
 */
export async function authorize(ctx: Ctx, def: Pick<ActionDef, 'tool' | 'action'>): Promise<void> {
  const permission = `${def.tool}.${def.action}`;
  if (ctx.actor.kind === 'owner') return;
  if (OWNER_ONLY.has(permission)) throw denied(`${permission} is the owner's alone; agent '${ctx.actorId}' belongs to the team it was created in`, { permission });
  if (LEAD_ONLY.has(permission)) return assertLead(ctx, `use ${permission}`);
  if (!(RESTRICTED_ACTIONS as readonly string[]).includes(permission)) return;
  const role = await roleOf(ctx, ctx.actor.agent);
  if (allows(role, permission)) return;
  const allowing = (await rolesOf(ctx, ctx.actor.agent.team_id)).filter((r) => allows(r, permission)).map((r) => r.name);
  throw denied(`agent '${ctx.actorId}' (role ${role.name}) may not use ${permission}; roles that may: ${allowing.join(', ') || 'none (the owner only)'}`, {
    permission,
    role: role.name,
    allowed_roles: allowing,
  });
}

/** The task types `agent`'s role prefers, best first (claim_next orders ready work by them). */
export async function affinityOf(ctx: Ctx, agent: AgentRow): Promise<string[]> {
  return (await roleOf(ctx, agent)).prefers;
}

/**
 * Who a blocker on a task escalates to: the agents holding the role each assignee's role escalates to (a task
 * nobody holds escalates to the leads), never the assignees themselves; leads when that role has nobody.
 */
export async function escalationTargets(ctx: Ctx, task: { team_id: string }, assignees: string[]): Promise<string[]> {
  const agents = await ctx.db.selectFrom('persistent_agents').selectAll().where('team_id', '=', task.team_id).execute();
  const roles = await rolesOf(ctx, task.team_id);
  const escalation = new Set<string>();
  for (const id of assignees.length ? assignees : ['']) {
    const agent = agents.find((a) => a.id === id);
    const target = (agent && roles.find((r) => r.name === roleNameOf(agent))?.escalates_to) || 'lead';
    escalation.add(target);
  }
  const holders = (name: string) => agents.filter((a) => roleNameOf(a) === name || (name === 'lead' && a.level === 'lead')).map((a) => a.id);
  let targets = [...escalation].flatMap(holders);
  if (targets.filter((id) => !assignees.includes(id)).length === 0) targets = holders('lead');
  return [...new Set(targets)].filter((id) => !assignees.includes(id));
}

/** The team's leads: agents of level lead or of role lead. */
export async function leadsOf(ctx: Ctx, teamId: string): Promise<string[]> {
  const agents = await ctx.db.selectFrom('persistent_agents').select(['id', 'level', 'role_definition']).where('team_id', '=', teamId).execute();
  return agents.filter(isLeadAgent).map((a) => a.id);
}

/** Checks that `name` is a role of the team (a template or its own). */
export async function assertRoleExists(ctx: Ctx, teamId: string, name: string, field: string): Promise<void> {
  const roles = await rolesOf(ctx, teamId);
  if (!roles.some((r) => r.name === name)) throw validation(field, `names no role of this team; roles: ${roles.map((r) => r.name).join(', ')}`);
}

const PERMISSIONS = [...RESTRICTED_ACTIONS, ...TOOL_NAMES.map((t) => `${t}.*`), '*'];
const roleName = z.string().trim().toLowerCase().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and hyphens').max(LIMITS.label);
const roleFields = {
  description: shortText.optional(),
  // Checked against the list, which is not published in the tool's schema: 27 names are context every agent would pay
  // for on every turn, and role_list shows them to the few who define roles.
  actions: z
    .array(z.string().refine((p) => PERMISSIONS.includes(p), { message: "is not a permission: a restricted action 'tool.action' (role_list shows them), 'tool.*' or '*'" }))
    .max(LIMITS.listItems)
    .optional()
    .describe("permissions: restricted actions 'tool.action' (role_list lists them), 'tool.*' or '*'"),
  prefers: stringList(LIMITS.label).optional(),
  escalates_to: z.union([roleName, z.literal('')]).optional(),
};

async function saveRole(ctx: Ctx, teamId: string, name: string, fields: z.infer<z.ZodObject<typeof roleFields>>, existing?: RoleDefinition) {
  if (fields.escalates_to) await assertRoleExists(ctx, teamId, fields.escalates_to, 'escalates_to');
  const row = {
    team_id: teamId,
    name,
    description: fields.description ?? existing?.description ?? '',
    actions: JSON.stringify(fields.actions ?? existing?.actions ?? []),
    prefers: JSON.stringify(fields.prefers ?? existing?.prefers ?? []),
    escalates_to: fields.escalates_to ?? existing?.escalates_to ?? 'lead',
    created_by: ctx.actorId,
    created_at: ctx.now,
    updated_at: ctx.now,
  };
  await ctx.db
    .insertInto('team_roles')
    .values(row)
    .onConflict((c) => c.columns(['team_id', 'name']).doUpdateSet({ description: row.description, actions: row.actions, prefers: row.prefers, escalates_to: row.escalates_to, updated_at: row.updated_at }))
    .execute();
  ctx.emit({ team_id: teamId, type: existing ? 'role_updated' : 'role_created', message: `${ctx.actorId} ${existing ? 'changed' : 'defined'} role '${name}'`, related_id: name, data: { actions: JSON.parse(row.actions) } });
  return toDefinition(row);
}

const create = defineAction({
  tool: 'team_manage',
  action: 'role_create',
  summary: 'define a role: actions it may use, task types it prefers, escalates_to',
  input: z.strictObject({ team_id: teamRef, name: roleName, ...roleFields }),
  write: true,
  creates: true,
  async run(ctx, { team_id, name, ...fields }) {
    const team = await ctx.team(team_id);
    const existing = (await rolesOf(ctx, team.id)).find((r) => r.name === name);
    if (existing) throw conflict(`role '${name}' already exists${existing.template ? ' (a template)' : ''}; change it with role_update`, { field: 'name' });
    return saveRole(ctx, team.id, name, fields) as unknown as Record<string, unknown>;
  },
});

const update = defineAction({
  tool: 'team_manage',
  action: 'role_update',
  summary: "change a role (a template's change applies to this team only)",
  input: z.strictObject({ team_id: teamRef, name: roleName, ...roleFields }),
  write: true,
  async run(ctx, { team_id, name, ...fields }) {
    const team = await ctx.team(team_id);
    const existing = (await rolesOf(ctx, team.id)).find((r) => r.name === name);
    if (!existing) throw notFound('role', name, "list roles with team_manage(action='role_list')");
    return saveRole(ctx, team.id, name, fields, existing) as unknown as Record<string, unknown>;
  },
});

const list = defineAction({
  tool: 'team_manage',
  action: 'role_list',
  summary: 'role templates and team roles, with who holds each',
  input: z.strictObject({ team_id: teamRef }),
  write: false,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const agents = await ctx.db.selectFrom('persistent_agents').select(['id', 'level', 'role_definition']).where('team_id', '=', team.id).execute();
    const roles = (await rolesOf(ctx, team.id)).map((r) => ({ ...r, agents: agents.filter((a) => roleNameOf(a) === r.name).map((a) => a.id) }));
    return { team_id: team.id, roles, restricted_actions: RESTRICTED_ACTIONS };
  },
});

const remove = defineAction({
  tool: 'team_manage',
  action: 'role_delete',
  summary: "delete a team role (a template's team change reverts)",
  input: z.strictObject({ team_id: teamRef, name: roleName }),
  write: true,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const role = (await rolesOf(ctx, team.id)).find((r) => r.name === input.name && !r.template);
    if (!role) throw notFound('team role', input.name, 'templates cannot be deleted');
    const isTemplate = ROLE_TEMPLATES.some((t) => t.name === role.name);
    if (!isTemplate) {
      const holders = await ctx.db.selectFrom('persistent_agents').select('id').where('team_id', '=', team.id).where('role_definition', '=', role.name).execute();
      if (holders.length) throw conflict(`role '${role.name}' is held by ${holders.map((h) => h.id).join(', ')}; give them another role first`, { holders: holders.map((h) => h.id) });
    }
    await ctx.db.deleteFrom('team_roles').where('team_id', '=', team.id).where('name', '=', role.name).execute();
    ctx.emit({ team_id: team.id, type: 'role_deleted', message: `${ctx.actorId} deleted role '${role.name}'`, related_id: role.name });
    return { deleted: true, name: role.name };
  },
});

export const roleActions = [create, update, list, remove];
