/**
 * `RedisStore`: the store that many processes and machines share. Budgets, rate limits and
 * alerts are atomic Lua scripts; the ledger part keeps 24 h of records plus daily and hourly
 * aggregates (see keys.ts for the layout and lifetimes). Redis is the shared counter store; the
 * history to query over months is the SQLite ledger (pair them with `createResilientStore`).
 */
import { ConfigurationError } from '../errors.js';
import type {
  BudgetCounter,
  CounterState,
  LedgerRecord,
  QueryOptions,
  QueryPage,
  RateRequest,
  RateResult,
  RatesResult,
  ReserveRequest,
  ReserveResult,
  Store,
  StoreCapabilities,
  SummaryOptions,
  SummaryRow,
} from '../keep/types.js';
import { RedisBudgets } from './budgets.js';
import {
  type ConnectOptions,
  connectRedis,
  hasHashTag,
  isUnavailable,
  type RedisClient,
} from './connect.js';
import { StoreUnavailableError } from './errors.js';
import { DEFAULT_RETENTION, KeyLayout, type RedisRetention } from './keys.js';
import { RedisLedger } from './ledger.js';
import { markAlert, type RateClock, RedisRateLimits } from './limits.js';
import { summarize } from './summary.js';

/**
 * Options of `createRedisStore`: the connection, the key prefix, lifetimes and the rate-limit clock.
 *
 * @example
 * createRedisStore({ url: process.env.REDIS_URL, prefix: 'myapp:' });
 */
export interface RedisStoreOptions extends ConnectOptions {
  /**
   * An ioredis client you configured yourself (standalone, Sentinel or `Cluster`). The store
   * leaves it open on `close()`. For fail-fast behaviour give it `enableOfflineQueue: false`
   * and `maxRetriesPerRequest: 0`, as `url` connections have.
   */
  client?: RedisClient | undefined;
  /**
   * Prepended to every key (default `tollgate:`; `{tollgate}:` on a cluster). Two stores with
   * different prefixes share a server without seeing each other. On Redis Cluster it must carry
   * a hash tag, so that all of a store's keys live in one slot; a prefix without one is refused.
   */
  prefix?: string | undefined;
  /** Key lifetimes (records 24 h, daily totals 48 h, hourly metrics 48 h, counters +24 h). */
  retention?: Partial<RedisRetention> | undefined;
  /** Rate limits on the request's `now` (default) or on Redis `TIME` (`'server'`). */
  rateClock?: RateClock | undefined;
}

/**
 * A `Store` on Redis with every capability: atomic budgets, rate limits and alerts shared by
 * any number of processes. Create it with `createRedisStore`.
 *
 * @example
 * const store = await createRedisStore({ url: 'redis://127.0.0.1:6379' });
 * const answer = await store.reserve({
 *   callId: 'call-1', amountFemto: usdToFemto(0.01), holdUntil: Date.now() + 60_000,
 *   now: Date.now(),
 *   counters: [{ key: 'user:alice:day:2026-11-23@UTC', limitFemto: usdToFemto(5), hard: true,
 *                expiresAt: Date.parse('2026-11-24T00:00:00Z') }],
 * });
 * if (answer.ok) { …call the model…; await store.settle('call-1', actualFemto, counters, Date.now()); }
 */
export class RedisStore implements Store {
  readonly name = 'redis';
  readonly capabilities: StoreCapabilities = {
    budgets: true,
    rateLimits: true,
    alerts: true,
    persistent: true,
  };
  readonly client: RedisClient;
  readonly keys: KeyLayout;
  readonly retention: RedisRetention;
  private readonly ledger: RedisLedger;
  private readonly budgets: RedisBudgets;
  private readonly rates: RedisRateLimits;
  private readonly ownsClient: boolean;
  private closed = false;

  /** Wraps a connected client; `createRedisStore` is the usual way in. */
  constructor(client: RedisClient, options: RedisStoreOptions & { ownsClient?: boolean } = {}) {
    const prefix = prefixFor(options.prefix, client.isCluster);
    const retention = { ...DEFAULT_RETENTION, ...options.retention };
    for (const [name, ms] of Object.entries(retention)) {
      if (!(Number.isInteger(ms) && ms > 0)) {
        throw new ConfigurationError(
          `retention.${name} must be a positive integer (ms), got ${ms}`,
        );
      }
    }
    this.client = client;
    this.ownsClient = options.ownsClient ?? false;
    this.keys = new KeyLayout(prefix);
    this.retention = retention;
    this.ledger = new RedisLedger(client, this.keys, retention);
    this.budgets = new RedisBudgets(client, this.keys, retention.counterGraceMs);
    this.rates = new RedisRateLimits(client, this.keys, options.rateClock ?? 'request');
  }

