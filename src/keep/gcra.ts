import { ConfigurationError, describe } from '../errors.js';
import { checkNow } from './checks.js';
import type { RateRequest, RateResult, RatesResult } from './types.js';

/**
 * The state of one GCRA (generic cell rate algorithm) key: the theoretical arrival time, kept
 * exactly as whole milliseconds `ms` plus `frac` in 1/limit ms, and the limit it was made for.
 */
export interface GcraCell {
  ms: number;
  frac: number;
  limit: number;
  windowMs: number;
}

/**
 * One GCRA step, shared by the memory and SQLite drivers (Redis runs the same arithmetic in
 * Lua): `limit` units per `windowMs`, evenly replenished, bursts up to `limit`. Exact, so
 * `retryAfterMs` is the true wait: the request passes at `now + retryAfterMs`, not a
 * millisecond before. Returns the new cell to store when the request passes; a refusal
 * consumes nothing; a cost above `limit` can never pass (`retryAfterMs` Infinity); a cell made
 * for another limit or window starts again from a full bucket.
 *
 * @example
 * gcraStep(undefined, { key: 'k', limit: 60, windowMs: 60_000, cost: 1, now: 0 });
 * // { result: { ok: true, remaining: 59 }, cell: { ms: 1000, frac: 0, limit: 60, windowMs: 60000 } }
 */
export function gcraStep(
  previous: GcraCell | undefined,
  request: RateRequest,
): { result: RateResult; cell?: GcraCell } {
  if (request.cost > request.limit) {
    return { result: { ok: false, retryAfterMs: Number.POSITIVE_INFINITY } };
  }
  const cell = arrive(previous, request);
  const wait = waitOf(cell, request.now);
  if (wait > 0) return { result: { ok: false, retryAfterMs: wait } };
  return { result: { ok: true, remaining: remainingOf(cell, request.now) }, cell };
}

/**
 * `gcraStep` over several keys at once, all or nothing (the arithmetic of `consumeRates`):
 * steps every request in order on working copies of the cells (`read` is asked once per key),
 * a key named twice stepping its own updated copy. Returns the cells to store, one per key,
 * only when every request passes; otherwise no cells, and the refused request with the longest
 * wait. Validates that all requests share one `now`.
 *
 * @example
 * gcraSteps(() => undefined, [
 *   { key: 'rpm', limit: 60, windowMs: 60_000, cost: 1, now: 0 },
 *   { key: 'tpm', limit: 1_000, windowMs: 60_000, cost: 400, now: 0 },
 * ]).result; // { ok: true, remaining: [59, 600] }
 */
export function gcraSteps(
  read: (key: string) => GcraCell | undefined,
  requests: readonly RateRequest[],
): { result: RatesResult; cells: Map<string, GcraCell> } {
  assertOneNow(requests);
  const impossible = neverPasses(requests);
  if (impossible !== undefined) {
    return {
      result: { ok: false, retryAfterMs: Number.POSITIVE_INFINITY, index: impossible },
      cells: new Map(),
    };
  }
  const cells = new Map<string, GcraCell>();
  const remaining: number[] = [];
  let refused: { retryAfterMs: number; index: number } | undefined;
  requests.forEach((request, index) => {
    // A refused request still moves its working copy: a later request on the same key waits
    // for both, so the longest wait is the one after which the whole set passes.
    const cell = arrive(cells.get(request.key) ?? read(request.key), request);
    cells.set(request.key, cell);
    const wait = waitOf(cell, request.now);
    if (wait > 0) {
      if (!refused || wait > refused.retryAfterMs) refused = { retryAfterMs: wait, index };
    } else {
      remaining.push(remainingOf(cell, request.now));
    }
  });
  if (refused) return { result: { ok: false, ...refused }, cells: new Map() };
  return { result: { ok: true, remaining }, cells };
}

/**
 * The first request that can never pass, whatever the wait: its cost, plus the costs of the
 * earlier requests in the same call on the same key and limit, is above its limit. A request
 * with another limit or window than the one before it on its key starts a new sum, as its
 * cell starts again from a full bucket.
 */
export function neverPasses(requests: readonly RateRequest[]): number | undefined {
  const sums = new Map<string, { limit: number; windowMs: number; total: number }>();
  for (const [index, { key, limit, windowMs, cost }] of requests.entries()) {
    const before = sums.get(key);
    const same = before && before.limit === limit && before.windowMs === windowMs;
    const total = (same ? before.total : 0) + cost;
    if (total > limit) return index;
    sums.set(key, { limit, windowMs, total });
  }
  return undefined;
}

/** `consumeRates` takes one instant for the whole set: every request must carry the same `now`. */
export function assertOneNow(requests: readonly RateRequest[]): void {
  const now = requests[0]?.now;
  // First: NaN differs even from itself, and the mismatch message below would blame request 0.
  if (now !== undefined) checkNow(now, 'requests[0].now');
  for (const [index, request] of requests.entries()) {
    if (request.now !== now) {
      throw new ConfigurationError(
        `consumeRates needs one now for every request: requests[${index}].now is ${describe(request.now)}, requests[0].now is ${describe(now)}`,
      );
    }
  }
}

/** The arrival time after `cost` more units; a stale or foreign cell restarts at `now`. */
function arrive(previous: GcraCell | undefined, request: RateRequest): GcraCell {
  const { limit, windowMs, cost, now } = request;
  const same = previous && previous.limit === limit && previous.windowMs === windowMs;
  let ms = same ? previous.ms : now;
  let frac = same ? previous.frac : 0;
  if (ms < now) {
    ms = now;
    frac = 0;
  }
  const units = cost * windowMs;
  ms += Math.floor(units / limit);
  frac += units % limit;
  if (frac >= limit) {
    frac -= limit;
    ms += 1;
  }
  return { ms, frac, limit, windowMs };
}

/** A cell passes when its arrival time is at most one window ahead of now; else the wait. */
function waitOf(cell: GcraCell, now: number): number {
  const ahead = cell.ms - now;
  if (ahead > cell.windowMs || (ahead === cell.windowMs && cell.frac > 0)) {
    return ahead - cell.windowMs + (cell.frac > 0 ? 1 : 0);
  }
  return 0;
}

function remainingOf(cell: GcraCell, now: number): number {
  return Math.floor(((cell.windowMs - (cell.ms - now)) * cell.limit - cell.frac) / cell.windowMs);
}
