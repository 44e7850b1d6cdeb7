import { randomBytes } from 'node:crypto';
import { LIMITS } from './limits.js';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * Random bytes drawn from the system a page at a time: one `randomBytes` call costs some 8 µs whatever its size
 * (most of it the call itself), and every write makes ids.
 */
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let poolAt = 0;

function randomByte(): number {
  if (poolAt === POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    poolAt = 0;
  }
  return pool[poolAt++]!;
}

function randomId(length: number): string {
  // 36^n ids from unbiased bytes: a byte ≥ 252 would favour the first letters, so it is drawn again.
  let id = '';
  while (id.length < length) {
    const byte = randomByte();
    if (byte < 252) id += ALPHABET[byte % 36];
  }
  return id;
}

/**
 * A new 8-character id for what people name in calls — teams, tasks, documents, rules (the seed's `5916dabf`,
 * `xyz78901`): lowercase letters and digits, 36^8 ≈ 2.8·10^12 of them.
 */
export const newId = (): string => randomId(8);

/**
 * A new 16-character id for rows made in bulk — events, mailbox copies, messages, subscriptions, notifications, the
 * outbox — that sorts by creation: the millisecond in 9 base-36 characters, then 7 random ones (36^7 ≈ 7.8·10^10 a
 * millisecond). Each new id lands on the rightmost page of its table's id index, which stays in the cache, instead
 * of on a random page of an index that grows with history (millions of events).
 */
export const newRowId = (): string => Date.now().toString(36).padStart(9, '0') + randomId(7);

/** A new 16-character random id that says nothing and cannot be guessed (an acknowledgement cursor). */
export const newOpaqueId = (): string => randomId(16);

/**
 * The agent id derived from a display name: lowercase ASCII letters and digits, spaces become hyphens
 * (`Mary Jane` → `mary-jane`, `Zoë` → `zoe`). Returns '' when nothing usable is left.
 */
export function agentIdFromName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .trim()
    .replace(/[\s_]+/g, '-')
    .replace(/[^a-z0-9-]/g, '')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, LIMITS.agentId);
}

/** The key of team-name resolution: case-insensitive, spaces, hyphens and underscores equivalent. */
export function teamSlug(name: string): string {
  return name.trim().toLowerCase().replace(/[\s_-]+/g, '-').replace(/^-|-$/g, '');
}
