/**
 * Strict RFC 3339 timestamps (RFC 3339 §5.6 `date-time`), as `occurred_at` accepts them.
 *
 * `Date.parse` is not used: it accepts date-only strings, missing offsets (read as local time) and
 * rolls invalid dates over (2026-02-30 → March 2), all of which would silently store the wrong instant.
 */

/**
 * `full-date "T" full-time`: the offset is mandatory (`Z` or `±hh:mm`), fractional seconds may have any
 * number of digits, and `T`/`Z` may be lower case (RFC 3339 §5.6 note, ABNF strings are case-insensitive).
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** The same grammar as a JSON Schema `pattern` (ECMA-262 syntax), for the documented schema. */
export const RFC3339_PATTERN = RFC3339.source;

/**
 * The instants every part of the service can hold: PostgreSQL's `timestamptz` has no year 0, and
 * `Date#toISOString` writes years beyond 9999 with a sign (`+010000-…`) that PostgreSQL does not read.
 * An offset can move a date at either end out of them (`0001-01-01T00:00:00+01:00`).
 */
export const MIN_INSTANT_MS = Date.parse('0001-01-01T00:00:00.000Z');
export const MAX_INSTANT_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** Whether `ms` lies in [MIN_INSTANT_MS, MAX_INSTANT_MS]. */
export function isStorableInstant(ms: number): boolean {
  return ms >= MIN_INSTANT_MS && ms <= MAX_INSTANT_MS;
}

/**
 * Parses an RFC 3339 date-time to milliseconds since the epoch (UTC), or `undefined` when the text is
 * not one, names an impossible date or time (month 13, February 30, hour 24, offset +24:00), or an
 * instant outside years 0001–9999 in UTC (isStorableInstant).
 * Fractional seconds beyond milliseconds are truncated, never rounded, so an instant never moves later.
 * Leap seconds (`:60`, RFC 3339 §5.7) are rejected: ECMAScript time cannot represent them.
 */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const offsetHours = Number(m[10]);
    const offsetMins = Number(m[11]);
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  let utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  // Date.UTC reads years 0–99 as 1900–1999.
  if (year < 100) utc = new Date(utc).setUTCFullYear(year);
  const instant = utc - offsetMinutes * 60_000;
  return isStorableInstant(instant) ? instant : undefined;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
