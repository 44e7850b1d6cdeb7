import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';
import type { SearchQuery } from './search.js';

/**
 * A source of searchable text, for both dialects' triggers and backfills; its SQL expressions (portable ones) read
 * the row as `$` (`new`, `old` or a table alias).
 */
export interface Source {
  table: string;
  /** The kinds this table's rows are indexed as (a delete removes any of them). */
  kinds: string[];
  kind: string;
  author: string;
  toAgent: string;
  taskId: string;
  at: string;
  expiresAt: string;
  title: string;
  body: string;
  /** Whether the row is searchable at all. */
  when: string;
  /** A change of any of these re-indexes the row. */
  columns: string[];
}

export const SOURCES: Source[] = [
  {
    table: 'team_messages',
    kinds: ['message', 'comment'],
    kind: "case when $.type <> '' then 'comment' else 'message' end",
    author: "coalesce(nullif($.from_agent, ''), $.from_user)",
    toAgent: '$.to_agent',
    taskId: '$.task_id',
    at: '$.created_at',
    expiresAt: "''",
    title: "''",
    body: '$.content',
    // A deleted message is hidden from every mailbox, and so from search.
    when: "$.deleted_at = ''",
    columns: ['content', 'deleted_at', 'to_agent', 'task_id'],
  },
  {
    table: 'team_tasks',
    kinds: ['task'],
    kind: "'task'",
    author: '$.created_by',
    toAgent: "''",
    taskId: '$.id',
    at: '$.updated_at',
    expiresAt: "''",
    title: '$.title',
    body: '$.description',
    when: 'true',
    // Every task write saves the whole row; only a change of its text re-indexes it.
    columns: ['title', 'description'],
  },
  {
    table: 'team_documents',
    kinds: ['document'],
    kind: "'document'",
    author: '$.author',
    toAgent: "''",
    taskId: '$.task_id',
    at: '$.updated_at',
    expiresAt: "''",
    title: '$.title',
    body: '$.content',
    when: 'true',
    columns: ['title', 'content', 'task_id', 'author'],
  },
  {
    table: 'team_facts',
    kinds: ['fact'],
    kind: "'fact'",
    author: '$.author',
    toAgent: "''",
    taskId: "''",
    at: '$.updated_at',
    expiresAt: '$.expires_at',
    title: "case when $.namespace = 'default' then $.key else $.namespace || '/' || $.key end",
    body: '$.value',
    when: 'true',
    columns: ['value', 'key', 'namespace', 'expires_at', 'author', 'updated_at'],
  },
];

export const on = (expression: string, row: string) => expression.replaceAll('$.', `${row}.`);
export const kindList = (source: Source) => source.kinds.map((k) => `'${k}'`).join(', ');

export function entryColumns(source: Source, row: string): string {
  return [source.kind, '$.id', '$.team_id', source.author, source.toAgent, source.taskId, source.at, source.expiresAt].map((e) => on(e, row)).join(', ');
}

export const ENTRY_FIELDS = 'kind, ref_id, team_id, author, to_agent, task_id, at, expires_at';

/**
 * The conditions on `search_entries e` of a query: its teams, kinds, author (compared case-insensitively by
 * `authorIs`, as each dialect does it), task, dates, the facts still alive, and privacy (another agent's direct mail
 * is never found).
 */
export function entryFilters(q: SearchQuery, authorIs: (author: string) => RawBuilder<unknown>): RawBuilder<unknown>[] {
  const list = (values: readonly string[]) => sql.join(values.map((v) => sql`${v}`));
  return [
    q.teamIds && sql`e.team_id in (${list(q.teamIds)})`,
    q.kinds && sql`e.kind in (${list(q.kinds)})`,
    q.author !== undefined && authorIs(q.author),
    q.taskId !== undefined && sql`e.task_id = ${q.taskId}`,
    q.since !== undefined && sql`e.at >= ${q.since}`,
    q.until !== undefined && sql`e.at < ${q.until}`,
    sql`(e.expires_at = '' or e.expires_at > ${q.now})`,
    q.privateTo !== undefined && sql`(e.to_agent = '' or e.to_agent = ${q.privateTo} or e.author = ${q.privateTo})`,
  ].filter((f): f is RawBuilder<unknown> => f !== false && f !== undefined);
}
