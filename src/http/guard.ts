import { localhostAllowedHostnames, validateHostHeader, validateOriginHeader } from '@modelcontextprotocol/server';
import type { MiddlewareHandler } from 'hono';
import { denied } from '../core/errors.js';
import { errorResponse } from './errors.js';
import type { Env } from './env.js';

export interface HostPolicy {
  /** Hostnames (no port; IPv6 in brackets) a request's Host may name; undefined checks none. */
  hosts: string[] | undefined;
  /** Hostnames a browser's Origin may name; a request without Origin (any non-browser client) passes. */
  origins: string[];
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
export const isLoopback = (host: string) => LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);

/**
 * Which Host and Origin a server bound to `bindHost` accepts. On loopback: only loopback names, so a web page whose
 * DNS name was rebound to 127.0.0.1 is refused. Elsewhere: the names given (`--allowed-host`: the name clients and
 * the reverse proxy use), or, without any, the bound address itself unless it is a wildcard (then Host is not
 * checked, and the server warns).
 */
export function hostPolicy(bindHost: string, allowedHosts: string[] = [], allowedOrigins: string[] = []): HostPolicy {
  const named = allowedHosts.map((h) => h.toLowerCase());
  let hosts: string[] | undefined;
  if (isLoopback(bindHost)) hosts = [...localhostAllowedHostnames(), ...named];
  else if (named.length) hosts = named;
  else if (bindHost !== '0.0.0.0' && bindHost !== '::') hosts = [bindHost.includes(':') ? `[${bindHost}]` : bindHost];
  return { hosts, origins: [...(hosts ?? localhostAllowedHostnames()), ...allowedOrigins.map(originHostname)] };
}

/** `https://team.example.com` or `team.example.com` → `team.example.com`. */
function originHostname(origin: string): string {
  try {
    return new URL(origin.includes('://') ? origin : `http://${origin}`).hostname;
  } catch {
    return origin;
  }
}

/**
 * DNS-rebinding and cross-site protection in front of every route (the MCP SDK's validators): a Host not allowed, or
 * a browser Origin not allowed, is refused with 403 before anything else runs.
 */
export function hostGuard(policy: HostPolicy, log: (line: string) => void): MiddlewareHandler<Env> {
  return async (c, next) => {
    const host = policy.hosts ? validateHostHeader(c.req.header('host'), policy.hosts) : { ok: true as const };
    if (!host.ok) return errorResponse(denied(`${host.message}: this server answers only to ${policy.hosts!.join(', ')} (--allowed-host adds names)`, { header: 'Host' }), log);
    const origin = validateOriginHeader(c.req.header('origin'), policy.origins);
    if (!origin.ok) return errorResponse(denied(`${origin.message}: requests from web pages are accepted only from ${policy.origins.join(', ')} (--allowed-origin adds origins)`, { header: 'Origin' }), log);
    await next();
  };
}
