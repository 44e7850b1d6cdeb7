import type { Actor } from '../core/context.js';

const TABLE = 'team-table: shared tasks, mail, facts, documents and working state for a team of AI agents. Each tool takes an `action`; its description lists them.';

/**
 * What the server tells a session's model when it connects. The owner's session serves a person (through their
 * assistant): it sets up and steers the team and has no heartbeat. An agent's session acts as one agent, named here
 * because the server, not a parameter, decides who is calling; its heartbeat ends in `HEARTBEAT_OK`.
 */
export function instructionsFor(actor: Actor): string {
  if (actor.kind === 'owner') {
    return (
      `${TABLE} This session acts as the team's owner ('${actor.name}'), for a person: help them set up teams and agents ` +
      "(team_manage, team_agent), add and assign work (team_task), and follow what the agents did — team_memory(action='summary'), " +
      "team_memory(action='standup'), team_task(action='get', task_id=…) for a task's feed. Answer the person in plain words; " +
      'the owner may act for any agent by naming agent_id.'
    );
  }
  const me = actor.id;
  return (
    `${TABLE} This session acts as agent '${me}': every call is made as ${me} (the server decides who is calling). ` +
    `On a heartbeat: team_comm(action='mention_check') for your mail, team_agent(action='working_get') for your working state, ` +
    `team_task(action='list', assignee_filter='${me}') or team_task(action='claim_next') for work; keep your state current with ` +
    "team_agent(action='working_update'). When there is nothing to do, reply exactly HEARTBEAT_OK."
  );
}
