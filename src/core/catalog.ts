import type { ActionDef, ToolName } from './action.js';
import { agentActions } from './agents.js';
import { auditActions } from './audit.js';
import { claimActions } from './claims.js';
import { commActions } from './comm.js';
import { documentActions } from './documents.js';
import { factActions } from './facts.js';
import { heartbeatActions } from './heartbeat.js';
import { mailboxActions } from './mailbox.js';
import { notificationRuleActions } from './notificationRules.js';
import { outboxActions } from './outbox.js';
import { reviewActions } from './review.js';
import { roleActions } from './roles.js';
import { searchActions } from './search.js';
import { ruleActions } from './rules.js';
import { runActions } from './runs.js';
import { standupActions } from './standup.js';
import { taskActions } from './tasks.js';
import { teamActions } from './teams.js';
import { tokenActions } from './tokens.js';
import { workingActions } from './working.js';

/** Every use case, in the order tools list their actions. */
export const ACTIONS: readonly ActionDef[] = [
  ...teamActions,
  ...ruleActions,
  ...notificationRuleActions,
  ...roleActions,
  ...agentActions,
  ...workingActions,
  ...heartbeatActions,
  ...runActions,
  ...tokenActions,
  ...taskActions,
  ...claimActions,
  ...reviewActions,
  ...factActions,
  ...documentActions,
  ...standupActions,
  ...auditActions,
  ...searchActions,
  ...commActions,
  ...mailboxActions,
  ...outboxActions,
] as unknown as ActionDef[];

export const TOOL_SUMMARIES: Record<ToolName, string> = {
  team_manage: 'Teams, their workflow rules and roles.',
  team_agent: 'Agents, their working state (WORKING.md), heartbeats and runs.',
  team_task: 'Tasks. Statuses: inbox → assigned → in_progress → review → done; blocked, cancelled. Writes take expected_version (refused if stale).',
  team_memory: 'Shared facts (namespaces, TTL, versions), documents (versioned), standup, audit log, summary.',
  team_comm: 'Task comments with @mentions, direct messages and broadcasts, mailbox management, notifications.',
};

/** Each tool's name for people (MCP's `title`). */
export const TOOL_TITLES: Record<ToolName, string> = {
  team_manage: 'Teams, rules and roles',
  team_agent: 'Agents and working state',
  team_task: 'Tasks',
  team_memory: 'Facts, documents and audit',
  team_comm: 'Comments, messages and notifications',
};

export const actionsOf = (tool: ToolName) => ACTIONS.filter((a) => a.tool === tool);
