import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { type CalendarWindow, windowAt } from '../../src/react/budgets/calendar.js';
import { windowKey } from '../../src/react/budgets/rules.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('windowAt: calendar windows in a time zone', () => {
  // [window, instant, zone, start, end, label]
  it.each<[CalendarWindow, string, string, string, string, string]>([
    // UTC, the default
    [
      'hour',
      '2026-11-23T14:59:59.999Z',
      'UTC',
      '2026-11-23T14:00:00.000Z',
      '2026-11-23T15:00:00.000Z',
      '2026-11-23T14+0000',
    ],
    [
      'day',
      '2026-11-23T00:00:00.000Z',
      'UTC',
      '2026-11-23T00:00:00.000Z',
      '2026-11-24T00:00:00.000Z',
      '2026-11-23',
    ],
    [
      'day',
      '2026-11-23T23:59:59.999Z',
      'UTC',
      '2026-11-23T00:00:00.000Z',
      '2026-11-24T00:00:00.000Z',
      '2026-11-23',
    ],
    // Berlin: the local day, not the UTC one (23:30 UTC is already tomorrow in Berlin)
    [
      'day',
      '2026-11-23T23:30:00.000Z',
      'Europe/Berlin',
      '2026-11-23T23:00:00.000Z',
      '2026-11-24T23:00:00.000Z',
      '2026-11-24',
    ],
    // Berlin spring forward, 2026-03-29 02:00 → 03:00: a 23-hour day
    [
      'day',
      '2026-03-29T12:00:00.000Z',
      'Europe/Berlin',
      '2026-03-28T23:00:00.000Z',
      '2026-03-29T22:00:00.000Z',
      '2026-03-29',
    ],
    [
      'hour',
      '2026-03-29T00:59:00.000Z',
      'Europe/Berlin',
      '2026-03-29T00:00:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T01+0100',
    ],
    [
      'hour',
      '2026-03-29T01:00:00.000Z',
      'Europe/Berlin',
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T02:00:00.000Z',
      '2026-03-29T03+0200',
    ],
    // Berlin fall back, 2026-10-25 03:00 → 02:00: a 25-hour day, two distinct 02:00 hours
    [
      'day',
      '2026-10-25T12:00:00.000Z',
      'Europe/Berlin',
      '2026-10-24T22:00:00.000Z',
      '2026-10-25T23:00:00.000Z',
      '2026-10-25',
    ],
    [
      'hour',
      '2026-10-25T00:30:00.000Z',
      'Europe/Berlin',
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T02+0200',
    ],
    [
      'hour',
      '2026-10-25T01:30:00.000Z',
      'Europe/Berlin',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T02:00:00.000Z',
      '2026-10-25T02+0100',
    ],
    // New York spring forward 2026-03-08 and fall back 2026-11-01
    [
      'day',
      '2026-03-08T12:00:00.000Z',
      'America/New_York',
      '2026-03-08T05:00:00.000Z',
      '2026-03-09T04:00:00.000Z',
      '2026-03-08',
    ],
    [
      'day',
      '2026-03-08T04:59:59.999Z',
      'America/New_York',
      '2026-03-07T05:00:00.000Z',
      '2026-03-08T05:00:00.000Z',
      '2026-03-07',
    ],
    [
      'day',
      '2026-11-01T12:00:00.000Z',
      'America/New_York',
      '2026-11-01T04:00:00.000Z',
      '2026-11-02T05:00:00.000Z',
      '2026-11-01',
    ],
    [
      'hour',
      '2026-11-01T05:15:00.000Z',
      'America/New_York',
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T06:00:00.000Z',
      '2026-11-01T01-0400',
    ],
    [
      'hour',
      '2026-11-01T06:15:00.000Z',
      'America/New_York',
      '2026-11-01T06:00:00.000Z',
      '2026-11-01T07:00:00.000Z',
      '2026-11-01T01-0500',
    ],
    // Half-hour and 45-minute offsets
    [
      'hour',
      '2026-11-23T12:10:00.000Z',
      'Asia/Kolkata',
      '2026-11-23T11:30:00.000Z',
      '2026-11-23T12:30:00.000Z',
      '2026-11-23T17+0530',
    ],
    [
      'day',
      '2026-11-23T12:10:00.000Z',
      'Asia/Kathmandu',
      '2026-11-22T18:15:00.000Z',
      '2026-11-23T18:15:00.000Z',
      '2026-11-23',
    ],
    // A zone whose clocks jump at midnight: the day starts at 01:00 local (Santiago, 2024-09-08)
    [
      'day',
      '2024-09-08T12:00:00.000Z',
      'America/Santiago',
      '2024-09-08T04:00:00.000Z',
      '2024-09-09T03:00:00.000Z',
      '2024-09-08',
    ],
    // ISO weeks start on Monday; the week-numbering year can differ from the calendar year
    [
      'week',
      '2026-11-23T12:00:00.000Z',
      'UTC',
      '2026-11-23T00:00:00.000Z',
      '2026-11-30T00:00:00.000Z',
      '2026-W48',
    ],
    [
      'week',
      '2026-11-29T23:59:59.999Z',
      'UTC',
      '2026-11-23T00:00:00.000Z',
      '2026-11-30T00:00:00.000Z',
      '2026-W48',
    ],
    [
      'week',
      '2026-11-22T23:30:00.000Z',
      'Europe/Berlin',
      '2026-11-22T23:00:00.000Z',
      '2026-11-29T23:00:00.000Z',
      '2026-W48',
    ],
    [
      'week',
      '2027-01-01T12:00:00.000Z',
      'UTC',
      '2026-12-28T00:00:00.000Z',
      '2027-01-04T00:00:00.000Z',
      '2026-W53',
    ],
    [
      'week',
      '2025-12-31T12:00:00.000Z',
      'UTC',
      '2025-12-29T00:00:00.000Z',
      '2026-01-05T00:00:00.000Z',
      '2026-W01',
    ],
    [
      'week',
      '2026-03-25T12:00:00.000Z',
      'Europe/Berlin',
      '2026-03-22T23:00:00.000Z',
      '2026-03-29T22:00:00.000Z',
      '2026-W13',
    ],
    // Months: ends of months, February, a month with a DST change, local vs UTC month
    [
      'month',
      '2026-01-31T23:30:00.000Z',
      'Europe/Berlin',
      '2026-01-31T23:00:00.000Z',
      '2026-02-28T23:00:00.000Z',
      '2026-02',
    ],
    [
      'month',
      '2026-01-31T22:59:59.999Z',
      'Europe/Berlin',
      '2025-12-31T23:00:00.000Z',
      '2026-01-31T23:00:00.000Z',
      '2026-01',
    ],
    [
      'month',
      '2028-02-29T12:00:00.000Z',
      'UTC',
      '2028-02-01T00:00:00.000Z',
      '2028-03-01T00:00:00.000Z',
      '2028-02',
    ],
    [
      'month',
      '2026-03-15T12:00:00.000Z',
      'America/New_York',
      '2026-03-01T05:00:00.000Z',
      '2026-04-01T04:00:00.000Z',
      '2026-03',
    ],
    [
      'month',
      '2026-12-31T23:59:59.999Z',
      'UTC',
      '2026-12-01T00:00:00.000Z',
      '2027-01-01T00:00:00.000Z',
      '2026-12',
    ],
  ])('%s at %s in %s: [%s, %s) %s', (window, instant, zone, start, end, label) => {
    const span = windowAt(window, at(instant), zone);
    expect({ start: iso(span.start), end: iso(span.end), label: span.label }).toEqual({
      start,
      end,
      label,
    });
  });

  it('is the same span for every instant of the window, and the next one at its end', () => {
    const zone = 'Europe/Berlin';
    const first = windowAt('day', at('2026-10-25T12:00:00Z'), zone);
    for (let t = first.start; t < first.end; t += 15 * 60_000) {
      expect(windowAt('day', t, zone).label).toBe('2026-10-25');
    }
    expect(windowAt('day', first.end, zone)).toMatchObject({
      start: first.end,
      label: '2026-10-26',
    });
    expect(windowAt('day', first.start - 1, zone).label).toBe('2026-10-24');
  });

  it('hour windows tile time without gaps or overlaps across both DST changes', () => {
    for (const zone of ['Europe/Berlin', 'America/New_York']) {
      for (const from of [at('2026-03-07T00:00:00Z'), at('2026-10-24T00:00:00Z')]) {
        let span = windowAt('hour', from, zone);
        const labels = new Set<string>();
        for (let i = 0; i < 24 * 10; i++) {
          const next = windowAt('hour', span.end, zone);
          expect(next.start).toBe(span.end);
          labels.add(span.label);
          span = next;
        }
        expect(labels.size).toBe(24 * 10);
      }
    }
  });

  it('rejects an unknown time zone with ConfigurationError naming it', () => {
    expect(() => windowAt('day', 0, 'Mars/Olympus')).toThrow(ConfigurationError);
    expect(() => windowAt('day', 0, 'Mars/Olympus')).toThrow(/Mars\/Olympus/);
  });
});

