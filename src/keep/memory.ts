/**
 * `MemoryStore`: the reference driver. Every capability, in one process, nothing persisted.
 * The default for tests and single processes, and the executable statement of the contract in
 * ./types.ts that the SQLite and Redis drivers must match.
 *
 * Atomicity comes from JavaScript itself: each method does all its reading and writing
 * synchronously before its first (and only) await, so no other call interleaves.
 */
import { ConfigurationError, describe } from '../errors.js';
import { assertTimeZone, type CalendarWindow, windowAt } from '../react/budgets/calendar.js';
import {
  checkAmount,
  checkBounds,
  checkCounters,
  checkGroupBy,
  checkNow,
  checkNumber,
  checkRate,
  checkRecordTiers,
  storedTier,
} from './checks.js';
import { gcraStep, gcraSteps } from './gcra.js';
import { addRecordToRow, emptySummaryRow, orderSummaryRows } from './summary.js';
import type {
  BudgetCounter,
  CounterState,
  LedgerRecord,
  QueryOptions,
  QueryPage,
  RateRequest,
  RateResult,
  RatesResult,
  RecordFilter,
  ReserveRequest,
  ReserveResult,
  Store,
  StoreCapabilities,
  SummaryOptions,
  SummaryRow,
} from './types.js';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 10_000;
/** How long a counter (and the settled call ids charged to it) outlives its window. */
const COUNTER_GRACE_MS = 86_400_000;

interface Entry {
  record: LedgerRecord;
  /** Append order: breaks timestamp ties and makes cursors stable. */
  seq: number;
}

interface Counter {
  settled: bigint;
  reserved: bigint;
  expiresAt: number;
}

interface Hold {
  amount: bigint;
  keys: string[];
  holdUntil: number;
}

/** GCRA state: the theoretical arrival time, `ms + frac / limit` exactly. */
interface Cell {
  ms: number;
  frac: number;
  limit: number;
  windowMs: number;
}

/**
 * A `Store` in memory: ledger, budgets, rate limits and alerts.
 *
 * @example
 * const store = new MemoryStore();
 * await store.append([record]);
 * const { records } = await store.query({ userId: 'alice', from: Date.parse('2026-11-01') });
 */
export class MemoryStore implements Store {
  readonly name = 'memory';
  readonly capabilities: StoreCapabilities = Object.freeze({
    budgets: true,
    rateLimits: true,
    alerts: true,
    persistent: false,
  });

  /** Sorted by (timestamp, seq). */
  private entries: Entry[] = [];
  private readonly callIds = new Set<string>();
  private seq = 0;

  private readonly counterMap = new Map<string, Counter>();
  private readonly holds = new Map<string, Hold>();
  /** Settled call ids, kept until the last of their windows ends (plus grace). */
  private readonly settledCalls = new Map<string, number>();
  private nextHoldExpiry = Number.POSITIVE_INFINITY;
  private nextCounterSweep = Number.NEGATIVE_INFINITY;

  private readonly cells = new Map<string, Cell>();
  private readonly alerts = new Map<string, number>();
  /** The latest `now` callers passed: the store's clock for alert expiry (tests inject time). */
  private clock = Number.NEGATIVE_INFINITY;

  // ── ledger ────────────────────────────────────────────────────────────────

  async append(records: readonly LedgerRecord[]): Promise<number> {
    checkRecordTiers(records);
    let added = 0;
    let sorted = true;
    for (const record of records) {
      if (this.callIds.has(record.callId)) continue;
      this.callIds.add(record.callId);
      const last = this.entries[this.entries.length - 1];
      if (last && record.timestamp < last.record.timestamp) sorted = false;
      const copy = { ...record };
      if (record.serviceTier !== undefined) {
        const tier = storedTier(record.serviceTier);
        if (tier === undefined) delete copy.serviceTier;
        else copy.serviceTier = tier;
      }
      this.entries.push({ record: copy, seq: this.seq++ });
      added += 1;
    }
    // Out-of-order appends are rare (late replays): one stable sort restores the order.
    if (!sorted) this.entries.sort(compareEntries);
    return added;
  }

