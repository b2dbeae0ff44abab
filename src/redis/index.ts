/**
 * `tollgate/redis`: budgets, rate limits and alerts shared by every process and machine, on
 * Redis (ioredis, loaded only when a store is created), and `createResilientStore` to keep
 * tracking through a Redis outage with a local ledger and replay.
 *
 * @example
 * import { createRedisStore, createResilientStore } from 'tollgate/redis';
 * import { createSqliteStore } from 'tollgate/sqlite';
 *
 * const store = createResilientStore({
 *   primary: await createRedisStore({ url: process.env.REDIS_URL }),
 *   local: createSqliteStore(),
 *   journalPath: `outputs/replay-${workerId}.jsonl`, // a stable name per worker: survives restarts
 * });
 */
export { MAX_COUNTER_FEMTO } from './budgets.js';
export type { ConnectOptions } from './connect.js';
export { StoreUnavailableError } from './errors.js';
export { DEFAULT_RETENTION, KeyLayout, type RedisRetention } from './keys.js';
export type { RateClock } from './limits.js';
export {
  createResilientStore,
  type ResilientEvent,
  type ResilientReserveResult,
  ResilientStore,
  type ResilientStoreOptions,
} from './resilient.js';
export { createRedisStore, RedisStore, type RedisStoreOptions } from './store.js';
