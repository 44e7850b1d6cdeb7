import { access } from 'node:fs/promises';
import BetterSqlite3 from 'better-sqlite3';
import { TeamTableError } from '../../core/errors.js';
import type { Progress } from '../dump.js';
import { LATEST_SCHEMA_VERSION } from '../migrate.js';

/** Pages copied per step while nobody writes: small steps keep the progress moving and the source's lock short. */
const STEP_PAGES = 256;
const BUSY_TIMEOUT_MS = 30_000;

/**
 * Copies the database `source` to `destination` with SQLite's online backup API while other processes keep
 * writing. A write by another connection makes SQLite start the copy over at the next step; after the first restart
 * the rest is copied in one step — one read transaction, so it cannot be restarted again and sees one snapshot,
 * which holds every write committed before it (writers are not blocked in WAL mode).
 *
 * Rejected: small steps throughout (under a steady write storm a big database never finishes), and `VACUUM INTO`
 * (no progress to show).
 */
export async function copyDatabase(source: string, destination: string, progress?: Progress): Promise<{ pages: number }> {
  const from = new BetterSqlite3(source, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  try {
    let copied = -1;
    let restarted = false;
    const result = await from.backup(destination, {
      progress({ totalPages, remainingPages }) {
        // A step that left no more pages copied than the one before started over (it copied the first pages again).
        if (totalPages - remainingPages <= copied) restarted = true;
        copied = totalPages - remainingPages;
        progress?.(totalPages - remainingPages, totalPages);
        return restarted ? totalPages : STEP_PAGES;
      },
    });
    progress?.(result.totalPages, result.totalPages);
    return { pages: result.totalPages };
  } finally {
    from.close();
  }
}

/**
 * Checks that `path` is a sound team-table database this version can open: SQLite's integrity check passes and its
 * schema is not newer. Resolves to its schema version and its number of teams.
 */
export async function checkDatabase(path: string): Promise<{ schema_version: number; teams: number; integrity: 'ok' }> {
  await access(path).catch(() => {
    throw new TeamTableError('NOT_FOUND', `${path}: no such file`, { path });
  });
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(path, { fileMustExist: true, readonly: true, timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw new TeamTableError('VALIDATION', `${path}: not a database (${(error as Error).message})`, { path });
  }
  try {
    let check: { integrity_check: string }[];
    try {
      check = db.pragma('integrity_check') as { integrity_check: string }[];
    } catch (error) {
      throw new TeamTableError('VALIDATION', `${path}: not a database (${(error as Error).message})`, { path });
    }
    const problems = check.map((r) => r.integrity_check).filter((r) => r !== 'ok');
    if (problems.length) throw new TeamTableError('VALIDATION', `${path}: fails SQLite's integrity check: ${problems.slice(0, 3).join('; ')}`, { path });
    const hasSchema = db.prepare("select 1 from sqlite_master where type = 'table' and name = 'schema_version'").get();
    if (!hasSchema) throw new TeamTableError('VALIDATION', `${path}: not a team-table database (no schema_version table)`, { path });
    const version = Number((db.prepare('select max(version) as v from schema_version').get() as { v: number | null }).v ?? 0);
    if (version > LATEST_SCHEMA_VERSION) {
      throw new TeamTableError('SCHEMA_TOO_NEW', `${path}: schema version ${version} is newer than this team-table understands (${LATEST_SCHEMA_VERSION})`, { path, version });
    }
    const teams = version > 0 ? Number((db.prepare('select count(*) as n from teams').get() as { n: number }).n) : 0;
    return { schema_version: version, teams, integrity: 'ok' };
  } finally {
    db.close();
  }
}
