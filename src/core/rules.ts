import { z } from 'zod';
import type { RuleRow } from '../store/schema.js';
import { defineAction } from './action.js';
import type { Ctx } from './context.js';
import { notFound, validation } from './errors.js';
import { COMMENT_TYPES, TASK_STATUSES, priority, shortText, teamRef } from './fields.js';
import { newId } from './ids.js';
import { LIMITS } from './limits.js';
import { prepared } from './prepared.js';

/**
 * Workflow rules: trigger → condition → action, evaluated on the events each use case appends, inside its
 * transaction (see ruleEngine.ts). Four are built in, the roadmap's examples, plus blocker escalation; a team
 * turns any of them off or on with rule_update, and adds its own with rule_create.
 */

export const TRIGGERS = [
  'task.created',
  'task.status_changed',
  'task.assigned',
  'task.comment',
  'task.all_subtasks_done',
  'task.unblocked',
  'task.lease_expired',
  'agent.idle',
] as const;
export type Trigger = (typeof TRIGGERS)[number];

export const NOTIFY_TARGETS = ['assignees', 'reviewer', 'creator', 'escalation', 'leads', 'team'] as const;

export const conditionSchema = z
  .strictObject({
    status: z.enum(TASK_STATUSES).optional(),
    from_status: z.enum(TASK_STATUSES).optional(),
    priority_at_most: priority.optional(),
    label: z.string().max(LIMITS.label).optional(),
    task_type: z.string().max(LIMITS.label).optional(),
    comment_type: z.enum(COMMENT_TYPES).optional(),
    idle_minutes: z.number().int().min(1).max(7 * 24 * 60).optional(),
  })
  .default({});
export type Condition = z.infer<typeof conditionSchema>;

const target = z.union([z.enum(NOTIFY_TARGETS), z.string().regex(/^agent:[a-z0-9-]+$/, "must be a target (assignees, reviewer, creator, escalation, leads, team) or 'agent:<id>'")]);

export const actionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('set_status'), status: z.enum(TASK_STATUSES) }),
  z.strictObject({ type: z.literal('notify'), to: z.array(target).min(1).max(6), message: shortText.optional(), priority: priority.optional() }),
  z.strictObject({ type: z.literal('assign'), agent_id: z.string().min(1).max(LIMITS.agentId) }),
  z.strictObject({ type: z.literal('assign_next') }),
  z.strictObject({ type: z.literal('add_label'), label: z.string().trim().min(1).max(LIMITS.label) }),
  z.strictObject({ type: z.literal('comment'), content: z.string().trim().min(1).max(LIMITS.shortText) }),
]);
export type RuleAction = z.infer<typeof actionSchema>;

export interface Rule {
  id: string;
  team_id: string;
  name: string;
  trigger: Trigger;
  condition: Condition;
  action: RuleAction;
  enabled: boolean;
  builtin: boolean;
}

type BuiltinRule = Omit<Rule, 'team_id' | 'enabled' | 'builtin'> & { enabledByDefault: boolean };

/**
 * `idle-assign` starts off: it hands out work nobody asked for, and an agent woken by a 15-minute heartbeat looks
 * idle most of the time; a team that wants it turns it on with rule_update.
 */
export const BUILTIN_RULES: readonly BuiltinRule[] = [
  { id: 'parent-complete', name: 'all subtasks done → parent done (review first when it has a reviewer)', trigger: 'task.all_subtasks_done', condition: {}, action: { type: 'set_status', status: 'done' }, enabledByDefault: true },
  { id: 'blocked-notify', name: 'task blocked → notify the assignees and the escalation role', trigger: 'task.status_changed', condition: { status: 'blocked' }, action: { type: 'notify', to: ['assignees', 'escalation'], priority: 2 }, enabledByDefault: true },
  { id: 'blocker-escalate', name: 'blocker comment → notify the escalation role', trigger: 'task.comment', condition: { comment_type: 'blocker' }, action: { type: 'notify', to: ['escalation'], priority: 2 }, enabledByDefault: true },
  { id: 'idle-assign', name: 'agent idle 5 minutes → assign it the next pending task', trigger: 'agent.idle', condition: { idle_minutes: 5 }, action: { type: 'assign_next' }, enabledByDefault: false },
  { id: 'review-notify', name: 'task to review → notify the reviewer', trigger: 'task.status_changed', condition: { status: 'review' }, action: { type: 'notify', to: ['reviewer'] }, enabledByDefault: true },
];

const fromRow = (row: RuleRow): Rule => ({
  id: row.id,
  team_id: row.team_id,
  name: row.name,
  trigger: row.trigger as Trigger,
  condition: JSON.parse(row.condition) as Condition,
  action: JSON.parse(row.action) as RuleAction,
  enabled: row.enabled === 1,
  builtin: row.builtin === 1,
});

const teamRules = prepared((db, p: { team: string }) => db.selectFrom('team_rules').selectAll().where('team_id', '=', p.team).orderBy('created_at'));

