import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures. The signed string is `<timestamp>.<body>`, HMAC-SHA256 with the destination's secret, hex:
 * binding the timestamp to the body, so a receiver that refuses old timestamps also refuses a replayed request
 * (changing the timestamp breaks the signature). Rejected: signing the body alone (GitHub's scheme), which lets a
 * recorded request be replayed forever.
 */

export const SIGNATURE_HEADER = 'x-team-table-signature';
export const TIMESTAMP_HEADER = 'x-team-table-timestamp';
export const DELIVERY_HEADER = 'x-team-table-delivery';

/** `sha256=<hex>` of `<timestamp>.<body>`. */
export const sign = (secret: string, timestamp: number, body: string): string => `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

/** The headers that let a receiver check who sent a body, and when. */
export function signatureHeaders(secret: string, body: string, now: Date): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return { [TIMESTAMP_HEADER]: String(timestamp), [SIGNATURE_HEADER]: sign(secret, timestamp, body) };
}

/**
 * What a receiver does: recompute the signature over the raw body and compare in constant time, and refuse a
 * timestamp more than `toleranceSeconds` away from its clock.
 *
 * @example verifySignature(secret, rawBody, request.headers) // → true for a request team-table sent in the last 5 minutes
 */
export function verifySignature(secret: string, body: string, headers: Record<string, string | string[] | undefined>, toleranceSeconds = 300, now = new Date()): boolean {
  const timestamp = Number(headers[TIMESTAMP_HEADER]);
  const given = String(headers[SIGNATURE_HEADER] ?? '');
  if (!Number.isInteger(timestamp) || Math.abs(now.getTime() / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = sign(secret, timestamp, body);
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}
