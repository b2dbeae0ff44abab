/**
 * The ledger contract: what every store driver (memory, SQLite, Redis) provides.
 *
 * Required: `append`, `query`, `summarize`, `close`. Everything else is an optional capability,
 * announced by its presence (and listed in `capabilities`), as in unjs/unstorage. One conformance
 * suite (test/keep/conformance.ts) runs against every driver.
 *
 * Money in the ledger is exact: `costFemto` is an integer number of femto-dollars (10^-15 USD),
 * as a bigint. Drivers that cannot sum 64-bit integers past 2^63 (SQLite) or 2^53 (Lua in Redis)
 * split or scale amounts internally; the interface always speaks femto-dollars.
 */

import type { ServiceTier } from '../usage/types.js';

/** One recorded call as stored in the ledger. */
export interface LedgerRecord {
  /** tollgate's record id. */
  id: string;
  /** The call's id: the ledger holds each call id once (appending it again is a no-op). */
  callId: string;
  /** Epoch milliseconds. */
  timestamp: number;
  sessionId: string;
  agent: string;
  node?: string | undefined;
  model: string;
  provider?: string | undefined;
  userId?: string | undefined;
  tenantId?: string | undefined;
  threadId?: string | undefined;
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  toolUsePromptTokens: number;
  totalTokens: number;
  priced: boolean;
  /** Exact cost in femto-dollars, ≥ 0 (0 when unpriced). */
  costFemto: bigint;
  metadata?: Record<string, unknown> | undefined;
  /**
   * The tier the call was billed at; absent means standard. `provisioned` marks prepaid
   * Provisioned Throughput traffic.
   */
  serviceTier?: ServiceTier | undefined;
}

/** Which records a query or summary covers: time in [from, to), and equality filters. */
export interface RecordFilter {
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  userId?: string;
  tenantId?: string;
  threadId?: string;
  agent?: string;
  model?: string;
  sessionId?: string;
}

export interface QueryOptions extends RecordFilter {
  /** Most records returned (default 100; a larger value is capped at 10,000, not an error). */
  limit?: number;
  /** Opaque cursor from a previous page, valid only with the same `order`. */
  cursor?: string;
  /** Default 'asc' (oldest first). */
  order?: 'asc' | 'desc';
}

/** One page of `Store.query`: the records and the cursor of the next page, if any. */
export interface QueryPage {
  records: LedgerRecord[];
  /** Present when more records follow. */
  nextCursor?: string;
}

/** What a summary groups by; `none` gives one row for the whole filter. */
export type GroupBy = 'none' | 'user' | 'tenant' | 'thread' | 'agent' | 'model' | 'hour' | 'day';

export interface SummaryOptions extends RecordFilter {
  groupBy: GroupBy;
  /** IANA time zone for `hour` / `day` buckets (default UTC). */
  timeZone?: string;
  /** Most groups returned, largest cost first for non-time groupings (default all). */
  limit?: number;
}

/**
 * One group of a summary. Rules every driver follows (checked by the conformance suite):
 * records missing the grouped field are summed under the key `''`; groups are ordered by cost
 * descending, then by key ascending (time groupings: by time); a summary that matches nothing
 * is `[]`, also for `groupBy: 'none'`; hour and day keys are the `toISOString()` of the
 * window's start instant.
 */
export interface SummaryRow {
  /** The group's key: a user id, model…, an ISO bucket start for hour/day, or '' for none. */
  key: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  totalTokens: number;
  unpricedCalls: number;
  costFemto: bigint;
}

/** One budget counter that a reservation must fit in, e.g. user alice's spend today. */
export interface BudgetCounter {
  /**
   * The counter's key, which includes its window, e.g. `user:alice:day:2026-11-23`.
   * Built by the budget engine; drivers treat it as opaque.
   */
  key: string;
  /** Limit of the counter in femto-dollars. A soft budget still counts but never refuses. */
  limitFemto: bigint;
  hard: boolean;
  /** When the window ends (epoch ms): drivers may drop the counter some time after. */
  expiresAt: number;
}

/** What `Store.reserve` holds: an amount on each of several budget counters, for one call. */
export interface ReserveRequest {
  /** The call being reserved for; settle and release name it again. */
  callId: string;
  /** The estimated cost, held against every counter until settled or released. */
  amountFemto: bigint;
  counters: BudgetCounter[];
  /** After this (epoch ms) an unsettled reservation no longer holds budget: no leak. */
  holdUntil: number;
  /** Now, epoch ms (injected for tests). */
  now: number;
}

/** The answer of `Store.reserve`: admitted (every counter held), or refused by the first counter that cannot fit the amount. */
export type ReserveResult =
  | {
      ok: true;
      /**
       * True when the store admitted the call without checking a limit (a resilient store
       * failing open while its primary is down).
       */
      degraded?: boolean;
    }
  | {
      ok: false;
      /** The first hard counter that would overflow. */
      key: string;
      limitFemto: bigint;
      /** Settled spend plus live reservations, before this request. */
      usedFemto: bigint;
    };

/** A budget counter's state at an instant: settled spend and live holds, in femto-dollars. */
export interface CounterState {
  key: string;
  settledFemto: bigint;
  reservedFemto: bigint;
}

