/** The server's options and the context every route receives. */
import type { Store, SummaryOptions, SummaryRow } from '../keep/types.js';
import type { BudgetRule, UserStats } from '../react/budgets/index.js';
import type { RateLimit, RateLimitedEvent } from '../react/rate-limit.js';
import type { AuthOptions, Credential } from './auth.js';
import type { TtlCache } from './cache.js';
import type { MetricsRegistry } from './metrics.js';
import type { RollupOptions } from './rollup.js';

/** What the API needs of a `BudgetManager` (tollgate's, or anything shaped like it). */
export interface BudgetControl {
  /** The store holding the counters (for the spend shown next to each budget). */
  readonly store?: Store;
  /** Every budget rule. */
  listRules(): BudgetRule[];
  /** Adds or replaces a rule. */
  setRule(rule: BudgetRule): BudgetRule;
  /** Removes a rule; `false` when there was none. */
  removeRule(id: string): boolean;
  /** A user's spend today, this week and this month (for `GET /api/usage/users/:id`). */
  getUserStats?(userId: string, now?: number): Promise<UserStats>;
}

/**
 * What the API needs of a rate limiter to list and edit its limits, and (optionally) its
 * `rate_limited` event for the rejections metric.
 */
export interface RateLimitControl {
  /** Every rate limit. */
  listLimits?(): RateLimit[];
  /** Adds or replaces a limit. */
  setLimit?(limit: RateLimit): RateLimit;
  /** Removes a limit; `false` when there was none. */
  removeLimit?(id: string): boolean;
  /** Reports refusals (counted in `/metrics`). */
  on?(event: 'rate_limited', listener: (event: RateLimitedEvent) => void): unknown;
}

/** A change made through the API, e.g. to persist it (the CLI writes rules to a file). */
export type ConfigChange =
  | { kind: 'budget'; action: 'set'; rule: BudgetRule }
  | { kind: 'budget'; action: 'remove'; id: string }
  | { kind: 'rate-limit'; action: 'set'; limit: RateLimit }
  | { kind: 'rate-limit'; action: 'remove'; id: string };

/**
 * Options of `createHandler`: the store, budgets, rate limits, auth, metrics and summaries.
 *
 * @example
 * createHandler({ store, budgets, auth: { apiKeys: [createApiKey('admin').record] } });
 */
export interface HandlerOptions {
  /** The ledger the usage endpoints read. */
  store: Store;
  /** Budget rules to list and edit, and per-user budget stats. */
  budgets?: BudgetControl;
  /** Rate limits to list and edit. */
  rateLimiter?: RateLimitControl;
  auth: AuthOptions;
  metrics?: MetricsRegistry;
  /** The clock (epoch ms): `days` means [now − days, now). */
  now?: () => number;
  summaries?: {
    /** Aggregate answers are reused this long (default 1,000 ms; 0 turns the cache off). */
    cacheTtlMs?: number;
    /** The hourly rollup for long ranges (default on), or false to ask the store every time. */
    rollup?: RollupOptions | false;
  };
  /** Called after each change through the API; a failure is logged, the change stands. */
  onChange?: (change: ConfigChange) => void | Promise<void>;
  /** Where unexpected errors (500) and store failures (503) are reported (default console.error). */
  onError?: (error: unknown, request: Request) => void;
}

/** Everything a route handler sees. */
export interface RouteContext {
  request: Request;
  url: URL;
  params: Record<string, string>;
  credential: Credential;
  /** The request's `now`, read once. */
  now: number;
  app: App;
}

/** The handler's resolved dependencies. */
export interface App {
  store: Store;
  budgets: BudgetControl | undefined;
  rateLimiter: RateLimitControl | undefined;
  metrics: MetricsRegistry | undefined;
  cache: TtlCache;
  summarize(options: SummaryOptions): Promise<SummaryRow[]>;
  onChange(change: ConfigChange): Promise<void>;
}

export type RouteHandler = (context: RouteContext) => Promise<Response>;
