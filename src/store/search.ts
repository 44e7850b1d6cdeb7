import type { Kysely } from 'kysely';
import type { DialectName } from './dialect.js';
import { postgresSearch } from './postgres/search.js';
import { sqliteSearch } from './sqlite/search.js';
import type { Db } from './store.js';

/** What full-text search finds. A comment is a message in a task's thread (it has a comment type). */
export const SEARCH_KINDS = ['message', 'comment', 'task', 'document', 'fact'] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];

/** One term of a query: a word, or a phrase of several; `prefix` matches words starting with the last one. */
export interface SearchTerm {
  words: string[];
  prefix: boolean;
  /** The item must not contain it. */
  exclude: boolean;
}

export interface SearchQuery {
  /** At least one term that is not excluded. */
  terms: SearchTerm[];
  /** Undefined: every team. */
  teamIds?: string[];
  kinds?: readonly SearchKind[];
  /** Who wrote it (an agent id, or the owner's name). */
  author?: string;
  /** Items about this task: the task, its comments and linked messages, its documents. */
  taskId?: string;
  /** Written at or after / before (ISO-8601). */
  since?: string;
  until?: string;
  /** Facts whose time to live ran out before this are gone. */
  now: string;
  /** When set, a direct message is found only by its two ends: its author or its recipient `viewer`. */
  privateTo?: string;
  limit: number;
  offset: number;
}

/**
 * One item found. `snippet` is a short excerpt with each match between the characters \u0002 and \u0003; `score` is
 * larger for a better match.
 */
export interface SearchRow {
  kind: SearchKind;
  ref_id: string;
  team_id: string;
  title: string;
  author: string;
  to_agent: string;
  task_id: string;
  at: string;
  snippet: string;
  score: number;
}

export const MATCH_START = '\u0002';
export const MATCH_END = '\u0003';

export type Progress = (done: number, total: number) => void;

/**
 * The full-text index of one dialect. The index is kept by the database itself, in the transaction of each write
 * (SQLite: FTS5 and triggers), so that no write path can forget it and a purge or delete takes its text out at once.
 */
export interface SearchIndex {
  /** Creates the index and indexes what the database already holds, reporting rows indexed of the total. */
  install(db: Kysely<any>, progress?: Progress): Promise<void>;
  /** The best matches first; ties by age of indexing. */
  query(db: Db, query: SearchQuery): Promise<SearchRow[]>;
}

const INDEXES: Record<DialectName, SearchIndex> = { sqlite: sqliteSearch, postgres: postgresSearch };

/** The search index of `dialect`. */
export function searchIndexOf(dialect: DialectName): SearchIndex {
  return INDEXES[dialect];
}
