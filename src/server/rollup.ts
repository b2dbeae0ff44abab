/**
 * Summaries over long ranges without rescanning the ledger on every request.
 *
 * A summary is a sum, so it composes. [from, to) is cut into a few minutes at each end, read
 * from the store on every call, and settled buckets in between: 5-minute buckets up to the first
 * hour boundary, hours up to the first UTC day boundary, whole days, then hours and 5-minute
 * buckets again up to the end. A bucket is settled once it ended `settleMs` ago; it is summarized
 * once and kept (a day as 24 hourly queries, yielding to other requests between them, so no
 * query blocks the event loop for long). Each range keeps its running sum of buckets and slides
 * with the clock, subtracting buckets that leave and adding those that enter. A 30-day summary
 * over a million SQLite rows goes from ~2 s to a few ms.
 *
 * Late records (a replay into a bucket already kept) show once that bucket is fetched again:
 * kept buckets older than `refreshMs` are refetched, oldest first, a few milliseconds' worth per
 * call, so no call pays for refetching everything at once.
 */
import { addRowToRow, orderSummaryRows } from '../keep/summary.js';
import type { Store, SummaryOptions, SummaryRow } from '../keep/types.js';

const FINE = 300_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const MAX_WINDOWS = 8;
/** Work (ms) a call may spend refetching stale buckets, beyond the first one. */
const REFRESH_BUDGET_MS = 3;

/** Options of `new Rollup(store, options)`: when buckets settle and are refreshed, and how many rows are kept. */
export interface RollupOptions {
  /** A bucket is kept once it ended this long ago (default 10 minutes). */
  settleMs?: number;
  /** A kept bucket is fetched again after this long, so late records show (default 10 minutes). */
  refreshMs?: number;
  /** Most summary rows kept in total; a range needing more goes to the store (default 1,000,000). */
  maxRows?: number;
}

/** A summary over an explicit time range. */
type RangeSummary = SummaryOptions & { from: number; to: number };

interface Bucket {
  start: number;
  end: number;
  rows: readonly SummaryRow[];
  fetchedAt: number;
}

/** A range's running sum of buckets, and which version of each bucket it holds. */
interface Window {
  totals: Map<string, SummaryRow>;
  parts: Map<string, Bucket>;
}

interface Series {
  buckets: Map<string, Bucket>;
  windows: Map<number, Window>;
  rows: number;
  usedAt: number;
  lock: Promise<unknown>;
}

type Fetch = (from: number, to: number) => Promise<SummaryRow[]>;

/**
 * Summaries through buckets kept in memory, exact (bigint sums) and equal to the store's own
 * answer for every range. Ranges filtered by user, thread or session (small, indexed) go
 * straight to the store.
 *
 * @example
 * const rollup = new Rollup(store);
 * const byModel = await rollup.summarize({ groupBy: 'model', from: Date.now() - 30 * 86_400_000, to: Date.now() });
 */
export class Rollup {
  private readonly series = new Map<string, Series>();
  private readonly settleMs: number;
  private readonly refreshMs: number;
  private readonly maxRows: number;
  private rows = 0;
  /** Series too large to keep: they go to the store. */
  private readonly tooLarge = new Set<string>();

  constructor(
    private readonly store: Store,
    options: RollupOptions = {},
    /** The data clock: which buckets are over. */
    private readonly now: () => number = Date.now,
    /** The wall clock: how old a kept bucket is. */
    private readonly clock: () => number = Date.now,
  ) {
    this.settleMs = options.settleMs ?? 600_000;
    this.refreshMs = options.refreshMs ?? 600_000;
    this.maxRows = options.maxRows ?? 1_000_000;
  }

