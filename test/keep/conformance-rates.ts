/**
 * `consumeRates`: several rate keys in one atomic step, all or nothing (src/keep/types.ts).
 * Optional within the rateLimits group: skipped, with a note, when the driver lacks it.
 */
import { expect, it, type TestContext } from 'vitest';
import type { RateRequest, Store } from '../../src/keep/types.js';
import type { SuiteContext } from './conformance.js';
import { BASE } from './fixtures.js';

const NOW = BASE;

type Rates = Store & Required<Pick<Store, 'consumeRate' | 'consumeRates'>>;

function withRates(context: SuiteContext, test: TestContext): Rates {
  const store = context.store();
  test.skip(!store.capabilities.rateLimits, `${store.name} does not declare rateLimits`);
  test.skip(typeof store.consumeRates !== 'function', `${store.name} has no consumeRates`);
  return store as Rates;
}

/** 10 per second: each unit 100 ms. */
const rps = (key: string, now = NOW, cost = 1): RateRequest => ({
  key,
  limit: 10,
  windowMs: 1_000,
  cost,
  now,
});
/** 1,000 per minute: each unit 60 ms. */
const tpm = (key: string, cost: number, now = NOW): RateRequest => ({
  key,
  limit: 1_000,
  windowMs: 60_000,
  cost,
  now,
});