/** A rate limit check: `cost` units (1 per request, or tokens) against `limit` per `windowMs`. */
export interface RateRequest {
  key: string;
  limit: number;
  windowMs: number;
  cost: number;
  now: number;
}

/** A cost above the limit can never pass: `retryAfterMs` is then `Infinity`. */
export type RateResult = { ok: true; remaining: number } | { ok: false; retryAfterMs: number };

/**
 * The answer to `consumeRates`: every request passed (`remaining` per request, in order), or
 * none was consumed and `index` is the refused request with the longest wait.
 */
export type RatesResult =
  | { ok: true; remaining: number[] }
  | { ok: false; retryAfterMs: number; index: number };

/** Optional capabilities, each a group of methods a driver provides together. */
export interface StoreCapabilities {
  /** reserve / settle / release / counters: atomic budgets shared by every user of the store. */
  budgets: boolean;
  /** consumeRate (and, optionally, consumeRates): rate limits shared by every user of the store. */
  rateLimits: boolean;
  /** markAlert: once-per-window alert bookkeeping. */
  alerts: boolean;
  /** The data outlives the process. */
  persistent: boolean;
}

/**
 * Where records and budget counters live. Four required methods; the rest are capabilities announced in `capabilities`. One conformance suite runs against every driver.
 *
 * @example
 * const store: Store = new MemoryStore();
 * await store.append([record]);
 * const rows = await store.summarize({ groupBy: 'user', from, to });
 */
export interface Store {
  readonly name: string;
  readonly capabilities: StoreCapabilities;

  /** Appends records; a record whose callId is already stored is skipped. Returns how many were new. */
  append(records: readonly LedgerRecord[]): Promise<number>;
  /** Records matching the filters in `[from, to)`, ordered, paged by an opaque cursor (`limit` at most 10,000). */
  query(options?: QueryOptions): Promise<QueryPage>;
  /** Totals over `[from, to)`, grouped by `groupBy` (sorted by cost, or by time for hour and day). */
  summarize(options: SummaryOptions): Promise<SummaryRow[]>;
  /** Flushes and releases the store; later operations throw `StoreUnavailableError`. */
  close(): Promise<void>;

  /**
   * Check and reserve in ONE atomic step: succeeds only if, for every hard counter,
   * settled + live reservations + amount ≤ limit; then holds `amount` on every counter.
   * Reserving a callId that already holds a reservation returns the same answer and holds once;
   * reserving a callId already settled returns `{ ok: true }` and holds nothing. A reservation
   * holds while `now < holdUntil` (so `holdUntil <= now` only checks).
   */
  reserve?(request: ReserveRequest): Promise<ReserveResult>;
  /**
   * Replaces the call's reservation by its actual cost (atomic, idempotent by callId): on the
   * given counters, or on the reservation's counters when given none. Settling without a live
   * reservation adds the cost to the given counters: real spend is always counted.
   */
  settle?(
    callId: string,
    actualFemto: bigint,
    counters: BudgetCounter[],
    now: number,
  ): Promise<void>;
  /** Drops the call's reservation (failed or abandoned call). Idempotent. */
  release?(callId: string, now: number): Promise<void>;
  /** The current state of budget counters (settled and held), expired holds left out. */
  counters?(keys: readonly string[], now: number): Promise<CounterState[]>;

  /**
   * One GCRA step on `request.key`: consumes `cost` and returns what remains, or consumes nothing
   * and returns the exact wait (`Infinity` when `cost > limit`).
   */
  consumeRate?(request: RateRequest): Promise<RateResult>;
  /**
   * `consumeRate` for several keys in ONE atomic step, all or nothing: when every request
   * passes, all are consumed and the answer is `{ ok: true, remaining }` (one per request, in
   * order, as sequential `consumeRate` calls would give). Otherwise nothing is consumed, on any
   * key, and the answer is `{ ok: false, retryAfterMs, index }`: `index` is the refused request
   * with the longest wait (the first, on a tie) and `retryAfterMs` that wait, so the whole set
   * passes at `now + retryAfterMs` if nothing else consumes meanwhile. `Infinity` when a request
   * can never pass: its cost is above its limit.
   *
   * Every request must carry the same `now` (a `ConfigurationError` otherwise). A key named more
   * than once is stepped in order on the same cell, as if consumed one after the other: its
   * costs add up, so together they can never pass (`Infinity`, at the first request whose
   * running total exceeds the limit) when their sum is above the limit. An empty list passes and
   * touches nothing. Optional within the `rateLimits` group: without it, callers fall back to
   * one `consumeRate` per key (not atomic).
   *
   * @example
   * await store.consumeRates([
   *   { key: 'rate:u:alice:requests', limit: 60, windowMs: 60_000, cost: 1, now },
   *   { key: 'rate:u:alice:tokens', limit: 1_000, windowMs: 60_000, cost: 1_500, now },
   * ]); // { ok: false, retryAfterMs: Infinity, index: 1 }: the request was not counted either
   */
  consumeRates?(requests: readonly RateRequest[]): Promise<RatesResult>;

  /**
   * Returns true exactly once per (key, threshold) until `expiresAt`, after which it may fire
   * again: the caller then sends the alert.
   */
  markAlert?(key: string, threshold: number, expiresAt: number): Promise<boolean>;
}
