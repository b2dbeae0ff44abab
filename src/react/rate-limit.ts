/**
 * Requests and tokens per minute, per user, agent, model or globally, kept in a store so that
 * every process sharing it shares the limits (GCRA in the store: smooth, bursts up to the limit).
 */
import { z } from 'zod';
import { ConfigurationError, describe, formatIssues, RateLimitExceededError } from '../errors.js';
import { isDateMs } from '../keep/checks.js';
import { MemoryStore } from '../keep/memory.js';
import type { RateResult, RatesResult, Store } from '../keep/types.js';
import { parseModelName } from '../price/catalog.js';
import type { StoreErrorEvent } from './budgets/events.js';
import { failsOpen } from './budgets/inputs.js';
import { idOf, scopeKey } from './budgets/rules.js';
import { type ListenerErrorHandler, SafeEmitter } from './safe-emitter.js';

/**
 * One limit. Without `scope.id` it applies to each user (agent, model) separately; a limit with
 * an id replaces the id-less limits of the same kind for that id.
 *
 * @example
 * { id: 'per-user', scope: { kind: 'user' }, requestsPerMinute: 60, tokensPerMinute: 100_000 }
 */
export interface RateLimit {
  id: string;
  scope: { kind: 'user' | 'agent' | 'model' | 'global'; id?: string | undefined };
  requestsPerMinute?: number | undefined;
  tokensPerMinute?: number | undefined;
}

/**
 * Options of `new RateLimiter(options)`.
 *
 * @example
 * new RateLimiter({ store, limits: [{ id: 'u', scope: { kind: 'user' }, requestsPerMinute: 60 }] });
 */
export interface RateLimiterOptions {
  /** Share one store (Redis) to share limits across processes. Default: a `MemoryStore`. */
  store?: Store;
  limits: RateLimit[];
  /**
   * Wait instead of failing: sleep `retryAfterMs` and try again, while the total wait stays
   * within `maxWaitMs` (`true`: 60 s). Default false: throw `RateLimitExceededError` at once.
   */
  wait?: boolean | { maxWaitMs: number };
  /** When the store throws: `fail-open` (default) skips the limit; `fail-closed` rethrows. */
  onStoreError?: 'fail-open' | 'fail-closed';
  onListenerError?: ListenerErrorHandler;
}

/** Who makes a call, and how many tokens it may use (prompt + max output). */
export interface RateCheckInput {
  userId?: string | undefined;
  agent?: string | undefined;
  model?: string | undefined;
  /** Tokens the call will use (prompt plus max output), counted against tokensPerMinute. */
  tokens?: number | undefined;
  /** Epoch ms (default now). */
  now?: number | undefined;
}

/** The answer of a passed check (a refused one throws `RateLimitExceededError`). */
export interface RateCheckResult {
  ok: true;
  /** How long the check slept in wait mode (0 otherwise). */
  waitedMs: number;
}

/** Payload of `rate_limited`. */
export interface RateLimitedEvent {
  type: 'rate_limited';
  limitId: string;
  /** The store key, e.g. `rate:per-user:user:alice:requests`. */
  key: string;
  dimension: 'requests' | 'tokens';
  retryAfterMs: number;
  /** True when the limiter waits and retries; false when it throws. */
  waiting: boolean;
}

/** A RateLimiter's events. */
export interface RateLimiterEvents {
  /** A check was refused. */
  rate_limited: (event: RateLimitedEvent) => void;
  /** The store failed; the check passed or failed per `onStoreError`. */
  store_error: (event: StoreErrorEvent) => void;
}

const MINUTE = 60_000;
const DEFAULT_MAX_WAIT_MS = 60_000;

const perMinute = z.number().int().positive().optional();
const limitSchema = z
  .object({
    id: z.string().min(1),
    scope: z
      .object({
        kind: z.enum(['user', 'agent', 'model', 'global']),
        id: z.string().min(1).optional(),
      })
      .strict()
      .refine((scope) => !(scope.kind === 'global' && scope.id !== undefined), {
        message: 'a global scope takes no id',
      }),
    requestsPerMinute: perMinute,
    tokensPerMinute: perMinute,
  })
  .strict()
  .refine((limit) => limit.requestsPerMinute !== undefined || limit.tokensPerMinute !== undefined, {
    message: 'needs requestsPerMinute or tokensPerMinute',
  });

interface Consumption {
  limitId: string;
  key: string;
  dimension: 'requests' | 'tokens';
  limit: number;
  cost: number;
}

/**
 * Rate limits checked before each call.
 *
 * @example
 * const limiter = new RateLimiter({
 *   limits: [{ id: 'per-user', scope: { kind: 'user' }, requestsPerMinute: 30, tokensPerMinute: 200_000 }],
 *   wait: { maxWaitMs: 5_000 },
 * });
 * await limiter.check({ userId: 'alice', tokens: 1_500 }); // sleeps, or throws RateLimitExceededError
 */
