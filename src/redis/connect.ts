/**
 * Opening an ioredis connection that never makes tracking hang: commands fail fast while Redis
 * is unreachable (no offline queue, no per-request retries, a command timeout), and the client
 * keeps reconnecting in the background with a capped backoff, so the store recovers by itself
 * once Redis is back.
 */
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { ConfigurationError, describe, peerLoadError, TollgateError } from '../errors.js';
import { StoreUnavailableError } from './errors.js';

/**
 * How to reach Redis: a URL, cluster nodes or a client of yours, and how long to wait for a first connection.
 *
 * @example
 * createRedisStore({ url: 'redis://127.0.0.1:6379', connectTimeoutMs: 2_000 });
 */
export interface ConnectOptions {
  /** `redis://[:password@]host:port[/db]`; default `REDIS_URL`, else `redis://127.0.0.1:6379`. */
  url?: string | undefined;
  /**
   * Give up a connection attempt after this long (default 2,000 ms); also the longest
   * `createRedisStore` waits for a usable first connection (a cluster: for its slot map).
   */
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
  /** Further ioredis options, applied last (for a cluster: to the connection to each node). */
  redisOptions?: RedisOptions | undefined;
  /**
   * Redis Cluster: the URLs of some of its nodes (`redis://[:password@]host:port`), instead of
   * `url`. The store's key prefix must then carry a hash tag, such as `{tollgate}:`.
   */
  clusterNodes?: readonly string[] | undefined;
  /** Further options of the ioredis `Cluster`, applied last. */
  clusterOptions?: ClusterOptions | undefined;
}

/** A standalone (or Sentinel) client, or a Redis Cluster client: the store takes either. */
export type RedisClient = Redis | Cluster;

/** Loads ioredis on first use, so the core never does and a missing install names itself. */
async function loadIoredis(): Promise<{
  Redis: typeof import('ioredis').Redis;
  Cluster: typeof import('ioredis').Cluster;
}> {
  try {
    const module = await import('ioredis');
    return { Redis: module.Redis ?? module.default, Cluster: module.Cluster };
  } catch (cause) {
    throw peerLoadError('tollgate/redis', 'ioredis', cause);
  }
}

/** Opens the connection `options` describe: one server, or a cluster (`clusterNodes`). */
export async function connectRedis(options: ConnectOptions = {}): Promise<RedisClient> {
  const { Redis, Cluster } = await loadIoredis();
  const maxDelay = options.maxRetryDelayMs ?? 2_000;
  const backoff = (times: number) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay);
  const failFast: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: options.connectTimeoutMs ?? 2_000,
    commandTimeout: options.commandTimeoutMs ?? 2_000,
  };
  let client: RedisClient;
  if (options.clusterNodes !== undefined) {
    if (!Array.isArray(options.clusterNodes)) {
      throw new ConfigurationError(
        `clusterNodes must be an array of redis://host:port URLs, got ${describe(options.clusterNodes)}`,
      );
    }
    const nodes = options.clusterNodes.map(clusterNode);
    if (nodes.length === 0)
      throw new ConfigurationError('clusterNodes must name at least one node');
    const { username, password, tls } = nodes[0] as ClusterNode;
    client = new Cluster(
      nodes.map(({ host, port }) => ({ host, port })),
      {
        lazyConnect: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: backoff,
        redisOptions: {
          ...failFast,
          ...(username && { username }),
          ...(password && { password }),
          ...(tls && { tls: {} }),
          ...options.redisOptions,
        },
        ...options.clusterOptions,
      },
    );
  } else {
    const url = options.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    client = new Redis(url, {
      lazyConnect: true,
      ...failFast,
      retryStrategy: backoff,
      ...options.redisOptions,
    });
  }
  client.on('error', options.onError ?? (() => {}));
  if (options.waitForConnection === false) {
    client.connect().catch(() => {}); // retried in the background by retryStrategy
    return client;
  }
  try {
    await firstConnection(client, options.connectTimeoutMs ?? 2_000);
  } catch (cause) {
    client.disconnect();
    throw new StoreUnavailableError('redis', 'connect', { cause });
  }
  return client;
}

/**
 * Waits for the client to be ready, for `timeoutMs` at most. ioredis's own `connect()` can wait
 * without end: a cluster whose nodes answer but serve no slots (forming, or mid-failover) keeps
 * it retrying forever, and a server that accepts the connection but never answers keeps it
 * retrying the ready check.
 */
async function firstConnection(client: RedisClient, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const connecting = client.connect();
  connecting.catch(() => {}); // it may still reject after the timeout has won
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no usable connection within ${timeoutMs} ms (${client.status})`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([connecting, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

interface ClusterNode {
  host: string;
  port: number;
  username?: string;
  password?: string;
  tls?: boolean;
}

/** `redis://[user:password@]host:port` → its parts; a bad URL is a `ConfigurationError`. */
function clusterNode(url: unknown): ClusterNode {
  let parsed: URL | undefined;
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || !parsed.port) {
    throw new ConfigurationError(`clusterNodes: expected redis://host:port, got ${describe(url)}`);
  }
  const node: ClusterNode = { host: parsed.hostname, port: Number(parsed.port) };
  if (parsed.username) node.username = decodeURIComponent(parsed.username);
  if (parsed.password) node.password = decodeURIComponent(parsed.password);
  if (parsed.protocol === 'rediss:') node.tls = true;
  return node;
}

/**
 * True when `prefix` starts every key in one Redis Cluster hash slot: a key's slot is the hash
 * of its first `{…}` with something inside, and every key begins with the prefix.
 */
export function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  return open >= 0 && prefix.indexOf('}', open + 1) > open + 1;
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