  /** The store's summary, answered from settled buckets plus the unsettled edges (see `Store.summarize`). */
  async summarize(options: SummaryOptions): Promise<SummaryRow[]> {
    const { from, to } = options;
    if (from === undefined || to === undefined) return this.store.summarize(options);
    const a = Math.ceil(from / FINE) * FINE;
    const b = Math.floor(Math.min(to, this.now() - this.settleMs) / FINE) * FINE;
    const key = seriesKey(options);
    if (
      key === undefined ||
      b - a < 2 * HOUR ||
      !Number.isSafeInteger(a) ||
      !Number.isSafeInteger(b) ||
      this.tooLarge.has(key)
    ) {
      return this.store.summarize(options);
    }
    const series = this.seriesOf(key);
    // One call at a time per series: windows share its buckets and are updated in place.
    const run = series.lock.then(() => this.compose(key, series, { ...options, from, to }, a, b));
    series.lock = run.catch(() => undefined);
    return run;
  }

  private async compose(
    key: string,
    series: Series,
    options: RangeSummary,
    a: number,
    b: number,
  ): Promise<SummaryRow[]> {
    series.usedAt = this.clock();
    const { limit: _limit, ...query } = options;
    const fetch: Fetch = (from, to) => this.store.summarize({ ...query, from, to });
    try {
      await this.refresh(series, a, b, fetch);
      const window = await this.slide(series, options.to - options.from, a, b, fetch);
      this.prune(series);
      if (this.rows > this.maxRows) this.evict(key);
      const merged = new Map<string, SummaryRow>();
      for (const [k, row] of window.totals) merged.set(k, { ...row });
      if (options.from < a) mergeInto(merged, await fetch(options.from, a), 1);
      if (b < options.to) mergeInto(merged, await fetch(b, options.to), 1);
      return orderSummaryRows([...merged.values()], options);
    } catch (error) {
      if (!(error instanceof TooLarge)) throw error;
      this.drop(key);
      this.tooLarge.add(key);
      return this.store.summarize(options);
    }
  }

  /** Refetches the stalest kept buckets inside [a, b): one, then more while within budget. */
  private async refresh(series: Series, a: number, b: number, fetch: Fetch): Promise<void> {
    const staleBefore = this.clock() - this.refreshMs;
    const stale = [...series.buckets.values()]
      .filter((bucket) => bucket.start >= a && bucket.end <= b && bucket.fetchedAt < staleBefore)
      .sort((x, y) => x.fetchedAt - y.fetchedAt);
    const started = performance.now();
    for (const bucket of stale) {
      await this.load(series, bucket.start, bucket.end, fetch);
      if (performance.now() - started > REFRESH_BUDGET_MS) break;
    }
  }

  /** Moves the window of this span to [a, b), fetching the buckets no one has kept yet. */
  private async slide(
    series: Series,
    span: number,
    a: number,
    b: number,
    fetch: Fetch,
  ): Promise<Window> {
    let window = series.windows.get(span);
    if (!window) {
      // A few spans per series (30 days, 7 days…); the oldest one created goes first.
      const oldest = series.windows.keys().next();
      if (series.windows.size >= MAX_WINDOWS && !oldest.done) series.windows.delete(oldest.value);
      window = { totals: new Map(), parts: new Map() };
      series.windows.set(span, window);
    }
    const plan = bucketsOf(a, b);
    const wanted = new Set(plan.map(([start, end]) => idOf(start, end)));
    for (const [id, bucket] of window.parts) {
      if (wanted.has(id)) continue;
      mergeInto(window.totals, bucket.rows, -1);
      window.parts.delete(id);
    }
    let pausedAt = performance.now();
    for (const [start, end] of plan) {
      const id = idOf(start, end);
      const bucket = series.buckets.get(id) ?? (await this.load(series, start, end, fetch));
      const held = window.parts.get(id);
      if (held === bucket) continue;
      if (held) mergeInto(window.totals, held.rows, -1);
      mergeInto(window.totals, bucket.rows, 1);
      window.parts.set(id, bucket);
      // A cold fill scans the whole range: let other requests through every few milliseconds.
      if (performance.now() - pausedAt > 8) {
        await new Promise((resolve) => setImmediate(resolve));
        pausedAt = performance.now();
      }
    }
    return window;
  }

