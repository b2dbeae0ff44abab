/**
 * `createHandler`: the whole API as one fetch-style function, `(Request) => Promise<Response>`,
 * so it runs under `serve()` (node:http), in any server that speaks fetch, or straight from a
 * test with `handler(new Request(...))`.
 */
import { ConfigurationError } from '../errors.js';
import type { SummaryOptions } from '../keep/types.js';
import { ratesFromEnv } from '../show/currency/rates.js';
import { createAuthenticator } from './auth.js';
import { TtlCache } from './cache.js';
import { inCurrency, takeCurrency } from './currency.js';
import { dashboardAsset, dashboardPage, dashboardSession } from './dashboard/index.js';
import { HttpError, json, notFound, upstream } from './errors.js';
import { resolveLimits, storeBudget } from './request-limits.js';
import { Rollup } from './rollup.js';
import { budgetStatuses, deleteBudget, listBudgets, putBudget } from './routes/budgets.js';
import { insights } from './routes/insights.js';
import { deleteRateLimit, listRateLimits, putRateLimit } from './routes/rate-limits.js';
import { byAgent, byModel, records, summary, threadUsage, userUsage } from './routes/usage.js';
import type {
  App,
  ConfigChange,
  Handler,
  HandlerOptions,
  HandlerStats,
  RouteContext,
  RouteHandler,
} from './types.js';
import { noQuery, parseQuery, usageQueries } from './validate.js';

type Method = 'GET' | 'PUT' | 'DELETE';

interface Route {
  segments: string[];
  methods: Partial<Record<Method, RouteHandler>>;
  /** Answers without credentials. */
  open?: boolean;
}

const route = (pattern: string, methods: Route['methods'], open = false): Route => ({
  segments: pattern.split('/').slice(1),
  methods,
  open,
});

/**
 * Creates the API handler. Options are checked now, and a missing or wrong one is named.
 *
 * @example
 * const { key, record } = createApiKey('admin');
 * const handler = createHandler({ store: new MemoryStore(), auth: { apiKeys: [record] } });
 * const res = await handler(new Request('http://local/api/usage/summary?days=7', {
 *   headers: { authorization: `Bearer ${key}` },
 * }));
 * console.log(res.status, await res.json());
 * console.log(handler.stats()); // { rollup: { series, buckets, rows, bytes }, cache: { entries, bytes }, callers }
 */
export function createHandler(options: HandlerOptions): Handler {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('createHandler: options are required ({ store, auth })');
  }
  const { store, metrics } = options;
  if (!store || typeof store.query !== 'function' || typeof store.summarize !== 'function') {
    throw new ConfigurationError('createHandler: options.store must be a Store (query, summarize)');
  }
  const now = options.now ?? Date.now;
  const authenticate = createAuthenticator(options.auth, now);
  const onError =
    options.onError ??
    ((error: unknown, request: Request) =>
      console.error(`[tollgate] ${request.method} ${request.url} failed:`, error));
  const limits = resolveLimits(options.limits);
  const rollupOptions = options.summaries?.rollup;
  const rollup = rollupOptions === false ? undefined : new Rollup(store, rollupOptions, now);
  const app: App = {
    store,
    budgets: options.budgets,
    rateLimiter: options.rateLimiter,
    metrics,
    cache: new TtlCache({
      ttlMs: options.summaries?.cacheTtlMs ?? 1_000,
      ...(options.summaries?.cacheMaxEntries === undefined
        ? {}
        : { maxEntries: options.summaries.cacheMaxEntries }),
      ...(options.summaries?.cacheMaxBytes === undefined
        ? {}
        : { maxBytes: options.summaries.cacheMaxBytes }),
    }),
    fxRates: options.fxRates ?? ratesFromEnv(),
    queries: usageQueries(limits.maxDays),
    summarize: (summary: SummaryOptions, signal: AbortSignal) =>
      upstream(
        'summary',
        () => (rollup ? rollup.summarize(summary, signal) : store.summarize(summary)),
        signal,
      ),
    onChange: async (change: ConfigChange) => {
      try {
        await options.onChange?.(change);
      } catch (error) {
        console.error('[tollgate] onChange failed; the change stands in memory:', error);
      }
    },
  };
  wireMetrics(options, app);

  const routes: Route[] = [
    route('/api/health', { GET: health(store) }, true),
    route('/api/usage/users/:userId', { GET: userUsage }),
    route('/api/usage/threads/:threadId', { GET: threadUsage }),
    route('/api/usage/records', { GET: records }),
    route('/api/usage/by-model', { GET: byModel }),
    route('/api/usage/by-agent', { GET: byAgent }),
    route('/api/usage/summary', { GET: summary }),
    route('/api/insights', { GET: insights }),
    route('/api/budgets', { GET: listBudgets }),
    route('/api/budgets/:id', { PUT: putBudget, DELETE: deleteBudget }),
    route('/api/rate-limits', { GET: listRateLimits }),
    route('/api/rate-limits/:id', { PUT: putRateLimit, DELETE: deleteRateLimit }),
    route('/metrics', { GET: metricsText }, metrics?.public ?? false),
    // The dashboard: the page and its assets are open (they hold no data); the session is not.
    route('/', { GET: dashboardPage }, true),
    route('/dashboard/session', { GET: dashboardSession }),
    route('/dashboard/:asset', { GET: dashboardAsset }, true),
  ];

  const answer = async (request: Request): Promise<Response> => {
    const budget = storeBudget(limits.storeTimeoutMs);
    try {
      const url = new URL(request.url);
      const found = match(routes, url.pathname);
      if (!found) throw notFound();
      const handle = handlerOf(found.route, request.method);
      if (!handle) {
        throw new HttpError(405, 'method_not_allowed', `${request.method} is not allowed here`, {
          headers: { allow: allowed(found.route).join(', ') },
        });
      }
      const credential = found.route.open
        ? {
            subject: 'anonymous',
            role: 'viewer' as const,
            tenantId: undefined,
            via: 'api-key' as const,
          }
        : await authenticate(request);
      if (!found.route.open) limits.callers?.take(`${credential.via}:${credential.subject}`);
      const context: RouteContext = {
        request,
        url,
        params: found.params,
        credential,
        now: now(),
        signal: budget.signal,
        app,
      };
      // The insights route reads its own `currency` (its cache key holds it).
      const converter =
        url.pathname.startsWith('/api/') && handle !== insights
          ? takeCurrency(url, app.fxRates)
          : undefined;
      const response = await handle(context);
      return converter ? await inCurrency(response, converter) : response;
    } catch (error) {
      if (error instanceof HttpError) {
        // 501 is a configuration answer, not a failure: only a failing store is reported.
        if (error.code === 'store_unavailable') onError(error.cause ?? error, request);
        return error.toResponse();
      }
      onError(error, request);
      return new HttpError(500, 'internal', 'internal error').toResponse();
    } finally {
      budget.release();
    }
  };
  const handler = async (request: Request) => {
    const response = await answer(request);
    if (request.method !== 'HEAD') return response;
    // A HEAD answer is the GET's status and headers, without the body.
    await response.body?.cancel().catch(() => undefined);
    return new Response(null, { status: response.status, headers: response.headers });
  };
  return Object.assign(handler, {
    stats: (): HandlerStats => ({
      rollup: rollup?.stats() ?? null,
      cache: app.cache.stats(),
      callers: limits.callers?.size ?? 0,
    }),
  });
}

