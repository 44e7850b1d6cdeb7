import { sql } from 'kysely';
import type { Progress, SearchIndex, SearchQuery, SearchRow, SearchTerm } from '../search.js';
import { MATCH_END, MATCH_START } from '../search.js';
import { ENTRY_FIELDS, SOURCES, entryColumns, entryFilters, kindList, on } from '../searchSources.js';
import type { Source } from '../searchSources.js';

/**
 * Full-text search on PostgreSQL: one table `search_entries` with the filters' columns, the text, and a stored
 * `tsvector` of it (title weighted above body) under a GIN index. Triggers on the five sources keep it in the
 * writing transaction, as on SQLite. Words are stemmed by a copy of the `english` configuration that keeps stop
 * words, as SQLite's porter tokenizer does ("the payment" is a phrase of two words); accents are kept (the
 * `unaccent` extension is not assumed to be installed).
 */

const CONFIG = 'search_english';

function triggers(source: Source): string[] {
  const fn = `search_${source.table}`;
  const changed = source.columns.map((c) => `old.${c} is distinct from new.${c}`).join(' or ');
  return [
    `create function ${fn}() returns trigger language plpgsql as $$ begin
       if tg_op <> 'INSERT' then delete from search_entries where ref_id = old.id and kind in (${kindList(source)}); end if;
       if tg_op <> 'DELETE' then
         insert into search_entries (${ENTRY_FIELDS}, title, body)
           select ${entryColumns(source, 'new')}, ${on(source.title, 'new')}, ${on(source.body, 'new')} where ${on(source.when, 'new')};
       end if;
       return null; end $$`,
    `create trigger ${fn}_insert_delete after insert or delete on ${source.table} for each row execute function ${fn}()`,
    `create trigger ${fn}_update after update on ${source.table} for each row when (${changed}) execute function ${fn}()`,
  ];
}

/** A term in to_tsquery's syntax: each word quoted (so nothing typed is read as syntax), a phrase joined by <->. */
const lexeme = (word: string) => `'${word.replaceAll('\\', '').replaceAll("'", "''")}'`;
const tsTerm = (term: SearchTerm) => `(${term.words.map(lexeme).join(' <-> ')}${term.prefix ? ':*' : ''})`;

/** The to_tsquery text of `terms`: every included term, none of the excluded ones. */
export function tsQuery(terms: SearchTerm[]): string {
  const included = terms.filter((t) => !t.exclude).map(tsTerm);
  const excluded = terms.filter((t) => t.exclude).map((t) => `!${tsTerm(t)}`);
  return [...included, ...excluded].join(' & ');
}

/** A function, not a constant: search.ts, which defines the markers, imports this module. */
const snippetOptions = () => `StartSel=${MATCH_START}, StopSel=${MATCH_END}, MaxWords=16, MinWords=6, ShortWord=0, MaxFragments=1, FragmentDelimiter=…`;

export const postgresSearch: SearchIndex = {
  async install(db, progress?: Progress) {
    await sql.raw(`create text search dictionary ${CONFIG}_stem (template = snowball, language = english)`).execute(db);
    await sql.raw(`create text search configuration ${CONFIG} (copy = english)`).execute(db);
    await sql
      .raw(`alter text search configuration ${CONFIG} alter mapping for asciiword, asciihword, hword_asciipart, word, hword, hword_part with ${CONFIG}_stem`)
      .execute(db);
    await sql
      .raw(
        `create table search_entries (id bigserial primary key, kind text not null, ref_id text not null, team_id text not null,
          author text not null, to_agent text not null, task_id text not null, at text not null, expires_at text not null,
          title text not null, body text not null,
          doc tsvector generated always as (setweight(to_tsvector('${CONFIG}', title), 'A') || setweight(to_tsvector('${CONFIG}', body), 'B')) stored)`,
      )
      .execute(db);
    await sql.raw('create unique index search_entries_by_ref on search_entries (ref_id, kind)').execute(db);
    await sql.raw('create index search_entries_by_doc on search_entries using gin (doc)').execute(db);
    for (const source of SOURCES) for (const statement of triggers(source)) await sql.raw(statement).execute(db);

    let done = 0;
    progress?.(0, 0);
    for (const source of SOURCES) {
      const result = await sql
        .raw(`insert into search_entries (${ENTRY_FIELDS}, title, body) select ${entryColumns(source, 'r')}, ${on(source.title, 'r')}, ${on(source.body, 'r')} from ${source.table} r where ${on(source.when, 'r')}`)
        .execute(db);
      done += Number(result.numAffectedRows ?? 0);
      progress?.(done, done);
    }
  },

  async query(db, q: SearchQuery): Promise<SearchRow[]> {
    const filters = entryFilters(q, (author) => sql`lower(e.author) = lower(${author})`);
    const config = sql.lit(CONFIG);
    const result = await sql<SearchRow>`
      select e.kind, e.ref_id, e.team_id, e.title, e.author, e.to_agent, e.task_id, e.at,
        case when to_tsvector(${config}, e.body) @@ q.q or e.title = '' then ts_headline(${config}, e.body, q.q, ${snippetOptions()})
          else ts_headline(${config}, e.title, q.q, ${snippetOptions()}) end as snippet,
        ts_rank('{0.1, 0.2, 0.25, 1.0}', e.doc, q.q) as score
      from search_entries e, (select to_tsquery(${config}, ${tsQuery(q.terms)}) as q) q
      where e.doc @@ q.q and ${sql.join(filters, sql` and `)}
      order by score desc, e.id
      limit ${q.limit} offset ${q.offset}`.execute(db);
    return result.rows;
  },
};
