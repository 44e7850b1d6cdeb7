import { sql } from 'kysely';
import type { RawBuilder, SelectQueryBuilder } from 'kysely';
import type { Ctx } from './context.js';
import { validation } from './errors.js';
import { LIMITS } from './limits.js';

/**
 * Every answer is bounded: a list pages by count and by bytes, and says so — `truncated` (more is waiting) and
 * `next_cursor` (pass it as `cursor` to get the next page, null on the last one). Long bodies inside lists and
 * feeds are cut with a visible marker saying which call has the full text.
 */

/** The JSON bytes an answer may take (see LIMITS.answerBytes). */
export const ANSWER_BUDGET = LIMITS.answerBytes;
/** What a list's page may take: the budget less room for the rest of its answer (counts, ids, a task's fields). */
export const PAGE_BUDGET = ANSWER_BUDGET - 32 * 1024;

export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? '');

export interface Page<T> {
  items: T[];
  truncated: boolean;
  next_cursor: string | null;
}

/**
 * A cursor is the position of the last item of a page in its list's order, with the list's name, base64url JSON:
 * opaque to callers, and refused by any other list.
 */
export function encodeCursor(list: string, position: readonly unknown[]): string {
  return Buffer.from(JSON.stringify([list, ...position])).toString('base64url');
}

/**
 * The position `cursor` names in `list` — `arity` strings or numbers — or undefined without one; anything else (a
 * cursor of another list, a made-up one) is a VALIDATION error.
 */
export function decodeCursor(list: string, cursor: string | undefined, arity: number, field = 'cursor'): (string | number)[] | undefined {
  if (cursor === undefined) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const position = Array.isArray(decoded) && decoded[0] === list ? decoded.slice(1) : [];
  if (position.length !== arity || !position.every((v) => typeof v === 'string' || typeof v === 'number')) {
    throw validation(field, 'is not a cursor of this list (pass the next_cursor of its previous page)');
  }
  return position as (string | number)[];
}

/**
 * Rows after `position` in the order of `columns` (all ascending or all descending): the keyset condition of the
 * next page, `(a, b, c) > (x, y, z)` — row values, in SQLite and PostgreSQL alike.
 */
export function after(columns: readonly string[], position: readonly (string | number)[], direction: 'asc' | 'desc' = 'asc'): RawBuilder<boolean> {
  const op = sql.raw(direction === 'asc' ? '>' : '<');
  return sql<boolean>`(${sql.join(columns.map((c) => sql.ref(c)))}) ${op} (${sql.join(position.map((v) => sql.val(v)))})`;
}

/**
 * The page of `rows` — read with `limit + 1` so that one more tells whether more is waiting — that fits `limit`
 * and `budget` bytes; the first row always fits (bodies in lists are cut so that it does).
 */
export function takePage<R, T>(
  rows: readonly R[],
  options: {
    limit: number;
    list: string;
    position: (row: R) => readonly unknown[];
    render: (row: R) => T;
    budget?: number;
    size?: (item: T) => number;
    /** More rows exist beyond `rows` (when the caller read one more and dropped it). */
    more?: boolean;
  },
): Page<T> {
  const budget = options.budget ?? PAGE_BUDGET;
  const size = options.size ?? jsonBytes;
  const items: T[] = [];
  let used = 0;
  let last: R | undefined;
  for (const row of rows.slice(0, options.limit)) {
    const item = options.render(row);
    const bytes = size(item) + 1;
    if (items.length && used + bytes > budget) break;
    items.push(item);
    used += bytes;
    last = row;
  }
  const truncated = items.length < rows.length || Boolean(options.more);
  return { items, truncated, next_cursor: truncated && last !== undefined ? encodeCursor(options.list, options.position(last)) : null };
}

/** The paging fields of an answer. */
export const pageFields = <T>(page: Page<T>) => ({ truncated: page.truncated, next_cursor: page.next_cursor });

/**
 * `text` cut to `max` characters (never inside a surrogate pair) with a marker naming `fullText`, the call that
 * returns it whole; undefined when it fits.
 */
export function cutText(text: string, fullText: string, max: number = LIMITS.listBody): string | undefined {
  if (text.length <= max) return undefined;
  const end = /[\uD800-\uDBFF]/.test(text[max - 1] ?? '') ? max - 1 : max;
  return `${text.slice(0, end)}… [cut: ${end} of ${text.length} characters shown; the full text: ${fullText}]`;
}

/**
 * `item` with each of `fields` cut (see cutText) and `cut` listing those that were; the item itself when nothing
 * was long.
 */
export function cutFields<T extends Record<string, unknown>>(item: T, fields: readonly (keyof T & string)[], fullText: string, max: number = LIMITS.listBody): T & { cut?: string[] } {
  const cut: string[] = [];
  const out: Record<string, unknown> = { ...item };
  for (const field of fields) {
    const value = item[field];
    if (typeof value !== 'string') continue;
    const shortened = cutText(value, fullText, max);
    if (shortened === undefined) continue;
    out[field] = shortened;
    cut.push(field);
  }
  return cut.length ? ({ ...out, cut } as T & { cut: string[] }) : item;
}

/** The last line of defence: an answer over the budget is a bug in the action that built it, never sent. */
export function assertBounded(answer: Record<string, unknown>, what: string): Record<string, unknown> {
  const bytes = jsonBytes(answer);
  if (bytes > ANSWER_BUDGET) {
    throw new Error(`the answer of ${what} would take ${bytes} bytes, over the ${ANSWER_BUDGET}-byte budget; nothing was changed (a bug: please report it)`);
  }
  return answer;
}

/**
 * How many rows `rows` selects, counted up to LIMITS.countCap (plus `beyond`, rows the caller has in hand already):
 * `capped` says there are more. Reading a few thousand index entries at most, whatever the history.
 */
export async function countUpTo(ctx: Ctx, rows: SelectQueryBuilder<any, any, any>, beyond = 0): Promise<{ count: number; capped: boolean }> {
  const limit = LIMITS.countCap + beyond;
  const { n } = await ctx.db
    .selectFrom(rows.select(sql.lit(1).as('one')).limit(limit + 1).as('counted'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const count = Number(n);
  return count > limit ? { count: limit, capped: true } : { count, capped: false };
}
