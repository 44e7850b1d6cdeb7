import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AttemptOutcome } from '../core/outbox.js';
import type { OutgoingRequest } from './formats.js';

/**
 * One attempt: POST with a timeout, and what the answer means for the outbox. 2xx is sent; 408, 429 and 5xx, a
 * timeout or a network error are retried (429 after its Retry-After); any other 4xx is final — the receiver
 * refused the request itself, and sending it again would be refused again. Redirects are not followed (a webhook
 * that moved is a configuration to fix, not a request to repeat elsewhere with its signature).
 *
 * Node's http/https with keep-alive agents rather than its built-in fetch: on this machine fetch made 350–1,000
 * requests a second to a local receiver where http.request made 3,000–9,500 (the sender's throughput, and CPU
 * taken from the notifying calls of the same process).
 */

/** What an attempt needs of an answer. */
export interface Answer {
  status: number;
  retryAfter: string | null;
  body: string;
}

/** Sends one request; rejects on a network error or timeout. Tests replace it. */
export type Post = (request: OutgoingRequest, timeoutMs: number) => Promise<Answer>;

const agents = { 'http:': new HttpAgent({ keepAlive: true, maxSockets: 32 }), 'https:': new HttpsAgent({ keepAlive: true, maxSockets: 32 }) };
/** Enough of an answer's body to say why it refused; the rest is not read. */
const MAX_BODY = 4_096;

export const post: Post = (request, timeoutMs) =>
  new Promise((resolve, reject) => {
    const url = new URL(request.url);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const outgoing = send(
      url,
      {
        method: 'POST',
        agent: agents[url.protocol as 'http:' | 'https:'],
        headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body) },
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (body.length < MAX_BODY) body += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, retryAfter: (response.headers['retry-after'] as string | undefined) ?? null, body }));
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });

/** Retry-After in milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Telegram's wait, from its body: `{"parameters": {"retry_after": seconds}}`. */
function telegramRetryAfter(body: string): number | undefined {
  try {
    const seconds = (JSON.parse(body) as { parameters?: { retry_after?: number } }).parameters?.retry_after;
    return typeof seconds === 'number' ? seconds * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export async function attempt(request: OutgoingRequest, timeoutMs: number, send: Post = post): Promise<AttemptOutcome> {
  let answer: Answer;
  const timeout = request.timeoutMs ?? timeoutMs;
  try {
    answer = await send(request, timeout);
  } catch (error) {
    const name = (error as Error).name;
    const why = name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${timeout / 1000} s` : ((error as { code?: string }).code ?? (error as Error).message);
    return { ok: false, final: false, error: `cannot reach ${request.where}: ${why}` };
  }
  const { status } = answer;
  if (status >= 200 && status < 300) return { ok: true };
  const text = answer.body.replace(/\s+/g, ' ').slice(0, 200);
  const error = `${request.where} answered HTTP ${status}${text ? `: ${text}` : ''}`;
  if (status === 429) {
    const wait = retryAfterMs(answer.retryAfter) ?? (request.service === 'telegram' ? telegramRetryAfter(answer.body) : undefined);
    return { ok: false, final: false, error, ...(wait !== undefined ? { retryAfterMs: wait } : {}) };
  }
  return { ok: false, final: status >= 300 && status < 500 && status !== 408, error };
}
