import type { AttemptOutcome } from '../core/outbox.js';
import type { OutgoingRequest } from './formats.js';

/**
 * One attempt: POST with a timeout, and what the answer means for the outbox. 2xx is sent; 408, 429 and 5xx, a
 * timeout or a network error are retried (429 after its Retry-After); any other 4xx is final — the receiver
 * refused the request itself, and sending it again would be refused again. Redirects are not followed (a webhook
 * that moved is a configuration to fix, not a request to repeat elsewhere with its signature).
 */

export type Fetch = typeof fetch;

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

export async function attempt(request: OutgoingRequest, timeoutMs: number, fetchImpl: Fetch = fetch): Promise<AttemptOutcome> {
  let response: Response;
  const timeout = request.timeoutMs ?? timeoutMs;
  try {
    response = await fetchImpl(request.url, { method: 'POST', headers: request.headers, body: request.body, redirect: 'manual', signal: AbortSignal.timeout(timeout) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const why = (error as Error).name === 'TimeoutError' ? `no answer within ${timeout / 1000} s` : (cause ?? (error as Error).message);
    return { ok: false, final: false, error: `cannot reach ${request.where}: ${why}` };
  }
  const status = response.status;
  if (status >= 200 && status < 300) {
    await response.body?.cancel().catch(() => {});
    return { ok: true };
  }
  const raw = await response.text().catch(() => '');
  const text = raw.replace(/\s+/g, ' ').slice(0, 200);
  const error = `${request.where} answered HTTP ${status}${text ? `: ${text}` : ''}`;
  if (status === 429) {
    const wait = retryAfterMs(response.headers.get('retry-after')) ?? (request.service === 'telegram' ? telegramRetryAfter(raw) : undefined);
    return { ok: false, final: false, error, ...(wait !== undefined ? { retryAfterMs: wait } : {}) };
  }
  return { ok: false, final: status >= 300 && status < 500 && status !== 408, error };
}
