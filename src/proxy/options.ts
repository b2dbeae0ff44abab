/** The gateway's options, checked once when it is created. */
import type { TokenTracker } from '../account/tracker.js';
import { ConfigurationError, describe } from '../errors.js';
import type { Store } from '../keep/types.js';
import type { BudgetManager } from '../react/budgets/manager.js';
import type { RateLimiter } from '../react/rate-limit.js';
import type { MetricsRegistry } from '../server/metrics.js';
import type { ProxyKeyRecord } from './keys.js';
import type { ProviderAdapter, ProxyProvider } from './provider.js';

/** Where one provider's calls go: the upstream is the operator's choice, never the client's. */
export interface ProxyUpstream {
  /** Default: the provider's public API (`https://generativelanguage.googleapis.com` for Gemini). */
  baseUrl?: string;
  /**
   * The provider key sent upstream for calls made with a gateway key. It stays in the gateway's
   * memory: it is never logged, recorded or returned. Without it only pass-through calls work.
   */
  apiKey?: string;
}

/**
 * Options of `createProxy`.
 *
 * @example
 * createProxy({
 *   store: createSqliteStore({ path: 'outputs/tollgate.db' }),
 *   upstreams: { gemini: { apiKey: process.env.GEMINI_API_KEY } },
 *   keys: [createProxyKey({ userId: 'alice' }).record],
 * });
 */
export interface ProxyOptions {
  /** The ledger every call is recorded in (SQLite, Redis, Postgres, memory). */
  store: Store;
  /** The providers served, each with its upstream; a provider not named here is a 404. */
  upstreams: Partial<Record<ProxyProvider, ProxyUpstream>>;
  /** The gateway keys clients present (in place of the provider key). */
  keys?: readonly ProxyKeyRecord[];
  /**
   * Accept the client's own provider key (forwarded as is), charging the call to the
   * `x-tollgate-user` / `x-tollgate-tenant` headers. Default false: only gateway keys.
   */
  passThrough?: boolean;
  /** Budgets checked before each call (default: one over `store` when keys carry budgets). */
  budgets?: BudgetManager;
  /** Rate limits checked before each call (default: one over `store` when keys carry limits). */
  rateLimiter?: RateLimiter;
  /** Counts each recorded call and each rate-limit refusal (`createMetrics()` of tollgate/server). */
  metrics?: MetricsRegistry;
  /**
   * Record through this tracker (its events, statistics and store) instead of straight to
   * `store`. Default: records are priced and written to `store` in batches, with nothing kept in
   * memory per user or call.
   */
  tracker?: TokenTracker;
  /** Output tokens assumed in the reservation of a call that sets no cap (default 8,192). */
  defaultMaxOutputTokens?: number;
  /** The status of a refusal by a spent budget: 402 (default) or 429 (without `Retry-After`). */
  budgetStatus?: 402 | 429;
  /** Most ms until the upstream's answer starts (default 120,000); then 504. */
  upstreamTimeoutMs?: number;
  /** Most ms between two chunks of the upstream's answer (default 120,000); then it is cut. */
  idleTimeoutMs?: number;
  /** The largest request body taken, in bytes (default 32 MiB); more is a 413. */
  maxBodyBytes?: number;
  /**
   * How upstreams are called: `'undici'` (its connection pools: about half the CPU a call) or
   * `'http'` (node:http). Default: undici when it is installed, else node:http.
   */
  upstreamClient?: 'undici' | 'http';
  /** The agent name on records (default `proxy`). */
  agent?: string;
  /** The wire formats served (default: every adapter tollgate ships). */
  adapters?: readonly ProviderAdapter[];
}

/** The public API of each provider, used when an upstream names no `baseUrl`. */
export const DEFAULT_BASE_URLS: Record<ProxyProvider, string> = {
  gemini: 'https://generativelanguage.googleapis.com',
  openai: 'https://api.openai.com',
  anthropic: 'https://api.anthropic.com',
};

/** Output tokens assumed for a call without a cap (`defaultMaxOutputTokens`). */
export const DEFAULT_PROXY_MAX_OUTPUT_TOKENS = 8192;

export function positiveOption(
  value: number | undefined,
  fallback: number,
  name: string,
  max = 1e12,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new ConfigurationError(
      `createProxy: ${name} must be a whole number in [1, ${max}], got ${describe(value)}`,
    );
  }
  return value;
}

/** The upstream base URL, checked: http(s), no query, no trailing slash. */
export function baseUrlOf(provider: ProxyProvider, upstream: ProxyUpstream): string {
  const raw = upstream.baseUrl ?? DEFAULT_BASE_URLS[provider];
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigurationError(
      `createProxy: upstreams.${provider}.baseUrl must be an http(s) URL, got ${describe(raw)}`,
    );
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
    throw new ConfigurationError(
      `createProxy: upstreams.${provider}.baseUrl must be an http(s) URL without query, got ${describe(raw)}`,
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
