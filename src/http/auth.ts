import type { MiddlewareHandler } from 'hono';
import type { Core } from '../core/core.js';
import { TeamTableError } from '../core/errors.js';
import type { RateLimiter } from './rateLimit.js';
import type { Env } from './env.js';

/** The token of an `Authorization: Bearer …` header; undefined when there is no header. */
function bearerOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  if (!match) throw new TeamTableError('UNAUTHENTICATED', "the Authorization header is malformed: expected 'Bearer <token>'", { reason: 'malformed' });
  return match[1];
}

const rateLimited = (seconds: number, what: string) =>
  new TeamTableError('RATE_LIMITED', `too many requests ${what}; retry in ${seconds} s`, { retry_after_seconds: seconds });

/**
 * Who is calling: the bearer token decides, never a parameter. A request without a valid token is refused (401)
 * before any route runs; one with a valid token takes one request from that token's budget (429 when spent).
 * Failed attempts draw on a budget per client address, so guessing tokens is slow as well as hopeless.
 */
export function authenticate(core: Core, limiter: RateLimiter): MiddlewareHandler<Env> {
  return async (c, next) => {
    let auth;
    try {
      auth = await core.authenticate(bearerOf(c.req.header('authorization')));
    } catch (error) {
      if (!(error instanceof TeamTableError) || error.code !== 'UNAUTHENTICATED') throw error;
      const wait = await limiter.take(`address:${c.env?.incoming?.socket.remoteAddress ?? 'unknown'}`);
      throw wait ? rateLimited(wait, 'without a valid token from this address') : error;
    }
    const wait = await limiter.take(`token:${auth.tokenId}`);
    if (wait) throw rateLimited(wait, `with token ${auth.tokenId}`);
    c.set('auth', auth);
    await next();
  };
}
