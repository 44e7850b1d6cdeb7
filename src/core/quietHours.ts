import { z } from 'zod';
import { isTimezone } from './schedule.js';

/**
 * Quiet hours: a daily window, in a time zone, when notifications that are not urgent wait. The window is read off
 * the local clock of its zone (Intl), so a daylight-saving change moves it with the wall clock: 22:00–08:00 in
 * America/New_York is 22:00–08:00 there on both sides of the change. `days` are the days a window *starts* on
 * (0 = Sunday): a Friday 22:00–08:00 window runs into Saturday morning.
 */

const time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time HH:MM, 00:00 to 23:59');


export const quietHoursSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    start: time.optional(),
    end: time.optional(),
    timezone: z.string().max(64).refine(isTimezone, 'must be an IANA time zone such as America/Sao_Paulo').default('UTC'),
    days: z.array(z.number().int().min(0).max(6)).max(7).optional(),
  })
  .superRefine((value, issues) => {
    for (const field of ['start', 'end'] as const) {
      if (value.enabled && !value[field]) issues.addIssue({ code: 'custom', path: [field], message: 'is required when quiet hours are enabled (HH:MM)' });
    }
  });

export type QuietHours = z.infer<typeof quietHoursSchema>;

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The weekday (0 = Sunday) and minute of the day that `instant` shows on the wall clocks of `zone`. */
function wallClock(instant: number, zone: string): { weekday: number; minute: number } {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', weekday: 'short', hour: '2-digit', minute: '2-digit' });
    formatters.set(zone, format);
  }
  let weekday = 0;
  let hour = 0;
  let minute = 0;
  for (const part of format.formatToParts(instant)) {
    if (part.type === 'weekday') weekday = WEEKDAYS.indexOf(part.value);
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { weekday, minute: hour * 60 + minute };
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * Whether `instant` falls in the quiet hours. A window whose start is after its end crosses midnight; start equal
 * to end is the whole day.
 */
export function isQuiet(quiet: QuietHours | undefined, instant: Date): boolean {
  if (!quiet?.enabled || !quiet.start || !quiet.end) return false;
  const { weekday, minute } = wallClock(instant.getTime(), quiet.timezone);
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  const on = (day: number) => !quiet.days || quiet.days.includes(day);
  if (start === end) return on(weekday);
  if (start < end) return minute >= start && minute < end && on(weekday);
  return (minute >= start && on(weekday)) || (minute < end && on((weekday + 6) % 7));
}

const MINUTE = 60_000;
/** How far ahead the end of quiet hours is looked for; a window chained over every day is re-checked then. */
const HORIZON_MINUTES = 8 * 24 * 60;

/**
 * When the quiet hours around `instant` end: the first minute after it that is not quiet. It walks the wall clock a
 * minute at a time rather than converting HH:MM back to an instant, because around a daylight-saving change a
 * local time can be missing or happen twice; every zone's offset is a whole number of minutes, so each step
 * lands on a minute of the local clock too.
 *
 * @example quietUntil({ enabled: true, start: '22:00', end: '08:00', timezone: 'UTC' }, new Date('2026-03-01T23:00Z'))
 *   // → 2026-03-02T08:00:00.000Z
 */
export function quietUntil(quiet: QuietHours | undefined, instant: Date): Date {
  if (!isQuiet(quiet, instant)) return instant;
  const first = Math.floor(instant.getTime() / MINUTE) * MINUTE + MINUTE;
  for (let step = 0; step < HORIZON_MINUTES; step++) {
    const at = new Date(first + step * MINUTE);
    if (!isQuiet(quiet, at)) return at;
  }
  return new Date(first + HORIZON_MINUTES * MINUTE);
}