export class RateLimiter {
  readonly store: Store;
  private readonly rateStore: Store & Required<Pick<Store, 'consumeRate'>>;
  private readonly limits: RateLimit[];
  private readonly maxWaitMs: number | undefined;
  private readonly failOpen: boolean;
  private readonly events: SafeEmitter<RateLimiterEvents>;

  constructor(options: RateLimiterOptions) {
    this.store = options.store ?? new MemoryStore();
    if (!this.store.consumeRate) {
      throw new ConfigurationError(`store "${this.store.name}" has no rateLimits capability`);
    }
    this.rateStore = this.store as Store & Required<Pick<Store, 'consumeRate'>>;
    this.limits = (options.limits ?? []).map(validateLimit);
    const ids = new Set<string>();
    for (const limit of this.limits) {
      if (ids.has(limit.id))
        throw new ConfigurationError(`rate limit id "${limit.id}" is used twice`);
      ids.add(limit.id);
    }
    const wait = options.wait ?? false;
    if (wait === true) this.maxWaitMs = DEFAULT_MAX_WAIT_MS;
    else if (wait !== false) {
      if (!Number.isFinite(wait.maxWaitMs) || wait.maxWaitMs < 0) {
        throw new ConfigurationError(
          `wait.maxWaitMs must be a finite number ≥ 0, got ${describe(wait.maxWaitMs)}`,
        );
      }
      this.maxWaitMs = wait.maxWaitMs;
    }
    this.failOpen = failsOpen(options.onStoreError);
    this.events = new SafeEmitter(options.onListenerError);
  }

  /** Listens to a limiter event. */
  on<E extends keyof RateLimiterEvents>(event: E, listener: RateLimiterEvents[E]): this {
    this.events.on(event, listener);
    return this;
  }

  /**
   * The limits, as copies (what `tollgate/server` lists at GET /api/rate-limits).
   *
   * @example
   * limiter.listLimits(); // [{ id: 'per-user', scope: { kind: 'user' }, requestsPerMinute: 60 }]
   */
  listLimits(): RateLimit[] {
    return this.limits.map((limit) => structuredClone(limit));
  }

  /**
   * Adds a limit, or replaces the one with its id; the next check applies it. Validated as the
   * constructor validates (`ConfigurationError` naming the field). Counters are kept per limit
   * id and size: a changed size starts from a full bucket.
   *
   * @example
   * limiter.setLimit({ id: 'per-user', scope: { kind: 'user' }, requestsPerMinute: 120 });
   */
  setLimit(limit: RateLimit): RateLimit {
    const valid = validateLimit(limit);
    const index = this.limits.findIndex((held) => held.id === valid.id);
    if (index >= 0) this.limits[index] = valid;
    else this.limits.push(valid);
    return structuredClone(valid);
  }

  /**
   * Removes the limit with this id; false when there is none.
   *
   * @example
   * limiter.removeLimit('per-user'); // true
   */
  removeLimit(id: string): boolean {
    const index = this.limits.findIndex((held) => held.id === id);
    if (index < 0) return false;
    this.limits.splice(index, 1);
    return true;
  }

  /** Removes a listener (or every listener of the event when none is given). */
  off<E extends keyof RateLimiterEvents>(event: E, listener?: RateLimiterEvents[E]): this {
    this.events.off(event, listener);
    return this;
  }

  /**
   * Consumes one request and `tokens` tokens from every matching limit, all or nothing: with a
   * store that has `consumeRates` (every built-in one), in one atomic step, so a refusal
   * consumes nothing on any limit. Refused: throws `RateLimitExceededError` (exact
   * `retryAfterMs`, `scope` = the store key of the refused limit with the longest wait) or, in
   * wait mode, sleeps that wait and retries the whole set. A custom store with only
   * `consumeRate` is checked limit by limit: there, limits already passed stay consumed when a
   * later one refuses (a refusal errs on the side of counting too much, never too little).
   *
   * @example
   * await limiter.check({ userId: 'alice', model: 'gemini-2.5-flash', tokens: 1_200 });
   */
  async check(input: RateCheckInput = {}): Promise<RateCheckResult> {
    const tokens = input.tokens ?? 0;
    if (!Number.isSafeInteger(tokens) || tokens < 0) {
      throw new ConfigurationError(
        `tokens must be a non-negative integer, got ${describe(tokens)}`,
      );
    }
    const now = input.now;
    if (now !== undefined && !isDateMs(now)) {
      // A bad clock reaching the store would be taken for a store failure (fail-open: no limit).
      throw new ConfigurationError(
        `now must be a finite epoch-ms time within the Date range, got ${describe(now)}`,
      );
    }
    const steps = this.plan(input, tokens);
    let waited = 0;
    const nowOf = () => (input.now === undefined ? Date.now() : input.now + waited);
    const consumeRates = this.store.consumeRates?.bind(this.store);
    if (consumeRates && steps.length > 0) {
      for (;;) {
        const result = await this.consumeAll(consumeRates, steps, nowOf());
        if (result.ok) break;
        const step = steps[result.index] ?? (steps[0] as Consumption);
        this.refuse(step, result.retryAfterMs, waited);
        await sleep(result.retryAfterMs);
        waited += result.retryAfterMs;
      }
      return { ok: true, waitedMs: waited };
    }
    for (const step of steps) {
      for (;;) {
        const result = await this.consume(step, nowOf());
        if (result.ok) break;
        this.refuse(step, result.retryAfterMs, waited);
        await sleep(result.retryAfterMs);
        waited += result.retryAfterMs;
      }
    }
    return { ok: true, waitedMs: waited };
  }

