/**
 * One real redis-server per test file (the harness in test/support), a fresh key prefix per
 * store, and `describeRedis`, which skips with a notice where redis-server is not installed.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import {
  createRedisStore,
  type RedisStore,
  type RedisStoreOptions,
} from '../../src/redis/index.js';
import {
  hasRedisServer,
  type RedisServer,
  type RedisServerOptions,
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
