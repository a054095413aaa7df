/**
 * A rule's time-of-day condition (`outside_hours`, docs/alerts.md): the rule counts only events
 * whose `occurred_at`, read on the wall clock of an IANA time zone, falls outside working hours:
 * on a day not among `days`, or before `start` or from `end` on. Daylight saving time follows the
 * zone's rules (a 08:00 start is 07:00 UTC in a Berlin winter and 06:00 UTC in its summer).
 *
 * The zone must be known both to the platform (Intl) and to PostgreSQL, which evaluates the
 * condition inside the alert follower's set-based statements (`at time zone`).
 */
import { type ErrorDetail, TrailproofError } from '../errors.ts';
import type { Fragment } from '../query/event-repository.ts';
import type { Sql } from '../store/db.ts';

export interface OutsideHours {
  /** An IANA time zone name, as PostgreSQL spells it (`Europe/Berlin`, `UTC`). */
  timezone: string;
  /** ISO weekdays with working hours: 1 is Monday, 7 is Sunday. */
  days: number[];
  /** Wall-clock `HH:MM` the working hours start at (inside) and end at (outside; `24:00` for midnight). */
  start: string;
  end: string;
}

/** Monday to Friday, 08:00 to 18:00 UTC: what an omitted field means. */
export const WORKING_HOURS: Readonly<OutsideHours> = Object.freeze({ timezone: 'UTC', days: [1, 2, 3, 4, 5], start: '08:00', end: '18:00' });

const FIELDS = ['timezone', 'days', 'start', 'end'];
const ZONE = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/;
const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;

/**
 * The condition `value` gives (null removes it), validated: every error points below `pointer`.
 * The time zone is looked up in PostgreSQL, which answers its own spelling of the name.
 */
export async function checkOutsideHours(sql: Sql, value: unknown, pointer = '/outside_hours'): Promise<OutsideHours | null> {
  if (value === null) return null;
  const fail = (details: ErrorDetail[]) => new TrailproofError('REQUEST_INVALID', details.map((d) => `${d.pointer}: ${d.message}`).join('; '), { details });
  if (typeof value !== 'object' || Array.isArray(value))
    throw fail([{ pointer, code: 'invalid_type', message: 'outside_hours must be an object {timezone, days, start, end} or null' }]);
  const given = value as Record<string, unknown>;
  const errors: ErrorDetail[] = [];
  for (const extra of Object.keys(given).filter((k) => !FIELDS.includes(k)))
    errors.push({ pointer: `${pointer}/${extra}`, code: 'unknown_field', message: `outside_hours takes ${FIELDS.join(', ')}` });
  const hours: OutsideHours = { ...WORKING_HOURS, ...(given as Partial<OutsideHours>) };
  const zone = await knownZone(sql, hours.timezone);
  if (zone === null)
    errors.push({ pointer: `${pointer}/timezone`, code: 'invalid_timezone', message: 'timezone must be an IANA time zone name such as Europe/Berlin or UTC' });
  const days = hours.days as unknown;
  if (
    !Array.isArray(days) ||
    days.length === 0 ||
    days.length > 7 ||
    !days.every((d) => Number.isInteger(d) && d >= 1 && d <= 7) ||
    new Set(days).size !== days.length
  )
    errors.push({ pointer: `${pointer}/days`, code: 'invalid_value', message: 'days must list 1–7 distinct ISO weekdays (1 is Monday, 7 is Sunday)' });
  if (typeof hours.start !== 'string' || !CLOCK.test(hours.start))
    errors.push({ pointer: `${pointer}/start`, code: 'pattern', message: 'start must be a time of day HH:MM from 00:00 to 23:59' });
  if (typeof hours.end !== 'string' || !(CLOCK.test(hours.end) || hours.end === '24:00'))
    errors.push({ pointer: `${pointer}/end`, code: 'pattern', message: 'end must be a time of day HH:MM from 00:01 to 24:00' });
  else if (typeof hours.start === 'string' && hours.end <= hours.start)
    errors.push({ pointer: `${pointer}/end`, code: 'out_of_range', message: 'end must be later in the day than start' });
  if (errors.length > 0) throw fail(errors);
  return { timezone: zone!, days: [...(days as number[])].sort((a, b) => a - b), start: hours.start, end: hours.end };
}

/** PostgreSQL's spelling of the zone (names match case-insensitively), if both it and Intl know it. */
async function knownZone(sql: Sql, name: unknown): Promise<string | null> {
  if (typeof name !== 'string' || !ZONE.test(name)) return null;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
  } catch {
    return null;
  }
  const [row] = await sql<{ name: string }[]>`select name from pg_timezone_names where lower(name) = lower(${name}) order by name = ${name} desc limit 1`;
  return row?.name ?? null;
}

/** The SQL condition: the event `e` happened outside the working hours. */
export function outsideHoursCondition(sql: Sql, hours: OutsideHours): Fragment {
  const local = sql`(e.occurred_at at time zone ${hours.timezone})`;
  return sql`not (extract(isodow from ${local})::int = any(${hours.days}::int[])
    and ${local}::time >= ${hours.start}::time and ${local}::time < ${hours.end}::time)`;
}
