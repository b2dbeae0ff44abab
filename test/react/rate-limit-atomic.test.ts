/**
 * RateLimiter.check is all or nothing on a store with consumeRates: a refused token limit no
 * longer consumes the request limit that passed before it. Run on the memory store and on a
 * SQLite file; a custom store with only consumeRate keeps the old one-by-one path.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../../src/keep/memory.js';
import type { Store } from '../../src/keep/types.js';
import { type RateLimitedEvent, RateLimiter } from '../../src/react/rate-limit.js';
import { SqliteStore } from '../../src/sqlite/index.js';
import { withoutConsumeRates } from '../keep/fixtures.js';
import { tempDir } from '../sqlite/support.js';
import { NOW, refusal } from './support.js';

const limits = [
  {
    id: 'per-user',
    scope: { kind: 'user' as const },
    requestsPerMinute: 6,
    tokensPerMinute: 1_000,
  },
];

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const stores: [string, () => Store][] = [
  ['memory', () => new MemoryStore()],
  [
    'sqlite (file)',
    () => {
      const { dir, remove } = tempDir();
      const store = new SqliteStore({ path: join(dir, 'rates.db') });
      cleanups.push(async () => {
        await store.close();
        remove();
      });
      return store;
    },
  ],
];

describe.each(stores)('RateLimiter on %s: all or nothing', (_, create) => {
  it('a refused token limit leaves the request limit unconsumed (no over-count)', async () => {
    const limiter = new RateLimiter({ store: create(), limits });
    const events: RateLimitedEvent[] = [];
    limiter.on('rate_limited', (event) => events.push(event));
    await limiter.check({ userId: 'alice', tokens: 700, now: NOW });
    // 300 tokens left: 400 refuses on tokens, and the request it would have been is not counted.
    const error = await refusal(limiter.check({ userId: 'alice', tokens: 400, now: NOW }));
    expect(error).toMatchObject({ retryAfterMs: 6_000, scope: 'rate:per-user:user:alice:tokens' });
    expect(events).toEqual([
      {
        type: 'rate_limited',
        limitId: 'per-user',
        key: 'rate:per-user:user:alice:tokens',
        dimension: 'tokens',
        retryAfterMs: 6_000,
        waiting: false,
      },
    ]);
    // One request of 6 used: five more pass, the seventh is refused on requests.
    for (let i = 0; i < 5; i++) await limiter.check({ userId: 'alice', now: NOW });
    expect(await refusal(limiter.check({ userId: 'alice', now: NOW }))).toMatchObject({
      retryAfterMs: 10_000,
      scope: 'rate:per-user:user:alice:requests',
    });
  });

  it('a check above the token limit (Infinity) consumes no request either', async () => {
    const limiter = new RateLimiter({ store: create(), limits });
    const error = await refusal(limiter.check({ userId: 'alice', tokens: 1_001, now: NOW }));
    expect(error.retryAfterMs).toBe(Number.POSITIVE_INFINITY);
    expect(error.message).toMatch(/1001 tokens is more than the limit of 1000 per minute/);
    for (let i = 0; i < 6; i++) await limiter.check({ userId: 'alice', now: NOW });
  });

  it('refuses with the longest wait; wait mode sleeps it once and consumes the set once', async () => {
    const store = create();
    const strict = new RateLimiter({ store, limits });
    await strict.check({ userId: 'alice', tokens: 700, now: NOW });
    for (let i = 0; i < 5; i++) await strict.check({ userId: 'alice', now: NOW });
    // Requests wait 10 s, tokens 6 s: the refusal names the requests, the longer.
    expect(await refusal(strict.check({ userId: 'alice', tokens: 400, now: NOW }))).toMatchObject({
      retryAfterMs: 10_000,
      scope: 'rate:per-user:user:alice:requests',
    });

    vi.useFakeTimers({ now: NOW });
    const waiting = new RateLimiter({ store, limits, wait: { maxWaitMs: 10_000 } });
    const events: RateLimitedEvent[] = [];
    waiting.on('rate_limited', (event) => events.push(event));
    const pending = waiting.check({ userId: 'alice', tokens: 400 });
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(pending).resolves.toEqual({ ok: true, waitedMs: 10_000 });
    expect(events.map((e) => [e.key, e.retryAfterMs, e.waiting])).toEqual([
      ['rate:per-user:user:alice:requests', 10_000, true],
    ]);
    // Consumed exactly once: 1,100 tokens in all, so at +20 s 1,000 − 1,100 + 333⅓ (refilled)
    // = 233 are left, and 234 wait 40 ms (a token is 60 ms); one request is left too.
    expect(
      await refusal(strict.check({ userId: 'alice', tokens: 234, now: NOW + 20_000 })),
    ).toMatchObject({ retryAfterMs: 40, scope: 'rate:per-user:user:alice:tokens' });
    await expect(
      strict.check({ userId: 'alice', tokens: 233, now: NOW + 20_000 }),
    ).resolves.toMatchObject({ ok: true });
  });
});

describe('RateLimiter without consumeRates, and when consumeRates fails', () => {
  it('a store with only consumeRate is checked limit by limit (the documented over-count)', async () => {
    const limiter = new RateLimiter({ store: withoutConsumeRates(), limits });
    await limiter.check({ userId: 'alice', tokens: 700, now: NOW });
    await refusal(limiter.check({ userId: 'alice', tokens: 400, now: NOW }));
    // The refused check's request was counted: only four more pass.
    for (let i = 0; i < 4; i++) await limiter.check({ userId: 'alice', now: NOW });
    expect((await refusal(limiter.check({ userId: 'alice', now: NOW }))).scope).toBe(
      'rate:per-user:user:alice:requests',
    );
  });

  it('fails open by default and closed on request, naming consumeRates', async () => {
    const broken = new MemoryStore();
    broken.consumeRates = async () => {
      throw new Error('connection refused');
    };
    const open = new RateLimiter({ store: broken, limits });
    const errors: [string, boolean][] = [];
    open.on('store_error', (e) => errors.push([e.operation, e.failOpen]));
    await expect(open.check({ userId: 'alice', tokens: 5, now: NOW })).resolves.toEqual({
      ok: true,
      waitedMs: 0,
    });
    expect(errors).toEqual([['consumeRates', true]]);
    const closed = new RateLimiter({ store: broken, limits, onStoreError: 'fail-closed' });
    await expect(closed.check({ userId: 'alice', now: NOW })).rejects.toThrow('connection refused');
  });

  it('a check no limit matches asks the store nothing', async () => {
    const store = new MemoryStore();
    const consumeRates = vi.spyOn(store, 'consumeRates');
    const limiter = new RateLimiter({ store, limits });
    await expect(limiter.check({ agent: 'coder', now: NOW })).resolves.toEqual({
      ok: true,
      waitedMs: 0,
    });
    expect(consumeRates).not.toHaveBeenCalled();
  });
});
