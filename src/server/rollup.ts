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
import { ConfigurationError, describe } from '../errors.js';
import { addRowToRow, orderSummaryRows } from '../keep/summary.js';
import type { Store, SummaryOptions, SummaryRow } from '../keep/types.js';

const FINE = 300_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const MAX_WINDOWS = 8;
/** Work (ms) a call may spend refetching stale buckets, beyond the first one. */
const REFRESH_BUDGET_MS = 3;
/** Series that went to the store for being too large, remembered so (oldest forgotten first). */
const MAX_TOO_LARGE = 1_024;

/**
 * Estimated bytes of what the rollup keeps (V8 objects, map entries, strings at 2 bytes a
 * character), measured on Node 20 and rounded up: the bound counts these, so a series of empty
 * buckets costs as much as it really holds.
 */
const SIZE = { series: 1_024, bucket: 240, window: 512, part: 120, row: 240 } as const;
const rowBytes = (row: SummaryRow) => SIZE.row + 2 * row.key.length;

/** Options of `new Rollup(store, options)`: when buckets settle and are refreshed, and how many rows are kept. */
export interface RollupOptions {
  /** A bucket is kept once it ended this long ago (default 10 minutes). */
  settleMs?: number;
  /** A kept bucket is fetched again after this long, so late records show (default 10 minutes). */
  refreshMs?: number;
  /** Most summary rows kept in total; a range needing more goes to the store (default 1,000,000). */
  maxRows?: number;
  /**
   * Most memory kept, estimated in bytes: buckets (empty ones too), their rows and each range's
   * running sums (default 64 MiB). The least recently used series go first; a series that alone
   * needs more goes to the store.
   */
  maxBytes?: number;
  /** Most series kept (one per grouping, time zone, tenant, agent and model filter; default 512). */
  maxSeries?: number;
}

/** What the rollup holds now, by its own accounting. */
export interface RollupStats {
  series: number;
  buckets: number;
  rows: number;
  /** Estimated bytes (see `RollupOptions.maxBytes`). */
  bytes: number;
}

/** A summary over an explicit time range. */
type RangeSummary = SummaryOptions & { from: number; to: number };

interface Bucket {
  start: number;
  end: number;
  rows: readonly SummaryRow[];
  bytes: number;
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
  /** Estimated bytes: the series itself, its buckets and its windows. */
  bytes: number;
  windowBytes: number;
  lock: Promise<unknown>;
  /** Evicted while a call still worked on it: its changes no longer count. */
  dropped: boolean;
  /** The signals of the calls waiting for it (`NEVER_ABORTED` for a call without one). */
  wanting: Set<AbortSignal>;
}

const NEVER_ABORTED = new AbortController().signal;

type Fetch = (from: number, to: number) => Promise<SummaryRow[]>;

/** How a call reads the store: its summary, and where the next call lies (`Gaps`). */
interface Reader {
  fetch: Fetch;
  gaps: Gaps;
  /** Throws once no caller wants this series' answer any more (every one's time is spent). */
  stopIfUnwanted(): void;
  /** Lets other requests through once this call has worked a few milliseconds on end. */
  pause(): Promise<void>;
}

/** Work (ms) a call does between two turns it gives other requests. */
const SLICE_MS = 4;

/** A `pause()` that yields to the event loop once `SLICE_MS` have passed since the last. */
function pacer(): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < SLICE_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    since = performance.now();
  };
}

/**
 * Where the series has no calls, learnt as a fill goes forward: after an empty bucket, one
 * indexed query (the first record at or after it) says how far the emptiness reaches, so the
 * empty buckets up to there cost no query. Ten years of nothing are then one query, and a busy
 * ledger, whose buckets are rarely empty, pays nothing extra.
 */
class Gaps {
  /** No call lies in [known, nextCall); a call lies at nextCall (unless it is the end). */
  private known = Number.NEGATIVE_INFINITY;
  private nextCall = Number.NEGATIVE_INFINITY;
  private lastEmpty = true;

