import { z } from 'zod';
import { NOT_FRESH } from '../store/migrations/019_fresh_deliveries.js';
import type { NotificationRuleRow } from '../store/schema.js';
import { defineAction } from './action.js';
import type { Ctx } from './context.js';
import { conflict, denied, notFound, validation } from './errors.js';
import { teamRef } from './fields.js';
import { freshDeliveries } from './freshDeliveries.js';
import { newId, teamSlug } from './ids.js';
import { LIMITS } from './limits.js';
import { defined } from './patch.js';
import { prepared } from './prepared.js';
import { RULE_DEFAULTS, ruleFields, ruleIdOf, settingsOf } from './notificationConfig.js';
import type { Conditions, NotificationSettings } from './notificationConfig.js';
import type { Destination } from './notificationDestinations.js';
import { redactDestination } from './notificationDestinations.js';
import type { QuietHours } from './quietHours.js';
import { assertTeamAgents } from './tasks.js';

/**
 * Notification rules: which notifications (by type or event type, priority and conditions) go to which
 * destinations, in which words (template), how often (rate_limit) and when (quiet_hours). A rule belongs to a team,
 * or to every team (`team_id` ''). Rules come from the database (team_manage notify_rule_*) and from the config
 * file (read-only here: the file is edited, and the server restarted).
 */

export interface NotificationRule {
  id: string;
  team_id: string;
  name: string;
  enabled: boolean;
  events: string[];
  conditions: Conditions;
  destinations: Destination[];
  template: string;
  priority: number;
  rate_limit: number;
  quiet_hours: QuietHours | null;
  source: 'database' | 'config';
}

const parseRow = (row: NotificationRuleRow): NotificationRule => ({
  id: row.id,
  team_id: row.team_id,
  name: row.name,
  enabled: row.enabled === 1,
  events: JSON.parse(row.events) as string[],
  conditions: JSON.parse(row.conditions) as Conditions,
  destinations: JSON.parse(row.destinations) as Destination[],
  template: row.template,
  priority: row.priority,
  rate_limit: row.rate_limit,
  quiet_hours: row.quiet_hours ? (JSON.parse(row.quiet_hours) as QuietHours) : null,
  source: 'database',
});

/**
 * Parsed rules, by id, with the row they were parsed from: every notification reads its team's rules, which seldom
 * change, and comparing a row's columns costs less than parsing its JSON again. Shared: never mutate one.
 */
const parsed = new Map<string, { row: NotificationRuleRow; rule: NotificationRule }>();
const sameRow = (a: NotificationRuleRow, b: NotificationRuleRow) => (Object.keys(a) as (keyof NotificationRuleRow)[]).every((k) => a[k] === b[k]);

function fromRow(row: NotificationRuleRow): NotificationRule {
  const known = parsed.get(row.id);
  if (known && sameRow(known.row, row)) return known.rule;
  const rule = parseRow(row);
  if (parsed.size >= 1_000) parsed.delete(parsed.keys().next().value!);
  parsed.set(row.id, { row, rule });
  return rule;
}

const configRules = (settings: NotificationSettings): NotificationRule[] =>
  settings.rules.map((rule) => ({ ...rule, id: ruleIdOf(rule), source: 'config' as const }));

/** Whether a rule's `team_id` (an id or, in the file, a name) is the team's, or '' for every team. */
const appliesTo = (rule: NotificationRule, team: { id: string; slug: string }) => rule.team_id === '' || rule.team_id === team.id || teamSlug(rule.team_id) === team.slug;

const teamAndGlobalRules = prepared((db, p: { team: string; everyTeam: string }) =>
  db.selectFrom('notification_rules').selectAll().where('team_id', 'in', [p.team, p.everyTeam]).orderBy('created_at'),
);

/** The rules that apply to a team — its own and the global ones, from the database and the file (a definition). */
export async function rulesForTeam(ctx: Ctx, team: { id: string; slug: string }): Promise<NotificationRule[]> {
  return ctx.definition(`notification-rules:${team.id}`, async () => {
    const { rows } = await teamAndGlobalRules(ctx, { team: team.id, everyTeam: '' });
    return [...rows.map(fromRow), ...configRules(await settingsOf(ctx))].filter((r) => appliesTo(r, team));
  });
}

/** Every rule by id, from the database or the file (the sender re-reads a held delivery's quiet hours). */
export async function findRule(ctx: Ctx, id: string): Promise<NotificationRule | undefined> {
  const row = await ctx.db.selectFrom('notification_rules').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? fromRow(row) : configRules(await settingsOf(ctx)).find((r) => r.id === id);
}

/** Most rules one team (or the global scope) may hold: every notification reads them. */
const MAX_RULES = 100;

/** `team_id` '' is the global scope (the owner's); anything else, or nothing, resolves to a team. */
async function scopeOf(ctx: Ctx, teamId: string | undefined): Promise<{ id: string; name: string }> {
  if (teamId !== '') return ctx.team(teamId);
  if (!ctx.isOwner) throw denied(`global notification rules (team_id '') are the owner's; agent '${ctx.actorId}' may make rules for its team`, { field: 'team_id' });
  return { id: '', name: 'every team' };
}