  /** Records matching the filters, paged (see `Store.query`). */
  async query(options: QueryOptions = {}): Promise<QueryPage> {
    const limit = pageSize(options.limit);
    const order = options.order ?? 'asc';
    checkBounds(options);
    let [lo, hi] = this.timeRange(options);
    if (options.cursor !== undefined) {
      const after = decodeCursor(options.cursor, order);
      // The cursor is a position (timestamp, seq), not an index: appends never shift it.
      if (order === 'asc') lo = Math.max(lo, this.lowerBound(after.timestamp, after.seq + 1));
      else hi = Math.min(hi, this.lowerBound(after.timestamp, after.seq));
    }
    const records: LedgerRecord[] = [];
    let last: Entry | undefined;
    let more = false;
    const step = order === 'asc' ? 1 : -1;
    for (let i = order === 'asc' ? lo : hi - 1; i >= lo && i < hi; i += step) {
      const entry = this.entries[i] as Entry;
      if (!matches(entry.record, options)) continue;
      if (records.length === limit) {
        more = true;
        break;
      }
      records.push({ ...entry.record });
      last = entry;
    }
    return more && last ? { records, nextCursor: encodeCursor(last, order) } : { records };
  }

  /** Totals grouped by `groupBy` (see `Store.summarize`). */
  async summarize(options: SummaryOptions): Promise<SummaryRow[]> {
    const groupBy = options.groupBy;
    const timeZone = options.timeZone ?? 'UTC';
    const bucket: CalendarWindow | undefined =
      groupBy === 'hour' || groupBy === 'day' ? groupBy : undefined;
    checkGroupBy(groupBy); // an unknown name fell through to the '' group: one row
    if (bucket) assertTimeZone(timeZone);
    checkBounds(options);
    const rows = new Map<string, SummaryRow>();
    const [lo, hi] = this.timeRange(options);
    let span: { start: number; end: number; key: string } | undefined;
    for (let i = lo; i < hi; i++) {
      const record = (this.entries[i] as Entry).record;
      if (!matches(record, options)) continue;
      let key: string;
      if (bucket) {
        // Records are time-sorted: reuse the bucket until a record leaves it.
        if (!span || record.timestamp < span.start || record.timestamp >= span.end) {
          const window = windowAt(bucket, record.timestamp, timeZone);
          span = { ...window, key: new Date(window.start).toISOString() };
        }
        key = span.key;
      } else {
        key = groupKey(record, groupBy);
      }
      let row = rows.get(key);
      if (!row) {
        row = emptySummaryRow(key);
        rows.set(key, row);
      }
      addRecordToRow(row, record);
    }
    return orderSummaryRows([...rows.values()], options);
  }

  /** Keeps the data: a memory store has nothing to release. */
  async close(): Promise<void> {}

