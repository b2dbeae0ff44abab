import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketKeys, checkTimeZone, slotMs } from '../../src/keep/buckets.js';
import { joinFemto, splitFemto } from '../../src/sqlite/money.js';

describe('femto-dollars as micro-dollars + remainder', () => {
  it.each([
    [0n, 0, 0],
    [999_999_999n, 0, 999_999_999],
    [1_000_000_000n, 1, 0],
    [2n ** 53n - 1n, 9_007_199, 254_740_991],
  ])('splits %s exactly', (femto, micro, rem) => {
    expect(splitFemto(femto)).toEqual([micro, rem]);
    expect(joinFemto(micro, rem)).toBe(femto);
  });

  it('round-trips any amount up to 2^100', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 100n }), (femto) => {
        const [micro, rem] = splitFemto(femto);
        expect(rem).toBeGreaterThanOrEqual(0);
        expect(rem).toBeLessThan(1e9);
        expect(joinFemto(micro, rem)).toBe(femto);
      }),
    );
  });

  it('refuses a negative amount', () => {
    expect(() => splitFemto(-1n)).toThrow(RangeError);
  });
});

describe('summary slots in a time zone', () => {
  it.each([
    ['UTC', 'hour', 3_600_000],
    ['UTC', 'day', 86_400_000],
    ['America/New_York', 'day', 3_600_000],
    ['Europe/Berlin', 'hour', 3_600_000],
    ['Asia/Kolkata', 'day', 900_000],
    ['Asia/Kathmandu', 'hour', 900_000],
    ['Australia/Lord_Howe', 'day', 900_000], // +10:30, +11 in summer
  ] as const)('%s by %s groups by slots of %i ms', (zone, unit, width) => {
    expect(slotMs(unit, zone, Date.UTC(2025, 0, 1), Date.UTC(2027, 0, 1))).toBe(width);
  });

  it.each([
    ['2026-11-23T03:00:00Z', 'day', 'America/New_York', '2026-11-22T05:00:00.000Z'],
    ['2026-07-01T03:00:00Z', 'day', 'America/New_York', '2026-06-30T04:00:00.000Z'],
    ['2026-03-08T12:00:00Z', 'day', 'America/New_York', '2026-03-08T05:00:00.000Z'],
    ['2026-11-01T05:30:00Z', 'hour', 'America/New_York', '2026-11-01T05:00:00.000Z'], // 01:30 EDT
    ['2026-11-01T06:30:00Z', 'hour', 'America/New_York', '2026-11-01T06:00:00.000Z'], // 01:30 EST
    ['2026-11-23T10:10:00Z', 'hour', 'Asia/Kolkata', '2026-11-23T09:30:00.000Z'],
    ['2026-11-23T10:10:00Z', 'hour', 'Asia/Kathmandu', '2026-11-23T09:15:00.000Z'], // 15:55 NPT
    ['2026-11-23T10:10:00Z', 'day', 'UTC', '2026-11-23T00:00:00.000Z'],
    // Santiago springs forward at midnight: 2026-09-06 starts at 01:00 local.
    ['2026-09-06T12:00:00Z', 'day', 'America/Santiago', '2026-09-06T04:00:00.000Z'],
  ] as const)('%s by %s in %s is keyed %s', (iso, unit, zone, key) => {
    const keyOf = bucketKeys(unit, zone);
    const at = Date.parse(iso);
    expect(keyOf(at - (at % slotMs(unit, zone)))).toBe(key);
  });

  it('names an unknown zone', () => {
    expect(() => checkTimeZone('Mars/Olympus')).toThrow(/Mars\/Olympus/);
  });
});