  constructor(
    private readonly firstCallFrom: (from: number) => Promise<number | undefined>,
    private readonly end: number,
  ) {}

  /** True when [start, end) surely holds no call; false when it may (then fetch it). */
  async empty(start: number, end: number): Promise<boolean> {
    if (start >= this.known && start <= this.nextCall) {
      if (end <= this.nextCall) return true;
      if (this.nextCall < this.end) return false; // the known next call is inside
    }
    if (!this.lastEmpty) return false;
    this.known = start;
    this.nextCall = (await this.firstCallFrom(start)) ?? this.end;
    return end <= this.nextCall;
  }

  /** What the bucket just read held: asking where the next call is pays after empty ones. */
  saw(rows: readonly SummaryRow[]): void {
    this.lastEmpty = rows.length === 0;
  }
}

/**
 * Summaries through buckets kept in memory, exact (bigint sums) and equal to the store's own
 * answer for every range. Ranges filtered by user, thread or session (small, indexed) go
 * straight to the store. Memory is bounded by `maxBytes`, `maxRows` and `maxSeries`.
 *
 * @example
 * const rollup = new Rollup(store, { maxBytes: 16 * 1_048_576 });
 * const byModel = await rollup.summarize({ groupBy: 'model', from: Date.now() - 30 * 86_400_000, to: Date.now() });
 */
