import { readFile } from 'node:fs/promises';
import { ProtocolError, ProtocolErrorCode, Server } from '@modelcontextprotocol/server';
import type { CallToolResult, RequestId, Tool } from '@modelcontextprotocol/server';
import { TOOL_NAMES } from '../core/action.js';
import type { Actor } from '../core/context.js';
import type { Core } from '../core/core.js';
import { TeamTableError } from '../core/errors.js';
import { VERSION } from '../version.js';
import { instructionsFor } from './instructions.js';
import { installPrompts } from './prompts.js';
import { installResources } from './resources.js';
import type { SubscriptionBook } from './resources.js';
import type { SentArguments } from './sentArguments.js';

/**
 * The largest JSON-RPC message a session reads, on stdio and over HTTP alike (the SDK's default request body limit).
 * The largest valid tool call — a 256 Ki-character document, every character escaped — stays well below it.
 */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/**
 * The most a tool answer carries on the wire with its JSON twice (as text, and as structured content). The core
 * bounds an answer's JSON at 512 KiB; only answers near that bound go over, and those are sent once, as text.
 */
export const ANSWER_PAIR_BUDGET_BYTES = 1_048_576;

/**
 * A tool answer. Its JSON is sent as text, which every client reads and shows the model, and again as
 * `structuredContent` for programs — as MCP asks ("SHOULD also return the serialized JSON in a TextContent block"),
 * and as the 2026-07-28 revision's own examples still do. When the pair would exceed ANSWER_PAIR_BUDGET_BYTES the
 * answer is text only: without an `outputSchema`, `structuredContent` is optional, while `content` is not.
 * (Dropping the text instead would leave the clients that show the model only `content` with nothing.)
 */
export function toolAnswer(data: Record<string, unknown>): CallToolResult {
  const text = JSON.stringify(data);
  const bytes = Buffer.byteLength(text);
  // Escaping at most doubles the text copy: below a third of the budget, the pair surely fits.
  const fits = bytes * 3 <= ANSWER_PAIR_BUDGET_BYTES || bytes + Buffer.byteLength(JSON.stringify(text)) <= ANSWER_PAIR_BUDGET_BYTES;
  return fits ? { content: [{ type: 'text', text }], structuredContent: data } : { content: [{ type: 'text', text }] };
}

/**
 * A failed call becomes a tool result with `isError`, so that the agent reads why and corrects the call: the code and
 * message as text, and `{ error: { code, message, …details } }` as structured content — `INTERNAL` included.
 */
export function toolError(error: unknown): CallToolResult {
  const known = error instanceof TeamTableError;
  const code = known ? error.code : 'INTERNAL';
  const message = error instanceof Error ? error.message : String(error);
  return {
    isError: true,
    content: [{ type: 'text', text: `${code}: ${message}` }],
    structuredContent: { error: { code, message, ...(known ? error.details : {}) } },
  };
}

/**
 * The tools/list answer. The build writes it to tools.json beside this module, so a new session answers without
 * loading the zod schemas; without that file (running from source) it is derived from them.
 */
async function toolList(): Promise<Tool[]> {
  try {
    return JSON.parse(await readFile(new URL('./tools.json', import.meta.url), 'utf8')) as Tool[];
  } catch {
    const { toolDefinitions } = await import('./tools.js');
    return toolDefinitions() as Tool[];
  }
}

export interface McpServersOptions {
  /**
   * The core, loaded on first use: a session answers the handshake before the store and the schemas are loaded
   * (they cost more start-up time than the protocol itself). A loader that fails is asked again on the next call.
   */
  core: () => Promise<Core>;
  log?: (line: string) => void;
}

export interface ServerOptions {
  /** The session's book where `resources/subscribe` can be served. */
  subscriptions?: SubscriptionBook;
  /** The calls' arguments as sent, where MCP's schema dropped part of them. */
  sentArguments?: SentArguments;
  /** The session a call acts in, by request id, where the adapter fixes it when it reads the request. */
  sessionOf?: (id: RequestId) => string | undefined;
}

export interface McpServers {
  /**
   * The `Server` of one connection (stdio) or one request (HTTP), acting as `actor`: the five team tools and the
   * team:// resources.
   */
  serverFor(actor: Actor, options?: ServerOptions): Server;
  /** Resolves once the tool calls under way have answered. */
  drain(): Promise<void>;
}

/** The MCP servers of one process, transport-agnostic: `serveStdio` and `createMcpHandler` call `serverFor`. */
export function mcpServers({ core, log = () => {} }: McpServersOptions): McpServers {
  const inFlight = new Set<Promise<CallToolResult>>();

  const call = async (actor: Actor, name: string, args: Record<string, unknown>): Promise<CallToolResult> => {
    try {
      return toolAnswer(await (await core()).call(actor, name, args));
    } catch (error) {
      if (!(error instanceof TeamTableError)) log(`tool ${name} failed: ${(error as Error)?.stack ?? error}`);
      return toolError(error);
    }
  };

  const serverFor = (actor: Actor, { subscriptions, sentArguments, sessionOf }: ServerOptions = {}) => {
    const server = new Server(
      { name: 'team-table', version: VERSION },
      { capabilities: { tools: {}, resources: { subscribe: true, listChanged: false }, prompts: { listChanged: false } }, instructions: instructionsFor(actor) },
    );
    server.setRequestHandler('tools/list', async () => ({ tools: await toolList() }));
    server.setRequestHandler('tools/call', (request, ctx) => {
      const { name } = request.params;
      const args = sentArguments?.take(ctx.mcpReq.id) ?? request.params.arguments;
      // An unknown tool is a protocol error (the specification's "Unknown tool", Invalid params), not a tool result.
      if (!(TOOL_NAMES as readonly string[]).includes(name)) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}; the tools are ${TOOL_NAMES.join(', ')}`, { tool: name });
      }
      const session = sessionOf?.(ctx.mcpReq.id);
      const answer = call(session === undefined ? actor : { ...actor, session }, name, args ?? {});
      inFlight.add(answer);
      void answer.finally(() => inFlight.delete(answer));
      return answer;
    });
    installResources(server, { core, actor, ...(subscriptions ? { subscriptions } : {}) });
    installPrompts(server, { core, actor });
    // A 2025-era session loads the store right after the handshake, so its first call does not wait for it.
    server.oninitialized = () => void core().catch((error: Error) => log(error.message));
    return server;
  };

  const drain = async () => {
    while (inFlight.size) await Promise.allSettled([...inFlight]);
  };
  return { serverFor, drain };
}
