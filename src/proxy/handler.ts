/**
 * `createProxy`: the tracking gateway as one fetch-style function. Each call is authenticated,
 * rate limited and reserved against its budgets before it leaves, forwarded to the configured
 * upstream, passed back chunk by chunk while its usage is read on the side, then recorded once
 * and settled with its exact cost (or released when it failed).
 */
import { randomBytes } from 'node:crypto';
import {
  BudgetExceededError,
  ConfigurationError,
  describe,
  peerLoadError,
  RateLimitExceededError,
} from '../errors.js';
import type { Pricer } from '../price/pricer.js';
import { estimateCallCost } from '../react/budgets/estimate.js';
import { BudgetManager } from '../react/budgets/manager.js';
import { RateLimiter } from '../react/rate-limit.js';
import { inputOfRequest, type ProxyAnswer, type ProxyInput, responseOf } from './answer.js';
import {
  keyBudgetRules,
  keyRateLimits,
  keyRing,
  type ProxyIdentity,
  passThroughKeyId,
} from './keys.js';
import {
  baseUrlOf,
  DEFAULT_PROXY_MAX_OUTPUT_TOKENS,
  type ProxyOptions,
  positiveOption,
} from './options.js';
import {
  CATALOG_PROVIDER,
  type PreparedCall,
  type ProviderAdapter,
  ProxyRequestError,
  type ProxyRoute,
} from './provider.js';
import { PROVIDER_ADAPTERS } from './providers/index.js';
import { ledgerRecorder, trackerRecorder } from './recorder.js';
import { type Admitted, type ProxyStats, type Relay, relay } from './relay.js';
import { httpClient, type UpstreamClient } from './upstream.js';
import { loadUndici, undiciClient } from './upstream-undici.js';

export type { ProxyStats } from './relay.js';

/**
 * A gateway: `(Request) => Promise<Response>`, plus its stats and a `close()` that writes the
 * records still buffered.
 */
export interface TollgateProxy {
  (request: Request): Promise<Response>;
  /** The same gateway without fetch objects (what `serveProxy` calls). @internal */
  readonly [ANSWER]: (input: ProxyInput) => Promise<ProxyAnswer>;
  /** Counters since the gateway started. */
  stats(): ProxyStats;
  /** Writes every buffered record to the ledger; resolves true when nothing is left. */
  flush(): Promise<boolean>;
  /** Flushes; the store stays open (it is the caller's). */
  close(): Promise<void>;
}

interface Served {
  adapter: ProviderAdapter;
  baseUrl: string;
  apiKey: string | undefined;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/** The longest user or tenant a pass-through call may name. */
const MAX_NAME = 256;

/** Where a gateway keeps its fetch-free entry point. @internal */
export const ANSWER: unique symbol = Symbol.for('tollgate.proxy.answer');

/**
 * Creates the tracking gateway. Clients keep their SDK and change only its base URL (and use a
 * gateway key in place of the provider's).
 *
 * @example
 * import { createSqliteStore } from 'tollgate/sqlite';
 * import { createProxy, createProxyKey, serveProxy } from 'tollgate/proxy';
 * const { key, record } = createProxyKey({ userId: 'alice', budgets: [{ window: 'day', limitUsd: 5, mode: 'hard' }] });
 * const proxy = createProxy({ store: createSqliteStore(), keys: [record], upstreams: { gemini: { apiKey: process.env.GEMINI_API_KEY } } });
 * const { url } = await serveProxy(proxy, { port: 8788 });
 * // new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: url } })
 */
export function createProxy(options: ProxyOptions): TollgateProxy {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('createProxy: expected an options object');
  }
  const { store } = options;
  if (typeof store?.append !== 'function') {
    throw new ConfigurationError('createProxy: options.store must be a tollgate Store');
  }
  const served = servedProviders(options);
  const keys = options.keys ?? [];
  if (!Array.isArray(keys)) throw new ConfigurationError('createProxy: keys must be an array');
  const findKey = keyRing(keys);
  const passThrough = options.passThrough ?? false;
  if (typeof passThrough !== 'boolean') {
    throw new ConfigurationError('createProxy: passThrough must be true or false');
  }
  if (keys.length === 0 && !passThrough) {
    throw new ConfigurationError('createProxy: give keys, or allow passThrough, or both');
  }
  for (const { adapter, apiKey } of served) {
    if (apiKey === undefined && !passThrough) {
      throw new ConfigurationError(
        `createProxy: upstreams.${adapter.provider}.apiKey is needed for calls made with gateway keys (or allow passThrough)`,
      );
    }
  }
  const budgetStatus = options.budgetStatus ?? 402;
  if (budgetStatus !== 402 && budgetStatus !== 429) {
    throw new ConfigurationError('createProxy: budgetStatus must be 402 or 429');
  }
  const defaultMaxOutput = positiveOption(
    options.defaultMaxOutputTokens,
    DEFAULT_PROXY_MAX_OUTPUT_TOKENS,
    'defaultMaxOutputTokens',
    10_000_000,
  );
  const maxBodyBytes = positiveOption(options.maxBodyBytes, 32 * 1024 * 1024, 'maxBodyBytes');
  const agent = options.agent ?? 'proxy';
  if (typeof agent !== 'string' || agent === '') {
    throw new ConfigurationError('createProxy: agent must be a non-empty string');
  }