export class Rollup {
  private readonly series = new Map<string, Series>();
  private readonly settleMs: number;
  private readonly refreshMs: number;
  private readonly maxRows: number;
  private readonly maxBytes: number;
  private readonly maxSeries: number;
  private rows = 0;
  private bytes = 0;
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
    this.settleMs = option(options, 'settleMs', 600_000, 0);
    this.refreshMs = option(options, 'refreshMs', 600_000, 0);
    this.maxRows = option(options, 'maxRows', 1_000_000, 1);
    this.maxBytes = option(options, 'maxBytes', 64 * 1_048_576, 1);
    this.maxSeries = option(options, 'maxSeries', 512, 1);
  }

  /** What is kept now, by the rollup's own accounting. */
  stats(): RollupStats {
    let buckets = 0;
    for (const series of this.series.values()) buckets += series.buckets.size;
    return { series: this.series.size, buckets, rows: this.rows, bytes: this.bytes };
  }

  /**
   * The store's summary for `options`, through the kept buckets. With `signal`, the call stops
   * between two store reads once it is aborted and no other call waits for the same series
   * (rejecting with the signal's reason); the buckets
   * read so far stay kept, so the next call goes on from there.
   */
  async summarize(options: SummaryOptions, signal?: AbortSignal): Promise<SummaryRow[]> {
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
    // Calls waiting for this series: a fill goes on while any of them still has time.
    const wanting = signal ?? NEVER_ABORTED;
    series.wanting.add(wanting);
    // One call at a time per series: windows share its buckets and are updated in place.
    const run = series.lock.then(() =>
      this.compose(key, series, { ...options, from, to }, a, b, signal),
    );
    series.lock = run.catch(() => undefined);
    const settled = () => series.wanting.delete(wanting);
    run.then(settled, settled);
    return run;
  }

  private async compose(
    key: string,
    series: Series,
    options: RangeSummary,
    a: number,
    b: number,
    signal: AbortSignal | undefined,
  ): Promise<SummaryRow[]> {
    const stopIfUnwanted = () => {
      for (const wanting of series.wanting) if (!wanting.aborted) return;
      signal?.throwIfAborted();
    };
    stopIfUnwanted();
    const { limit: _limit, ...query } = options;
    const filter = {
      ...(query.tenantId === undefined ? {} : { tenantId: query.tenantId }),
      ...(query.agent === undefined ? {} : { agent: query.agent }),
      ...(query.model === undefined ? {} : { model: query.model }),
    };
    const firstCallFrom = async (from: number) => {
      const page = await this.store.query({ ...filter, from, to: b, limit: 1, order: 'asc' });
      return page.records[0]?.timestamp;
    };
    const reader: Reader = {
      fetch: (from, to) => this.store.summarize({ ...query, from, to }),
      gaps: new Gaps(firstCallFrom, b),
      stopIfUnwanted,
      pause: pacer(),
    };
    try {
      await this.refresh(series, a, b, reader);
      const window = await this.slide(series, options.to - options.from, a, b, reader);
      this.prune(series);
      this.measureWindows(series);
      if (series.bytes > this.maxBytes) throw new TooLarge();
      this.evict(key);
      const merged = new Map<string, SummaryRow>();
      for (const [k, row] of window.totals) merged.set(k, { ...row });
      if (options.from < a) mergeInto(merged, await reader.fetch(options.from, a), 1);
      if (b < options.to) mergeInto(merged, await reader.fetch(b, options.to), 1);
      return orderSummaryRows([...merged.values()], options);
    } catch (error) {
      if (!(error instanceof TooLarge)) throw error;
      this.drop(key);
      this.tooLarge.add(key);
      if (this.tooLarge.size > MAX_TOO_LARGE) {
        this.tooLarge.delete(this.tooLarge.values().next().value as string);
      }
      signal?.throwIfAborted();
      return this.store.summarize(options);
    }
  }

  /** Refetches the stalest kept buckets inside [a, b): one, then more while within budget. */
  private async refresh(series: Series, a: number, b: number, reader: Reader): Promise<void> {
    const staleBefore = this.clock() - this.refreshMs;
    const stale = [...series.buckets.values()]
      .filter((bucket) => bucket.start >= a && bucket.end <= b && bucket.fetchedAt < staleBefore)
      .sort((x, y) => x.fetchedAt - y.fetchedAt);
    const started = performance.now();
    for (const bucket of stale) {
      await this.load(series, bucket.start, bucket.end, reader);
      if (performance.now() - started > REFRESH_BUDGET_MS) break;
    }
  }

  /** Moves the window of this span to [a, b), fetching the buckets no one has kept yet. */
  private async slide(
    series: Series,
    span: number,
    a: number,
    b: number,
    reader: Reader,
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
    for (const [start, end] of plan) {
      const id = idOf(start, end);
      const bucket = series.buckets.get(id) ?? (await this.load(series, start, end, reader, true));
      const held = window.parts.get(id);
      if (held === bucket) continue;
      if (held) mergeInto(window.totals, held.rows, -1);
      mergeInto(window.totals, bucket.rows, 1);
      window.parts.set(id, bucket);
      await reader.pause();
    }
    return window;
  }

  /**
   * Reads one bucket (a day hour by hour). `skipGaps`: a cold fill, where buckets the `Gaps`
   * know to be empty cost no query; a refresh reads every bucket it refreshes.
   */
  private async load(
    series: Series,
    start: number,
    end: number,
    reader: Reader,
    skipGaps = false,
  ): Promise<Bucket> {
    reader.stopIfUnwanted();
    const rows =
      end - start <= HOUR
        ? await fetchHour(start, end, reader, skipGaps)
        : await fetchHourly(start, end, reader, skipGaps);
    const id = idOf(start, end);
    const old = series.buckets.get(id);
    const bytes = rows.reduce<number>((sum, row) => sum + rowBytes(row), SIZE.bucket);
    const bucket: Bucket = { start, end, rows, bytes, fetchedAt: this.clock() };
    series.buckets.set(id, bucket);
    this.count(series, rows.length - (old?.rows.length ?? 0), bytes - (old?.bytes ?? 0));
    if (series.rows > this.maxRows || series.bytes > this.maxBytes) throw new TooLarge();
    return bucket;
  }

  /** Adds to a series' rows and bytes, and to the totals while the series is still kept. */
  private count(series: Series, rows: number, bytes: number): void {
    series.rows += rows;
    series.bytes += bytes;
    if (series.dropped) return;
    this.rows += rows;
    this.bytes += bytes;
  }

  /** Re-estimates the windows' share of a series' bytes: their parts and running sums. */
  private measureWindows(series: Series): void {
    let bytes = 0;
    for (const window of series.windows.values()) {
      bytes += SIZE.window + window.parts.size * SIZE.part;
      for (const row of window.totals.values()) bytes += rowBytes(row);
    }
    this.count(series, 0, bytes - series.windowBytes);
    series.windowBytes = bytes;
  }

  /** Forgets buckets no window holds any more (slid past, or replaced by a coarser one). */
  private prune(series: Series): void {
    const held = new Set<Bucket>();
    for (const window of series.windows.values())
      for (const bucket of window.parts.values()) held.add(bucket);
    for (const [id, bucket] of series.buckets) {
      if (held.has(bucket)) continue;
      series.buckets.delete(id);
      this.count(series, -bucket.rows.length, -bucket.bytes);
    }
  }

  private seriesOf(key: string): Series {
    let series = this.series.get(key);
    if (series) {
      // Most recently used last: eviction takes the map's first entries.
      this.series.delete(key);
      this.series.set(key, series);
      return series;
    }
    series = {
      buckets: new Map(),
      windows: new Map(),
      rows: 0,
      bytes: 0,
      windowBytes: 0,
      lock: Promise.resolve(),
      dropped: false,
      wanting: new Set(),
    };
    this.series.set(key, series);
    this.count(series, 0, SIZE.series + 2 * key.length);
    this.evict(key);
    return series;
  }

  /** Drops the least recently used series (never `keep`) until rows, bytes and series fit. */
  private evict(keep: string): void {
    for (const key of [...this.series.keys()]) {
      if (
        this.rows <= this.maxRows &&
        this.bytes <= this.maxBytes &&
        this.series.size <= this.maxSeries
      ) {
        return;
      }
      if (key !== keep) this.drop(key);
    }
  }

  private drop(key: string): void {
    const series = this.series.get(key);
    if (!series) return;
    this.rows -= series.rows;
    this.bytes -= series.bytes;
    series.dropped = true;
    this.series.delete(key);
  }
}

