import { expect, it, type TestContext } from 'vitest';
import type { BudgetCounter, Store, StoreCapabilities } from '../../src/keep/types.js';
import type { SuiteContext } from './conformance.js';
import { BASE } from './fixtures.js';

export type Capable = Required<Store>;

/** The store with its optional methods, or skips the test when the capability is missing. */
export function capable(
  context: SuiteContext,
  test: TestContext,
  capability: keyof StoreCapabilities,
) {
  const store = context.store();
  test.skip(!store.capabilities[capability], `${store.name} does not declare ${capability}`);
  return store as Capable;
}

const NOW = BASE;
const LATER = NOW + 3_600_000;

function counter(key: string, limitFemto: bigint, hard = true): BudgetCounter {
  return { key, limitFemto, hard, expiresAt: NOW + 86_400_000 };
}

function reserveArgs(callId: string, amountFemto: bigint, counters: BudgetCounter[], now = NOW) {
  return { callId, amountFemto, counters, holdUntil: LATER, now };
}

async function state(store: Capable, key: string, now = NOW) {
  const [s] = await store.counters([key], now);
  return { settled: s?.settledFemto, reserved: s?.reservedFemto };
}

export function budgetTests(context: SuiteContext): void {
  it('reserve: a hard limit refuses what would pass it (limit itself allowed)', async (test) => {
    const store = capable(context, test, 'budgets');
    const day = counter('user:alice:day:2026-11-23', 1000n);
    expect(await store.reserve(reserveArgs('a', 600n, [day]))).toEqual({ ok: true });
    expect(await store.reserve(reserveArgs('b', 401n, [day]))).toEqual({
      ok: false,
      key: day.key,
      limitFemto: 1000n,
      usedFemto: 600n,
    });
    expect(await store.reserve(reserveArgs('c', 400n, [day]))).toEqual({ ok: true });
    expect(await state(store, day.key)).toEqual({ settled: 0n, reserved: 1000n });
  });

  it('reserve: names the first hard counter that overflows and holds nothing', async (test) => {
    const store = capable(context, test, 'budgets');
    const soft = counter('global:day', 10n, false);
    const roomy = counter('tenant:acme:day', 10_000n);
    const tight = counter('user:bob:day', 100n);
    const tighter = counter('model:pro:day', 50n);
    const result = await store.reserve(reserveArgs('x', 120n, [soft, roomy, tight, tighter]));
    expect(result).toEqual({ ok: false, key: tight.key, limitFemto: 100n, usedFemto: 0n });
    const all = await store.counters([soft.key, roomy.key, tight.key, tighter.key], NOW);
    expect(all.map((c) => c.reservedFemto)).toEqual([0n, 0n, 0n, 0n]);
  });

  it('reserve: a soft counter counts but never refuses', async (test) => {
    const store = capable(context, test, 'budgets');
    const soft = counter('global:day', 100n, false);
    const hard = counter('user:alice:day', 1000n);
    expect(await store.reserve(reserveArgs('a', 300n, [soft, hard]))).toEqual({ ok: true });
    expect(await store.reserve(reserveArgs('b', 300n, [soft, hard]))).toEqual({ ok: true });
    expect(await state(store, soft.key)).toEqual({ settled: 0n, reserved: 600n });
    expect(await state(store, hard.key)).toEqual({ settled: 0n, reserved: 600n });
  });

  it('reserve: the same callId holds once and gets the same answer', async (test) => {
    const store = capable(context, test, 'budgets');
    const day = counter('user:alice:day', 1000n);
    expect(await store.reserve(reserveArgs('a', 700n, [day]))).toEqual({ ok: true });
    expect(await store.reserve(reserveArgs('a', 700n, [day]))).toEqual({ ok: true });
    expect(await state(store, day.key)).toEqual({ settled: 0n, reserved: 700n });
  });

  it('settle: replaces the reservation by the actual cost', async (test) => {
    const store = capable(context, test, 'budgets');
    const user = counter('user:alice:day', 1000n);
    const tenant = counter('tenant:acme:day', 5000n);
    await store.reserve(reserveArgs('a', 800n, [user, tenant]));
    await store.settle('a', 250n, [user, tenant], NOW + 10);
    expect(await state(store, user.key)).toEqual({ settled: 250n, reserved: 0n });
    expect(await state(store, tenant.key)).toEqual({ settled: 250n, reserved: 0n });
    expect(await store.reserve(reserveArgs('b', 750n, [user]))).toEqual({ ok: true });
    const refused = await store.reserve(reserveArgs('c', 1n, [user]));
    expect(refused).toMatchObject({ ok: false, usedFemto: 1000n });
  });

  it('settle: idempotent by callId', async (test) => {
    const store = capable(context, test, 'budgets');
    const user = counter('user:alice:day', 1000n);
    await store.reserve(reserveArgs('a', 100n, [user]));
    await store.settle('a', 90n, [user], NOW);
    await store.settle('a', 90n, [user], NOW);
    await store.settle('b', 5n, [user], NOW);
    await store.settle('b', 5n, [user], NOW);
    expect(await state(store, user.key)).toEqual({ settled: 95n, reserved: 0n });
  });

  it('settle: without a reservation, adds the cost to the given counters', async (test) => {
    const store = capable(context, test, 'budgets');
    const user = counter('user:alice:day', 1000n);
    const global = counter('global:day', 10n, false);
    await store.settle('unreserved', 40n, [user, global], NOW);
    expect(await state(store, user.key)).toEqual({ settled: 40n, reserved: 0n });
    expect(await state(store, global.key)).toEqual({ settled: 40n, reserved: 0n });
  });

  it('release: drops the reservation; idempotent; unknown calls are fine', async (test) => {
    const store = capable(context, test, 'budgets');
    const user = counter('user:alice:day', 1000n);
    await store.reserve(reserveArgs('a', 1000n, [user]));
    await store.release('a', NOW);
    await store.release('a', NOW);
    await store.release('never-reserved', NOW);
    expect(await state(store, user.key)).toEqual({ settled: 0n, reserved: 0n });
    expect(await store.reserve(reserveArgs('b', 1000n, [user]))).toEqual({ ok: true });
  });

  it('reserve: an unsettled reservation stops holding after holdUntil (no leak)', async (test) => {
    const store = capable(context, test, 'budgets');
    const user = counter('user:alice:day', 1000n);
    const holdUntil = NOW + 30_000;
    await store.reserve({
      callId: 'lost',
      amountFemto: 1000n,
      counters: [user],
      holdUntil,
      now: NOW,
    });
    expect(await state(store, user.key, holdUntil - 1)).toEqual({ settled: 0n, reserved: 1000n });
    const early = await store.reserve(reserveArgs('early', 1n, [user], holdUntil - 1));
    expect(early).toMatchObject({ ok: false, usedFemto: 1000n });
    expect(await state(store, user.key, holdUntil + 1)).toEqual({ settled: 0n, reserved: 0n });
    const late = await store.reserve(reserveArgs('late', 1000n, [user], holdUntil + 1));
    expect(late).toEqual({ ok: true });
  });

  it('a key named twice in one request is held and charged once', async (test) => {
    const store = capable(context, test, 'budgets');
    const user = counter('user:alice:day', 1000n);
    expect(await store.reserve(reserveArgs('a', 600n, [user, user]))).toEqual({ ok: true });
    expect(await state(store, user.key)).toEqual({ settled: 0n, reserved: 600n });
    await store.settle('a', 500n, [user, user], NOW);
    expect(await state(store, user.key)).toEqual({ settled: 500n, reserved: 0n });
  });

  it('counters: unknown keys read as zero, in the order asked', async (test) => {
    const store = capable(context, test, 'budgets');
    await store.settle('a', 7n, [counter('k2', 100n)], NOW);
    expect(await store.counters(['k1', 'k2', 'k3'], NOW)).toEqual([
      { key: 'k1', settledFemto: 0n, reservedFemto: 0n },
      { key: 'k2', settledFemto: 7n, reservedFemto: 0n },
      { key: 'k3', settledFemto: 0n, reservedFemto: 0n },
    ]);
  });

  it('counts exactly past 2^63 femto-dollars', async (test) => {
    const store = capable(context, test, 'budgets');
    const global = counter('global:month', 2n ** 70n);
    for (let i = 0; i < 3; i++) {
      expect(await store.reserve(reserveArgs(`r${i}`, 2n ** 64n + 1n, [global]))).toEqual({
        ok: true,
      });
    }
    await store.settle('r0', 2n ** 63n + 3n, [global], NOW);
    expect(await state(store, global.key)).toEqual({
      settled: 2n ** 63n + 3n,
      reserved: 2n * (2n ** 64n + 1n),
    });
  });

  it('100 concurrent reserves on one counter never pass the limit', async (test) => {
    const store = capable(context, test, 'budgets');
    const user = counter('user:alice:day', 250n);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => store.reserve(reserveArgs(`c${i}`, 10n, [user]))),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(25);
    expect(await state(store, user.key)).toEqual({ settled: 0n, reserved: 250n });
  });
}

