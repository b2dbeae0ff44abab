/**
 * Opening an ioredis connection that never makes tracking hang: commands fail fast while Redis
 * is unreachable (no offline queue, no per-request retries, a command timeout), and the client
 * keeps reconnecting in the background with a capped backoff, so the store recovers by itself
 * once Redis is back.
 */
import type { Redis, RedisOptions } from 'ioredis';
import { ConfigurationError, TollgateError } from '../errors.js';
import { StoreUnavailableError } from './errors.js';

export interface ConnectOptions {
  /** `redis://[:password@]host:port[/db]`; default `REDIS_URL`, else `redis://127.0.0.1:6379`. */
  url?: string | undefined;
  /** Give up a connection attempt after this long (default 2,000 ms). */
  connectTimeoutMs?: number | undefined;
  /** Fail a command that has no reply after this long (default 2,000 ms). */
  commandTimeoutMs?: number | undefined;
  /** Longest wait between reconnection attempts (default 2,000 ms; backoff from 50 ms). */
  maxRetryDelayMs?: number | undefined;
  /** Wait for the first connection, throwing `StoreUnavailableError` if it fails (default true). */
  waitForConnection?: boolean | undefined;
  /** Connection errors, which ioredis would otherwise print (default: ignored, they surface as
   * `StoreUnavailableError` on the operations that need Redis). */
  onError?: ((error: Error) => void) | undefined;
  /** Further ioredis options, applied last. */
  redisOptions?: RedisOptions | undefined;
}

/** Loads ioredis on first use, so the core never does and a missing install names itself. */
async function loadIoredis(): Promise<typeof import('ioredis').Redis> {
  try {
    const module = await import('ioredis');
    return module.Redis ?? module.default;
  } catch (cause) {
    throw new ConfigurationError('tollgate/redis needs the ioredis package: npm install ioredis', {
      cause,
    });
  }
}

export async function connectRedis(options: ConnectOptions = {}): Promise<Redis> {
  const Redis = await loadIoredis();
  const url = options.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const maxDelay = options.maxRetryDelayMs ?? 2_000;
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: options.connectTimeoutMs ?? 2_000,
    commandTimeout: options.commandTimeoutMs ?? 2_000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
    ...options.redisOptions,
  });
  client.on('error', options.onError ?? (() => {}));
  if (options.waitForConnection === false) {
    client.connect().catch(() => {}); // retried in the background by retryStrategy
    return client;
  }
  try {
    await client.connect();
  } catch (cause) {
    client.disconnect();
    throw new StoreUnavailableError('redis', 'connect', { cause });
  }
  return client;
}

const UNAVAILABLE_REPLIES = /^(LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|OOM)\b/;

/**
 * True when an error from ioredis means Redis could not serve the command (down, disconnected,
 * timed out, loading, out of memory), as opposed to a reply that is a real error.
 */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // Our own validation (bad amounts, bad options) is the caller's error, not an outage.
  if (error instanceof RangeError || TollgateError.isInstance(error)) return false;
  if (error.name === 'ReplyError') return UNAVAILABLE_REPLIES.test(error.message);
  return true;
}
