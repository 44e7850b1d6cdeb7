import type { Kysely } from 'kysely';
import { searchIndexOf } from '../search.js';
import type { Migration } from './index.js';

/**
 * Full-text search over messages, comments, tasks, documents and facts (src/store/search.ts): the dialect's index,
 * kept by the database in each write's transaction, and filled with what the database already holds.
 */
export const search: Migration = {
  // 10 once the migrations 7 to 9 of the branches before it are in; 7 until then, so that it runs.
  version: 10,
  name: 'search',
  async up(db: Kysely<any>, dialect, progress) {
    await searchIndexOf(dialect.name).install(db, progress && ((done, total) => progress('indexing for search', done, total)));
  },
};