export function rateTests(context: SuiteContext): void {
  const rate = (key: string, now: number, cost = 1) => ({
    key,
    limit: 10,
    windowMs: 1000,
    cost,
    now,
  });

  it('consumeRate (GCRA): a burst of `limit`, then one per windowMs / limit', async (test) => {
    const store = capable(context, test, 'rateLimits');
    for (let i = 0; i < 10; i++) {
      expect(await store.consumeRate(rate('user:alice:rpm', NOW))).toEqual({
        ok: true,
        remaining: 9 - i,
      });
    }
    expect(await store.consumeRate(rate('user:alice:rpm', NOW))).toEqual({
      ok: false,
      retryAfterMs: 100,
    });
    expect(await store.consumeRate(rate('user:alice:rpm', NOW + 99))).toEqual({
      ok: false,
      retryAfterMs: 1,
    });
    expect(await store.consumeRate(rate('user:alice:rpm', NOW + 100))).toEqual({
      ok: true,
      remaining: 0,
    });
    expect(await store.consumeRate(rate('user:alice:rpm', NOW + 100))).toMatchObject({ ok: false });
    // After a quiet window the whole burst is back.
    expect(await store.consumeRate(rate('user:alice:rpm', NOW + 1100))).toEqual({
      ok: true,
      remaining: 9,
    });
  });

  it('consumeRate: costs in units (tokens per minute); a refusal consumes nothing', async (test) => {
    const store = capable(context, test, 'rateLimits');
    const tpm = (cost: number, now = NOW) => ({
      key: 'tpm',
      limit: 1000,
      windowMs: 60_000,
      cost,
      now,
    });
    expect(await store.consumeRate(tpm(600))).toEqual({ ok: true, remaining: 400 });
    expect(await store.consumeRate(tpm(600))).toEqual({ ok: false, retryAfterMs: 12_000 });
    expect(await store.consumeRate(tpm(400))).toEqual({ ok: true, remaining: 0 });
    expect(await store.consumeRate(tpm(60, NOW + 3_600))).toEqual({ ok: true, remaining: 0 });
  });

  it('consumeRate: exact when windowMs / limit is not whole (7 per minute)', async (test) => {
    const store = capable(context, test, 'rateLimits');
    const rpm = (now: number) => ({ key: 'rpm', limit: 7, windowMs: 60_000, cost: 1, now });
    for (let i = 0; i < 7; i++) await store.consumeRate(rpm(NOW));
    // 60,000 / 7 = 8,571.43 ms: the next request passes at +8,572 ms, not a millisecond before.
    expect(await store.consumeRate(rpm(NOW))).toEqual({ ok: false, retryAfterMs: 8_572 });
    expect(await store.consumeRate(rpm(NOW + 8_571))).toEqual({ ok: false, retryAfterMs: 1 });
    expect(await store.consumeRate(rpm(NOW + 8_572))).toEqual({ ok: true, remaining: 0 });
  });

  it('consumeRate: keys are independent', async (test) => {
    const store = capable(context, test, 'rateLimits');
    for (let i = 0; i < 10; i++) await store.consumeRate(rate('a', NOW));
    expect(await store.consumeRate(rate('a', NOW))).toMatchObject({ ok: false });
    expect(await store.consumeRate(rate('b', NOW))).toEqual({ ok: true, remaining: 9 });
  });

  it('consumeRate: concurrent requests never pass the burst', async (test) => {
    const store = capable(context, test, 'rateLimits');
    const results = await Promise.all(
      Array.from({ length: 50 }, () => store.consumeRate(rate('burst', NOW))),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(10);
  });
}

export function alertTests(context: SuiteContext): void {
  it('markAlert: true once per (key, threshold)', async (test) => {
    const store = capable(context, test, 'alerts');
    const until = Date.now() + 86_400_000;
    expect(await store.markAlert('user:alice:day:2026-11-23', 0.8, until)).toBe(true);
    expect(await store.markAlert('user:alice:day:2026-11-23', 0.8, until)).toBe(false);
    expect(await store.markAlert('user:alice:day:2026-11-23', 0.95, until)).toBe(true);
    expect(await store.markAlert('user:alice:day:2026-11-24', 0.8, until)).toBe(true);
    expect(await store.markAlert('user:bob:day:2026-11-23', 0.8, until)).toBe(true);
  });

  it('markAlert: concurrent marks of one threshold: exactly one true', async (test) => {
    const store = capable(context, test, 'alerts');
    const marks = await Promise.all(
      Array.from({ length: 20 }, () => store.markAlert('global:day', 0.5, Date.now() + 60_000)),
    );
    expect(marks.filter(Boolean)).toHaveLength(1);
  });
}
