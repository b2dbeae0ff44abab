/**
 * `tollgate/proxy`: the tracking gateway. Any client of Gemini (or OpenAI, Anthropic) in any
 * language points its base URL here: each call is authenticated, rate limited, reserved against
 * its budgets, forwarded to the configured upstream, streamed back as it arrives, recorded in the
 * ledger with its exact cost, and settled.
 *
 * @example
 * import { createSqliteStore } from 'tollgate/sqlite';
 * import { createProxy, createProxyKey, serveProxy } from 'tollgate/proxy';
 * const { key, record } = createProxyKey({ userId: 'alice' });
 * const proxy = createProxy({ store: createSqliteStore(), keys: [record], upstreams: { gemini: { apiKey: process.env.GEMINI_API_KEY } } });
 * const { url } = await serveProxy(proxy, { port: 8788 });
 */
export { createProxy, type ProxyStats, type TollgateProxy } from './handler.js';
export {
  createProxyKey,
  type ProxyIdentity,
  type ProxyKeyBudget,
  type ProxyKeyRecord,
} from './keys.js';
export { type ServeProxyOptions, serveProxy } from './node.js';
export {
  DEFAULT_BASE_URLS,
  DEFAULT_PROXY_MAX_OUTPUT_TOKENS,
  type ProxyOptions,
  type ProxyUpstream,
} from './options.js';
export type {
  ObservedUsage,
  PreparedCall,
  ProviderAdapter,
  ProviderErrorAnswer,
  ProxyProvider,
  ProxyRoute,
  UsageObserver,
} from './provider.js';
export { CATALOG_PROVIDER, ProxyRequestError } from './provider.js';
export { anthropicAdapter } from './providers/anthropic.js';
export { geminiAdapter } from './providers/gemini.js';
export { PROVIDER_ADAPTERS } from './providers/index.js';
export { openaiAdapter } from './providers/openai.js';
export { type SseListener, SseReader } from './sse.js';
