import type { Actor } from '../core/context.js';
import type { Core } from '../core/core.js';
import { createMcpEndpoint } from '../mcp/http.js';

/** Answers one MCP request (Streamable HTTP) for an actor the HTTP server has already authenticated. */
export type McpHttpHandler = ((request: Request, actor: Actor) => Promise<Response>) & {
  /** Ends the open listen streams; the calls under way answer first. */
  close?(): Promise<void>;
};

/** MCP at `/mcp`: the SDK v2 endpoint of `src/mcp/http.ts` (stateless, both protocol eras, resource subscriptions). */
export function mcpHandler(core: Core, log: (line: string) => void): McpHttpHandler {
  const endpoint = createMcpEndpoint({ core, log });
  return Object.assign((request: Request, actor: Actor) => endpoint.fetch(request, actor), { close: () => endpoint.close() });
}
