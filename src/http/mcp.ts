import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Actor } from '../core/context.js';
import type { Core } from '../core/core.js';
import { createMcpServer } from '../mcp/server.js';

/** Answers one MCP request (Streamable HTTP) for an actor the HTTP server has already authenticated. */
export type McpHttpHandler = (request: Request, actor: Actor) => Promise<Response>;

/**
 * Until `src/mcp/http.ts` (the SDK v2 handler) is merged: stateless Streamable HTTP over the v1 SDK — a server and
 * transport per request, JSON answers, nothing kept between requests, so any process on the database can answer.
 */
export function interimMcpHandler(core: Core, log: (line: string) => void): McpHttpHandler {
  const loaded = Promise.resolve(core);
  return async (request, actor) => {
    const { server } = createMcpServer(() => loaded, actor, log);
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    try {
      return await transport.handleRequest(request);
    } finally {
      await server.close();
    }
  };
}