describe('windowKey: counter keys', () => {
  it.each<[Parameters<typeof windowKey>, string, string]>([
    [
      ['user', 'alice', 'day', at('2026-11-23T10:00:00Z'), 'Europe/Berlin'],
      'user:alice:day:2026-11-23@Europe/Berlin',
      '2026-11-23T23:00:00.000Z',
    ],
    [
      ['user', 'alice', 'day', at('2026-11-23T23:30:00Z'), 'Europe/Berlin'],
      'user:alice:day:2026-11-24@Europe/Berlin',
      '2026-11-24T23:00:00.000Z',
    ],
    [
      ['user', 'alice', 'day', at('2026-11-23T23:30:00Z')],
      'user:alice:day:2026-11-23@UTC',
      '2026-11-24T00:00:00.000Z',
    ],
    [
      ['tenant', 'acme', 'month', at('2026-11-23T10:00:00Z'), 'America/New_York'],
      'tenant:acme:month:2026-11@America/New_York',
      '2026-12-01T05:00:00.000Z',
    ],
    [
      ['global', '', 'week', at('2026-11-23T10:00:00Z')],
      'global:week:2026-W48@UTC',
      '2026-11-30T00:00:00.000Z',
    ],
    [
      ['model', 'gemini-2.5-flash', 'hour', at('2026-11-23T10:20:00Z')],
      'model:gemini-2.5-flash:hour:2026-11-23T10+0000@UTC',
      '2026-11-23T11:00:00.000Z',
    ],
    // ids cannot forge another key: ':' and '%' are escaped
    [
      ['user', 'a:b%c', 'day', at('2026-11-23T10:00:00Z')],
      'user:a%3Ab%25c:day:2026-11-23@UTC',
      '2026-11-24T00:00:00.000Z',
    ],
    [
      ['user', 'alice@example.com', 'day', at('2026-11-23T10:00:00Z')],
      'user:alice@example.com:day:2026-11-23@UTC',
      '2026-11-24T00:00:00.000Z',
    ],
  ])('%j → %s', (args, key, expiresAt) => {
    const result = windowKey(...args);
    expect(result.key).toBe(key);
    expect(iso(result.expiresAt)).toBe(expiresAt);
  });
});
