import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { MemoryStore } from '../../src/keep/memory.js';
import type { LedgerRecord } from '../../src/keep/types.js';
import { BudgetManager } from '../../src/react/budgets/index.js';
import { forecastSpend, ledgerForecast } from '../../src/react/forecast.js';
import { createSqliteStore } from '../../src/sqlite/index.js';
import { ledgerRow } from '../support/ledger-rows.js';

const DAY = 86_400_000;
const USD = 10n ** 15n;
/** 2026-11-15T12:00:00Z: 14.5 days into November (30 days), 15.5 days left. */
const NOW = Date.UTC(2026, 10, 15, 12);
const TODAY = Date.UTC(2026, 10, 15);

/** `days` complete days before today, each costing `spend(i)` dollars (i = 1 is yesterday). */
function series(days: number, spend: (i: number) => number) {
  return Array.from({ length: days }, (_, k) => ({
    start: TODAY - (k + 1) * DAY,
    costFemto: BigInt(Math.round(spend(k + 1) * 1e6)) * 1_000_000_000n,
  }));
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('forecastSpend on synthetic series', () => {
  it('a steady $1 a day projects the month to $30 exactly, no spread, running out on the 21st', () => {
    const f = forecastSpend({
      window: 'month',
      now: NOW,
      spentFemto: 14_500_000_000_000_000n,
      daily: series(14, () => 1),
      limitUsd: 20,
    });
    expect(f).toMatchObject({
      windowStart: '2026-11-01T00:00:00.000Z',
      windowEnd: '2026-12-01T00:00:00.000Z',
      spentUsdExact: '14.5',
      dailyRateUsd: 1,
      projectedUsd: 30,
      projectedLowUsd: 30,
      projectedHighUsd: 30,
      method: 'ewma-daily',
      overLimit: true,
      // (20 − 14.5) / $1 a day = 5.5 days after the 15th, 12:00
      runOutAt: '2026-11-21T00:00:00.000Z',
    });
  });

  it('with an unbounded half-life the rate is the plain mean, the range ± the standard deviation', () => {
    // 7 days at $2, 7 at $0: mean $1, σ $1
    const f = forecastSpend({
      window: 'month',
      now: NOW,
      spentFemto: 10n * USD,
      daily: series(14, (i) => (i <= 7 ? 2 : 0)),
      halfLifeDays: 1e12,
    });
    expect(f.dailyRateUsd).toBeCloseTo(1, 9);
    expect(f.projectedUsd).toBeCloseTo(10 + 15.5, 9);
    expect(f.projectedLowUsd).toBeCloseTo(10, 9);
    expect(f.projectedHighUsd).toBeCloseTo(10 + 31, 9);
    expect(f.runOutAt).toBeNull();
    expect(f.overLimit).toBe(false);
  });

  it('weights recent days more: a rise shows before the mean catches up', () => {
    const rising = forecastSpend({
      window: 'week',
      now: NOW,
      spentFemto: 0n,
      daily: series(14, (i) => (i <= 2 ? 10 : 1)),
    });
    // half-life 3 days: yesterday weighs 1, the day before 2^(−1/3), …
    const decay = 2 ** (-1 / 3);
    let weight = 0;
    let sum = 0;
    for (let i = 0; i < 14; i++) {
      weight += decay ** i;
      sum += decay ** i * (i < 2 ? 10 : 1);
    }
    expect(rising.dailyRateUsd).toBeCloseTo(sum / weight, 12);
    expect(rising.dailyRateUsd).toBeGreaterThan((2 * 10 + 12 * 1) / 14);
  });

  it('with no complete day of data, today’s pace over the time elapsed', () => {
    const f = forecastSpend({
      window: 'day',
      now: NOW,
      spentFemto: 3n * USD,
      daily: [{ start: TODAY, costFemto: 3n * USD }],
      limitUsd: 5,
    });
    // $3 in 12 hours: $6 a day; half a day left → $6; σ = $3
    expect(f).toMatchObject({
      method: 'elapsed-today',
      dailyRateUsd: 6,
      projectedUsd: 6,
      projectedLowUsd: 4.5,
      projectedHighUsd: 7.5,
      runOutAt: '2026-11-15T20:00:00.000Z',
      overLimit: true,
    });
  });

  it('a limit already spent runs out now; nothing spent and no history projects $0', () => {
    const spent = forecastSpend({
      window: 'day',
      now: NOW,
      spentFemto: 5n * USD,
      daily: [],
      limitUsd: 5,
    });
    expect(spent.runOutAt).toBe(new Date(NOW).toISOString());
    const empty = forecastSpend({
      window: 'month',
      now: NOW,
      spentFemto: 0n,
      daily: [],
      limitUsd: 1,
    });
    expect(empty).toMatchObject({ projectedUsd: 0, runOutAt: null, overLimit: false });
    expect(JSON.stringify(empty)).not.toMatch(/NaN|Infinity/);
  });

  it('bad options are ConfigurationError', () => {
    const base = { window: 'month' as const, now: NOW, spentFemto: 0n, daily: [] };
    expect(() => forecastSpend({ ...base, lookbackDays: 0 })).toThrow(ConfigurationError);
    expect(() => forecastSpend({ ...base, halfLifeDays: Number.NaN })).toThrow(/halfLifeDays/);
    expect(() => forecastSpend({ ...base, now: Number.NaN })).toThrow(/now/);
  });
});

describe('ledgerForecast on a seeded SQLite ledger', () => {
  it('reads the window spend and the daily series of the matching calls', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-forecast-'));
    dirs.push(dir);
    const store = createSqliteStore({ path: join(dir, 'ledger.db') });
    const records: LedgerRecord[] = [];
    // alice: $1 at 06:00 on each of the 20 days before today and today; bob: $5 once.
    for (let d = 0; d <= 20; d++) {
      records.push(row(`a${d}`, 'alice', TODAY - d * DAY + 6 * 3_600_000, USD));
    }
    records.push(row('b', 'bob', TODAY - 2 * DAY, 5n * USD));
    await store.append(records);
    const alice = await ledgerForecast(store, {
      window: 'month',
      filter: { userId: 'alice' },
      limitUsd: 20,
      now: NOW,
    });
    // November so far: the 1st to the 15th, one $1 call a day
    expect(alice.spentUsdExact).toBe('15');
    expect(alice.dailyRateUsd).toBeCloseTo(1, 12);
    expect(alice.projectedUsd).toBeCloseTo(30.5, 9);
    expect(alice.runOutAt).toBe('2026-11-20T12:00:00.000Z');
    const all = await ledgerForecast(store, { window: 'month', now: NOW });
    expect(all.spentUsdExact).toBe('20');
    await store.close();
  });
});

