import { z } from 'zod';
import type { Ctx } from './context.js';
import { NOTIFICATION_TYPES, TASK_STATUSES, priority } from './fields.js';
import { LIMITS } from './limits.js';
import { channelDefinitionSchema, destinationSchema, ownerLineSchema } from './notificationDestinations.js';
import { templateProblem } from './notificationTemplates.js';
import { quietHoursSchema } from './quietHours.js';

/**
 * What a notification rule is (the seed's "Notification Rules" table) and the notification settings of a
 * deployment — the seed's `config.yaml` section `notifications:` (`enabled`, `defaults`, `quiet_hours`,
 * `rate_limit_per_hour`, `rules`), plus where channels and the owner are reached and how deliveries are retried.
 * The same zod schemas check rules made with team_manage and rules read from the file.
 */

/** Notification types the table itself makes besides the seed's five (workflow rules, the idle sweep). */
const TABLE_NOTIFICATION_TYPES = ['review_requested', 'task_unblocked', 'workflow_rule', 'rule_loop', 'agent_idle', 'lease_expired'] as const;

/**
 * Event types of the log a rule may route: every event a use case appends, but notification_sent (what rules make),
 * notification_failed (recorded by the sender, outside any change: routing it could chain failure to failure) and
 * the runner's own records (agent_unresponsive is routed as the agent_error notification raised with it).
 */
export const LOG_EVENT_TYPES = [
  'team_created', 'team_updated', 'team_deleted',
  'agent_created', 'agent_updated', 'agent_started', 'agent_stopped', 'agent_deleted', 'agent_idle',
  'agent_wake_requested',
  'working_updated', 'working_cleared',
  'task_created', 'task_updated', 'task_assigned', 'task_claimed', 'task_released', 'task_lease_expired', 'task_lease_renewed',
  'task_reassigned', 'task_approved', 'task_changes_requested', 'task_deleted', 'task_unblocked', 'task_subtasks_done',
  'message_sent', 'mention', 'subscribed', 'message_deleted', 'message_purged', 'messages_archived', 'messages_read',
  'mail_handed_out', 'mail_acknowledged', 'notifications_read', 'notifications_purged',
  'fact_created', 'fact_updated', 'fact_deleted', 'fact_expired',
  'document_created', 'document_updated', 'document_deleted',
  'rule_created', 'rule_updated', 'rule_deleted', 'rule_failed', 'rule_loop_stopped',
  'role_created', 'role_updated', 'role_deleted',
  'notification_rule_created', 'notification_rule_updated', 'notification_rule_deleted', 'notification_retried',
] as const;

export const ROUTABLE_TYPES = [...new Set<string>([...NOTIFICATION_TYPES, ...TABLE_NOTIFICATION_TYPES, ...LOG_EVENT_TYPES])];

/**
 * A type a rule may list. Checked by refinement rather than an enum: an enum of some fifty names would sit in every
 * agent's tools/list for an action only leads use (docs/notifications.md lists them).
 */
const routableType = z
  .string()
    .refine((type) => ROUTABLE_TYPES.includes(type), { error: (issue) => `must be a notification type (${NOTIFICATION_TYPES.join(', ')}, …) or an event type of the log (task_created, task_updated, message_sent, …), not ${JSON.stringify(issue.input)}; see docs/notifications.md` })
  .describe('a notification type or an event type of the log');

const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).min(1).max(LIMITS.listItems)]);
const word = z.string().trim().min(1).max(LIMITS.agentId);

/** Filters on the notification's fields (and its task's); a list means any of them. */
export const conditionsSchema = z.strictObject({
  /** Who sent or raised it. */
  agent_id: oneOrMany(word).optional(),
  /** Whom it is for; '' is team-wide. */
  to_agent: oneOrMany(z.string().trim().max(LIMITS.agentId)).optional(),
  task_id: oneOrMany(word).optional(),
  /** Its task's status. */
  status: oneOrMany(z.enum(TASK_STATUSES)).optional(),
  /** Its task carries one of these labels. */
  labels: oneOrMany(z.string().trim().min(1).max(LIMITS.label)).optional(),
  task_type: oneOrMany(z.string().trim().min(1).max(LIMITS.label)).optional(),
  /** `agent` (a notify call), `table` (raised by the table: task_completed, task_blocked, agent_error), `rule` (a workflow rule), `event` (an event of the log). */
  origin: oneOrMany(z.enum(['agent', 'table', 'rule', 'event'])).optional(),
  message_contains: z.string().min(1).max(200).optional(),
});
export type Conditions = z.infer<typeof conditionsSchema>;

const template = z
  .string()
  .max(LIMITS.shortText)
  .superRefine((value, issues) => {
    const problem = value ? templateProblem(value) : undefined;
    if (problem) issues.addIssue({ code: 'custom', message: problem });
  });

