/** The server's options and the context every route receives. */
import type { Store, SummaryOptions, SummaryRow } from '../keep/types.js';
import type { BudgetRule, UserStats } from '../react/budgets/index.js';
import type { RateLimit, RateLimitedEvent } from '../react/rate-limit.js';
import type { FxRates } from '../show/currency/rates.js';
import type { AuthOptions, Credential } from './auth.js';
import type { TtlCache } from './cache.js';
import type { MetricsRegistry } from './metrics.js';
import type { RequestLimits } from './request-limits.js';
import type { RollupOptions, RollupStats } from './rollup.js';
import type { UsageQueries } from './validate.js';

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
  /** Rate limits to list and edit: a `RateLimiter`, a `RateLimitList`, or anything alike. */
  rateLimiter?: RateLimitControl;
  auth: AuthOptions;
  metrics?: MetricsRegistry;
  /** The clock (epoch ms): `days` means [now − days, now). */
  now?: () => number;
  /** What one request and one caller may cost: range, store time, requests per minute. */
  limits?: RequestLimits;
  summaries?: {
    /** Aggregate answers are reused this long (default 1,000 ms; 0 turns the cache off). */
    cacheTtlMs?: number;
    /** Most aggregate answers kept (default 1,000). */
    cacheMaxEntries?: number;
    /** Most bytes of aggregate answers kept, as UTF-16 text (default 16 MiB). */
    cacheMaxBytes?: number;
    /** The hourly rollup for long ranges (default on), or false to ask the store every time. */
    rollup?: RollupOptions | false;
  };
  /** Called (and awaited) after each change through the API; a failure is logged, the change stands. */
  onChange?: (change: ConfigChange) => unknown;
  /** Where unexpected errors (500) and store failures (503) are reported (default console.error). */
  onError?: (error: unknown, request: Request) => void;
  /** Rates per USD for `?currency=` (default `TOLLGATE_FX_RATES`). */
  fxRates?: FxRates;
}

/** What the server holds in memory now, by its caches' own accounting (estimated bytes). */
export interface HandlerStats {
  /** The summaries' rollup, or null when it is off. */
  rollup: RollupStats | null;
  /** The aggregate answer cache. */
  cache: { entries: number; bytes: number };
  /** Credentials whose request pace is remembered. */
  callers: number;
}

/**
 * The API as a fetch-style function, with `stats()` for what it holds in memory.
 *
 * @example
 * const handler: Handler = createHandler({ store, auth });
 * const res = await handler(new Request('http://local/api/health'));
 * handler.stats().rollup?.bytes; // estimated bytes the rollup keeps
 */
export interface Handler {
  (request: Request): Promise<Response>;
  /** What the rollup and the answer cache keep now, by their own accounting. */
  stats(): HandlerStats;
}

/** Everything a route handler sees. */
export interface RouteContext {
  request: Request;
  url: URL;
  params: Record<string, string>;
  credential: Credential;
  /** The request's `now`, read once. */
  now: number;
  /** Aborted (reason: a 503 `store_timeout`) once the request's store time is spent. */
  signal: AbortSignal;
  app: App;
}

/** The handler's resolved dependencies. */
export interface App {
  store: Store;
  budgets: BudgetControl | undefined;
  rateLimiter: RateLimitControl | undefined;
  metrics: MetricsRegistry | undefined;
  cache: TtlCache;
  /** Rates per USD for `?currency=`. */
  fxRates: FxRates | undefined;
  /** The query schemas for this server's `limits.maxDays`. */
  queries: UsageQueries;
  /** A summary through the rollup, within the request's store budget (`signal`). */
  summarize(options: SummaryOptions, signal: AbortSignal): Promise<SummaryRow[]>;
  onChange(change: ConfigChange): Promise<void>;
}

export type RouteHandler = (context: RouteContext) => Promise<Response>;