const row = ledgerRow;

describe('getUserStats forecasts', () => {
  it('projects each window from the ledger pace and the counter spend', async () => {
    const store = new MemoryStore();
    await store.append(
      Array.from({ length: 21 }, (_, d) =>
        row(`m${d}`, 'alice', TODAY - d * DAY + 6 * 3_600_000, USD),
      ),
    );
    const manager = new BudgetManager({ store, defaultDailyUserLimitUsd: null });
    manager.setRule({
      id: 'alice-month',
      scope: { kind: 'user', id: 'alice' },
      window: 'month',
      limitUsd: 20,
      mode: 'soft',
    });
    const { reservation } = await manager.reserve({
      callId: 'c1',
      userId: 'alice',
      model: 'gemini-2.5-flash',
      estimateUsd: 15,
      now: NOW,
    });
    await manager.settle(reservation, 15n * USD, NOW);
    const { month, today } = await manager.getUserStats('alice', NOW);
    expect(month.forecast).toMatchObject({
      window: 'month',
      spentUsdExact: '15',
      limitUsd: 20,
      runOutAt: '2026-11-20T12:00:00.000Z',
    });
    expect(month.forecast?.projectedUsd).toBeCloseTo(30.5, 9);
    expect(today.forecast).toMatchObject({ window: 'day', limitUsd: null, runOutAt: null });
  });

  it('a rule for every user gives each user their forecast against its limit', async () => {
    const store = new MemoryStore();
    await store.append(
      Array.from({ length: 21 }, (_, d) => [
        row(`a${d}`, 'alice', TODAY - d * DAY + 6 * 3_600_000, USD),
        row(`b${d}`, 'bob', TODAY - d * DAY + 6 * 3_600_000, 2n * USD),
      ]).flat(),
    );
    const manager = new BudgetManager({ store, defaultDailyUserLimitUsd: null });
    manager.setRule({
      id: 'each',
      scope: { kind: 'user' },
      window: 'week',
      limitUsd: 10,
      mode: 'soft',
    });
    const alice = await manager.getUserStats('alice', NOW);
    const bob = await manager.getUserStats('bob', NOW);
    // The week of Monday the 9th has half a day left: each user at their own pace ($1, $2 a day)
    // against the rule's $10 each.
    expect(alice.week.forecast).toMatchObject({ limitUsd: 10, overLimit: false, window: 'week' });
    expect(alice.week.forecast?.dailyRateUsd).toBeCloseTo(1, 12);
    expect(bob.week.forecast).toMatchObject({ limitUsd: 10, window: 'week' });
    expect(bob.week.forecast?.dailyRateUsd).toBeCloseTo(2, 12);
    expect(alice.month.forecast?.limitUsd).toBeNull();
  });
});
