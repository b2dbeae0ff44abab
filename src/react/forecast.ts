import { ConfigurationError, describe } from '../errors.js';
import type { RecordFilter, Store } from '../keep/types.js';
import { femtoToDecimal, femtoToUsd, usdToFemto } from '../price/money.js';
import { type CalendarWindow, windowAt } from './budgets/calendar.js';

const DAY = 86_400_000;

/** Complete days the daily rate is estimated from, by default. */
export const LOOKBACK_DAYS = 14;

/**
 * A spend forecast for one window. Method: the daily rate is the exponentially weighted mean of
 * the last `lookbackDays` complete days' spend (half-life `halfLifeDays`; days without calls
 * count as 0), and the projection is the spend so far plus that rate over the time left. The
 * range uses the weighted standard deviation σ of the same days: rate − σ (at least 0) and
 * rate + σ. With no complete day of data yet, the rate is today's spend over the time elapsed
 * today, with σ = half the rate.
 */
export interface SpendForecast {
  window: CalendarWindow;
  windowStart: string;
  windowEnd: string;
  spentUsd: number;
  spentUsdExact: string;
  /** The estimated daily rate (USD a day). */
  dailyRateUsd: number;
  projectedUsd: number;
  projectedLowUsd: number;
  projectedHighUsd: number;
  limitUsd: number | null;
  /** When the limit is reached at the estimated rate: null without a limit or beyond the window. */
  runOutAt: string | null;
  /** True when the projection passes the limit. */
  overLimit: boolean;
  method: 'ewma-daily' | 'elapsed-today';
}

/** Options of `forecastSpend`. */
export interface ForecastInput {
  window: CalendarWindow;
  now: number;
  /** Spend in the current window so far, exact. */
  spentFemto: bigint;
  /** Spend per UTC-or-zoned day start (epoch ms), any order; missing days are 0. */
  daily: readonly { start: number; costFemto: bigint }[];
  limitUsd?: number | null;
  timeZone?: string;
  lookbackDays?: number;
  halfLifeDays?: number;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigurationError(
      `forecast: ${name} must be a positive number (got ${describe(value)})`,
    );
  }
  return value;
}

/**
 * Projects a window's spend to its end from the recent daily series (see `SpendForecast`).
 *
 * @example
 * const f = forecastSpend({ window: 'month', now: Date.now(), spentFemto, daily });
 * if (f.overLimit) console.warn(`runs out ${f.runOutAt}`);
 */
export function forecastSpend(input: ForecastInput): SpendForecast {
  const lookback = Math.floor(positiveInteger('lookbackDays', input.lookbackDays, LOOKBACK_DAYS));
  const halfLife = positiveInteger('halfLifeDays', input.halfLifeDays, 3);
  if (!Number.isFinite(input.now)) {
    throw new ConfigurationError(`forecast: now must be epoch ms (got ${describe(input.now)})`);
  }
  const span = windowAt(input.window, input.now, input.timeZone ?? 'UTC');
  const today = windowAt('day', input.now, input.timeZone ?? 'UTC');
  const byDay = new Map<number, bigint>();
  for (const { start, costFemto } of input.daily)
    byDay.set(start, (byDay.get(start) ?? 0n) + costFemto);
  // Complete days before today, newest first; each day's start found by stepping back a day.
  const days: number[] = [];
  let cursor = today.start;
  for (let i = 0; i < lookback; i++) {
    const day = windowAt('day', cursor - 1, input.timeZone ?? 'UTC');
    days.push(femtoToUsd(byDay.get(day.start) ?? 0n));
    cursor = day.start;
  }
  const anyData = [...byDay.entries()].some(([start, cost]) => start < today.start && cost > 0n);
  let rate: number;
  let sigma: number;
  let method: SpendForecast['method'];
  if (anyData) {
    let weight = 0;
    let mean = 0;
    const decay = 2 ** (-1 / halfLife);
    days.forEach((spend, i) => {
      const w = decay ** i;
      weight += w;
      mean += w * spend;
    });
    mean /= weight;
    let variance = 0;
    days.forEach((spend, i) => {
      variance += decay ** i * (spend - mean) ** 2;
    });
    rate = mean;
    sigma = Math.sqrt(variance / weight);
    method = 'ewma-daily';
  } else {
    const elapsed = Math.max(input.now - today.start, 1);
    rate = (femtoToUsd(byDay.get(today.start) ?? 0n) * DAY) / elapsed;
    sigma = rate / 2;
    method = 'elapsed-today';
  }
  const spent = femtoToUsd(input.spentFemto);
  const left = Math.max(span.end - input.now, 0) / DAY;
  const limit = input.limitUsd ?? null;
  let runOutAt: string | null = null;
  if (limit !== null) {
    if (spent >= limit) runOutAt = new Date(input.now).toISOString();
    else if (rate > 0) {
      const at = input.now + ((limit - spent) / rate) * DAY;
      if (at < span.end) runOutAt = new Date(Math.round(at)).toISOString();
    }
  }
  const projected = spent + rate * left;
  return {
    window: input.window,
    windowStart: new Date(span.start).toISOString(),
    windowEnd: new Date(span.end).toISOString(),
    spentUsd: spent,
    spentUsdExact: femtoToDecimal(input.spentFemto),
    dailyRateUsd: rate,
    projectedUsd: projected,
    projectedLowUsd: spent + Math.max(rate - sigma, 0) * left,
    projectedHighUsd: spent + (rate + sigma) * left,
    limitUsd: limit,
    runOutAt,
    overLimit: limit !== null && projected > limit,
    method,
  };
}

/**
 * `forecastSpend` from the ledger: the window's spend and the recent daily series of the calls
 * matching `filter` (a user, tenant, agent, model, or everything).
 *
 * @example
 * const month = await ledgerForecast(store, { window: 'month', limitUsd: 500 });
 */
export async function ledgerForecast(
  store: Pick<Store, 'summarize'>,
  options: {
    window: CalendarWindow;
    filter?: RecordFilter;
    limitUsd?: number | null;
    now?: number;
    timeZone?: string;
    lookbackDays?: number;
    halfLifeDays?: number;
  },
): Promise<SpendForecast> {
  const now = options.now ?? Date.now();
  const zone = options.timeZone ?? 'UTC';
  const span = windowAt(options.window, now, zone);
  const lookback = Math.floor(positiveInteger('lookbackDays', options.lookbackDays, LOOKBACK_DAYS));
  const from = Math.min(span.start, windowAt('day', now, zone).start - (lookback + 1) * DAY);
  const filter = options.filter ?? {};
  const [inWindow, daily] = await Promise.all([
    store.summarize({ ...filter, groupBy: 'none', from: span.start, to: now + 1 }),
    store.summarize({ ...filter, groupBy: 'day', from, to: now + 1, timeZone: zone }),
  ]);
  if (options.limitUsd !== undefined && options.limitUsd !== null) usdToFemto(options.limitUsd);
  return forecastSpend({
    window: options.window,
    now,
    spentFemto: inWindow[0]?.costFemto ?? 0n,
    daily: daily.map((row) => ({ start: Date.parse(row.key), costFemto: row.costFemto })),
    limitUsd: options.limitUsd ?? null,
    timeZone: zone,
    lookbackDays: lookback,
    ...(options.halfLifeDays === undefined ? {} : { halfLifeDays: options.halfLifeDays }),
  });
}
