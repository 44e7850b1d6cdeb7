import { z } from 'zod';
import { createDocument } from 'zod-openapi';
import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject, ZodOpenApiResponsesObject } from 'zod-openapi';
import { TOOL_SUMMARIES } from '../core/catalog.js';
import { ERROR_CODES } from '../core/errors.js';
import { VERSION } from '../version.js';
import type { Route } from './routes.js';
import { routes } from './routes.js';

const ErrorBody = z
  .object({
    error: z.looseObject({
      code: z.enum(Object.keys(ERROR_CODES) as [string, ...string[]]).or(z.literal('INTERNAL')),
      message: z.string().describe('one sentence naming the field at fault, or the rule that refused the call'),
    }),
  })
  .meta({ id: 'Error' });

/** Answers are the tools' answers, documented per action in docs/tools.md; their fields are not restated here. */
const Answer = z.record(z.string(), z.unknown()).meta({ id: 'Answer', description: "the action's answer, as the MCP tool's structuredContent" });

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });

const HEADERS: Record<number, Record<string, { description: string; schema: { type: 'integer' | 'string' } }>> = {
  401: { 'WWW-Authenticate': { description: 'the Bearer challenge (RFC 6750)', schema: { type: 'string' } } },
  403: { 'WWW-Authenticate': { description: 'the Bearer challenge (RFC 6750)', schema: { type: 'string' } } },
  429: { 'Retry-After': { description: 'seconds until the token may call again', schema: { type: 'integer' } } },
};

/** Each status an action may answer with, from the error codes' one mapping. */
const errorResponses: ZodOpenApiResponsesObject = {};
for (const status of [...new Set([...Object.values(ERROR_CODES).map((c) => c.http), 500])].sort()) {
  const codes = Object.entries(ERROR_CODES).filter(([, c]) => c.http === status).map(([code]) => code);
  errorResponses[String(status) as '400'] = { description: codes.join(', ') || 'INTERNAL', ...json(ErrorBody), ...(HEADERS[status] ? { headers: HEADERS[status] } : {}) };
}

function operation(route: Route): ZodOpenApiOperationObject {
  const { def, pathParams, queryParams } = route;
  const shape = def.input.shape as Record<string, z.ZodType>;
  const only = (names: string[]) => Object.fromEntries(names.map((n) => [n, shape[n]!]));
  const path = pathParams.length ? z.object(only(pathParams)).required() : undefined;
  const query = queryParams.length ? z.object(only(queryParams)) : undefined;
  const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : z.strictObject(only(Object.keys(shape).filter((n) => !pathParams.includes(n))));
  return {
    operationId: `${def.tool}.${def.action}`,
    summary: def.summary,
    description: `The MCP tool call ${def.tool}(action='${def.action}', …), over HTTP.`,
    tags: [def.tool],
    requestParams: { ...(path ? { path } : {}), ...(query ? { query } : {}) },
    ...(body ? { requestBody: { required: false, ...json(body) } } : {}),
    responses: { '200': { description: 'the answer', ...json(Answer) }, ...errorResponses },
  };
}

const eventsOperation: ZodOpenApiOperationObject = {
  operationId: 'events',
  summary: "the caller's push stream (Server-Sent Events); see docs/http.md",
  tags: ['events'],
  requestParams: {
    query: z.object({
      after: z.string().regex(/^\d+$/).optional().describe('resume after this event sequence number (Last-Event-ID wins over it)'),
      agent_id: z.string().optional().describe("another agent's stream (the owner, or a lead of its team)"),
      team_id: z.string().optional().describe('the whole team (the owner, or a lead of the team)'),
    }),
    header: z.object({ 'last-event-id': z.string().optional().describe('the id of the last event received') }),
  },
  responses: { '200': { description: 'an endless text/event-stream', content: { 'text/event-stream': { schema: z.string() } } }, ...errorResponses },
};

const meOperation: ZodOpenApiOperationObject = {
  operationId: 'me',
  summary: 'who the token is: the owner (id: the name) or an agent (id: its id), and the token id',
  tags: ['team_agent'],
  responses: {
    '200': { description: 'the caller', ...json(z.object({ kind: z.enum(['owner', 'agent']), id: z.string(), token_id: z.string() })) },
    ...errorResponses,
  },
};

let document: ReturnType<typeof createDocument> | undefined;

/**
 * The OpenAPI 3.1 description of the REST API, generated (by zod-openapi) from the same zod schemas the tools
 * validate with, and the same route table the server mounts. Built once, on first request.
 */
export function openApiDocument(): ReturnType<typeof createDocument> {
  if (document) return document;
  const paths: ZodOpenApiPathsObject = { '/events': { get: eventsOperation }, '/me': { get: meOperation } };
  for (const route of routes()) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, ZodOpenApiOperationObject>)[route.method.toLowerCase()] = operation(route);
  }
  return (document = createDocument({
    openapi: '3.1.0',
    info: {
      title: 'team-table REST API',
      version: VERSION,
      description: 'The team tools over JSON: each route is one action of one tool, with the same parameters, rules and answers. Every request carries a bearer token (team-table token create), which decides who is calling.',
    },
    servers: [{ url: '/api/v1' }],
    tags: [...Object.entries(TOOL_SUMMARIES).map(([name, description]) => ({ name, description })), { name: 'events', description: 'push over Server-Sent Events' }],
    security: [{ bearer: [] }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: "a team-table token: 'tt_' and 43 characters" } } },
    paths,
  }));
}
