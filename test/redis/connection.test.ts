/**
 * Connection handling against a real server that stops, hangs and comes back: commands fail
 * fast with StoreUnavailableError (tracking never hangs), and the store recovers by itself.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { createRedisStore, type RedisStore, StoreUnavailableError } from '../../src/redis/index.js';
import { ledgerRecord } from '../keep/fixtures.js';
import { startRedisServer } from '../support/redis-server.js';
import { describeRedis, freshPrefix, openStore, useRedisServer } from './support.js';

const NOW = Date.UTC(2026, 10, 23, 12);
const counter = { key: 'user:alice:day', limitFemto: 10n ** 15n, hard: true, expiresAt: NOW + 1 };
const reserve = (callId: string) => ({
  callId,
  amountFemto: 5n,
  counters: [counter],
  holdUntil: NOW + 60_000,
  now: NOW,
});

/** How long a promise takes to settle, and how. */
async function timed<T>(promise: Promise<T>): Promise<{ ms: number; error?: unknown; value?: T }> {
  const start = performance.now();
  try {
    const value = await promise;
    return { ms: performance.now() - start, value };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}

describeRedis('Redis connection handling', () => {
  const server = useRedisServer();
  let store: RedisStore | undefined;
  afterEach(async () => {
    server().resume();
    await store?.close();
    store = undefined;
  });

  it('refuses to start on a server that is not there, quickly and by name', async () => {
    const gone = await startRedisServer();
    await gone.dispose(); // a port nothing listens on any more
    const { ms, error } = await timed(createRedisStore({ url: gone.url }));
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect((error as StoreUnavailableError).operation).toBe('connect');
    expect(ms).toBeLessThan(2_500);
  });

  it('gives up on a server that accepts the connection but never answers, after connectTimeoutMs', async () => {
    const hung = await startRedisServer();
    hung.pause();
    try {
      const { ms, error } = await timed(
        createRedisStore({ url: hung.url, prefix: freshPrefix(), connectTimeoutMs: 300 }),
      );
      expect(StoreUnavailableError.isInstance(error)).toBe(true);
      expect((error as StoreUnavailableError).operation).toBe('connect');
      expect(String((error as Error).cause)).toMatch(/no usable connection within 300 ms/);
      expect(ms).toBeLessThan(1_500); // ioredis alone retried its ready check for about 6 s
    } finally {
      hung.resume();
      await hung.dispose();
    }
  });

  it('fails fast while Redis is down, then recovers by itself when it is back', async () => {
    const outage = await startRedisServer();
    try {
      store = await createRedisStore({
        url: outage.url,
        prefix: freshPrefix(),
        maxRetryDelayMs: 50,
      });
      expect(await store.reserve(reserve('before'))).toEqual({ ok: true });
      await outage.stop();
      for (const operation of [
        store.reserve(reserve('during')),
        store.append([ledgerRecord()]),
        store.counters([counter.key], NOW),
        store.consumeRate({ key: 'r', limit: 1, windowMs: 1000, cost: 1, now: NOW }),
      ]) {
        const { ms, error } = await timed<unknown>(operation);
        expect(StoreUnavailableError.isInstance(error)).toBe(true);
        expect(ms).toBeLessThan(250);
      }
      await outage.restart();
      await vi.waitFor(
        async () => expect(await store?.reserve(reserve('after'))).toEqual({ ok: true }),
        {
          timeout: 5_000,
          interval: 50,
        },
      );
    } finally {
      await outage.dispose();
    }
  });

  it('a hung server (SIGSTOP) times out after commandTimeoutMs instead of hanging', async () => {
    store = await openStore(server(), { commandTimeoutMs: 300 });
    expect(await store.reserve(reserve('a'))).toEqual({ ok: true });
    server().pause();
    const { ms, error } = await timed(store.reserve(reserve('b')));
    server().resume();
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(1_500);
  });

  it('waitForConnection: false returns at once and connects in the background', async () => {
    store = await createRedisStore({
      url: server().url,
      prefix: freshPrefix(),
      waitForConnection: false,
    });
    await vi.waitFor(async () => expect(await store?.reserve(reserve('x'))).toEqual({ ok: true }), {
      timeout: 5_000,
      interval: 20,
    });
  });

  it('close() quits once; a client passed in stays open for its owner', async () => {
    const owned = await openStore(server());
    await owned.close();
    await owned.close();
    expect(owned.client.status).toBe('end');

    const shared = await openStore(server());
    const borrower = await createRedisStore({ client: shared.client, prefix: freshPrefix() });
    await borrower.append([ledgerRecord()]);
    await borrower.close();
    expect(shared.client.status).toBe('ready');
    await shared.close();
  });

  it('validates its options when created', async () => {
    const open = await openStore(server());
    try {
      await expect(createRedisStore({ url: server().url, client: open.client })).rejects.toThrow(
        ConfigurationError,
      );
      await expect(
        createRedisStore({ client: open.client, retention: { recordTtlMs: -1 } }),
      ).rejects.toThrow(/retention.recordTtlMs/);
    } finally {
      await open.close();
    }
  });
});
