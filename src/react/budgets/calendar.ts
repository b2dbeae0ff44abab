/**
 * Calendar windows in an IANA time zone: where the hour, day, ISO week or month that contains
 * an instant starts and ends. Budgets reset at these boundaries, never "24 h after first use"
 * (a LiteLLM defect, see DESIGN.md), and a day is whatever the zone's clock says: 23 hours on
 * the day clocks spring forward, 25 when they fall back.
 */
import { ConfigurationError, describe } from '../../errors.js';

/** A calendar window kind. */
export type CalendarWindow = 'hour' | 'day' | 'week' | 'month';

/** One window: [start, end) in epoch ms, and a label that names it in its zone. */
export interface WindowSpan {
  start: number;
  end: number;
  /**
   * `2026-11-23T14+0100` (hour: local hour and the offset at its start, so the two 02:00 hours
   * of a fall-back night differ), `2026-11-23` (day), `2026-W48` (ISO week), `2026-11` (month).
   */
  label: string;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch (cause) {
      throw new ConfigurationError(
        `timeZone ${describe(timeZone)} is not an IANA time zone (e.g. "Europe/Berlin")`,
        { cause },
      );
    }
    formatters.set(timeZone, format);
  }
  return format;
}

/** Throws `ConfigurationError` unless `timeZone` is a time zone this runtime knows. */
export function assertTimeZone(timeZone: string): void {
  formatter(timeZone);
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The zone's wall clock at instant `at`. */
function wallAt(at: number, timeZone: string): Wall {
  const wall: Wall = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatter(timeZone).formatToParts(at)) {
    if (part.type in wall) wall[part.type as keyof Wall] = Number(part.value);
  }
  return wall;
}

/** The zone's offset from UTC at `at`, in ms (whole seconds: old LMT offsets have seconds). */
function offsetAt(at: number, timeZone: string): number {
  const w = wallAt(at, timeZone);
  return (
    Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(at / 1000) * 1000
  );
}

/**
 * The first instant whose wall clock reads `wallMs` (a wall time written as if it were UTC).
 * Ambiguous (clocks fell back): the earlier one. Skipped (clocks sprang forward): the moment of
 * the jump, the first instant after the missing wall time.
 */
function instantOfWall(wallMs: number, timeZone: string): number {
  const before = offsetAt(wallMs - DAY, timeZone);
  const after = offsetAt(wallMs + DAY, timeZone);
  const early = wallMs - before;
  const late = wallMs - after;
  const earlyValid = offsetAt(early, timeZone) === before;
  const lateValid = offsetAt(late, timeZone) === after;
  if (earlyValid && lateValid) return Math.min(early, late);
  if (lateValid) return late;
  return early;
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

function offsetLabel(offsetMs: number): string {
  const minutes = Math.round(offsetMs / 60_000);
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

/** ISO week-numbering year and week of a calendar date (given as a UTC midnight). */
function isoWeek(dateUtc: number): { year: number; week: number } {
  const weekday = new Date(dateUtc).getUTCDay() || 7;
  const thursday = new Date(dateUtc + (4 - weekday) * DAY);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / DAY / 7) + 1;
  return { year, week };
}

function computeSpan(window: CalendarWindow, at: number, timeZone: string): WindowSpan {
  const w = wallAt(at, timeZone);
  if (window === 'hour') {
    // Back to the top of the local hour; real elapsed time, so both 02:00 hours of a fall-back
    // night are distinct one-hour windows.
    const start = at - ((w.minute * 60 + w.second) * 1000 + (((at % 1000) + 1000) % 1000));
    const label = `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}${offsetLabel(offsetAt(start, timeZone))}`;
    return { start, end: start + HOUR, label };
  }
  const date = Date.UTC(w.year, w.month - 1, w.day);
  if (window === 'day') {
    return {
      start: instantOfWall(date, timeZone),
      end: instantOfWall(Date.UTC(w.year, w.month - 1, w.day + 1), timeZone),
      label: `${w.year}-${pad(w.month)}-${pad(w.day)}`,
    };
  }
  if (window === 'week') {
    const monday = date - ((new Date(date).getUTCDay() + 6) % 7) * DAY;
    const { year, week } = isoWeek(date);
    return {
      start: instantOfWall(monday, timeZone),
      end: instantOfWall(monday + 7 * DAY, timeZone),
      label: `${year}-W${pad(week)}`,
    };
  }
  return {
    start: instantOfWall(Date.UTC(w.year, w.month - 1, 1), timeZone),
    end: instantOfWall(Date.UTC(w.year, w.month, 1), timeZone),
    label: `${w.year}-${pad(w.month)}`,
  };
}

// The last span per (window, zone): consecutive calls and time-sorted scans mostly stay in it,
// so Intl (a few µs a call) runs about once per window.
const lastSpans = new Map<string, WindowSpan>();

/**
 * The calendar window of kind `window` containing instant `at` (epoch ms) in `timeZone`.
 *
 * @example
 * windowAt('day', Date.parse('2026-03-29T12:00:00Z'), 'Europe/Berlin');
 * // { start: Date.parse('2026-03-28T23:00:00Z'), end: Date.parse('2026-03-29T22:00:00Z'),
 * //   label: '2026-03-29' }: 23 hours, the clocks spring forward that night
 */
export function windowAt(window: CalendarWindow, at: number, timeZone = 'UTC'): WindowSpan {
  const cacheKey = `${window}|${timeZone}`;
  const last = lastSpans.get(cacheKey);
  if (last && at >= last.start && at < last.end) return last;
  const span = computeSpan(window, at, timeZone);
  lastSpans.set(cacheKey, span);
  return span;
}
