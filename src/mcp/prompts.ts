import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { Prompt, Server } from '@modelcontextprotocol/server';
import type { Actor } from '../core/context.js';
import type { Core } from '../core/core.js';
import { TeamTableError } from '../core/errors.js';

/** The prompts: `heartbeat`, what an agent's own loop asks for on each wake (the runner builds the same). */
export const PROMPTS: Prompt[] = [
  {
    name: 'heartbeat',
    title: 'Heartbeat',
    description: "Your heartbeat: working state (WORKING.md), pending mail, your tasks and claimable ones, the team's activity since your last, and how to answer (HEARTBEAT_OK when there is nothing to do). Taking it counts as your heartbeat.",
    arguments: [{ name: 'agent_id', description: "whose heartbeat (default: this session's agent; another's needs a lead or the owner)", required: false }],
  },
];

/** Answers `prompts/list` and `prompts/get` on `server` for `actor`, through the core's heartbeat action. */
export function installPrompts(server: Server, { core, actor }: { core: () => Promise<Core>; actor: Actor }): void {
  server.setRequestHandler('prompts/list', async () => ({ prompts: PROMPTS }));
  server.setRequestHandler('prompts/get', async (request) => {
    const { name, arguments: args } = request.params;
    if (name !== 'heartbeat') throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${name}; the prompts are ${PROMPTS.map((p) => p.name).join(', ')}`, { prompt: name });
    try {
      const answer = (await (await core()).call(actor, 'team_agent', { action: 'heartbeat', ...(args?.agent_id ? { agent_id: args.agent_id } : {}) })) as { prompt: string; agent_id: string };
      return { description: `The heartbeat of ${answer.agent_id}`, messages: [{ role: 'user', content: { type: 'text', text: answer.prompt } }] };
    } catch (error) {
      if (!(error instanceof TeamTableError)) throw error;
      throw new ProtocolError(error.httpStatus < 500 ? ProtocolErrorCode.InvalidParams : ProtocolErrorCode.InternalError, `${error.code}: ${error.message}`, { code: error.code, ...error.details });
    }
  });
}