/** A whole-number option within bounds, or a `ConfigurationError` naming it. */
function option(options: RollupOptions, name: keyof RollupOptions, fallback: number, min: number) {
  const value = options[name] ?? fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigurationError(
      `summaries.rollup.${name}: must be a whole number ≥ ${min}, got ${describe(value)}`,
    );
  }
  return value;
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
async function fetchHourly(
  start: number,
  end: number,
  reader: Reader,
  skipGaps: boolean,
): Promise<SummaryRow[]> {
  const rows = new Map<string, SummaryRow>();
  for (let hour = start; hour < end; hour += HOUR) {
    reader.stopIfUnwanted();
    mergeInto(rows, await fetchHour(hour, Math.min(hour + HOUR, end), reader, skipGaps), 1);
    await reader.pause();
  }
  return [...rows.values()];
}

/** One hour or less from the store, unless the gaps say it is empty. */
async function fetchHour(
  start: number,
  end: number,
  reader: Reader,
  skipGaps: boolean,
): Promise<SummaryRow[]> {
  if (skipGaps && (await reader.gaps.empty(start, end))) return [];
  const rows = await reader.fetch(start, end);
  reader.gaps.saw(rows);
  return rows;
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
  // The zone shapes hour and day buckets only: other groupings share one series in every zone.
  const zoned = options.groupBy === 'hour' || options.groupBy === 'day';
  return JSON.stringify([
    options.groupBy,
    zoned ? (options.timeZone ?? 'UTC') : 'UTC',
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
