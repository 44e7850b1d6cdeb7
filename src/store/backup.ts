import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { TeamTableError, conflict } from '../core/errors.js';
import type { Progress } from './dump.js';
import { isPostgresUrl } from './location.js';
import { checkDatabase, copyDatabase } from './sqlite/backup.js';

/**
 * Backup and restore of a whole database file, while agents keep using it. Only SQLite files: a PostgreSQL database is
 * backed up with its own tools (pg_dump), and backup and restore refuse it saying so.
 */

const exists = (path: string) => access(path).then(() => true, () => false);

/** A PostgreSQL database has its own tools, which copy it consistently while it serves. */
function refusePostgres(command: 'backup' | 'restore', ...locations: string[]) {
  if (!locations.some(isPostgresUrl)) return;
  const how = command === 'backup' ? 'pg_dump --format=custom --file=team.dump <url>' : 'pg_restore --clean --dbname=<url> team.dump';
  throw new TeamTableError('VALIDATION', `${command} copies SQLite files; for a PostgreSQL database use its own tools (${how}), or move a team with export | import`, { field: 'db' });
}

export interface BackupResult {
  path: string;
  pages: number;
  schema_version: number;
  teams: number;
  integrity: 'ok';
}

/** Copies the live database `location` to `destination` (refused if it exists, unless `force`), then checks the copy. */
export async function backupDatabase(location: string, destination: string, options: { force?: boolean; progress?: Progress } = {}): Promise<BackupResult> {
  refusePostgres('backup', location, destination);
  if (resolve(location) === resolve(destination)) throw conflict(`backup: the destination is the database itself (${destination})`);
  if (!options.force && (await exists(destination))) throw conflict(`backup: ${destination} exists; choose another file, or pass --force to replace it`, { path: destination });
  const { pages } = await copyDatabase(location, destination, options.progress);
  return { path: resolve(destination), pages, ...(await checkDatabase(destination)) };
}

/**
 * Replaces the database `location` with the backup `source`, after checking the backup. A database that holds teams,
 * or cannot be read, is replaced only with `force`: a restore never guesses that its target may go.
 */
export async function restoreDatabase(source: string, location: string, options: { force?: boolean; progress?: Progress } = {}): Promise<BackupResult> {
  refusePostgres('restore', source, location);
  const backup = await checkDatabase(source);
  if (resolve(location) === resolve(source)) throw conflict(`restore: the backup is the database itself (${source})`);
  if (!options.force && (await exists(location))) {
    const current = await checkDatabase(location).catch(() => undefined);
    if (!current || current.teams > 0) {
      throw conflict(`restore: ${location} ${current ? `holds ${current.teams} team(s)` : 'exists and cannot be read'}; pass --force to replace it with ${source}`, { path: location });
    }
  }
  const { pages } = await copyDatabase(source, location, options.progress);
  return { path: resolve(location), pages, ...backup };
}
