import { PARSE_ERROR, createMcpHandler } from '@modelcontextprotocol/server';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Actor } from '../core/context.js';
import type { Core } from '../core/core.js';
import { ResourceWatch } from './resourceWatch.js';
import { SentArguments } from './sentArguments.js';
import { MAX_REQUEST_BYTES, mcpServers } from './server.js';

export interface McpHttpOptions {
  /** The core, or how to load it (a loader that fails is asked again on the next request). */
  core: Core | (() => Promise<Core>);
  log?: (line: string) => void;
}

export interface McpHttpEndpoint {
  /**
   * Answers one request to the MCP endpoint (`POST`, and `GET`/`DELETE`, which the stateless 2025 leg answers 405)
   * as `actor`, the identity the request's token proved. Web-standard `Request` in, `Response` out.
   */
  fetch(request: Request, actor: Actor): Promise<Response>;
  /** Ends the open listen streams and stops watching the event log; the calls under way answer first. */
  close(): Promise<void>;
}

/**
 * MCP over Streamable HTTP for the HTTP server to mount at `/mcp`, after it has authenticated the request (and
 * checked its Host and Origin): the five tools and the team:// resources, both protocol eras, from the SDK's
 * `createMcpHandler`.
 *
 * Stateless: every request is served by a fresh server instance from the core, and nothing lives between requests
 * but the event feed, so any process on the same database answers any request — no sticky sessions. 2026-07-28
 * clients get resource changes on their `subscriptions/listen` stream, from this process's event feed, which sees
 * the commits of every process. 2025-era clients are served request by request (the SDK's stateless legacy leg: GET
 * and DELETE answer 405); their `resources/subscribe` is acknowledged and nothing is pushed, as no stream outlives a
 * request.
 *
 * @example
 *   const mcp = createMcpEndpoint({ core });
 *   app.all('/mcp', (c) => mcp.fetch(c.req.raw, c.get('actor'))); // Hono, after the token middleware
 */
export function createMcpEndpoint({ core, log = () => {} }: McpHttpOptions): McpHttpEndpoint {
  const load = typeof core === 'function' ? core : async () => core;
  const servers = mcpServers({ core: load, log });
  const handler = createMcpHandler(
    ({ authInfo }) => {
      const actor = authInfo?.extra?.actor as Actor | undefined;
      if (!actor) throw new Error('an MCP request reached the handler without the actor the HTTP server authenticated');
      return servers.serverFor(actor, { sentArguments: authInfo?.extra?.sentArguments as SentArguments });
    },
    { maxRequestBodySize: MAX_REQUEST_BYTES, onerror: (error) => log(`mcp: ${error.message}`) },
  );
  const watch = new ResourceWatch(load, (uris) => uris.forEach((uri) => handler.notify.resourceUpdated(uri)), log);
  /**
   * Watching starts before the first request is answered (the core may not be open before), so that a listen stream
   * misses no change after its acknowledgement; a failed start is tried again with the next request.
   */
  const startWatching = () => watch.start().catch((error: Error) => log(`resource watch: ${error.message}`));
  return {
    async fetch(request, actor) {
      await startWatching();
      // The handler passes `authInfo` through to the factory untouched: it carries the authenticated actor, and the
      // calls' arguments as sent.
      const sentArguments = new SentArguments();
      const authInfo: AuthInfo = { token: '', clientId: actor.kind === 'agent' ? `agent:${actor.id}` : `owner:${actor.name}`, scopes: [], extra: { actor, sentArguments } };
      // A body said to be over the limit is left to the SDK, which refuses it without reading it all.
      if (request.method !== 'POST' || Number(request.headers.get('content-length')) > MAX_REQUEST_BYTES) return handler.fetch(request, { authInfo });
      // The body is parsed once, here, and handed on (the SDK would clone the request and parse it itself); a body
      // over the limit or not JSON goes on as it came, for the SDK to answer. (The HTTP server limits bodies before.)
      const text = await request.text().catch(() => undefined);
      if (text === undefined) return Response.json({ jsonrpc: '2.0', error: { code: PARSE_ERROR, message: 'Parse error: the request body could not be read' } }, { status: 400 });
      const asItCame = () => handler.fetch(new Request(request.url, { method: 'POST', headers: request.headers, body: text }), { authInfo });
      if (Buffer.byteLength(text) > MAX_REQUEST_BYTES) return asItCame();
      let parsedBody: unknown;
      try {
        parsedBody = JSON.parse(text);
      } catch {
        return asItCame();
      }
      sentArguments.note(parsedBody);
      return handler.fetch(request, { authInfo, parsedBody });
    },
    async close() {
      watch.close();
      await servers.drain();
      await handler.close();
    },
  };
}
