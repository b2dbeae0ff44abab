import { ConfigurationError } from '../errors.js';
import { assertTimeZone, windowAt } from '../react/budgets/calendar.js';

/**
 * Hour and day buckets of summaries in an IANA time zone, shared by the SQL drivers. SQLite has no
 * time-zone database (and Postgres's may differ from the runtime's), so
 * SQL groups rows by UTC slots and each slot is mapped here to its calendar window (the same
 * `windowAt` budgets reset on), keyed by the ISO instant the window starts.
 *
 * Slots are whole hours when every offset the zone uses over the range is a whole number of
 * hours (checked in January and July of each year), else quarter hours: every zone's offset
 * has been a multiple of 15 minutes since 1972 (India +5:30, Nepal +5:45), so a slot never
 * straddles two windows.
 */

const QUARTER_HOUR = 900_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const FIRST_CHECKED = Date.UTC(1800, 0, 1);
const LAST_CHECKED = Date.UTC(2100, 11, 31);

const isUtc = (timeZone: string) => timeZone === 'UTC' || timeZone === 'Etc/UTC';
const mod = (a: number, b: number) => ((a % b) + b) % b;

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at an instant, in ms: "GMT+05:45" → 5.75 h. */
function offsetAt(ms: number, timeZone: string): number {
  let format = offsetFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    offsetFormats.set(timeZone, format);
  }
  const name = format.formatToParts(ms).find((part) => part.type === 'timeZoneName')?.value;
  const match = /([+-])(\d{2}):(\d{2})(?::(\d{2}))?/.exec(name ?? '');
  if (!match) return 0; // "GMT": UTC itself
  const [, sign, h, m, s] = match;
  const offset = Number(h) * HOUR + Number(m) * 60_000 + Number(s ?? 0) * 1000;
  return sign === '-' ? -offset : offset;
}

/** Throws a ConfigurationError for a zone this runtime does not know, before any SQL runs. */
export function checkTimeZone(timeZone: string): void {
  if (typeof timeZone !== 'string') {
    throw new ConfigurationError(`timeZone must be an IANA time zone, got ${String(timeZone)}`);
  }
  assertTimeZone(timeZone);
}

/**
 * The width of the UTC slots SQL groups by, for `unit` buckets in `timeZone` over [from, to)
 * (open ends: 2000 to next year).
 */
export function slotMs(unit: 'hour' | 'day', timeZone: string, from?: number, to?: number): number {
  if (isUtc(timeZone)) return unit === 'hour' ? HOUR : DAY;
  const first = yearOf(from ?? Date.UTC(2000, 0, 1));
  const last = yearOf(to ?? Date.now() + 366 * DAY);
  for (let year = first; year <= last; year++) {
    for (const month of [0, 6]) {
      if (mod(offsetAt(Date.UTC(year, month, 1), timeZone), HOUR) !== 0) return QUARTER_HOUR;
    }
  }
  return HOUR;
}

/**
 * The UTC year of an instant, within [1800, 2100]. Every zone keeps one offset (its local mean
 * time) before 1800 and repeats its last rule after 2100, so those years say all the rest do. A
 * wide bound (`to: Number.MAX_SAFE_INTEGER`) thus stays a year, not NaN (which skipped the check
 * and cut half-hour zones into whole hours), nor an instant `Intl` refuses, nor 270,000 years.
 */
function yearOf(ms: number): number {
  if (ms < FIRST_CHECKED) return 1800;
  if (ms > LAST_CHECKED) return 2100;
  return new Date(ms).getUTCFullYear();
}

/**
 * Maps slot starts, in ascending order, to bucket keys: the ISO start of the local hour or day.
 * A window is computed once and reused for every slot inside it (a day holds up to 96 slots).
 *
 * @example
 * const keyOf = bucketKeys('day', 'America/New_York');
 * keyOf(Date.parse('2026-11-23T03:00:00Z')); // '2026-11-22T05:00:00.000Z' (Nov 22, EST)
 */
export function bucketKeys(unit: 'hour' | 'day', timeZone: string): (slotStart: number) => string {
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  let key = '';
  return (slotStart) => {
    if (slotStart < start || slotStart >= end) {
      const window = windowAt(unit, slotStart, timeZone);
      start = window.start;
      end = window.end;
      key = new Date(start).toISOString();
    }
    return key;
  };
}
