import { Cron } from 'croner';
import { z } from 'zod';

/**
 * Heartbeat schedules: an agent's cron expression read in its timezone (or its team's, or UTC), with croner.
 * Only the arithmetic lives here — which slot is due, which comes next — so that the scheduler runs on the core's
 * injected clock and a test jumps a quarter of an hour without waiting for it.
 */

export function isTimezone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** An IANA timezone (`Europe/Lisbon`, `America/Sao_Paulo`), or '' for the default. */
export const timezoneParam = z.union([z.literal(''), z.string().trim().max(64).refine(isTimezone, 'must be an IANA timezone like Europe/Lisbon or UTC')]).optional();

export const scheduleTimezone = (agent: { timezone: string }, team: { timezone: string }): string => agent.timezone || team.timezone || 'UTC';

const parsed = new Map<string, Cron>();

/** croner without a function only computes: no timer is started. */
function cronOf(schedule: string, timezone: string): Cron | null {
  const key = `${timezone} ${schedule}`;
  let cron = parsed.get(key);
  if (!cron) {
    try {
      cron = new Cron(schedule, { timezone });
    } catch {
      return null; // validated when set; a schedule stored before that check fires never rather than failing the scheduler
    }
    if (parsed.size > 1_000) parsed.clear();
    parsed.set(key, cron);
  }
  return cron;
}

/** The latest slot of `schedule` at or before `now`, or null (none yet, or an unreadable schedule). */
export function latestSlot(schedule: string, timezone: string, now: Date): Date | null {
  const cron = cronOf(schedule, timezone);
  if (!cron) return null;
  // croner's previousRuns leaves out the slot of the reference's own second: a slot in the last second comes from nextRun.
  const recent = cron.nextRun(new Date(now.getTime() - 1_000));
  if (recent && recent <= now) return recent;
  return cron.previousRuns(1, now)[0] ?? null;
}

/** The first slot of `schedule` after `now`, or null. */
export function nextSlot(schedule: string, timezone: string, now: Date): Date | null {
  return cronOf(schedule, timezone)?.nextRun(now) ?? null;
}