  /** Emits `rate_limited`; throws unless wait mode may sleep `retryAfterMs` more. */
  private refuse(step: Consumption, retryAfterMs: number, waited: number): void {
    const waiting =
      this.maxWaitMs !== undefined &&
      Number.isFinite(retryAfterMs) &&
      waited + retryAfterMs <= this.maxWaitMs;
    this.events.emit('rate_limited', {
      type: 'rate_limited',
      limitId: step.limitId,
      key: step.key,
      dimension: step.dimension,
      retryAfterMs,
      waiting,
    });
    if (!waiting) {
      throw new RateLimitExceededError({
        retryAfterMs,
        scope: step.key,
        ...(!Number.isFinite(retryAfterMs) && {
          message: `Rate limit exceeded (${step.key}): ${step.cost} ${step.dimension} is more than the limit of ${step.limit} per minute`,
        }),
      });
    }
  }

  private plan(input: RateCheckInput, tokens: number): Consumption[] {
    const steps: Consumption[] = [];
    for (const { limit, entity } of matchLimits(this.limits, input)) {
      const base = `rate:${limit.id}:${scopeKey(limit.scope.kind, entity)}`;
      if (limit.requestsPerMinute !== undefined) {
        steps.push({
          limitId: limit.id,
          key: `${base}:requests`,
          dimension: 'requests',
          limit: limit.requestsPerMinute,
          cost: 1,
        });
      }
      if (limit.tokensPerMinute !== undefined && tokens > 0) {
        steps.push({
          limitId: limit.id,
          key: `${base}:tokens`,
          dimension: 'tokens',
          limit: limit.tokensPerMinute,
          cost: tokens,
        });
      }
    }
    return steps;
  }

  private async consumeAll(
    consumeRates: NonNullable<Store['consumeRates']>,
    steps: readonly Consumption[],
    now: number,
  ): Promise<RatesResult> {
    const requests = steps.map((step) => ({
      key: step.key,
      limit: step.limit,
      windowMs: MINUTE,
      cost: step.cost,
      now,
    }));
    try {
      return await consumeRates(requests);
    } catch (error) {
      this.storeError('consumeRates', error);
      return { ok: true, remaining: [] };
    }
  }

  private async consume(step: Consumption, now: number): Promise<RateResult> {
    try {
      return await this.rateStore.consumeRate({
        key: step.key,
        limit: step.limit,
        windowMs: MINUTE,
        cost: step.cost,
        now,
      });
    } catch (error) {
      this.storeError('consumeRate', error);
      return { ok: true, remaining: 0 };
    }
  }

  /** Reports a store failure; rethrows it when failing closed. */
  private storeError(operation: 'consumeRate' | 'consumeRates', error: unknown): void {
    this.events.emit('store_error', {
      type: 'store_error',
      operation,
      error,
      failOpen: this.failOpen,
    });
    if (!this.failOpen) throw error;
  }
}

function validateLimit(limit: unknown): RateLimit {
  const parsed = limitSchema.safeParse(limit);
  if (parsed.success) return parsed.data;
  throw new ConfigurationError(
    `Invalid rate limit${idOf(limit)}: ${formatIssues(limit, parsed.error)}`,
  );
}

/** Limits that apply; a limit with a scope id beats the id-less ones of its kind. */
function matchLimits(
  limits: readonly RateLimit[],
  input: RateCheckInput,
): { limit: RateLimit; entity: string }[] {
  const entityOf = (kind: RateLimit['scope']['kind']): string | undefined => {
    if (kind === 'global') return '';
    if (kind === 'user') return input.userId;
    if (kind === 'agent') return input.agent;
    return input.model === undefined ? undefined : parseModelName(input.model).model;
  };
  const specific: { limit: RateLimit; entity: string }[] = [];
  const generic: { limit: RateLimit; entity: string }[] = [];
  for (const limit of limits) {
    const entity = entityOf(limit.scope.kind);
    if (entity === undefined) continue;
    const id = limit.scope.id;
    if (id === undefined) generic.push({ limit, entity });
    else if ((limit.scope.kind === 'model' ? parseModelName(id).model : id) === entity) {
      specific.push({ limit, entity });
    }
  }
  const overridden = new Set(specific.map((m) => m.limit.scope.kind));
  return [...specific, ...generic.filter((m) => !overridden.has(m.limit.scope.kind))];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