/** The rules of a team: the built-ins (with the team's on/off choice) and its own. */
export function rulesOf(ctx: Ctx, teamId: string): Promise<Rule[]> {
  return ctx.definition(`rules:${teamId}`, async () => {
    const { rows } = await teamRules(ctx, { team: teamId });
    const builtins = BUILTIN_RULES.map(({ enabledByDefault, ...rule }) => {
      const choice = rows.find((r) => r.builtin === 1 && r.id === rule.id);
      return { ...rule, team_id: teamId, enabled: choice ? choice.enabled === 1 : enabledByDefault, builtin: true };
    });
    return [...builtins, ...rows.filter((r) => r.builtin === 0).map(fromRow)];
  });
}

/** A custom rule whose action cannot apply to its trigger is refused when created, not when it fires. */
function assertCoherent(trigger: Trigger, action: RuleAction) {
  const agentTrigger = trigger === 'agent.idle';
  if (agentTrigger && !['assign_next', 'notify'].includes(action.type)) throw validation('rule_action', `'${action.type}' needs a task; agent.idle rules may assign_next or notify`);
  if (!agentTrigger && action.type === 'assign_next') throw validation('rule_action', "assign_next goes with the trigger 'agent.idle'");
}

const ruleRef = z.string().trim().min(1).max(LIMITS.agentId);

const create = defineAction({
  tool: 'team_manage',
  action: 'rule_create',
  summary: 'add a workflow rule: trigger, condition, rule_action (docs/workflow.md)',
  input: z.strictObject({ team_id: teamRef, name: z.string().trim().min(1).max(LIMITS.title), trigger: z.enum(TRIGGERS), condition: conditionSchema, rule_action: actionSchema }),
  write: true,
  creates: true,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    assertCoherent(input.trigger, input.rule_action);
    const row: RuleRow = {
      id: newId(),
      team_id: team.id,
      name: input.name,
      trigger: input.trigger,
      condition: JSON.stringify(input.condition),
      action: JSON.stringify(input.rule_action),
      enabled: 1,
      builtin: 0,
      created_by: ctx.actorId,
      created_at: ctx.now,
    };
    await ctx.db.insertInto('team_rules').values(row).execute();
    ctx.emit({ team_id: team.id, type: 'rule_created', message: `${ctx.actorId} added rule '${row.name}'`, related_id: row.id, data: { trigger: row.trigger } });
    return fromRow(row) as unknown as Record<string, unknown>;
  },
});

const list = defineAction({
  tool: 'team_manage',
  action: 'rule_list',
  summary: 'built-in and custom workflow rules',
  input: z.strictObject({ team_id: teamRef }),
  write: false,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const rules = await rulesOf(ctx, team.id);
    return { team_id: team.id, rules, count: rules.length };
  },
});

async function findRule(ctx: Ctx, teamId: string, ruleId: string): Promise<Rule> {
  const rule = (await rulesOf(ctx, teamId)).find((r) => r.id === ruleId);
  if (!rule) throw notFound('rule', ruleId, "list rules with team_manage(action='rule_list')");
  return rule;
}

/** Records a team's choice for a built-in rule, or changes a custom rule. */
async function setEnabled(ctx: Ctx, rule: Rule, enabled: boolean) {
  if (rule.builtin) {
    await ctx.db
      .insertInto('team_rules')
      .values({ id: rule.id, team_id: rule.team_id, name: rule.name, trigger: rule.trigger, condition: '{}', action: '{}', enabled: enabled ? 1 : 0, builtin: 1, created_by: ctx.actorId, created_at: ctx.now })
      .onConflict((c) => c.columns(['team_id', 'id']).doUpdateSet({ enabled: enabled ? 1 : 0 }))
      .execute();
  } else {
    await ctx.db.updateTable('team_rules').set({ enabled: enabled ? 1 : 0 }).where('team_id', '=', rule.team_id).where('id', '=', rule.id).execute();
  }
  ctx.emit({ team_id: rule.team_id, type: 'rule_updated', message: `${ctx.actorId} turned rule '${rule.name}' ${enabled ? 'on' : 'off'}`, related_id: rule.id, data: { enabled } });
}

const update = defineAction({
  tool: 'team_manage',
  action: 'rule_update',
  summary: 'turn a rule (built-in or custom) on or off',
  input: z.strictObject({ team_id: teamRef, rule_id: ruleRef, enabled: z.boolean() }),
  write: true,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const rule = await findRule(ctx, team.id, input.rule_id);
    await setEnabled(ctx, rule, input.enabled);
    return { ...rule, enabled: input.enabled };
  },
});

const remove = defineAction({
  tool: 'team_manage',
  action: 'rule_delete',
  summary: 'delete a custom rule (a built-in one is turned off)',
  input: z.strictObject({ team_id: teamRef, rule_id: ruleRef }),
  write: true,
  async run(ctx, input) {
    const team = await ctx.team(input.team_id);
    const rule = await findRule(ctx, team.id, input.rule_id);
    if (rule.builtin) {
      await setEnabled(ctx, rule, false);
      return { deleted: false, disabled: true, id: rule.id };
    }
    await ctx.db.deleteFrom('team_rules').where('team_id', '=', team.id).where('id', '=', rule.id).execute();
    ctx.emit({ team_id: team.id, type: 'rule_deleted', message: `${ctx.actorId} deleted rule '${rule.name}'`, related_id: rule.id });
    return { deleted: true, id: rule.id };
  },
});

export const ruleActions = [create, list, update, remove];