/** The route's handler for a method; HEAD is answered by GET (RFC 9110 §9.3.2). */
function handlerOf(route: Route, method: string): RouteHandler | undefined {
  return route.methods[(method === 'HEAD' ? 'GET' : method) as Method];
}

/** The methods a route takes, for the `Allow` header of a 405. */
function allowed(route: Route): string[] {
  const methods = Object.keys(route.methods);
  return route.methods.GET ? [...methods, 'HEAD'] : methods;
}

function match(
  routes: readonly Route[],
  pathname: string,
): { route: Route; params: Record<string, string> } | undefined {
  // One trailing slash is forgiven: /api/budgets/ is /api/budgets.
  const path = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  const parts = path.split('/').slice(1);
  for (const candidate of routes) {
    if (candidate.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const segment = candidate.segments[i] as string;
      const part = parts[i] as string;
      if (segment.startsWith(':') && part !== '') params[segment.slice(1)] = part;
      else ok = segment === part;
    }
    if (ok) return { route: candidate, params };
  }
  return undefined;
}

/** GET /api/health: no credentials, no store round trip. */
function health(store: App['store']): RouteHandler {
  const startedAt = Date.now();
  return async (ctx) => {
    parseQuery(noQuery, ctx.url);
    return json({
      status: 'ok',
      store: { name: store.name, persistent: store.capabilities?.persistent ?? false },
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    });
  };
}

/** GET /metrics: Prometheus text. Metrics span every tenant: not for tenant-scoped callers. */
const metricsText: RouteHandler = async (ctx) => {
  const metrics = ctx.app.metrics;
  if (!metrics) throw notFound('metrics are not enabled on this server');
  if (!metrics.public && ctx.credential.tenantId !== undefined) {
    throw new HttpError(403, 'forbidden', 'metrics span every tenant: use an unscoped credential');
  }
  return new Response(await metrics.text(), {
    headers: { 'content-type': metrics.contentType },
  });
};

/** Feeds the budget gauge and the rate-limit rejection counter. */
function wireMetrics(options: HandlerOptions, app: App): void {
  const { metrics, budgets, rateLimiter } = options;
  if (!metrics) return;
  const now = options.now ?? Date.now;
  if (budgets) {
    metrics.setBudgetSource(async () => {
      const rules = budgets.listRules();
      const statuses = await budgetStatuses(rules, budgets.store ?? app.store, now());
      return [...statuses].map(([budget, status]) => ({ budget, ratio: status.utilization }));
    });
  }
  rateLimiter?.on?.('rate_limited', (event) => {
    if (!event.waiting) metrics.observeRejection(event.limitId);
  });
}
