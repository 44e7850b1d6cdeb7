import { z } from 'zod';
import { MATCH_END, MATCH_START, SEARCH_KINDS, searchIndexOf } from '../store/search.js';
import type { SearchRow, SearchTerm } from '../store/search.js';
import { defineAction } from './action.js';
import { validation } from './errors.js';
import { agentRef, cursor, isoDate, taskRef, teamRef } from './fields.js';
import { decodeCursor, pageFields, takePage } from './paging.js';

/**
 * Full-text search over messages, comments, tasks, documents and facts: the one search behind
 * team_memory(action='search'), the CLI, REST and the dashboard. Privacy follows the mailboxes: a direct message is
 * found only by its two ends, the team's leads and the owner; an agent searches its own team only.
 */

/** A query is a handful of words; a long one only slows the index down. */
const QUERY_MAX = 500;
const PAGE_MAX = 100;

/**
 * The terms of what a person types: words (all must match), "a phrase", a word* prefix, -word to exclude. Nothing
 * typed is ever read as index syntax, so no query is an error.
 */
export function parseQuery(text: string): SearchTerm[] {
  const terms: SearchTerm[] = [];
  for (const [, minus, quoted, bare] of text.matchAll(/(-?)(?:"([^"]*)"?|(\S+))/g)) {
    const exclude = minus === '-';
    const raw = quoted ?? bare ?? '';
    const prefix = quoted === undefined && raw.length > 1 && raw.endsWith('*');
    const words = raw
      .replace(/\*+$/, '')
      .split(/\s+/)
      .filter((w) => /[\p{L}\p{N}]/u.test(w));
    if (words.length) terms.push({ words, prefix, exclude });
  }
  return terms;
}

/** The snippet without match markers, and where the matches are in it (UTF-16 offsets, end exclusive). */
export function highlight(marked: string): { snippet: string; highlights: [number, number][] } {
  let snippet = '';
  const highlights: [number, number][] = [];
  let start = -1;
  for (const char of marked) {
    if (char === MATCH_START) start = snippet.length;
    else if (char === MATCH_END) {
      if (start >= 0 && snippet.length > start) highlights.push([start, snippet.length]);
      start = -1;
    } else snippet += char;
  }
  return { snippet, highlights };
}

const toHit = ({ ref_id, snippet, score, ...row }: SearchRow) => ({
  kind: row.kind,
  id: ref_id,
  team_id: row.team_id,
  title: row.title,
  ...highlight(snippet),
  author: row.author,
  to_agent: row.to_agent,
  task_id: row.task_id,
  at: row.at,
  score: Math.round(score * 1000) / 1000,
});

export type SearchHit = ReturnType<typeof toHit>;

const search = defineAction({
  tool: 'team_memory',
  action: 'search',
  summary:
    'full-text search of messages, comments, tasks, documents, facts, best first; "a phrase", prefix*, -word',
  input: z.strictObject({
    team_id: teamRef,
    query: z.string().trim().min(1).max(QUERY_MAX),
    kinds: z.array(z.enum(SEARCH_KINDS)).min(1).max(SEARCH_KINDS.length).optional(),
    agent_id: agentRef.optional(),
    task_id: taskRef.optional(),
    since: isoDate.optional(),
    until: isoDate.optional(),
    limit: z.number().int().min(1).max(PAGE_MAX).default(20),
    cursor,
  }),
  write: false,
  async run(ctx, input) {
    const terms = parseQuery(input.query);
    if (!terms.some((t) => !t.exclude)) throw validation('query', 'needs at least one word to find (a -word only excludes)');
    // The owner searches every team unless it names one; an agent, its own team.
    const teamIds = ctx.isOwner && !input.team_id ? undefined : [(await ctx.team(input.team_id)).id];
    // A page's position is the query and how many hits came before its end: a cursor of another query is refused.
    const [query, offset = 0] = decodeCursor('search', input.cursor, 2) ?? [input.query];
    if (query !== input.query || !Number.isInteger(offset) || (offset as number) < 0) {
      throw validation('cursor', 'is not a cursor of this search (pass the next_cursor of its previous page, with the same query)');
    }
    const rows = await searchIndexOf(ctx.dialect).query(ctx.db, {
      terms,
      teamIds,
      kinds: input.kinds,
      author: input.agent_id,
      taskId: input.task_id,
      since: input.since,
      until: input.until,
      now: ctx.now,
      privateTo: ctx.isLead ? undefined : ctx.actorId,
      limit: input.limit + 1,
      offset: offset as number,
    });
    const page = takePage(
      rows.map((row, i) => ({ row, end: (offset as number) + i + 1 })),
      { limit: input.limit, list: 'search', position: (r) => [input.query, r.end], render: (r) => toHit(r.row) },
    );
    return { query: input.query, hits: page.items, count: page.items.length, ...pageFields(page) };
  },
});

export const searchActions = [search];