/** A rule's fields, every one of the seed's table but `id` and `team_id`. */
export const ruleFields = {
  name: z.string().trim().min(1).max(LIMITS.title),
  enabled: z.boolean(),
  events: z.array(routableType).min(1).max(LIMITS.listItems),
  conditions: conditionsSchema,
  destinations: z.array(destinationSchema).min(1).max(10),
  template,
  /** The least urgent priority that triggers the rule: 1 only urgent ones, 5 every one. */
  priority,
  /** Notifications per hour; 0 is unlimited. */
  rate_limit: z.number().int().min(0).max(100_000),
  /** null follows the global quiet hours; `{ enabled: false }` turns them off for this rule. */
  quiet_hours: quietHoursSchema.nullable(),
};

export const RULE_DEFAULTS = { enabled: true, conditions: {}, template: '', priority: 5, rate_limit: 0, quiet_hours: null } as const;

const seconds = (min: number, max: number) => z.number().min(min).max(max);

/** How the sender retries: exponential backoff with jitter from `backoff_seconds`, up to `max_backoff_seconds`. */
export const deliverySchema = z.strictObject({
  timeout_seconds: seconds(0.1, 120).default(10),
  max_attempts: z.number().int().min(1).max(1_000).default(12),
  backoff_seconds: seconds(0.01, 3_600).default(2),
  max_backoff_seconds: seconds(0.01, 86_400).default(3_600),
});

const configRuleSchema = z.strictObject({
  /** Kept across restarts so that limits and counts follow the rule; defaults to `config-<name>`. */
  id: z.string().trim().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and hyphens').max(LIMITS.agentId).optional(),
  /** A team id or name; empty or absent is every team. */
  team_id: z.string().trim().max(LIMITS.name).default(''),
  name: ruleFields.name,
  enabled: ruleFields.enabled.default(true),
  events: ruleFields.events,
  conditions: ruleFields.conditions.default({}),
  destinations: ruleFields.destinations,
  template: ruleFields.template.default(''),
  priority: ruleFields.priority.default(5),
  rate_limit: ruleFields.rate_limit.default(0),
  quiet_hours: ruleFields.quiet_hours.default(null),
});

const channelNameKey = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be a channel name: letters, digits, _ . -').max(64);

export const notificationsSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    defaults: z.strictObject({ activity_feed: z.boolean().default(true), owner: z.boolean().default(false) }).default({ activity_feed: true, owner: false }),
    quiet_hours: quietHoursSchema.optional(),
    rate_limit_per_hour: z.number().int().min(0).max(1_000_000).default(0),
    rules: z.array(configRuleSchema).max(200).default([]),
    /** Named channels: `rules[].destinations[].channel` refers to them. */
    channels: z.record(channelNameKey, channelDefinitionSchema).default({}),
    /** The owner's line, where `owner` destinations (and `defaults.owner`) go. */
    owner_destination: ownerLineSchema.optional(),
    delivery: deliverySchema.default(deliverySchema.parse({})),
  })
  .superRefine((value, issues) => {
    if (value.defaults.owner && !value.owner_destination) {
      issues.addIssue({ code: 'custom', path: ['defaults', 'owner'], message: 'is true, but notifications.owner_destination (the owner\'s webhook or channel) is not set' });
    }
    const ids = new Map<string, number>();
    value.rules.forEach((rule, index) => {
      const id = ruleIdOf(rule);
      if (ids.has(id)) issues.addIssue({ code: 'custom', path: ['rules', index, rule.id ? 'id' : 'name'], message: `gives the id '${id}', as rules[${ids.get(id)}] does: rule ids must differ` });
      ids.set(id, index);
      rule.destinations.forEach((destination, d) => {
        if (destination.type === 'owner' && !value.owner_destination) issues.addIssue({ code: 'custom', path: ['rules', index, 'destinations', d, 'type'], message: "is 'owner', but notifications.owner_destination is not set" });
      });
    });
  });

/** The whole file: `notifications:` is its one section. */
export const configFileSchema = z.strictObject({ notifications: notificationsSchema.default(notificationsSchema.parse({})) });

export type NotificationSettings = z.infer<typeof notificationsSchema>;
export type ConfigRule = z.infer<typeof configRuleSchema>;

export const ruleIdOf = (rule: Pick<ConfigRule, 'id' | 'name'>) =>
  rule.id ??
  `config-${rule.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, LIMITS.agentId - 7)}`;

/** The settings without a config file: notifications on, the activity feed on, no rules. */
export const DEFAULT_SETTINGS: NotificationSettings = notificationsSchema.parse({});

const MEMO_KEY = 'notifications:settings';

/** The notification settings of the process handling this call (the core binds them at the start of every call). */
export const settingsOf = (ctx: Ctx): Promise<NotificationSettings> => ctx.memo(MEMO_KEY, async () => DEFAULT_SETTINGS);

/** Makes `settings` what `settingsOf` answers for the rest of this call. */
export const bindSettings = (ctx: Ctx, settings: NotificationSettings): void => void ctx.memo(MEMO_KEY, async () => settings);
