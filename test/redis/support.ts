/**
 * One real redis-server per test file (the harness in test/support), a fresh key prefix per
 * store, and `describeRedis`, which skips with a notice where redis-server is not installed.
 */
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe } from 'vitest';
import { usdToFemto } from '../../src/price/money.js';
import {
  createRedisStore,
  type RedisStore,
  type RedisStoreOptions,
} from '../../src/redis/index.js';
import {
  hasRedisServer,
  type RedisCluster,
  type RedisClusterOptions,
  type RedisServer,
  type RedisServerOptions,
  startRedisCluster,
  startRedisServer,
  warnNoRedisServer,
} from '../support/redis-server.js';

warnNoRedisServer();

export const describeRedis = hasRedisServer ? describe : describe.skip;

let prefixes = 0;

/** A prefix no other store in this run uses, so tests never see each other's keys. */
export function freshPrefix(): string {
  return `t${process.pid}-${++prefixes}:`;
}

/** A fresh prefix whose hash tag is itself, `{t123-4}:`: a cluster keeps its keys in one slot. */
export const taggedPrefix = () => `{${freshPrefix().slice(0, -1)}}:`;

/** The port of the master that serves the slot of the keys under `prefix`. */
export async function masterPortOf(client: Cluster, prefix: string): Promise<number | undefined> {
  const slot = Number(await client.call('CLUSTER', 'KEYSLOT', `${prefix}x`));
  const ranges = (await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  return ranges.find(([low, high]) => slot >= low && slot <= high)?.[2][1];
}

/** A hard $1 budget counter that lives an hour from `now`. */
export const hardDollar = (key: string, now: number) => ({
  key,
  limitFemto: usdToFemto(1),
  hard: true,
  expiresAt: now + 3_600_000,
});

/**
 * Starts a cluster before the file's tests and stops it after; `cluster()` is it. Call inside
 * a `describeRedis` block.
 */
export function useRedisCluster(options: RedisClusterOptions = {}): () => RedisCluster {
  let cluster: RedisCluster | undefined;
  beforeAll(async () => {
    cluster = await startRedisCluster(options);
  }, 60_000);
  afterAll(async () => {
    await cluster?.dispose();
  });
  return () => {
    if (!cluster) throw new Error('the cluster did not start');
    return cluster;
  };
}

/**
 * Starts a server before the file's tests and stops it after; `server()` is it. Call inside a
 * `describeRedis` block.
 */
export function useRedisServer(options: RedisServerOptions = {}): () => RedisServer {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedisServer(options);
  });
  afterAll(async () => {
    await server?.dispose();
  });
  return () => {
    if (!server) throw new Error('redis-server did not start');
    return server;
  };
}

/** A store on the server with a fresh prefix; quick reconnects for outage tests. */
export function openStore(
  server: RedisServer,
  options: RedisStoreOptions = {},
): Promise<RedisStore> {
  return createRedisStore({
    url: server.url,
    prefix: freshPrefix(),
    maxRetryDelayMs: 50,
    ...options,
  });
}

/** Every key under a store's prefix. */
export async function keysOf(store: RedisStore): Promise<string[]> {
  return (await store.client.keys(`${store.keys.prefix}*`)).sort();
}
