/**
 * The row types of every table, as Kysely sees them. Field names are the seed's (`devclaw-teams.md`); list
 * fields the seed stores as JSON text (`skills`, `mentions`) stay JSON text, while a task's assignees and labels
 * live in join tables so that filtering by them uses an index.
 *
 * Booleans are integers (0/1) and times are ISO-8601 UTC text in both dialects, so rows compare and sort the
 * same way on SQLite and PostgreSQL.
 */
import type { Generated, Selectable } from 'kysely';

export interface TeamsTable {
  id: string;
  name: string;
  /** Normalised name (lowercase, runs of space/underscore/hyphen → one hyphen): the key of name resolution. */
  slug: string;
  description: string;
  owner_jid: string;
  default_model: string;
  workspace_path: string;
  created_at: string;
  enabled: number;
  lease_minutes: number;
  /** How long a claim holds a task without activity; lease_minutes is the same length, rounded up. */
  lease_seconds: number;
  /** IANA timezone of the agents' heartbeat schedules ('' = UTC), unless an agent sets its own. */
  timezone: string;
}

export interface AgentsTable {
  id: string;
  name: string;
  role: string;
  team_id: string;
  level: string;
  status: string;
  personality: string;
  instructions: string;
  model: string;
  skills: string;
  heartbeat_schedule: string;
  current_task_id: string;
  created_at: string;
  last_active_at: string;
  last_heartbeat_at: string;
  /** The role definition that sets the agent's permissions (see roles.ts); '' follows its level. */
  role_definition: string;
  /** How the runner wakes the agent: a JSON wake adapter (src/core/wakeAdapter.ts), '' for none. */
  wake_adapter: string;
  /** IANA timezone of its heartbeat schedule; '' follows the team's. */
  timezone: string;
  /** The last cron slot the scheduler fired (or, after a change of schedule or a start, the time of it). */
  heartbeat_slot: string;
  /** Heartbeats fired since the agent last took one; two make it unresponsive. */
  missed_heartbeats: number;
  /** Since when the agent is unresponsive; '' while it answers. */
  unresponsive_since: string;
}

