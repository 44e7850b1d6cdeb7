import type { Ctx } from './context.js';
import { prepared } from './prepared.js';

/** Entries kept at most (a process serves a few teams; each has its team row, roles, and two sets of rules). */
const MAX_ENTRIES = 1_000;

/** The call's memo of the stamp (Ctx.definitionsChanged forgets it). */
export const DEFINITIONS_STAMP = 'definitions-stamp:';

const stampRow = prepared((db) => db.selectFrom('definitions_stamp').select('stamp').where('id', '=', 1));

/**
 * Definitions most calls read and few change — teams, roles, workflow and notification rules — kept between one
 * process's calls while the database's definitions stamp is the one they were read under (migration 015: every change
 * to those tables redraws it in its own transaction). A call then reads one short row instead of each of them. What is
 * kept is shared by calls: frozen, never changed in place.
 */
export class DefinitionCache {
  private stamp = '';
  private readonly entries = new Map<string, unknown>();

  async get<T>(stamp: string, key: string, read: () => Promise<T>): Promise<T> {
    if (stamp !== this.stamp) {
      this.entries.clear();
      this.stamp = stamp;
    }
    if (this.entries.has(key)) return this.entries.get(key) as T;
    const value = deepFreeze(await read());
    // Another call may have met a newer stamp while this one read: what it read then belongs to the older one.
    if (this.stamp === stamp) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, value);
    }
    return value;
  }
}

/**
 * The stamp the definitions read in this transaction (or, outside one, in this call's reads) are to be kept under.
 * A write reads it again under its lock: what it decides by must be what the lock holds, not what was true before.
 */
export const definitionsStampOf = (ctx: Ctx): Promise<string> => ctx.memo(stampKey(ctx), async () => (await stampRow(ctx, {})).rows[0]?.stamp ?? '');

/** The stamp a statement of this call read along with another (a write's first), so that it is not read again. */
export const knowDefinitionsStamp = (ctx: Ctx, stamp: string): void => void ctx.memo(stampKey(ctx), () => Promise.resolve(stamp));

const stampKey = (ctx: Ctx) => `${DEFINITIONS_STAMP}${ctx.db.isTransaction ? 'write' : 'read'}`;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