  // ── budgets ───────────────────────────────────────────────────────────────

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    checkNow(request.now);
    // A NaN holdUntil is never > now: the amount was checked but not held, so the next call
    // was admitted as if this one cost nothing.
    checkNumber(request.holdUntil, 'holdUntil');
    checkAmount(request.amountFemto, 'amountFemto');
    checkCounters(request.counters);
    this.advance(request.now);
    if (this.holds.has(request.callId) || this.settledCalls.has(request.callId)) {
      // Idempotent: the call already holds (or has spent) its share.
      return { ok: true };
    }
    const counters = dedupe(request.counters);
    for (const counter of counters) {
      if (!counter.hard) continue;
      const state = this.counterMap.get(counter.key);
      const used = state ? state.settled + state.reserved : 0n;
      if (used + request.amountFemto > counter.limitFemto) {
        return { ok: false, key: counter.key, limitFemto: counter.limitFemto, usedFemto: used };
      }
    }
    const keys: string[] = [];
    for (const counter of counters) {
      this.counter(counter).reserved += request.amountFemto;
      keys.push(counter.key);
    }
    if (request.holdUntil > request.now && keys.length > 0) {
      this.holds.set(request.callId, {
        amount: request.amountFemto,
        keys,
        holdUntil: request.holdUntil,
      });
      this.nextHoldExpiry = Math.min(this.nextHoldExpiry, request.holdUntil);
    } else {
      // Expires at once (or holds nothing): take it back, it was only checked.
      for (const key of keys) this.unhold(key, request.amountFemto);
    }
    return { ok: true };
  }

  async settle(
    callId: string,
    actualFemto: bigint,
    counters: BudgetCounter[],
    now: number,
  ): Promise<void> {
    checkNow(now);
    checkAmount(actualFemto, 'actualFemto');
    checkCounters(counters);
    this.advance(now);
    if (this.settledCalls.has(callId)) return;
    const hold = this.holds.get(callId);
    if (hold) this.dropHold(callId, hold);
    let until = now;
    const targets = counters.length > 0 ? dedupe(counters) : [];
    for (const counter of targets) {
      this.counter(counter).settled += actualFemto;
      until = Math.max(until, counter.expiresAt);
    }
    if (targets.length === 0 && hold) {
      // No counters named: charge the ones the reservation held.
      for (const key of hold.keys) {
        const state = this.counterMap.get(key);
        if (state) {
          state.settled += actualFemto;
          until = Math.max(until, state.expiresAt);
        }
      }
    }
    this.settledCalls.set(callId, until + COUNTER_GRACE_MS);
  }

  async release(callId: string, now: number): Promise<void> {
    checkNow(now);
    this.advance(now);
    const hold = this.holds.get(callId);
    if (hold) this.dropHold(callId, hold);
  }

  /** Budget counters' state at `now` (see `Store.counters`). */
  async counters(keys: readonly string[], now: number): Promise<CounterState[]> {
    checkNow(now);
    this.advance(now);
    return keys.map((key) => {
      const state = this.counterMap.get(key);
      return {
        key,
        settledFemto: state?.settled ?? 0n,
        reservedFemto: state?.reserved ?? 0n,
      };
    });
  }

  // ── rate limits ───────────────────────────────────────────────────────────

  /** GCRA, exact: see `gcraStep`. */
  async consumeRate(request: RateRequest): Promise<RateResult> {
    checkRate(request);
    this.advance(request.now);
    const { result, cell } = gcraStep(this.cells.get(request.key), request);
    if (cell) this.cells.set(request.key, cell);
    return result;
  }

  /** All or nothing over several keys: see `gcraSteps`. */
  async consumeRates(requests: readonly RateRequest[]): Promise<RatesResult> {
    for (const request of requests) checkRate(request);
    const first = requests[0];
    if (first) this.advance(first.now);
    const { result, cells } = gcraSteps((key) => this.cells.get(key), requests);
    for (const [key, cell] of cells) this.cells.set(key, cell);
    return result;
  }

  // ── alerts ────────────────────────────────────────────────────────────────

  async markAlert(key: string, threshold: number, expiresAt: number): Promise<boolean> {
    checkNumber(threshold, 'threshold');
    // A NaN expiresAt is never > now: the alert fired again on every call.
    checkNumber(expiresAt, 'expiresAt');
    const id = `${key}\u0000${threshold}`;
    const existing = this.alerts.get(id);
    const now = this.clock === Number.NEGATIVE_INFINITY ? Date.now() : this.clock;
    if (existing !== undefined && existing > now) return false;
    this.alerts.set(id, expiresAt);
    return true;
  }

  // ── internals ─────────────────────────────────────────────────────────────

  /** Moves the clock, and drops what `now` has made dead: expired holds, ended windows. */
  private advance(now: number): void {
    if (now > this.clock) this.clock = now;
    if (now >= this.nextHoldExpiry) {
      let next = Number.POSITIVE_INFINITY;
      for (const [callId, hold] of this.holds) {
        if (hold.holdUntil <= now) this.dropHold(callId, hold);
        else next = Math.min(next, hold.holdUntil);
      }
      this.nextHoldExpiry = next;
    }
    if (now >= this.nextCounterSweep) this.sweep(now);
  }

  private sweep(now: number): void {
    for (const [key, state] of this.counterMap) {
      if (state.expiresAt + COUNTER_GRACE_MS <= now && state.reserved === 0n) {
        this.counterMap.delete(key);
      }
    }
    for (const [callId, until] of this.settledCalls) {
      if (until <= now) this.settledCalls.delete(callId);
    }
    for (const [key, cell] of this.cells) {
      if (cell.ms < now) this.cells.delete(key);
    }
    for (const [id, expiresAt] of this.alerts) {
      if (expiresAt <= now) this.alerts.delete(id);
    }
    this.nextCounterSweep = now + 60_000;
  }

  private counter(counter: BudgetCounter): Counter {
    let state = this.counterMap.get(counter.key);
    if (!state) {
      state = { settled: 0n, reserved: 0n, expiresAt: counter.expiresAt };
      this.counterMap.set(counter.key, state);
    } else if (counter.expiresAt > state.expiresAt) {
      state.expiresAt = counter.expiresAt;
    }
    return state;
  }

  private dropHold(callId: string, hold: Hold): void {
    this.holds.delete(callId);
    for (const key of hold.keys) this.unhold(key, hold.amount);
  }

  private unhold(key: string, amount: bigint): void {
    const state = this.counterMap.get(key);
    if (state) state.reserved -= amount;
  }

  /** Index range [lo, hi) of entries with timestamp in [from, to). */
  private timeRange(filter: RecordFilter): [number, number] {
    const lo = filter.from === undefined ? 0 : this.lowerBound(filter.from, 0);
    const hi = filter.to === undefined ? this.entries.length : this.lowerBound(filter.to, 0);
    return [lo, Math.max(lo, hi)];
  }

  /** First index whose (timestamp, seq) is ≥ the given position. */
  private lowerBound(timestamp: number, seq: number): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const entry = this.entries[mid] as Entry;
      const before =
        entry.record.timestamp < timestamp ||
        (entry.record.timestamp === timestamp && entry.seq < seq);
      if (before) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function compareEntries(a: Entry, b: Entry): number {
  return a.record.timestamp - b.record.timestamp || a.seq - b.seq;
}

