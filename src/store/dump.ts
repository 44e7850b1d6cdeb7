import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { TeamTableError } from '../core/errors.js';
import type { DialectName } from './dialect.js';
import { LATEST_SCHEMA_VERSION } from './migrate.js';
import { copyTaskIdsToCopies, copyTaskOrderToLabels, flatReads } from './migrations/014_flat_reads.js';
import type { Database } from './schema.js';
import type { Store } from './store.js';

/**
 * Export and import as JSON Lines: a header, one line per row of every table (a team's, or all), the event log with
 * its sequence numbers, and a closing line with the row count (so a cut file is refused, not half loaded). Rows keep
 * their ids, so an export imported into a fresh database reproduces it row for row. Notification rules go with their
 * team (the global ones, team_id '', with the whole database). Not exported: the search index (the database rebuilds
 * it as the rows go in), and what belongs to one running installation rather than to a team's work — bearer tokens
 * (credentials are made anew where the team lands), the runner's runs and sessions, the notification outbox's
 * deliveries, leadership leases and the HTTP rate limit's buckets.
 */

export const DUMP_FORMAT = 'team-table-export';
export const DUMP_VERSION = 1;

type Table = keyof Database;

interface TableDump {
  table: Table;
  /** Its primary key: the export's order, and its page boundary. */
  key: string[];
  /** How its rows belong to a team: a team_id column, or a parent table's rows. */
  team: 'team_id' | 'id' | { column: string; parent: Table };
}

/** In an order where every row comes after the rows it refers to. */
const TABLES: TableDump[] = [
  { table: 'teams', key: ['id'], team: 'id' },
  { table: 'persistent_agents', key: ['id'], team: 'team_id' },
  { table: 'team_roles', key: ['team_id', 'name'], team: 'team_id' },
  { table: 'notification_rules', key: ['id'], team: 'team_id' },
  { table: 'team_rules', key: ['team_id', 'id'], team: 'team_id' },
  { table: 'team_tasks', key: ['id'], team: 'team_id' },
  { table: 'team_task_assignees', key: ['task_id', 'agent_id'], team: { column: 'task_id', parent: 'team_tasks' } },
  { table: 'team_task_labels', key: ['task_id', 'label'], team: { column: 'task_id', parent: 'team_tasks' } },
  { table: 'team_task_dependencies', key: ['task_id', 'depends_on'], team: { column: 'task_id', parent: 'team_tasks' } },
  { table: 'team_messages', key: ['id'], team: 'team_id' },
  { table: 'team_pending_messages', key: ['id'], team: 'team_id' },
  { table: 'team_thread_subscriptions', key: ['team_id', 'thread_id', 'agent_id'], team: 'team_id' },
  { table: 'team_facts', key: ['id'], team: 'team_id' },
  { table: 'team_fact_versions', key: ['fact_id', 'version'], team: 'team_id' },
  { table: 'team_documents', key: ['id'], team: 'team_id' },
  { table: 'team_document_versions', key: ['doc_id', 'version'], team: { column: 'doc_id', parent: 'team_documents' } },
  { table: 'agent_working_state', key: ['agent_id'], team: 'team_id' },
  { table: 'team_notifications', key: ['id'], team: 'team_id' },
  { table: 'team_events', key: ['seq'], team: 'team_id' },
];

const PAGE = 1_000;
/** Rows per insert statement: well under SQLite's 32,766 bound parameters for the widest table. */
const INSERT_BATCH = 200;

/**
 * One read transaction sees one snapshot of the database while agents keep writing: SQLite's deferred BEGIN in WAL
 * mode, PostgreSQL's repeatable read.
 */
const BEGIN_SNAPSHOT: Record<DialectName, string> = { sqlite: 'begin', postgres: 'begin isolation level repeatable read read only' };

export type Progress = (done: number, total: number) => void;

export interface DumpHeader {
  format: typeof DUMP_FORMAT;
  version: number;
  schema_version: number;
  exported_at: string;
  /** The teams exported; null for the whole database. */
  teams: string[] | null;
}

function scoped(db: Kysely<any>, dump: TableDump, teamIds: string[] | undefined) {
  let query = db.selectFrom(dump.table).selectAll();
  if (!teamIds) return query;
  if (dump.team === 'id' || dump.team === 'team_id') return query.where(dump.team, 'in', teamIds);
  const { column, parent } = dump.team;
  return query.where(column, 'in', db.selectFrom(parent).select('id').where('team_id', 'in', teamIds));
}

/**
 * Writes the teams `teamIds` (every team when undefined) to `out`, from one consistent snapshot. Resolves to the
 * number of rows written.
 */
