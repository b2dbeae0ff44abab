import type { RateRequest, RateResult } from './types.js';

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
  const { limit, windowMs, cost, now } = request;
  if (cost > limit) return { result: { ok: false, retryAfterMs: Number.POSITIVE_INFINITY } };
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
  // Passes when the new arrival time is at most one window ahead of now.
  const ahead = ms - now;
  if (ahead > windowMs || (ahead === windowMs && frac > 0)) {
    return { result: { ok: false, retryAfterMs: ahead - windowMs + (frac > 0 ? 1 : 0) } };
  }
  const remaining = Math.floor(((windowMs - ahead) * limit - frac) / windowMs);
  return { result: { ok: true, remaining }, cell: { ms, frac, limit, windowMs } };
}