/** Checks what the schema alone cannot: inbox agents are the team's, an owner destination has somewhere to go. */
async function assertDestinations(ctx: Ctx, scope: { id: string }, destinations: Destination[]) {
  const settings = await settingsOf(ctx);
  for (const [index, destination] of destinations.entries()) {
    if (destination.type === 'inbox' && destination.agent_id && scope.id) await assertTeamAgents(ctx, scope.id, [destination.agent_id.toLowerCase()], `destinations.${index}.agent_id`);
    if (destination.type === 'owner' && !settings.owner_destination) {
      throw validation(`destinations.${index}.type`, "is 'owner', but this server's config sets no notifications.owner_destination (the owner's webhook or channel)");
    }
  }
}

/** A rule as answers show it: the seed's fields, secrets hidden, and what became of its deliveries. */
async function present(ctx: Ctx, rules: NotificationRule[]) {
  const ids = rules.map((r) => r.id);
  // The rules' deliveries in deliveries_by_rule and the fresh ones, in one statement (one snapshot).
  const deliveries = ctx.db
    .selectFrom('notification_deliveries')
    .select(['rule_id', 'state', 'notification_id'])
    .where(NOT_FRESH)
    .where('rule_id', 'in', ids)
    .unionAll(freshDeliveries(ctx.db).select(['rule_id', 'state', 'notification_id']).where('rule_id', 'in', ids));
  const counts = ids.length
    ? await ctx.db
        .selectFrom(deliveries.as('d'))
        .select(['rule_id', 'state', (eb) => eb.fn.count<number>('notification_id').distinct().as('n')])
        .groupBy(['rule_id', 'state'])
        .execute()
    : [];
  return rules.map((rule) => {
    const mine = counts.filter((c) => c.rule_id === rule.id);
    const count = (state: string) => Number(mine.find((c) => c.state === state)?.n ?? 0);
    return {
      ...rule,
      destinations: rule.destinations.map((d) => redactDestination(d)),
      /** Notifications the rate limits dropped: the seed's limits made visible. */
      dropped: count('dropped'),
      notifications: { pending: count('pending'), held: count('held'), sent: count('sent'), failed: count('failed'), dropped: count('dropped') },
    };
  });
}

const ruleRef = z.string().trim().min(1).max(LIMITS.agentId);

/**
 * The rule fields as the tools take them: checked in full, but shown in tools/list as a plain array or object (the
 * pipe's input side). Their full shapes would cost every agent's context some 1,600 bytes for actions only leads
 * use; docs/notifications.md and the validation messages say what goes in them.
 */
const anyObject = z.record(z.string(), z.any());
const toolFields = {
  events: z.array(z.string()).pipe(ruleFields.events),
  conditions: anyObject.pipe(ruleFields.conditions),
  destinations: z.array(anyObject).pipe(ruleFields.destinations),
  quiet_hours: z.union([anyObject, z.null()]).pipe(ruleFields.quiet_hours),
};
const teamOrGlobal = teamRef.describe("team id or name; '' for a global rule (every team, the owner's)");

const create = defineAction({
  tool: 'team_manage',
  action: 'notify_rule_create',
  summary: 'add a notification rule (docs/notifications.md)',
  input: z.strictObject({
    team_id: teamOrGlobal,
    name: ruleFields.name,
    enabled: ruleFields.enabled.default(RULE_DEFAULTS.enabled),
    events: toolFields.events,
    conditions: toolFields.conditions.optional(),
    destinations: toolFields.destinations,
    template: ruleFields.template.default(RULE_DEFAULTS.template),
    priority: ruleFields.priority.default(RULE_DEFAULTS.priority),
    rate_limit: ruleFields.rate_limit.default(RULE_DEFAULTS.rate_limit),
    quiet_hours: toolFields.quiet_hours.optional(),
  }),
  write: true,
  async run(ctx, { team_id, conditions = RULE_DEFAULTS.conditions, quiet_hours = RULE_DEFAULTS.quiet_hours, ...rest }) {
    const fields = { ...rest, conditions, quiet_hours };
    const scope = await scopeOf(ctx, team_id);
    await assertDestinations(ctx, scope, fields.destinations);
    const existing = await ctx.db.selectFrom('notification_rules').select((eb) => eb.fn.countAll<number>().as('n')).where('team_id', '=', scope.id).executeTakeFirstOrThrow();
    if (Number(existing.n) >= MAX_RULES) throw conflict(`${scope.name} has ${MAX_RULES} notification rules already; delete one first`);
    const row: NotificationRuleRow = {
      id: newId(),
      team_id: scope.id,
      name: fields.name,
      enabled: fields.enabled ? 1 : 0,
      events: JSON.stringify(fields.events),
      conditions: JSON.stringify(fields.conditions),
      destinations: JSON.stringify(fields.destinations),
      template: fields.template,
      priority: fields.priority,
      rate_limit: fields.rate_limit,
      quiet_hours: fields.quiet_hours ? JSON.stringify(fields.quiet_hours) : '',
      created_by: ctx.actorId,
      created_at: ctx.now,
      updated_at: ctx.now,
    };
    await ctx.db.insertInto('notification_rules').values(row).execute();
    // The event names the rule and its events only: destinations may carry URLs and secrets.
    ctx.emit({ team_id: scope.id, type: 'notification_rule_created', message: `${ctx.actorId} added notification rule '${row.name}'`, related_id: row.id, data: { events: fields.events } });
    return (await present(ctx, [fromRow(row)]))[0]!;
  },
});

