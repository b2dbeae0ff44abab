/**
 * Rate limits in Lua match MemoryStore's exact GCRA call for call, on random traffic; the
 * server clock mode ignores the caller's `now`.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MemoryStore } from '../../src/keep/memory.js';
import type { RedisStore } from '../../src/redis/index.js';
import { describeRedis, openStore, useRedisServer } from './support.js';

const NOW = Date.UTC(2026, 10, 23, 12);

describeRedis('Redis rate limits (GCRA in Lua)', () => {
  const server = useRedisServer();
  let store: RedisStore;
  beforeAll(async () => {
    store = await openStore(server());
  });
  afterAll(async () => {
    await store.close();
  });

  it('answers exactly as MemoryStore on random traffic (odd limits, windows and costs)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000 }),
        fc.integer({ min: 1, max: 120_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1_200 }), fc.nat(5_000)), { maxLength: 30 }),
        async (limit, windowMs, steps) => {
          const key = `k${run++}`;
          const oracle = new MemoryStore();
          let now = NOW;
          for (const [cost, wait] of steps) {
            now += wait;
            const request = { key, limit, windowMs, cost, now };
            expect(await store.consumeRate(request)).toEqual(await oracle.consumeRate(request));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('consumeRates answers and stores exactly as MemoryStore, all or nothing (random sets)', async () => {
    let run = 0;
    const keys = ['a', 'b', 'c'];
    // A limit per key (small, so sets are refused with finite waits too), and now and then a
    // request with another limit, which restarts that key's bucket.
    const perKey = fc.tuple(fc.integer({ min: 5, max: 60 }), fc.integer({ min: 1, max: 120_000 }));
    const request = fc.record({
      key: fc.integer({ min: 0, max: 2 }),
      cost: fc.integer({ min: 0, max: 8 }),
      other: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(perKey, { minLength: 3, maxLength: 3 }),
        fc.array(fc.tuple(fc.array(request, { maxLength: 4 }), fc.nat(2_000)), { maxLength: 25 }),
        async (limits, rounds) => {
          const prefix = `s${run++}:`;
          const oracle = new MemoryStore();
          let now = NOW;
          for (const [set, wait] of rounds) {
            now += wait;
            const requests = set.map(({ key, cost, other }) => {
              const [limit, windowMs] = limits[key] as [number, number];
              return {
                key: prefix + keys[key],
                limit: other ? limit + 1 : limit,
                windowMs,
                cost,
                now,
              };
            });
            expect(await store.consumeRates(requests)).toEqual(await oracle.consumeRates(requests));
          }
          // The stored state matches too: a follow-up on each key answers the same.
          for (const [index, key] of keys.entries()) {
            const [limit, windowMs] = limits[index] as [number, number];
            const probe = { key: prefix + key, limit, windowMs, cost: 1, now };
            expect(await store.consumeRate(probe)).toEqual(await oracle.consumeRate(probe));
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('a cost above the limit never passes; a changed limit starts from a full bucket', async () => {
    const rate = { key: 'tpm', limit: 100, windowMs: 60_000, now: NOW };
    expect(await store.consumeRate({ ...rate, cost: 101 })).toEqual({
      ok: false,
      retryAfterMs: Number.POSITIVE_INFINITY,
    });
    expect(await store.consumeRate({ ...rate, cost: 100 })).toEqual({ ok: true, remaining: 0 });
    expect(await store.consumeRate({ ...rate, cost: 1 })).toMatchObject({ ok: false });
    expect(await store.consumeRate({ ...rate, limit: 200, cost: 1 })).toEqual({
      ok: true,
      remaining: 199,
    });
    // Even a cost of 0 under another limit restarts the bucket: the old cell is gone.
    expect(await store.consumeRate({ ...rate, limit: 300, cost: 0 })).toEqual({
      ok: true,
      remaining: 300,
    });
    expect(await store.consumeRate({ ...rate, limit: 200, cost: 0 })).toEqual({
      ok: true,
      remaining: 200,
    });
  });

  it("with rateClock: 'server', Redis TIME decides and the caller's now is ignored", async () => {
    const serverClock = await openStore(server(), { rateClock: 'server' });
    try {
      const rate = { key: 'rps', limit: 2, windowMs: 60_000, cost: 1 };
      expect(await serverClock.consumeRate({ ...rate, now: 0 })).toEqual({
        ok: true,
        remaining: 1,
      });
      expect(await serverClock.consumeRate({ ...rate, now: 0 })).toEqual({
        ok: true,
        remaining: 0,
      });
      // A caller whose clock is an hour ahead gains nothing.
      const ahead = await serverClock.consumeRate({ ...rate, now: Date.now() + 3_600_000 });
      expect(ahead).toMatchObject({ ok: false });
    } finally {
      await serverClock.close();
    }
  });
});