  const rules = keyBudgetRules(keys);
  let budgets = options.budgets;
  if (!budgets && rules.length > 0) {
    budgets = new BudgetManager({ store, defaultDailyUserLimitUsd: null });
  }
  for (const rule of rules) budgets?.setRule(rule);
  const limits = keyRateLimits(keys);
  let rateLimiter = options.rateLimiter;
  if (!rateLimiter && limits.length > 0) rateLimiter = new RateLimiter({ store, limits: [] });
  for (const limit of limits) rateLimiter?.setLimit(limit);
  const metrics = options.metrics;
  rateLimiter?.on('rate_limited', (event) => {
    if (!event.waiting) metrics?.observeRejection(event.limitId);
  });

  const recorder = options.tracker ? trackerRecorder(options.tracker) : ledgerRecorder(store);
  const stats: ProxyStats = { inFlight: 0, recorded: 0, refused: 0, upstreamFailures: 0 };
  const callPrefix = `prx_${randomBytes(4).toString('hex')}_`;
  let sequence = 0;

  const client = upstreamClientOf(options.upstreamClient);
  const relayOptions: Relay = {
    recorder,
    client,
    budgets,
    metrics,
    agent,
    stats,
    upstreamTimeoutMs: positiveOption(options.upstreamTimeoutMs, 120_000, 'upstreamTimeoutMs'),
    idleTimeoutMs: positiveOption(options.idleTimeoutMs, 120_000, 'idleTimeoutMs'),
    pending: new Set(),
  };
  const flush = async () => {
    while (relayOptions.pending.size > 0) await Promise.all(relayOptions.pending);
    return recorder.flush();
  };

  const refuse = (
    adapter: ProviderAdapter,
    status: number,
    code: string,
    message: string,
    retryAfter?: number,
  ) => {
    stats.refused += 1;
    const answer = adapter.errorAnswer(status, code, message);
    const headers: Record<string, string> =
      retryAfter === undefined
        ? answer.headers
        : { ...answer.headers, 'retry-after': String(retryAfter) };
    return { status: answer.status, headers, body: answer.body };
  };

  const identify = (
    adapter: ProviderAdapter,
    server: Served,
    request: ProxyInput,
    search: URLSearchParams,
  ): { identity: ProxyIdentity; providerKey: string } | ProxyAnswer => {
    const presented = adapter.clientKey(request.headers, search);
    if (presented === undefined || presented === '') {
      return refuse(
        adapter,
        401,
        'CREDENTIALS_MISSING',
        'an API key is required (a tollgate proxy key)',
      );
    }
    const identity = findKey(presented);
    if (identity) {
      if (server.apiKey === undefined) {
        return refuse(
          adapter,
          503,
          'UPSTREAM_KEY_MISSING',
          `this gateway has no ${adapter.provider} key configured`,
        );
      }
      return { identity, providerKey: server.apiKey };
    }
    if (!passThrough)
      return refuse(adapter, 401, 'API_KEY_INVALID', 'API key not valid for this gateway');
    const user = request.headers.get('x-tollgate-user') || undefined;
    const tenant = request.headers.get('x-tollgate-tenant') || undefined;
    if ((user?.length ?? 0) > MAX_NAME || (tenant?.length ?? 0) > MAX_NAME) {
      return refuse(
        adapter,
        400,
        'INVALID_ARGUMENT',
        `x-tollgate-user, x-tollgate-tenant: at most ${MAX_NAME} characters`,
      );
    }
    return {
      identity: { keyId: passThroughKeyId(presented), userId: user, tenantId: tenant },
      providerKey: presented,
    };
  };