const list = defineAction({
  tool: 'team_manage',
  action: 'notify_rule_list',
  summary: 'notification rules, with delivery counts',
  input: z.strictObject({ team_id: teamOrGlobal }),
  write: false,
  async run(ctx, input) {
    if (input.team_id === '') {
      await scopeOf(ctx, '');
      const rows = await ctx.db.selectFrom('notification_rules').selectAll().where('team_id', '=', '').orderBy('created_at').execute();
      const rules = await present(ctx, [...rows.map(fromRow), ...configRules(await settingsOf(ctx)).filter((r) => r.team_id === '')]);
      return { team_id: '', rules, count: rules.length };
    }
    const team = await ctx.team(input.team_id);
    const rules = await present(ctx, await rulesForTeam(ctx, team));
    return { team_id: team.id, rules, count: rules.length };
  },
});

/** A database rule of the scope `team_id` names; a rule of the config file is refused with where to change it. */
async function storedRule(ctx: Ctx, teamId: string | undefined, ruleId: string): Promise<NotificationRule> {
  const scope = await scopeOf(ctx, teamId);
  const row = await ctx.db.selectFrom('notification_rules').selectAll().where('id', '=', ruleId).where('team_id', '=', scope.id).executeTakeFirst();
  if (row) return fromRow(row);
  if (configRules(await settingsOf(ctx)).some((r) => r.id === ruleId)) {
    throw conflict(`notification rule '${ruleId}' comes from the config file (team-table.yaml): change it there and restart the server`, { field: 'rule_id' });
  }
  throw notFound('notification rule', ruleId, `it is not a rule of ${scope.id ? `team '${scope.name}'` : 'the global scope'}; list them with team_manage(action='notify_rule_list')`);
}

const update = defineAction({
  tool: 'team_manage',
  action: 'notify_rule_update',
  summary: 'change a notification rule',
  input: z.strictObject({
    team_id: teamOrGlobal,
    rule_id: ruleRef,
    name: ruleFields.name.optional(),
    enabled: ruleFields.enabled.optional(),
    events: toolFields.events.optional(),
    conditions: toolFields.conditions.optional(),
    destinations: toolFields.destinations.optional(),
    template: ruleFields.template.optional(),
    priority: ruleFields.priority.optional(),
    rate_limit: ruleFields.rate_limit.optional(),
    quiet_hours: toolFields.quiet_hours.optional(),
  }),
  write: true,
  async run(ctx, { team_id, rule_id, ...changes }) {
    const rule = await storedRule(ctx, team_id, rule_id);
    if (changes.destinations) await assertDestinations(ctx, { id: rule.team_id }, changes.destinations);
    const next: NotificationRule = { ...rule, ...defined(changes) };
    await ctx.db
      .updateTable('notification_rules')
      .set({
        name: next.name,
        enabled: next.enabled ? 1 : 0,
        events: JSON.stringify(next.events),
        conditions: JSON.stringify(next.conditions),
        destinations: JSON.stringify(next.destinations),
        template: next.template,
        priority: next.priority,
        rate_limit: next.rate_limit,
        quiet_hours: next.quiet_hours ? JSON.stringify(next.quiet_hours) : '',
        updated_at: ctx.now,
      })
      .where('id', '=', rule.id)
      .execute();
    const fields = Object.keys(changes).filter((k) => changes[k as keyof typeof changes] !== undefined);
    ctx.emit({ team_id: rule.team_id, type: 'notification_rule_updated', message: `${ctx.actorId} changed notification rule '${next.name}' (${fields.join(', ') || 'no change'})`, related_id: rule.id, data: { fields } });
    return (await present(ctx, [next]))[0]!;
  },
});

const remove = defineAction({
  tool: 'team_manage',
  action: 'notify_rule_delete',
  summary: 'delete a notification rule',
  input: z.strictObject({ team_id: teamOrGlobal, rule_id: ruleRef }),
  write: true,
  async run(ctx, input) {
    const rule = await storedRule(ctx, input.team_id, input.rule_id);
    await ctx.db.deleteFrom('notification_rules').where('id', '=', rule.id).execute();
    ctx.emit({ team_id: rule.team_id, type: 'notification_rule_deleted', message: `${ctx.actorId} deleted notification rule '${rule.name}'`, related_id: rule.id });
    return { deleted: true, id: rule.id };
  },
});

export const notificationRuleActions = [create, list, update, remove];