export function consumeRatesTests(context: SuiteContext): void {
  it('consumeRates: all pass → all consumed, remaining per request in order', async (test) => {
    const store = withRates(context, test);
    expect(await store.consumeRates([rps('u:rps'), tpm('u:tpm', 600)])).toEqual({
      ok: true,
      remaining: [9, 400],
    });
    // A following consumeRate sees both consumed.
    expect(await store.consumeRate(rps('u:rps'))).toEqual({ ok: true, remaining: 8 });
    expect(await store.consumeRate(tpm('u:tpm', 600))).toEqual({ ok: false, retryAfterMs: 12_000 });
    expect(await store.consumeRate(tpm('u:tpm', 400))).toEqual({ ok: true, remaining: 0 });
  });

  it('consumeRates: one refusal → nothing consumed, on any key', async (test) => {
    const store = withRates(context, test);
    await store.consumeRate(tpm('u:tpm', 600));
    expect(await store.consumeRates([rps('u:rps'), tpm('u:tpm', 600), rps('global:rps')])).toEqual({
      ok: false,
      retryAfterMs: 12_000,
      index: 1,
    });
    // The keys before and after the refused one were left untouched, and so was the refused one.
    expect(await store.consumeRate(rps('u:rps'))).toEqual({ ok: true, remaining: 9 });
    expect(await store.consumeRate(rps('global:rps'))).toEqual({ ok: true, remaining: 9 });
    expect(await store.consumeRate(tpm('u:tpm', 400))).toEqual({ ok: true, remaining: 0 });
  });

  it('consumeRates: the refusal names the longest wait (first on a tie); all pass after it', async (test) => {
    const store = withRates(context, test);
    for (let i = 0; i < 10; i++) await store.consumeRate(rps('a'));
    await store.consumeRate(tpm('b', 600));
    await store.consumeRate(tpm('c', 600));
    // a waits 100 ms, b and c 12,000 ms each: b, the first of the longest.
    const set = (now: number) => [rps('a', now), tpm('b', 600, now), tpm('c', 600, now)];
    expect(await store.consumeRates(set(NOW))).toEqual({
      ok: false,
      retryAfterMs: 12_000,
      index: 1,
    });
    expect(await store.consumeRates(set(NOW + 11_999))).toEqual({
      ok: false,
      retryAfterMs: 1,
      index: 1,
    });
    expect(await store.consumeRates(set(NOW + 12_000))).toEqual({
      ok: true,
      remaining: [9, 0, 0],
    });
  });

  it('consumeRates: a cost above its limit never passes (Infinity) and consumes nothing', async (test) => {
    const store = withRates(context, test);
    for (let i = 0; i < 10; i++) await store.consumeRate(rps('a'));
    expect(await store.consumeRates([rps('a'), rps('b'), tpm('t', 1_001)])).toEqual({
      ok: false,
      retryAfterMs: Number.POSITIVE_INFINITY,
      index: 2,
    });
    expect(await store.consumeRate(rps('b'))).toEqual({ ok: true, remaining: 9 });
    expect(await store.consumeRate(tpm('t', 1_000))).toEqual({ ok: true, remaining: 0 });
  });

  it('consumeRates: a repeated key is stepped in order on one cell; together they must fit', async (test) => {
    const store = withRates(context, test);
    expect(await store.consumeRates([rps('d', NOW, 3), rps('e'), rps('d', NOW, 4)])).toEqual({
      ok: true,
      remaining: [7, 9, 3],
    });
    expect(await store.consumeRate(rps('d'))).toEqual({ ok: true, remaining: 2 });
    // 6 + 5 > 10: never together, however long one waits; nothing consumed.
    expect(await store.consumeRates([rps('x', NOW, 6), rps('x', NOW, 5)])).toEqual({
      ok: false,
      retryAfterMs: Number.POSITIVE_INFINITY,
      index: 1,
    });
    expect(await store.consumeRate(rps('x', NOW, 10))).toEqual({ ok: true, remaining: 0 });
    // 5 used; 3 + 3 more: the second waits 100 ms, after which both pass.
    await store.consumeRate(rps('y', NOW, 5));
    const pair = (now: number) => [rps('y', now, 3), rps('y', now, 3)];
    expect(await store.consumeRates(pair(NOW))).toEqual({ ok: false, retryAfterMs: 100, index: 1 });
    expect(await store.consumeRates(pair(NOW + 100))).toEqual({ ok: true, remaining: [3, 0] });
  });

  it('consumeRates: answers as sequential consumeRate calls do while everything passes', async (test) => {
    const store = withRates(context, test);
    // Odd limits and windows, so the fractional arrival times matter.
    const rounds: [number, [string, number, number, number][]][] = [
      [
        0,
        [
          ['r', 7, 60_000, 1],
          ['t', 999, 60_000, 350],
          ['r', 7, 60_000, 2],
        ],
      ],
      [
        1,
        [
          ['r', 7, 60_000, 1],
          ['t', 999, 60_000, 333],
          ['w', 3, 1_001, 1],
        ],
      ],
      [
        8_572,
        [
          ['r', 7, 60_000, 1],
          ['t', 999, 60_000, 1],
          ['w', 3, 1_001, 2],
        ],
      ],
      [
        61_000,
        [
          ['r', 7, 60_000, 7],
          ['t', 999, 60_000, 999],
          ['w', 3, 1_001, 3],
        ],
      ],
    ];
    for (const [offset, round] of rounds) {
      const requests = (prefix: string) =>
        round.map(([key, limit, windowMs, cost]) => ({
          key: `${prefix}:${key}`,
          limit,
          windowMs,
          cost,
          now: NOW + offset,
        }));
      const sequential: number[] = [];
      for (const request of requests('seq')) {
        const result = await store.consumeRate(request);
        if (!result.ok) throw new Error(`sequential refused ${request.key} at +${offset}`);
        sequential.push(result.remaining);
      }
      expect(await store.consumeRates(requests('all'))).toEqual({
        ok: true,
        remaining: sequential,
      });
    }
  });

  it('consumeRates: concurrent sets never pass any key’s burst, and never half-consume', async (test) => {
    const store = withRates(context, test);
    // 5 left on "tight": only 5 sets pass, so "wide" is consumed 5 times, not 20.
    await store.consumeRate(rps('tight', NOW, 5));
    const results = await Promise.all(
      Array.from({ length: 20 }, () => store.consumeRates([rps('wide'), rps('tight')])),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(await store.consumeRate(rps('wide'))).toEqual({ ok: true, remaining: 4 });
  });

  it('consumeRates: an empty set passes; requests with different nows are refused', async (test) => {
    const store = withRates(context, test);
    expect(await store.consumeRates([])).toEqual({ ok: true, remaining: [] });
    await expect(store.consumeRates([rps('a', NOW), rps('b', NOW + 1)])).rejects.toThrow(
      /one now for every request/,
    );
    expect(await store.consumeRate(rps('a'))).toEqual({ ok: true, remaining: 9 });
  });
}
