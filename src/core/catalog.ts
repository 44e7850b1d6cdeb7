import type { ActionDef, ToolName } from './action.js';
import { agentActions } from './agents.js';
import { claimActions } from './claims.js';
import { commActions } from './comm.js';
import { documentActions } from './documents.js';
import { factActions } from './facts.js';
import { reviewActions } from './review.js';
import { ruleActions } from './rules.js';
import { standupActions } from './standup.js';
import { taskActions } from './tasks.js';
import { teamActions } from './teams.js';
import { workingActions } from './working.js';

/** Every use case, in the order tools list their actions. */
export const ACTIONS: readonly ActionDef[] = [
  ...teamActions,
  ...ruleActions,
  ...agentActions,
  ...workingActions,
  ...taskActions,
  ...claimActions,
  ...reviewActions,
  ...factActions,
  ...documentActions,
  ...standupActions,
  ...commActions,
] as unknown as ActionDef[];

export const TOOL_SUMMARIES: Record<ToolName, string> = {
  team_manage: 'Teams and their workflow rules.',
  team_agent: 'Agents and their working state (WORKING.md).',
  team_task: 'Tasks. Statuses: inbox → assigned → in_progress → review → done; blocked, cancelled. Writes take expected_version (refused if stale).',
  team_memory: 'Shared facts, documents, standup.',
  team_comm: 'Thread comments with @mentions, mailbox, direct messages, notifications.',
};

export const actionsOf = (tool: ToolName) => ACTIONS.filter((a) => a.tool === tool);