  const handle = async (request: ProxyInput): Promise<ProxyAnswer> => {
    const receivedAt = performance.now();
    const target = request.target;
    const queryStart = target.indexOf('?');
    const pathname = queryStart === -1 ? target : target.slice(0, queryStart);
    let route: ProxyRoute | undefined;
    let server: Served | undefined;
    for (const candidate of served) {
      route = candidate.adapter.match(request.method, pathname);
      if (route) {
        server = candidate;
        break;
      }
    }
    if (!route || !server) return own(request, pathname);
    const { adapter } = server;
    const search = new URLSearchParams(queryStart === -1 ? '' : target.slice(queryStart + 1));
    const who = identify(adapter, server, request, search);
    if ('status' in who) return who;

    let call: PreparedCall;
    try {
      const text = await request.text(maxBodyBytes);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new ProxyRequestError(400, 'INVALID_ARGUMENT', 'body: not valid JSON');
      }
      call = adapter.prepare(route, body, search, text);
    } catch (error) {
      if (ProxyRequestError.isInstance(error)) {
        return refuse(adapter, error.status, error.code, error.message);
      }
      throw error;
    }

    const { identity } = who;
    const admitted: Admitted = {
      adapter,
      call,
      identity,
      callId: `${callPrefix}${(++sequence).toString(36)}`,
      reservation: undefined,
      estimateFemto: 0n,
      adapted: undefined,
      receivedAt,
    };
    const inputTokens = call.estimate.inputTokens;
    const maxOutput = call.estimate.maxOutputTokens || defaultMaxOutput;
    try {
      if (rateLimiter) {
        await rateLimiter.check({
          userId: identity.userId,
          agent,
          model: call.model,
          tokens: call.route.billable ? inputTokens + maxOutput : 0,
        });
      }
      if (budgets && call.route.billable) await reserve(admitted, inputTokens, maxOutput);
    } catch (error) {
      if (RateLimitExceededError.isInstance(error)) {
        const seconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000));
        return refuse(adapter, 429, 'RATE_LIMITED', error.message, seconds);
      }
      if (BudgetExceededError.isInstance(error)) {
        return refuse(adapter, budgetStatus, 'BUDGET_EXCEEDED', error.message);
      }
      throw error;
    }
    const upstreamUrl = adapter.upstreamUrl(server.baseUrl, admitted.call, search);
    const headers = adapter.upstreamHeaders(who.providerKey, request.headers);
    return relay(relayOptions, admitted, request, upstreamUrl, headers);
  };

  const reserve = async (admitted: Admitted, inputTokens: number, maxOutput: number) => {
    const { call, identity } = admitted;
    const provider = CATALOG_PROVIDER[call.route.provider];
    admitted.estimateFemto = estimateFemto(
      recorder.pricer,
      call.model,
      provider,
      inputTokens,
      maxOutput,
    );
    const outcome = await (budgets as BudgetManager).reserve({
      callId: admitted.callId,
      userId: identity.userId,
      tenantId: identity.tenantId,
      model: call.model,
      provider,
      agent,
      estimateFemto: admitted.estimateFemto,
      maxOutputTokens: maxOutput,
    });
    admitted.reservation = outcome.reservation;
    const fallback = outcome.adapt?.model;
    if (fallback !== undefined && fallback !== call.model) {
      admitted.call = admitted.adapter.withModel(call, fallback);
      admitted.adapted = { from: call.model, to: admitted.call.model };
    }
    const cap = outcome.adapt?.maxOutputTokens;
    if (cap !== undefined) {
      const capped = admitted.adapter.withMaxOutputTokens(admitted.call, cap);
      if (capped !== admitted.call) {
        admitted.call = capped;
        admitted.adapted = {
          ...admitted.adapted,
          maxOutputTokens: capped.estimate.maxOutputTokens,
        };
      }
    }
  };

  /** The gateway's own routes: health and metrics. */
  const own = async (request: ProxyInput, pathname: string): Promise<ProxyAnswer> => {
    if (request.method === 'GET' && pathname === '/health') {
      const body = JSON.stringify({ status: 'ok', inFlight: stats.inFlight });
      return { status: 200, headers: JSON_HEADERS, body };
    }
    if (request.method === 'GET' && pathname === '/metrics' && metrics?.public) {
      const body = await metrics.text();
      return { status: 200, headers: { 'content-type': metrics.contentType }, body };
    }
    const body = JSON.stringify({
      error: {
        code: 404,
        message: `no route for ${request.method} ${pathname}`,
        status: 'NOT_FOUND',
      },
    });
    return { status: 404, headers: JSON_HEADERS, body };
  };

  const answer = async (request: ProxyInput): Promise<ProxyAnswer> => {
    try {
      return await handle(request);
    } catch (error) {
      // Never the request or its headers: they may carry a key.
      console.error(
        '[tollgate proxy] request failed:',
        error instanceof Error ? error.message : error,
      );
      const body = JSON.stringify({
        error: { code: 500, message: 'gateway error', status: 'INTERNAL' },
      });
      return { status: 500, headers: JSON_HEADERS, body };
    }
  };
  const handler = async (request: Request): Promise<Response> =>
    responseOf(await answer(inputOfRequest(request)));
  return Object.assign(handler, {
    [ANSWER]: answer,
    stats: (): ProxyStats => ({ ...stats }),
    flush,
    close: async () => {
      await flush();
      await recorder.close();
      await client.close();
    },
  });
}

