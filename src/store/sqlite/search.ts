import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Progress, SearchIndex, SearchQuery, SearchRow, SearchTerm } from '../search.js';
import { MATCH_END, MATCH_START } from '../search.js';
import { ENTRY_FIELDS, SOURCES, entryColumns, entryFilters, kindList, on } from '../searchSources.js';
import type { Source } from '../searchSources.js';

/**
 * Full-text search on SQLite: an FTS5 table `search_text` (title, body) beside `search_entries`, which holds what the
 * filters need (kind, team, author, recipient, task, time, expiry) under the same rowid, with an index on the row it
 * indexes. Triggers on the five sources keep both in the writing transaction.
 *
 * Why two tables: FTS5 filters its UNINDEXED columns by reading every match, and a trigger deleting an item by id
 * from a lone FTS5 table scans it whole (a purge of many messages in a million would take minutes). Rejected too:
 * FTS5 over the source tables' own rowids (VACUUM may renumber them) and an external-content table (five sources).
 */

function indexRow(source: Source, row: 'new'): string {
  return `insert into search_entries (${ENTRY_FIELDS}) select ${entryColumns(source, row)} where ${on(source.when, row)};
    insert into search_text (rowid, title, body) select last_insert_rowid(), ${on(source.title, row)}, ${on(source.body, row)} where ${on(source.when, row)};`;
}

function unindexRow(source: Source, row: 'old' | 'new'): string {
  const entry = `ref_id = ${row}.id and kind in (${kindList(source)})`;
  return `delete from search_text where rowid in (select rowid from search_entries where ${entry});
    delete from search_entries where ${entry};`;
}

function triggers(source: Source): string[] {
  const changed = source.columns.map((c) => `old.${c} is not new.${c}`).join(' or ');
  return [
    `create trigger search_${source.table}_insert after insert on ${source.table} begin ${indexRow(source, 'new')} end`,
    `create trigger search_${source.table}_update after update on ${source.table} when ${changed} begin ${unindexRow(source, 'old')} ${indexRow(source, 'new')} end`,
    `create trigger search_${source.table}_delete after delete on ${source.table} begin ${unindexRow(source, 'old')} end`,
  ];
}

const BACKFILL_CHUNK = 5_000;

/** Indexes the rows `table` already holds, a chunk of its rowids at a time. */
async function backfill(db: Kysely<any>, source: Source, onChunk: (rows: number) => void): Promise<void> {
  let after = 0;
  for (;;) {
    const chunk = await sql<{ last: number | null; n: number }>`select max(rowid) as last, count(*) as n from (select rowid from ${sql.table(source.table)} where rowid > ${after} order by rowid limit ${BACKFILL_CHUNK})`.execute(db);
    const { last, n } = chunk.rows[0]!;
    if (last === null) return;
    const before = await sql<{ top: number | null }>`select max(rowid) as top from search_entries`.execute(db);
    const top = before.rows[0]!.top ?? 0;
    await sql
      .raw(`insert into search_entries (${ENTRY_FIELDS}) select ${entryColumns(source, 'r')} from ${source.table} r where r.rowid > ${after} and r.rowid <= ${last} and ${on(source.when, 'r')} order by r.rowid`)
      .execute(db);
    await sql
      .raw(`insert into search_text (rowid, title, body) select e.rowid, ${on(source.title, 'r')}, ${on(source.body, 'r')} from search_entries e join ${source.table} r on r.id = e.ref_id where e.rowid > ${top} order by e.rowid`)
      .execute(db);
    after = last;
    onChunk(Number(n));
  }
}

/** A term as an FTS5 string: quoted (so no word is read as syntax), `*` for a prefix. */
const ftsTerm = (term: SearchTerm) => `"${term.words.join(' ').replaceAll('"', '""')}"${term.prefix ? '*' : ''}`;

/** The FTS5 query of `terms`: every included term, none of the excluded ones. */
export function ftsQuery(terms: SearchTerm[]): string {
  const included = terms.filter((t) => !t.exclude).map(ftsTerm).join(' AND ');
  const excluded = terms.filter((t) => t.exclude).map((t) => ` NOT ${ftsTerm(t)}`).join('');
  return `(${included})${excluded}`;
}

/** Title matches weigh more than body matches (bm25 column weights, in column order). */
const TITLE_WEIGHT = 4;
const SNIPPET_TOKENS = 16;

export const sqliteSearch: SearchIndex = {
  async install(db, progress?: Progress) {
    await sql
      .raw(
        `create table search_entries (rowid integer primary key, kind text not null, ref_id text not null, team_id text not null,
          author text not null, to_agent text not null, task_id text not null, at text not null, expires_at text not null)`,
      )
      .execute(db);
    await sql.raw('create unique index search_entries_by_ref on search_entries (ref_id, kind)').execute(db);
    // Stemmed (porter: "authenticate" finds "authentication"), case- and accent-insensitive words.
    await sql.raw("create virtual table search_text using fts5(title, body, tokenize = 'porter unicode61 remove_diacritics 2')").execute(db);
    for (const source of SOURCES) for (const statement of triggers(source)) await sql.raw(statement).execute(db);

    let total = 0;
    for (const source of SOURCES) {
      const count = await sql<{ n: number }>`select count(*) as n from ${sql.table(source.table)}`.execute(db);
      total += Number(count.rows[0]!.n);
    }
    let done = 0;
    progress?.(0, total);
    for (const source of SOURCES) {
      await backfill(db, source, (rows) => {
        done += rows;
        progress?.(done, total);
      });
    }
  },

  async query(db, q: SearchQuery): Promise<SearchRow[]> {
    const filters = entryFilters(q, (author) => sql`e.author = ${author} collate nocase`);
    const result = await sql<SearchRow>`
      select e.kind, e.ref_id, e.team_id, t.title, e.author, e.to_agent, e.task_id, e.at,
        snippet(search_text, -1, ${MATCH_START}, ${MATCH_END}, '…', ${SNIPPET_TOKENS}) as snippet,
        -bm25(search_text, ${TITLE_WEIGHT}, 1.0) as score
      from search_text t join search_entries e on e.rowid = t.rowid
      where search_text match ${ftsQuery(q.terms)} and ${sql.join(filters, sql` and `)}
      order by score desc, e.rowid
      limit ${q.limit} offset ${q.offset}`.execute(db);
    return result.rows;
  },
};
