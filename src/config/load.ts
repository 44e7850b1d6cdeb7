import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Document, LineCounter } from 'yaml';
import { TeamTableError } from '../core/errors.js';
import { DEFAULT_SETTINGS, configFileSchema } from '../core/notificationConfig.js';
import type { NotificationSettings } from '../core/notificationConfig.js';
import { parseInput } from '../core/validate.js';
import { isPostgresUrl } from '../store/location.js';

/**
 * The config file: the seed's `config.yaml` shape, read from `team-table.yaml` beside the database or from
 * `--config PATH` (TEAM_TABLE_CONFIG). Every problem names its field and its line; a server refuses to start with
 * one rather than run with a half-understood configuration.
 */

export const CONFIG_FILE_NAME = 'team-table.yaml';

/** Beside the SQLite file; for a PostgreSQL database, in the working folder. */
export const defaultConfigPath = (db: string) => (isPostgresUrl(db) ? resolve(CONFIG_FILE_NAME) : join(dirname(resolve(db)), CONFIG_FILE_NAME));

export interface ConfigProblem {
  line: number;
  field: string;
  message: string;
}

export interface LoadedConfig {
  /** The file read, or undefined when there is none and the defaults apply. */
  path: string | undefined;
  notifications: NotificationSettings;
}

/** The line of the node at `path`, or of its nearest ancestor present in the file. */
function lineOf(doc: Document, lines: LineCounter, path: (string | number)[]): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return lines.linePos(range[0]).line;
  }
  return 1;
}

/** Parses and checks a config file's text; a VALIDATION error lists every problem (`details.problems`) with its line. */
export async function parseConfig(text: string, file: string): Promise<NotificationSettings> {
  // Loaded only when there is a file to read: the YAML parser costs a server about 100 ms of start-up.
  const { LineCounter, isMap, parseDocument } = await import('yaml');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    const problems = doc.errors.map((e) => ({ line: e.linePos?.[0]?.line ?? 1, field: '(yaml)', message: e.message.split('\n')[0]! }));
    throw new TeamTableError('VALIDATION', `${file}:${problems[0]!.line}: not valid YAML: ${problems[0]!.message}`, { problems });
  }
  const data = doc.contents === null ? {} : doc.toJS();
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new TeamTableError('VALIDATION', `${file}:1: expected a mapping with a 'notifications:' section`, { problems: [{ line: 1, field: '(root)', message: "expected a mapping with a 'notifications:' section" }] });
  }
  try {
    return parseInput(configFileSchema, data, file).notifications;
  } catch (error) {
    if (!(error instanceof TeamTableError)) throw error;
    const issues = (error.details.issues as { path: string; message: string }[] | undefined) ?? [];
    const pathOf = (dotted: string) => (dotted ? dotted.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : []);
    const problems: ConfigProblem[] = issues.map((issue) => ({ line: lineOf(doc, lines, pathOf(issue.path)), field: issue.path || '(root)', message: issue.message }));
    const first = problems[0]?.line ?? 1;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more: ${problems.slice(1, 4).map((p) => `line ${p.line} ${p.field}`).join(', ')}${problems.length > 4 ? ', …' : ''})` : '';
    throw new TeamTableError('VALIDATION', `${file}:${first}: ${error.message.slice(file.length + 2)}${more}`, { ...error.details, problems });
  }
}

/** Reads `path` (which must exist), or else `team-table.yaml` beside `db` when there is one. */
export async function loadConfig(options: { config?: string; db: string }): Promise<LoadedConfig> {
  const path = options.config ? resolve(options.config) : defaultConfigPath(options.db);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    // No file there (or no folder: the store then says why the database cannot be opened): the defaults.
    if (!options.config && ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return { path: undefined, notifications: DEFAULT_SETTINGS };
    throw new TeamTableError('VALIDATION', `cannot read the config file ${path}: ${(error as Error).message}`, { field: 'config' });
  }
  return { path, notifications: await parseConfig(text, path) };
}