export async function exportDump(store: Store, out: Writable, options: { teamIds?: string[]; progress?: Progress; now?: string } = {}): Promise<number> {
  const write = async (value: unknown) => {
    if (!out.write(`${JSON.stringify(value)}\n`)) await once(out, 'drain');
  };
  return store.db.connection().execute(async (db) => {
    await sql.raw(BEGIN_SNAPSHOT[store.dialect.name]).execute(db);
    try {
      const version = await db.selectFrom('schema_version').select(sql<number>`max(version)`.as('v')).executeTakeFirstOrThrow();
      const counts = [];
      for (const dump of TABLES) counts.push(Number((await scoped(db, dump, options.teamIds).clearSelect().select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n));
      const total = counts.reduce((a, b) => a + b, 0);
      const header: DumpHeader = { format: DUMP_FORMAT, version: DUMP_VERSION, schema_version: Number(version.v), exported_at: options.now ?? new Date().toISOString(), teams: options.teamIds ?? null };
      await write(header);
      let done = 0;
      options.progress?.(0, total);
      for (const dump of TABLES) {
        let after: Record<string, unknown> | undefined;
        for (;;) {
          let query = scoped(db, dump, options.teamIds);
          if (after) {
            const last = after;
            query = dump.key.length === 1 ? query.where(dump.key[0]!, '>', last[dump.key[0]!]) : query.where((eb) => eb(eb.refTuple(dump.key[0]!, dump.key[1]!), '>', eb.tuple(last[dump.key[0]!], last[dump.key[1]!])));
          }
          for (const column of dump.key) query = query.orderBy(column);
          const rows = (await query.limit(PAGE).execute()) as Record<string, unknown>[];
          for (const row of rows) await write({ table: dump.table, row });
          done += rows.length;
          options.progress?.(done, total);
          if (rows.length < PAGE) break;
          after = rows.at(-1);
        }
      }
      await write({ end: true, rows: done });
      return done;
    } finally {
      await sql`commit`.execute(db);
    }
  });
}

export interface ImportResult {
  teams: string[];
  rows: number;
  /** The target already had events: the imported ones were appended after them, in their order, with new numbers. */
  events_renumbered: boolean;
}

const bad = (line: number, why: string) => new TeamTableError('VALIDATION', `import: line ${line}: ${why}; nothing was imported`, { field: 'input', line });

/**
 * Loads an export into `store` in one transaction: all of it or, on any error, nothing. Teams that already exist
 * are refused (import into a fresh database, or delete them first).
 */
export async function importDump(store: Store, lines: AsyncIterable<string>, options: { progress?: (bytes: number) => void } = {}): Promise<ImportResult> {
  return store.write(async (tx) => {
    await store.dialect.untimed(tx);
    const db = tx as Kysely<any>;
    const order = new Map(TABLES.map((t, i) => [t.table, i]));
    let header: DumpHeader | undefined;
    let lineNumber = 0;
    let rows = 0;
    let position = -1;
    let ended = false;
    let renumber = false;
    const teams: string[] = [];
    let batch: { table: Table; rows: Record<string, unknown>[] } | undefined;
    const flush = async () => {
      if (!batch?.rows.length) return;
      try {
        await db.insertInto(batch.table).values(batch.rows).execute();
      } catch (error) {
        throw bad(lineNumber, `${batch.table}: ${(error as Error).message}`);
      }
      batch.rows = [];
    };
    for await (const text of lines) {
      lineNumber += 1;
      options.progress?.(Buffer.byteLength(text) + 1);
      if (text.trim() === '') continue;
      let value: any;
      try {
        value = JSON.parse(text);
      } catch {
        throw bad(lineNumber, 'not JSON');
      }
      if (!header) {
        if (value?.format !== DUMP_FORMAT) throw bad(lineNumber, `not a team-table export (its first line names no format '${DUMP_FORMAT}')`);
        if (value.version > DUMP_VERSION || value.schema_version > LATEST_SCHEMA_VERSION) {
          throw new TeamTableError('SCHEMA_TOO_NEW', `import: the export was made by a newer team-table (schema ${value.schema_version}, format ${value.version}); upgrade team-table to import it`);
        }
        header = value as DumpHeader;
        renumber = (await db.selectFrom('team_events').select('seq').limit(1).executeTakeFirst()) !== undefined;
        continue;
      }
      if (ended) throw bad(lineNumber, 'rows after the closing line');
      if (value?.end === true) {
        await flush();
        if (value.rows !== rows) throw bad(lineNumber, `the export says ${value.rows} rows, ${rows} came before its end`);
        ended = true;
        continue;
      }
      const table = value?.table as Table;
      const at = order.get(table);
      if (at === undefined || typeof value.row !== 'object' || value.row === null) throw bad(lineNumber, `not a row of a team-table table (${JSON.stringify(table)})`);
      if (at < position) throw bad(lineNumber, `${table} rows after ${TABLES[position]!.table} rows (the export's order is broken)`);
      position = at;
      const row = { ...value.row } as Record<string, unknown>;
      if (table === 'teams') {
        const exists = await db.selectFrom('teams').select(['id', 'name']).where('id', '=', row.id as string).executeTakeFirst();
        if (exists) throw new TeamTableError('CONFLICT', `import: team '${exists.name}' (${exists.id}) already exists here; import into a fresh database, or delete the team first. Nothing was imported`, { team_id: exists.id });
        teams.push(row.id as string);
      }
      if (table === 'team_events' && renumber) delete row.seq;
      if (batch?.table !== table) {
        await flush();
        batch = { table, rows: [] };
      }
      batch.rows.push(row);
      rows += 1;
      if (batch.rows.length >= INSERT_BATCH) await flush();
    }
    if (!header) throw bad(lineNumber, 'the input is empty');
    if (!ended) throw bad(lineNumber, 'the export is cut short (no closing line)');
    // An export made before labels carried their task's list order, and mailbox copies their message's task: theirs
    // came in empty.
    if (header.schema_version < flatReads.version) {
      await copyTaskOrderToLabels(db, sql`team_id = ''`);
      await copyTaskIdsToCopies(db, sql`team_pending_messages.task_id = ''`);
    }
    return { teams, rows, events_renumbered: renumber };
  });
}
