import { TeamTableError } from '../core/errors.js';

/** The realm every challenge names, so a client can tell which credentials a 401 asks for. */
const REALM = 'team-table';

/** An HTTP quoted-string (RFC 9110): backslash and quote escaped, anything a header cannot carry replaced. */
const quoted = (value: string) => `"${value.replace(/[\\"]/g, '\\$&').replace(/[^\x20-\x7e]/g, ' ')}"`;

/**
 * The challenge of a refused request (RFC 6750 §3): none for a request that sent no token, `invalid_token` for a bad
 * one, `insufficient_scope` when the token is fine but may not do this.
 */
function challenge(error: TeamTableError): string | undefined {
  if (error.code === 'UNAUTHENTICATED') {
    if (error.details.reason === 'missing') return `Bearer realm=${quoted(REALM)}`;
    return `Bearer realm=${quoted(REALM)}, error="invalid_token", error_description=${quoted(error.message)}`;
  }
  // A Host or Origin refused is not the token's fault: no challenge.
  if (error.code === 'PERMISSION_DENIED' && !error.details.header) return `Bearer realm=${quoted(REALM)}, error="insufficient_scope", error_description=${quoted(error.message)}`;
  return undefined;
}

/** The JSON body of every error answer, over REST, SSE and the guards in front of `/mcp`. */
export const errorBody = (error: TeamTableError) => ({ error: { code: error.code, message: error.message, ...error.details } });

/**
 * The one mapping of a failure to an HTTP answer: a domain error's status comes from its code
 * (`src/core/errors.ts`), with `WWW-Authenticate` on 401 and 403 and `Retry-After` on 429; anything else is a 500
 * whose details stay in the server's log.
 */
export function errorResponse(error: unknown, log: (line: string) => void): Response {
  if (!(error instanceof TeamTableError)) {
    log(`request failed: ${(error as Error)?.stack ?? error}`);
    return Response.json({ error: { code: 'INTERNAL', message: 'internal error; the server log has the details' } }, { status: 500 });
  }
  const headers = new Headers();
  const auth = challenge(error);
  if (auth) headers.set('WWW-Authenticate', auth);
  if (error.code === 'RATE_LIMITED') headers.set('Retry-After', String(error.details.retry_after_seconds));
  return Response.json(errorBody(error), { status: error.httpStatus, headers });
}

