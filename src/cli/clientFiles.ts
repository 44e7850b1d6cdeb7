import { isDeepStrictEqual } from 'node:util';
import { applyEdits, modify, parse as parseJsonc, printParseErrorCode } from 'jsonc-parser';
import type { ParseError } from 'jsonc-parser';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { TeamTableError } from '../core/errors.js';

/**
 * Merging MCP server entries into the files clients read — Claude Code's `.mcp.json`, Cursor's `.cursor/mcp.json`
 * (JSON, comments allowed) and Codex's `config.toml` — without touching anything else in them: other servers,
 * other settings, comments and formatting stay as they were. An entry already as wanted is left alone, so running
 * `init` again changes nothing.
 */

export interface ServerEntry {
  command: string;
  args: string[];
}

export interface Merge {
  /** The new text of the file (the same text when nothing changed). */
  text: string;
  added: string[];
  changed: string[];
  unchanged: string[];
}

const unreadable = (file: string, why: string) =>
  new TeamTableError('VALIDATION', `${file}: ${why}; fix or move it, then run init again (nothing was written)`, { field: 'file', file });

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `entries` set under `mcpServers` of a JSON (or JSONC) client file. Only `command` and `args` of an entry are set:
 * fields a person added to it (env, …) stay.
 */
export function mergeJsonConfig(file: string, text: string | undefined, entries: Record<string, ServerEntry>): Merge {
  const merge: Merge = { text: text ?? '', added: [], changed: [], unchanged: [] };
  if (text === undefined || text.trim() === '') {
    merge.text = `${JSON.stringify({ mcpServers: entries }, null, 2)}\n`;
    merge.added = Object.keys(entries);
    return merge;
  }
  const errors: ParseError[] = [];
  const doc = parseJsonc(text, errors, { allowTrailingComma: true }) as unknown;
  if (errors.length) throw unreadable(file, `not valid JSON (${printParseErrorCode(errors[0]!.error)} at offset ${errors[0]!.offset})`);
  if (!isObject(doc)) throw unreadable(file, 'not a JSON object');
  if (doc.mcpServers !== undefined && !isObject(doc.mcpServers)) throw unreadable(file, '"mcpServers" is not an object');
  const servers = (doc.mcpServers ?? {}) as Json;
  const indent = /\n(\t| +)"/.exec(text)?.[1] ?? '  ';
  const formattingOptions = { insertSpaces: !indent.startsWith('\t'), tabSize: indent.startsWith('\t') ? 1 : indent.length, eol: text.includes('\r\n') ? '\r\n' : '\n' };
  for (const [key, entry] of Object.entries(entries)) {
    const existing = servers[key];
    if (isObject(existing) && isDeepStrictEqual(existing.command, entry.command) && isDeepStrictEqual(existing.args, entry.args)) {
      merge.unchanged.push(key);
      continue;
    }
    const paths: [string[], unknown][] = isObject(existing) ? [[['mcpServers', key, 'command'], entry.command], [['mcpServers', key, 'args'], entry.args]] : [[['mcpServers', key], entry]];
    for (const [path, value] of paths) merge.text = applyEdits(merge.text, modify(merge.text, path, value, { formattingOptions }));
    (existing === undefined ? merge.added : merge.changed).push(key);
  }
  return merge;
}

/** A TOML table header line for `[mcp_servers.<key>]`, in any of the ways TOML allows writing it. */
const headerOf = (key: string) => new RegExp(`^[ \\t]*\\[[ \\t]*mcp_servers[ \\t]*\\.[ \\t]*(?:${key}|"${key}"|'${key}')[ \\t]*\\][ \\t]*(?:#.*)?$`, 'm');
const ANY_HEADER = /^[ \t]*\[/m;

/**
 * `entries` set as `[mcp_servers.<key>]` tables of Codex's config.toml. A table already there is rewritten in place
 * (its other keys kept, its sub-tables such as `.env` untouched); a new one is appended. The result is parsed again
 * and must hold exactly what the file held plus the entries: anything else (an entry written inline, say) is refused
 * rather than guessed at.
 */
export function mergeTomlConfig(file: string, text: string | undefined, entries: Record<string, ServerEntry>): Merge {
  let doc: Json;
  try {
    doc = parseToml(text ?? '') as Json;
  } catch (error) {
    throw unreadable(file, `not valid TOML (${(error as Error).message.split('\n')[0]})`);
  }
  if (doc.mcp_servers !== undefined && !isObject(doc.mcp_servers)) throw unreadable(file, 'mcp_servers is not a table');
  const servers = (doc.mcp_servers ?? {}) as Json;
  const merge: Merge = { text: text ?? '', added: [], changed: [], unchanged: [] };
  const expectedServers: Json = structuredClone(servers);

  for (const [key, entry] of Object.entries(entries)) {
    if (!/^[A-Za-z0-9_-]+$/.test(key)) throw new Error(`server key '${key}' is not a bare TOML key`);
    const existing = servers[key];
    if (isObject(existing) && isDeepStrictEqual(existing.command, entry.command) && isDeepStrictEqual(existing.args, entry.args)) {
      merge.unchanged.push(key);
      continue;
    }
    const kept = isObject(existing) ? existing : {};
    expectedServers[key] = { ...kept, ...entry };
    // The table's own keys, ours last; its sub-tables stay where they are in the text.
    const own = Object.fromEntries(Object.entries({ ...kept, ...entry }).filter(([, v]) => !isObject(v)));
    const block = `[mcp_servers.${key}]\n${stringifyToml(own)}\n`;
    if (existing === undefined) {
      const separator = merge.text === '' || merge.text.endsWith('\n\n') ? '' : merge.text.endsWith('\n') ? '\n' : '\n\n';
      merge.text = `${merge.text}${separator}${block}`;
      merge.added.push(key);
      continue;
    }
    const header = headerOf(key).exec(merge.text);
    if (!header) throw unreadable(file, `[mcp_servers.${key}] is written in a form init does not rewrite (inline or dotted keys); change it by hand or remove it`);
    const bodyStart = header.index + header[0].length + 1;
    const next = ANY_HEADER.exec(merge.text.slice(bodyStart));
    const end = next ? bodyStart + next.index : merge.text.length;
    merge.text = `${merge.text.slice(0, header.index)}${block}${next ? '\n' : ''}${merge.text.slice(end)}`;
    merge.changed.push(key);
  }

  if (merge.added.length + merge.changed.length === 0) return merge;
  const expected = { ...doc, mcp_servers: expectedServers };
  let result: unknown;
  try {
    result = parseToml(merge.text);
  } catch (error) {
    throw unreadable(file, `could not be merged safely (${(error as Error).message.split('\n')[0]})`);
  }
  if (!isDeepStrictEqual(normalise(result), normalise(expected))) throw unreadable(file, 'could not be merged without changing other settings');
  return merge;
}

/** TOML values as plain JSON (dates and other special values compared by their text). */
const normalise = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;
