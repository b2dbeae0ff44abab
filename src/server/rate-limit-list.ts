/**
 * An editable list of rate limits for the API's /api/rate-limits, validated exactly as
 * tollgate's `RateLimiter` validates them, for a server that only keeps the configuration while
 * other processes (reading the config file) enforce it. A server whose own process makes the
 * calls passes its `RateLimiter` instead: it lists and edits its limits itself.
 */
import { ConfigurationError } from '../errors.js';
import { type RateLimit, RateLimiter } from '../react/rate-limit.js';
import type { RateLimitControl } from './types.js';

/**
 * @example
 * const limits = new RateLimitList([{ id: 'per-user', scope: { kind: 'user' }, requestsPerMinute: 60 }]);
 * const handler = createHandler({ store, auth, rateLimiter: limits });
 */
export class RateLimitList implements RateLimitControl {
  private readonly limits = new Map<string, RateLimit>();

  constructor(limits: readonly RateLimit[] = []) {
    for (const limit of limits) this.setLimit(limit);
  }

  /** Every limit. */
  listLimits(): RateLimit[] {
    return [...this.limits.values()].map((limit) => structuredClone(limit));
  }

  /** Adds or replaces (same id) a limit; throws `ConfigurationError` naming a bad field. */
  setLimit(limit: RateLimit): RateLimit {
    if (typeof limit?.id !== 'string') {
      throw new ConfigurationError('Invalid rate limit: id must be a string');
    }
    // The limiter's constructor is the one validation of a limit there is: reuse it.
    new RateLimiter({ limits: [limit] });
    const copy = structuredClone(limit);
    this.limits.set(copy.id, copy);
    return structuredClone(copy);
  }

  /** Removes a limit by id; `false` when there was none. */
  removeLimit(id: string): boolean {
    return this.limits.delete(id);
  }
}
