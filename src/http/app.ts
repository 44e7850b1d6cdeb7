import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { validateOriginHeader } from '@modelcontextprotocol/server';
import type { Core } from '../core/core.js';
import { TeamTableError } from '../core/errors.js';
import { authenticate } from './auth.js';
import type { Env } from './env.js';
import { errorResponse } from './errors.js';
import type { EventStreams } from './events.js';
import { hostGuard } from './guard.js';
import type { HostPolicy } from './guard.js';
import type { McpHttpHandler } from './mcp.js';
import { openApiDocument } from './openapi.js';
import type { RateLimiter } from './rateLimit.js';
import { mountRest } from './rest.js';
import { mountDashboard } from '../web/dashboard.js';

export interface HttpAppOptions {
  core: Core;
  log: (line: string) => void;
  hosts: HostPolicy;
  limiter: RateLimiter;
  maxBodyBytes: number;
  streams: EventStreams;
  mcp: McpHttpHandler;
}

/** The paths that answer only to a token; anything else (the dashboard's static files) is public. */
const PROTECTED = ['/mcp', '/events', '/api/*'];

/**
 * The HTTP server's routes: MCP at `/mcp`, the REST API at `/api/v1/…` (its description at
 * `/api/v1/openapi.json`), the event stream at `/events`, the dashboard at `/` (src/web). In front of them, in
 * order: Host and Origin checks, the bearer token and its rate limit, the body size limit.
 */
export function createHttpApp({ core, log, hosts, limiter, maxBodyBytes, streams, mcp }: HttpAppOptions): Hono<Env> {
  const app = new Hono<Env>();
  // A failure of the database under the token check or the rate limit, not only under a call, is STORE_UNAVAILABLE.
  app.onError((error) => errorResponse(core.explain(error), log));
  app.notFound((c) => errorResponse(new TeamTableError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}; the routes are listed at /api/v1/openapi.json`), log));
  app.use('*', hostGuard(hosts, log));
  // A page of an allowed origin elsewhere (a dashboard on another port or host) may call with its token: its
  // preflight is answered before authentication, which a preflight never carries.
  app.use(
    '*',
    cors({
      origin: (origin) => (validateOriginHeader(origin, hosts.origins).ok ? origin : null),
      allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowHeaders: ['Authorization', 'Content-Type', 'Accept', 'Last-Event-ID', 'Idempotency-Key', 'Mcp-Protocol-Version', 'Mcp-Session-Id'],
      exposeHeaders: ['Retry-After', 'WWW-Authenticate', 'Mcp-Session-Id'],
      maxAge: 600,
    }),
  );
  for (const path of PROTECTED) app.use(path, authenticate(core, limiter));
  const tooLarge = new TeamTableError('PAYLOAD_TOO_LARGE', `the request body is larger than this server accepts (${maxBodyBytes} bytes)`, { max_bytes: maxBodyBytes });
  app.use('*', bodyLimit({ maxSize: maxBodyBytes, onError: () => errorResponse(tooLarge, log) }));

  app.all('/mcp', (c) => mcp(c.req.raw, c.var.auth.actor));
  const refuseWhileClosing: Parameters<typeof app.use>[1] = async (_c, next) => {
    if (streams.isClosing) throw new TeamTableError('STORE_UNAVAILABLE', 'the server is shutting down; reconnect to another or later');
    await next();
  };
  app.get('/events', refuseWhileClosing, streams.handle);
  app.get('/api/v1/events', refuseWhileClosing, streams.handle);
  app.get('/api/v1/openapi.json', (c) => c.json(openApiDocument()));
  // Who the token is (a dashboard signing in with a pasted token needs to know): no action, nothing read but the token.
  app.get('/api/v1/me', (c) => {
    const { actor, tokenId } = c.var.auth;
    return c.json({ kind: actor.kind, id: actor.kind === 'agent' ? actor.id : actor.name, token_id: tokenId });
  });
  mountRest(app, core);
  mountDashboard(app);
  return app;
}