/** undici's pools when asked for or installed; node:http when asked for or as the fallback. */
function upstreamClientOf(choice: ProxyOptions['upstreamClient']): UpstreamClient {
  if (choice !== undefined && choice !== 'undici' && choice !== 'http') {
    throw new ConfigurationError(
      `createProxy: upstreamClient must be 'undici' or 'http', got ${describe(choice)}`,
    );
  }
  if (choice === 'http') return httpClient;
  try {
    return undiciClient(loadUndici());
  } catch (error) {
    if (choice === 'undici')
      throw peerLoadError("createProxy upstreamClient 'undici'", 'undici', error);
    return httpClient;
  }
}

function servedProviders(options: ProxyOptions): Served[] {
  const upstreams = options.upstreams;
  if (typeof upstreams !== 'object' || upstreams === null) {
    throw new ConfigurationError('createProxy: upstreams must name at least one provider');
  }
  const adapters = options.adapters ?? PROVIDER_ADAPTERS;
  const served: Served[] = [];
  for (const [name, upstream] of Object.entries(upstreams)) {
    if (upstream === undefined) continue;
    const adapter = adapters.find((candidate) => candidate.provider === name);
    if (!adapter) {
      throw new ConfigurationError(
        `createProxy: upstreams.${name}: no adapter for this provider (have ${adapters.map((a) => a.provider).join(', ')})`,
      );
    }
    if (
      upstream.apiKey !== undefined &&
      (typeof upstream.apiKey !== 'string' || upstream.apiKey === '')
    ) {
      throw new ConfigurationError(
        `createProxy: upstreams.${name}.apiKey must be a non-empty string`,
      );
    }
    served.push({
      adapter,
      baseUrl: baseUrlOf(adapter.provider, upstream),
      apiKey: upstream.apiKey,
    });
  }
  if (served.length === 0) {
    throw new ConfigurationError('createProxy: upstreams must name at least one provider');
  }
  return served;
}

/** The most a call may cost, priced as its record will be; 0 for a model without a price. */
function estimateFemto(
  pricer: Pricer,
  model: string,
  provider: string,
  input: number,
  output: number,
): bigint {
  try {
    return estimateCallCost({
      model,
      provider,
      promptTokens: input,
      maxOutputTokens: output,
      pricer,
    }).estimateFemto;
  } catch {
    return 0n;
  }
}
