/** Parameter schemas shared by several actions, so one name always means one thing. */
import { z } from 'zod';
import { LIMITS } from './limits.js';

export const teamRef = z.string().max(LIMITS.name).optional().describe('team id or name');
export const agentRef = z.string().min(1).max(LIMITS.agentId);
export const taskRef = z.string().min(1).max(LIMITS.agentId);
/** Whose state an action is about: an agent (the session's own by default), optionally checked against a team. */
export const agentTarget = { agent_id: agentRef.optional(), team_id: teamRef };
export const name = z.string().trim().min(1).max(LIMITS.name);
export const shortText = z.string().max(LIMITS.shortText);
export const longText = z.string().max(LIMITS.longText);
export const stringList = (itemMax: number) => z.array(z.string().trim().min(1).max(itemMax)).max(LIMITS.listItems);
export const priority = z.number().int().min(1).max(5);
export const limit = (fallback: number) => z.number().int().min(1).max(LIMITS.pageSize).default(fallback);
/** The next page of a list: the `next_cursor` of the page before. */
export const cursor = z.string().min(1).max(LIMITS.cursor).optional().describe('next_cursor of the previous page');
/** A create's retry key (see idempotency.ts). */
export const idempotencyKey = z
  .string()
  .min(1)
  .max(LIMITS.idempotencyKey)
  .optional()
  .describe('a retry with this key returns the first answer, creates nothing');
/** A calendar day that exists (2026-02-31 does not; JavaScript would quietly make it March 3). */
const realDay = (s: string) => {
  const day = s.slice(0, 10);
  const parsed = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === day;
};

/** A day, YYYY-MM-DD. */
export const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD').refine(realDay, 'must be a real calendar date');

/** An ISO-8601 date or date-time; without an offset it is read as UTC. */
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/, 'must be an ISO-8601 date')
  .refine((s) => realDay(s) && !Number.isNaN(Date.parse(toUtc(s))), 'must be a valid ISO-8601 date')
  .transform((s) => new Date(Date.parse(toUtc(s))).toISOString());

function toUtc(s: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return `${s}T00:00:00Z`;
  return /(Z|[+-]\d{2}:?\d{2})$/.test(s) ? s.replace(' ', 'T') : `${s.replace(' ', 'T')}Z`;
}

export const LEVELS = ['junior', 'mid', 'senior', 'lead'] as const;
export const AGENT_STATUSES = ['idle', 'working', 'paused', 'stopped'] as const;
export const WORKING_STATUSES = ['idle', 'working', 'blocked', 'waiting'] as const;
export const TASK_STATUSES = ['inbox', 'assigned', 'in_progress', 'review', 'done', 'blocked', 'cancelled'] as const;
export const DOC_TYPES = ['deliverable', 'research', 'protocol', 'notes'] as const;
export const DOC_FORMATS = ['markdown', 'code', 'json', 'image'] as const;
export const NOTIFICATION_TYPES = ['task_completed', 'task_failed', 'task_blocked', 'task_progress', 'agent_error'] as const;
export const COMMENT_TYPES = ['comment', 'status_change', 'blocker', 'resolution'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