  private async load(series: Series, start: number, end: number, fetch: Fetch): Promise<Bucket> {
    const rows =
      end - start <= HOUR ? await fetch(start, end) : await fetchHourly(start, end, fetch);
    const id = idOf(start, end);
    const old = series.buckets.get(id);
    const bucket: Bucket = { start, end, rows, fetchedAt: this.clock() };
    series.buckets.set(id, bucket);
    const delta = rows.length - (old?.rows.length ?? 0);
    series.rows += delta;
    this.rows += delta;
    if (series.rows > this.maxRows) throw new TooLarge();
    return bucket;
  }

  /** Forgets buckets no window holds any more (slid past, or replaced by a coarser one). */
  private prune(series: Series): void {
    const held = new Set<Bucket>();
    for (const window of series.windows.values())
      for (const bucket of window.parts.values()) held.add(bucket);
    for (const [id, bucket] of series.buckets) {
      if (held.has(bucket)) continue;
      series.buckets.delete(id);
      series.rows -= bucket.rows.length;
      this.rows -= bucket.rows.length;
    }
  }

  private seriesOf(key: string): Series {
    let series = this.series.get(key);
    if (!series) {
      series = {
        buckets: new Map(),
        windows: new Map(),
        rows: 0,
        usedAt: this.clock(),
        lock: Promise.resolve(),
      };
      this.series.set(key, series);
    }
    return series;
  }

  /** Drops the least recently used series (never `keep`) until the rows fit. */
  private evict(keep: string): void {
    const byAge = [...this.series.entries()]
      .filter(([key]) => key !== keep)
      .sort((x, y) => x[1].usedAt - y[1].usedAt);
    for (const [key] of byAge) {
      if (this.rows <= this.maxRows) return;
      this.drop(key);
    }
  }

  private drop(key: string): void {
    const series = this.series.get(key);
    if (!series) return;
    this.rows -= series.rows;
    this.series.delete(key);
  }
}

class TooLarge extends Error {}

const idOf = (start: number, end: number) => `${start}+${end - start}`;

/** [a, b) as the largest aligned buckets that fit: 5 minutes, hours, days, hours, 5 minutes. */
function bucketsOf(a: number, b: number): [number, number][] {
  const plan: [number, number][] = [];
  let start = a;
  while (start < b) {
    const size =
      start % DAY === 0 && start + DAY <= b
        ? DAY
        : start % HOUR === 0 && start + HOUR <= b
          ? HOUR
          : FINE;
    plan.push([start, start + size]);
    start += size;
  }
  return plan;
}

/** A long bucket hour by hour, giving other requests a turn between the queries. */
async function fetchHourly(start: number, end: number, fetch: Fetch): Promise<SummaryRow[]> {
  const rows = new Map<string, SummaryRow>();
  for (let hour = start; hour < end; hour += HOUR) {
    mergeInto(rows, await fetch(hour, Math.min(hour + HOUR, end)), 1);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return [...rows.values()];
}

/** The series a summary belongs to, or undefined when it should go to the store directly. */
function seriesKey(options: SummaryOptions): string | undefined {
  if (
    options.userId !== undefined ||
    options.threadId !== undefined ||
    options.sessionId !== undefined
  ) {
    return undefined;
  }
  return JSON.stringify([
    options.groupBy,
    options.timeZone ?? 'UTC',
    options.tenantId ?? null,
    options.agent ?? null,
    options.model ?? null,
  ]);
}

function mergeInto(
  totals: Map<string, SummaryRow>,
  rows: readonly SummaryRow[],
  sign: 1 | -1,
): void {
  for (const row of rows) {
    const held = totals.get(row.key);
    if (held) {
      addRowToRow(held, row, sign);
      if (held.calls === 0) totals.delete(row.key);
    } else if (sign === 1) {
      totals.set(row.key, { ...row });
    }
  }
}
