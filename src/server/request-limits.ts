/**
 * What one caller may cost the server: the longest range a request may ask for, the time a
 * request may spend waiting on the store, and requests per minute per credential (GCRA, the
 * arithmetic of the ledger's own rate limits), so that one caller cannot starve the others.
 */
import { ConfigurationError, describe } from '../errors.js';
import { type GcraCell, gcraStep } from '../keep/gcra.js';
import { HttpError } from './errors.js';

/**
 * The bounds each caller of the API is held to (`createHandler({ limits })`); all on by default.
 *
 * @example
 * createHandler({ store, limits: { maxDays: 90, requestsPerMinute: 120, burst: 20 } });
 */
export interface RequestLimits {
  /** The longest range (`days`) a request may ask for; more is a 400 (default 366). */
  maxDays?: number;
  /**
   * How long one request may wait on store reads, in ms (default 5,000); then it is answered
   * 503 `store_timeout` with `Retry-After`. The work done so far (rollup buckets) is kept.
   */
  storeTimeoutMs?: number;
  /**
   * Requests per minute per credential (API key id, or JWT `sub`), or false for no limit
   * (default 300); beyond it, 429 `rate_limited` with `Retry-After`.
   */
  requestsPerMinute?: number | false;
  /** Requests a credential may make at once before the per-minute pace applies (default 60). */
  burst?: number;
  /** Credentials whose pace is remembered; the least recently seen are forgotten (default 10,000). */
  maxCallers?: number;
}

/** The limits with their defaults, checked. */
export interface ResolvedLimits {
  maxDays: number;
  storeTimeoutMs: number;
  callers: CallerRateLimiter | undefined;
}

/** Checks `limits` once, when the handler is created, naming a wrong option. */
export function resolveLimits(limits: RequestLimits = {}): ResolvedLimits {
  if (typeof limits !== 'object' || limits === null) {
    throw new ConfigurationError(`createHandler: options.limits must be an object`);
  }
  const maxDays = whole(limits.maxDays ?? 366, 'maxDays', 1, 3650);
  const storeTimeoutMs = whole(limits.storeTimeoutMs ?? 5_000, 'storeTimeoutMs', 1, 600_000);
  const rpm = limits.requestsPerMinute ?? 300;
  const callers =
    rpm === false
      ? undefined
      : new CallerRateLimiter({
          requestsPerMinute: whole(rpm, 'requestsPerMinute', 1, 1e9),
          burst: whole(limits.burst ?? Math.min(60, rpm), 'burst', 1, 1e9),
          maxCallers: whole(limits.maxCallers ?? 10_000, 'maxCallers', 1, 1e9),
        });
  return { maxDays, storeTimeoutMs, callers };
}

function whole(value: unknown, name: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw new ConfigurationError(
      `createHandler: limits.${name} must be a whole number in [${min}, ${max}], got ${describe(value)}`,
    );
  }
  return value as number;
}

/**
 * Requests per minute per caller, in memory (one server process): a burst of `burst`, then
 * evenly paced. Exact: `Retry-After` is when the next request passes.
 *
 * @example
 * const callers = new CallerRateLimiter({ requestsPerMinute: 120, burst: 20, maxCallers: 1_000 });
 * callers.take('key_1a2b'); // throws HttpError 429 with Retry-After once key_1a2b is over
 */
export class CallerRateLimiter {
  private readonly cells = new Map<string, GcraCell>();
  private readonly limit: number;
  private readonly windowMs: number;

  constructor(
    private readonly options: { requestsPerMinute: number; burst: number; maxCallers: number },
    private readonly clock: () => number = Date.now,
  ) {
    // GCRA paces `limit` units per `windowMs` and lets `limit` through at once: the burst.
    this.limit = options.burst;
    this.windowMs = Math.max(1, Math.round((60_000 * options.burst) / options.requestsPerMinute));
  }

  /** Callers whose pace is remembered. */
  get size(): number {
    return this.cells.size;
  }

  /** Counts one request of `caller`; throws 429 (`Retry-After` in whole seconds) when over. */
  take(caller: string): void {
    const now = this.clock();
    const previous = this.cells.get(caller);
    const { result, cell } = gcraStep(previous, {
      key: caller,
      limit: this.limit,
      windowMs: this.windowMs,
      cost: 1,
      now,
    });
    if (!result.ok) {
      const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
      throw new HttpError(
        429,
        'rate_limited',
        `too many requests: this credential may make ${this.options.requestsPerMinute} a minute (bursts of ${this.limit}); retry in ${seconds} s`,
        { headers: { 'retry-after': String(seconds) } },
      );
    }
    // Most recently seen last: the first entries are the ones to forget.
    this.cells.delete(caller);
    this.cells.set(caller, cell as GcraCell);
    if (this.cells.size > this.options.maxCallers) {
      this.cells.delete(this.cells.keys().next().value as string);
    }
  }
}

/**
 * The store-time budget of one request: a signal aborted, with a 503 `store_timeout` as its
 * reason, `ms` after the request started. `release()` once the answer is made.
 */
export function storeBudget(ms: number): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(
      new HttpError(
        503,
        'store_timeout',
        `the store did not answer within this server's ${ms} ms per request; try again (work done so far is kept)`,
        { headers: { 'retry-after': '1' } },
      ),
    );
  }, ms);
  timer.unref?.();
  return { signal: controller.signal, release: () => clearTimeout(timer) };
}
