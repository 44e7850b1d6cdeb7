import { randomBytes } from 'node:crypto';
import { LIMITS } from './limits.js';

/** A new 8-character identifier (hex, like the seed's `5916dabf`). */
export const newId = (): string => randomBytes(4).toString('hex');

/**
 * The agent id derived from a display name: lowercase ASCII letters and digits, spaces become hyphens
 * (`Mary Jane` → `mary-jane`, `Zoë` → `zoe`). Returns '' when nothing usable is left.
 */
export function agentIdFromName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .trim()
    .replace(/[\s_]+/g, '-')
    .replace(/[^a-z0-9-]/g, '')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, LIMITS.agentId);
}

/** The key of team-name resolution: case-insensitive, spaces, hyphens and underscores equivalent. */
export function teamSlug(name: string): string {
  return name.trim().toLowerCase().replace(/[\s_-]+/g, '-').replace(/^-|-$/g, '');
}