  /** Appends records; a call id seen before (within `seenTtlMs`) is skipped. */
  append(records: readonly LedgerRecord[]): Promise<number> {
    if (records.length === 0) return Promise.resolve(0);
    return this.guard('append', () => this.ledger.append(records));
  }

  /** Pages through the records Redis still keeps (24 h by default), oldest first. */
  query(options?: QueryOptions): Promise<QueryPage> {
    return this.guard('query', () => this.ledger.query(options));
  }

  /**
   * Totals per group, from the kept records or, for whole UTC days or hours, from the daily and
   * hourly aggregates that outlive them (see summary.ts for exactly what Redis can answer).
   */
  summarize(options: SummaryOptions): Promise<SummaryRow[]> {
    return this.guard('summarize', () => summarize(this.client, this.keys, this.ledger, options));
  }

  reserve(request: ReserveRequest): Promise<ReserveResult> {
    return this.guard('reserve', () => this.budgets.reserve(request));
  }

  settle(callId: string, actualFemto: bigint, counters: BudgetCounter[], now: number) {
    return this.guard('settle', () => this.budgets.settle(callId, actualFemto, counters, now));
  }

  release(callId: string, now: number): Promise<void> {
    return this.guard('release', () => this.budgets.release(callId, now));
  }

  /** Budget counters' state at `now` (see `Store.counters`). */
  counters(keys: readonly string[], now: number): Promise<CounterState[]> {
    return this.guard('counters', () => this.budgets.counters(keys, now));
  }

  consumeRate(request: RateRequest): Promise<RateResult> {
    return this.guard('consumeRate', () => this.rates.consumeRate(request));
  }

  /** All or nothing over several keys: one Lua script. */
  consumeRates(requests: readonly RateRequest[]): Promise<RatesResult> {
    return this.guard('consumeRates', () => this.rates.consumeRates(requests));
  }

  markAlert(key: string, threshold: number, expiresAt: number): Promise<boolean> {
    return this.guard('markAlert', () =>
      markAlert(this.client, this.keys, key, threshold, expiresAt),
    );
  }

  /** Resolves when Redis answers PING; throws `StoreUnavailableError` otherwise. */
  ping(): Promise<void> {
    return this.guard('ping', async () => {
      await this.client.ping();
    });
  }

  /** Quits the connection it opened (a client you passed in stays open). Idempotent. */
  async close(): Promise<void> {
    if (this.closed || !this.ownsClient) return;
    this.closed = true;
    const client = this.client;
    if (client.status === 'end') return;
    const ended = new Promise<void>((resolve) => {
      client.once('end', resolve);
      setTimeout(resolve, 1_000).unref(); // never let shutdown wait on a dead socket
    });
    try {
      await client.quit();
    } catch {
      client.disconnect(); // not connected: nothing to say goodbye to
    }
    await ended;
  }

  /** Turns "Redis could not answer" into `StoreUnavailableError`; other errors pass through. */
  private async guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw isUnavailable(error)
        ? new StoreUnavailableError('redis', operation, { cause: error })
        : error;
    }
  }
}

/**
 * The key prefix: `tollgate:` by default, `{tollgate}:` on a cluster, where a prefix must carry
 * a hash tag so that all of a store's keys share one slot (each script touches several).
 */
function prefixFor(prefix: string | undefined, cluster: boolean): string {
  if (prefix === undefined) return cluster ? '{tollgate}:' : 'tollgate:';
  if (typeof prefix !== 'string') {
    throw new ConfigurationError(`prefix must be a string, got ${typeof prefix}`);
  }
  if (cluster && !hasHashTag(prefix)) {
    throw new ConfigurationError(
      `prefix ${JSON.stringify(prefix)} has no hash tag: on Redis Cluster all of a store's keys must share one slot, so use a prefix such as "{tollgate}:"`,
    );
  }
  return prefix;
}

/**
 * Connects to Redis (loading ioredis only now) and returns the store. Fails with
 * `StoreUnavailableError` when Redis does not answer, unless `waitForConnection: false`.
 *
 * @example
 * const store = await createRedisStore({ url: process.env.REDIS_URL, prefix: 'myapp:' });
 * // … many processes share its budgets …
 * await store.close();
 */
export async function createRedisStore(options: RedisStoreOptions = {}): Promise<RedisStore> {
  const given = (['client', 'url', 'clusterNodes'] as const).filter(
    (name) => options[name] !== undefined,
  );
  if (given.length > 1) {
    throw new ConfigurationError(
      `createRedisStore takes one of url, client or clusterNodes, got ${given.join(' and ')}`,
    );
  }
  // Checked before connecting: a refused prefix must not leave a connection open.
  if (options.clusterNodes !== undefined) prefixFor(options.prefix, true);
  if (options.client) return new RedisStore(options.client, options);
  const client = await connectRedis(options);
  try {
    return new RedisStore(client, { ...options, ownsClient: true });
  } catch (error) {
    client.disconnect();
    throw error;
  }
}
