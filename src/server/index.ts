/**
 * `tollgate/server`: the HTTP API over a ledger, as a fetch-style handler with a Node adapter,
 * API-key and JWT auth, and Prometheus metrics.
 *
 * @example
 * import { createSqliteStore } from 'tollgate/sqlite';
 * import { createApiKey, createHandler, createMetrics, serve } from 'tollgate/server';
 * const { key, record } = createApiKey('admin');
 * const handler = createHandler({ store: createSqliteStore(), auth: { apiKeys: [record] }, metrics: createMetrics() });
 * const { url } = await serve(handler, { port: 8787 });
 * // curl -H "authorization: Bearer $key" $url/api/usage/summary?days=7
 */
export {
  type ApiKeyRecord,
  type ApiKeyStore,
  type AuthOptions,
  type Credential,
  createApiKey,
  hashApiKey,
  type JwtOptions,
  type Role,
} from './auth.js';
export {
  applyChange,
  applyConfig,
  type ConfigTargets,
  configPathFor,
  readConfigFile,
  type ServerConfig,
  type UpdateConfigOptions,
  updateConfigFile,
  watchConfigFile,
  writeConfigFile,
} from './config-file.js';
export { type ErrorCode, HttpError } from './errors.js';
export { createHandler } from './handler.js';
export {
  type BudgetUtilization,
  createMetrics,
  type MetricsOptions,
  type MetricsRegistry,
} from './metrics.js';
export { type RunningServer, type ServeOptions, serve } from './node.js';
export type { TotalsJson } from './present.js';
export { RateLimitList } from './rate-limit-list.js';
export type { RequestLimits } from './request-limits.js';
export { Rollup, type RollupOptions, type RollupStats } from './rollup.js';
export type { BudgetStatus } from './routes/budgets.js';
export type {
  BudgetControl,
  ConfigChange,
  Handler,
  HandlerOptions,
  HandlerStats,
  RateLimitControl,
} from './types.js';