export interface RolesTable {
  team_id: string;
  name: string;
  description: string;
  /** JSON list of permissions: `tool.action`, `tool.*` or `*`. */
  actions: string;
  /** JSON list of preferred task types. */
  prefers: string;
  escalates_to: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface TasksTable {
  id: string;
  team_id: string;
  title: string;
  description: string;
  status: string;
  priority: number;
  created_by: string;
  created_at: string;
  updated_at: string;
  completed_at: string;
  blocked_reason: string;
  /** The status a blocked task returns to when it is unblocked. */
  blocked_from: string;
  /** Increases with every change; a write carrying a stale `expected_version` is refused. */
  version: number;
  reviewer: string;
  parent_id: string;
  /** What kind of work (design, implement, review, …): matched against role affinities by claim_next. */
  task_type: string;
  /** The agent holding the claim, until `lease_expires_at`. */
  claimed_by: string;
  lease_expires_at: string;
}

export interface TaskDependenciesTable {
  task_id: string;
  depends_on: string;
}

export interface RulesTable {
  id: string;
  team_id: string;
  name: string;
  trigger: string;
  condition: string;
  action: string;
  enabled: number;
  /** A built-in rule's row only records that a team turned it off (or back on). */
  builtin: number;
  created_by: string;
  created_at: string;
}

export interface TaskAssigneesTable {
  task_id: string;
  agent_id: string;
  position: number;
}

export interface TaskLabelsTable {
  task_id: string;
  label: string;
  /** The task's, copied so that a list by label reads in list order (src/core/tasks.ts setLabels). */
  team_id: string;
  priority: number;
  created_at: string;
}

export interface MessagesTable {
  id: string;
  team_id: string;
  thread_id: string;
  from_agent: string;
  from_user: string;
  /** Empty for a thread post; the recipient of a direct message. */
  to_agent: string;
  content: string;
  mentions: string;
  created_at: string;
  delivered: number;
  /** The task a message is about (a comment's thread, or a linked direct message). */
  task_id: string;
  /** A task comment's type: comment, status_change, blocker, resolution. */
  type: string;
  /** Soft deletion by its author (or a lead): hidden from every mailbox. */
  deleted_at: string;
}

export interface PendingMessagesTable {
  id: string;
  team_id: string;
  message_id: string;
  to_agent: string;
  from_agent: string;
  from_user: string;
  content: string;
  thread_id: string;
  /** Its message's task (a notification's, for a notification's copy), copied so that an inbox page reads no message. */
  task_id: string;
  /** Why it is in the mailbox: mention, subscribed, direct, notification. */
  reason: string;
  created_at: string;
  delivered: number;
  delivered_at: string;
  read_at: string;
  archived_at: string;
  /** The mention_check hand-out the copy was last given in (its ack cursor), while not acknowledged. */
  handout_id: string;
  /** The session it was handed out to. */
  handout_session: string;
  handed_out_at: string;
}

export interface FactsTable {
  id: string;
  team_id: string;
  key: string;
  value: string;
  author: string;
  created_at: string;
  updated_at: string;
  namespace: string;
  version: number;
  /** '' never expires. */
  expires_at: string;
}

export interface FactVersionsTable {
  fact_id: string;
  team_id: string;
  namespace: string;
  key: string;
  version: number;
  value: string;
  author: string;
  expires_at: string;
  created_at: string;
}

export interface DocumentVersionsTable {
  doc_id: string;
  version: number;
  title: string;
  doc_type: string;
  format: string;
  content: string;
  author: string;
  created_at: string;
}

export interface DocumentsTable {
  id: string;
  team_id: string;
  task_id: string;
  title: string;
  doc_type: string;
  content: string;
  format: string;
  file_path: string;
  version: number;
  author: string;
  created_at: string;
  updated_at: string;
}

export interface ThreadSubscriptionsTable {
  id: string;
  team_id: string;
  thread_id: string;
  agent_id: string;
  subscribed_at: string;
  reason: string;
}

export interface WorkingStateTable {
  agent_id: string;
  team_id: string;
  current_task_id: string;
  status: string;
  next_steps: string;
  context: string;
  updated_at: string;
}

export interface NotificationsTable {
  id: string;
  team_id: string;
  type: string;
  message: string;
  task_id: string;
  priority: number;
  /** Who sent it (an agent id, or the owner's name). */
  agent_id: string;
  /** Empty for a team-wide notification; the agent it is meant for otherwise. */
  to_agent: string;
  created_at: string;
  read_at: string;
  /** Where it came from: '' a notify call, `table` raised by the table itself, `event` an event a rule routed. */
  origin: string;
}

/** A notification rule (the seed's "Notification Rules"); list fields and objects are JSON text. */
export interface NotificationRulesTable {
  id: string;
  /** '' for a global rule, applied to every team. */
  team_id: string;
  name: string;
  enabled: number;
  events: string;
  conditions: string;
  destinations: string;
  template: string;
  /** The least urgent priority that triggers it: 3 takes priorities 1, 2 and 3. */
  priority: number;
  /** Notifications per hour; 0 is unlimited. */
  rate_limit: number;
  /** JSON object, or '' for the config's global quiet hours. */
  quiet_hours: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

/** The outbox: one delivery of a notification to one destination, and how it went. */
/** The outbox, keyed by (notification_id, id) since migration 017. */
export interface NotificationDeliveriesTable {
  /** `<notification id>.<n>`: its notification's id, then its number among that notification's deliveries (before 017, a row id). */
  id: string;
  notification_id: string;
  team_id: string;
  rule_id: string;
  /** The destination as routed (JSON): secrets by the name of their environment variable where the rule said so. */
  destination: string;
  /** What is sent (JSON) less what the notification's row holds: the rendered text, the names as routed (before, all of it). */
  payload: string;
  /** pending, sent, failed, held (quiet hours), dropped (rate limit). */
  state: string;
  attempts: number;
  last_error: string;
  next_attempt_at: string;
  /** The sender sending it, until `lease_expires_at`: two live senders never send one delivery twice. */
  lease_holder: Generated<string>;
  lease_expires_at: Generated<string>;
  counted: number;
  created_at: string;
  updated_at: string;
  sent_at: string;
  /**
   * 1 while pending and never taken by a sender (migration 019): found through its notification's event, in neither
   * `deliveries_due` nor `deliveries_by_rule`.
   */
  fresh: Generated<number>;
}

/** One reader's read mark on a notification (`agent:<id>` or `owner:<name>`). */
export interface NotificationReadsTable {
  notification_id: string;
  reader: string;
  read_at: string;
}

/** The first answer of a create made with an idempotency key, per actor. */
export interface IdempotencyKeysTable {
  actor: string;
  key: string;
  tool: string;
  action: string;
  /** A hash of the validated arguments: the same key with other arguments is refused. */
  request_hash: string;
  result: string;
  created_at: string;
}

/**
 * The event log (the seed's activities): append-only, one global sequence. `agent_id` is the actor, `related_id`
 * the subject, `data` a small JSON object. It never holds message content, so purging a message leaves no trace
 * of what it said.
 */
export interface EventsTable {
  seq: Generated<number>;
  id: string;
  team_id: string;
  type: string;
  agent_id: string;
  message: string;
  related_id: string;
  data: string;
  created_at: string;
}

/** A named lease on background work (src/store/leader.ts): who holds it, until when (ms since the epoch). */
export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: number;
}

/** One wake of an agent: queued (at most one per agent), running (at most one), then how it ended. */
export interface RunsTable {
  id: string;
  team_id: string;
  agent_id: string;
  /** queued, running, succeeded, idle (answered HEARTBEAT_OK), failed, timed_out. */
  status: string;
  /** JSON list of wake reasons (src/core/wakeReasons.ts). */
  reasons: string;
  adapter: string;
  session_id: string;
  queued_at: string;
  started_at: string;
  ended_at: string;
  exit_code: number | null;
  /** The tail of what the agent answered (stdout, the model's reply, the webhook's response). */
  output: string;
  stderr: string;
  error: string;
  /** The scheduler process that started it. */
  runner: string;
}

/** An agent's own conversation for the adapters that keep one (openai): bounded, oldest turns summarised. */
export interface SessionsTable {
  agent_id: string;
  session_id: string;
  history: string;
  updated_at: string;
}

/** How far a reader of the event log (the scheduler, the notification sender) has acted on it. */
export interface RunnerCursorsTable {
  name: string;
  seq: number;
}

/**
 * Bearer tokens for HTTP (src/core/tokens.ts): only the SHA-256 of each is kept. An agent's token (`agent_id` and
 * `team_id` set) dies with its agent; an owner's token has neither and acts as the owner `owner_name`.
 */
export interface TokensTable {
  id: string;
  token_hash: string;
  agent_id: string | null;
  team_id: string | null;
  owner_name: string;
  name: string;
  created_by: string;
  created_at: string;
  revoked_at: string;
  revoked_by: string;
}

export interface SchemaVersionTable {
  version: number;
  applied_at: string;
}

export interface Database {
  teams: TeamsTable;
  persistent_agents: AgentsTable;
  team_tasks: TasksTable;
  team_task_assignees: TaskAssigneesTable;
  team_task_labels: TaskLabelsTable;
  team_task_dependencies: TaskDependenciesTable;
  team_rules: RulesTable;
  team_roles: RolesTable;
  team_fact_versions: FactVersionsTable;
  team_document_versions: DocumentVersionsTable;
  team_messages: MessagesTable;
  team_pending_messages: PendingMessagesTable;
  team_facts: FactsTable;
  team_documents: DocumentsTable;
  team_thread_subscriptions: ThreadSubscriptionsTable;
  agent_working_state: WorkingStateTable;
  team_notifications: NotificationsTable;
  team_notification_reads: NotificationReadsTable;
  team_idempotency_keys: IdempotencyKeysTable;
  team_events: EventsTable;
  leases: LeasesTable;
  agent_runs: RunsTable;
  agent_sessions: SessionsTable;
  runner_cursors: RunnerCursorsTable;
  tokens: TokensTable;
  notification_rules: NotificationRulesTable;
  notification_deliveries: NotificationDeliveriesTable;
  rate_limits: RateLimitsTable;
  definitions_stamp: DefinitionsStampTable;
  schema_version: SchemaVersionTable;
}

/** A caller's request budget on the HTTP server, shared by replicas (src/store/postgres/rateLimits.ts). */
/** One row (id 1): redrawn by every change to teams, roles, workflow and notification rules (migration 015). */
export interface DefinitionsStampTable {
  id: number;
  stamp: string;
}

export interface RateLimitsTable {
  key: string;
  tokens: number;
  /** Milliseconds since the epoch on the database's clock, when the bucket was last taken from. */
  at: number;
  /** Whether that last request was allowed. */
  allowed: boolean;
}

export type TeamRow = Selectable<TeamsTable>;
export type AgentRow = Selectable<AgentsTable>;
export type TaskRow = Selectable<TasksTable>;
export type MessageRow = Selectable<MessagesTable>;
export type FactRow = Selectable<FactsTable>;
export type DocumentRow = Selectable<DocumentsTable>;
export type WorkingStateRow = Selectable<WorkingStateTable>;
export type NotificationRow = Selectable<NotificationsTable>;
export type EventRow = Selectable<EventsTable>;
export type RuleRow = Selectable<RulesTable>;
export type RoleRow = Selectable<RolesTable>;
export type RunRow = Selectable<RunsTable>;
export type TokenRow = Selectable<TokensTable>;
export type NotificationRuleRow = Selectable<NotificationRulesTable>;
export type DeliveryRow = Selectable<NotificationDeliveriesTable>;