/** One counter per key: the same window named twice must not be charged twice. */
function dedupe(counters: readonly BudgetCounter[]): BudgetCounter[] {
  if (counters.length < 2) return [...counters];
  const byKey = new Map<string, BudgetCounter>();
  for (const counter of counters) {
    const seen = byKey.get(counter.key);
    if (!seen) {
      byKey.set(counter.key, counter);
      continue;
    }
    // Keep the strictest: any hard limit wins, the lowest hard limit among them.
    let limitFemto = seen.hard ? seen.limitFemto : counter.limitFemto;
    if (seen.hard && counter.hard && counter.limitFemto < limitFemto) {
      limitFemto = counter.limitFemto;
    }
    byKey.set(counter.key, {
      key: counter.key,
      hard: seen.hard || counter.hard,
      limitFemto,
      expiresAt: Math.max(seen.expiresAt, counter.expiresAt),
    });
  }
  return [...byKey.values()];
}

function matches(record: LedgerRecord, filter: RecordFilter): boolean {
  return (
    (filter.userId === undefined || record.userId === filter.userId) &&
    (filter.tenantId === undefined || record.tenantId === filter.tenantId) &&
    (filter.threadId === undefined || record.threadId === filter.threadId) &&
    (filter.agent === undefined || record.agent === filter.agent) &&
    (filter.model === undefined || record.model === filter.model) &&
    (filter.sessionId === undefined || record.sessionId === filter.sessionId)
  );
}

function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ConfigurationError(`query limit must be a positive integer, got ${describe(limit)}`);
  }
  return Math.min(limit, MAX_PAGE);
}

function encodeCursor(entry: Entry, order: 'asc' | 'desc'): string {
  return Buffer.from(JSON.stringify([entry.record.timestamp, entry.seq, order])).toString(
    'base64url',
  );
}

function decodeCursor(cursor: string, order: 'asc' | 'desc'): { timestamp: number; seq: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  // Exactly what encodeCursor writes: an Infinity (1e999) or fractional position silently
  // gave an empty page or restarted the listing instead of saying the cursor was damaged.
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 3 ||
    !Number.isFinite(parsed[0]) ||
    !Number.isSafeInteger(parsed[1]) ||
    parsed[1] < 0 ||
    parsed[2] !== order
  ) {
    throw new ConfigurationError(
      `query cursor ${describe(cursor)} is not a cursor of this store for order "${order}"`,
    );
  }
  return { timestamp: parsed[0], seq: parsed[1] };
}

function groupKey(record: LedgerRecord, groupBy: SummaryOptions['groupBy']): string {
  switch (groupBy) {
    case 'user':
      return record.userId ?? '';
    case 'tenant':
      return record.tenantId ?? '';
    case 'thread':
      return record.threadId ?? '';
    case 'agent':
      return record.agent;
    case 'model':
      return record.model;
    default:
      return '';
  }
}
