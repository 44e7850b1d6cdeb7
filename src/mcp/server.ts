import { readFile } from 'node:fs/promises';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Actor } from '../core/context.js';
import type { Core } from '../core/core.js';
import { TeamTableError } from '../core/errors.js';
import { VERSION } from '../version.js';

/** A result carries the data twice: as structured content, and as the same JSON in text for older clients. */
const ok = (data: Record<string, unknown>): CallToolResult => ({
  content: [{ type: 'text', text: JSON.stringify(data) }],
  structuredContent: data,
});

/** A domain error becomes a tool result with isError, so the agent reads why and can correct the call. */
export function toolError(error: unknown): CallToolResult {
  if (error instanceof TeamTableError) {
    const data = { error: { code: error.code, message: error.message, ...error.details } };
    return { isError: true, content: [{ type: 'text', text: `${error.code}: ${error.message}` }], structuredContent: data };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { isError: true, content: [{ type: 'text', text: `INTERNAL: ${message}` }] };
}

export const INSTRUCTIONS =
  'team-table: shared tasks, mail, facts, documents and working state for a team of agents. ' +
  "Each tool takes an `action`. On a heartbeat: team_comm(action='mention_check'), team_agent(action='working_get'), " +
  "team_task(action='list', assignee_filter=<you>) or team_task(action='claim_next'); reply exactly HEARTBEAT_OK when there is nothing to do.";

/**
 * The tools/list answer. The build writes it to tools.json beside this module, so a new session answers without
 * loading the zod schemas; without that file (running from source) it is derived from them.
 */
async function toolList(): Promise<unknown[]> {
  try {
    return JSON.parse(await readFile(new URL('./tools.json', import.meta.url), 'utf8')) as unknown[];
  } catch {
    const { toolDefinitions } = await import('./tools.js');
    return toolDefinitions();
  }
}

/**
 * The MCP server of one session: the five team tools, acting as `actor`. Transport-agnostic.
 *
 * `core` is a promise so that a server can answer `initialize` before the store and the schemas are loaded (they
 * cost more start-up time than the protocol itself); the first tool call waits for them.
 */
export function createMcpServer(core: () => Promise<Core>, actor: Actor, log: (line: string) => void = () => {}) {
  const server = new Server({ name: 'team-table', version: VERSION }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
  const inFlight = new Set<Promise<CallToolResult>>();
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: await toolList() }));
  server.setRequestHandler(CallToolRequestSchema, (request) => {
    const { name, arguments: args } = request.params;
    const answer = (async () => {
      try {
        return ok(await (await core()).call(actor, name, args ?? {}));
      } catch (error) {
        if (!(error instanceof TeamTableError)) log(`tool ${name} failed: ${(error as Error)?.stack ?? error}`);
        return toolError(error);
      }
    })();
    inFlight.add(answer);
    void answer.finally(() => inFlight.delete(answer));
    return answer;
  });
  /** Resolves once the calls under way have answered: a client that closes its end still gets them. */
  const drain = async () => {
    while (inFlight.size) await Promise.allSettled([...inFlight]);
  };
  return { server, drain };
}
