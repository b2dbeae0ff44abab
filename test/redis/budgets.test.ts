/**
 * The Lua budget scripts under real contention: many ioredis connections (as many processes
 * would have) race on the same counters, and no interleaving ever lets spend pass a hard limit.
 */
import { afterEach, expect, it } from 'vitest';
import type { BudgetCounter } from '../../src/keep/types.js';
import { usdToFemto } from '../../src/price/money.js';
import { createRedisStore, MAX_COUNTER_FEMTO, type RedisStore } from '../../src/redis/index.js';
import { describeRedis, freshPrefix, useRedisServer } from './support.js';

const NOW = Date.UTC(2026, 10, 23, 12);
const END_OF_DAY = Date.UTC(2026, 10, 24);

const hard = (key: string, usd: number): BudgetCounter => ({
  key,
  limitFemto: usdToFemto(usd),
  hard: true,
  expiresAt: END_OF_DAY,
});

describeRedis('Redis budgets: atomic under concurrency', () => {
  const server = useRedisServer();
  let stores: RedisStore[] = [];

  /** `count` stores on one prefix, each with its own connection. */
  async function connections(count: number): Promise<RedisStore[]> {
    const prefix = freshPrefix();
    stores = await Promise.all(
      Array.from({ length: count }, () => createRedisStore({ url: server().url, prefix })),
    );
    return stores;
  }

  afterEach(async () => {
    await Promise.all(stores.map((s) => s.close()));
    stores = [];
  });

  it('16 connections × 40 reserves on one counter: exactly the limit is held', async () => {
    const all = await connections(16);
    const user = hard('user:alice:day:2026-11-23@UTC', 1); // $1, calls of $0.03
    const amount = usdToFemto(0.03);
    const results = await Promise.all(
      all.flatMap((store, s) =>
        Array.from({ length: 40 }, (_, i) =>
          store.reserve({
            callId: `c${s}-${i}`,
            amountFemto: amount,
            counters: [user],
            holdUntil: NOW + 60_000,
            now: NOW,
          }),
        ),
      ),
    );
    const granted = results.filter((r) => r.ok).length;
    expect(granted).toBe(33); // floor(1 / 0.03)
    const [state] = await all[0]!.counters([user.key], NOW);
    expect(state?.reservedFemto).toBe(amount * 33n);
  });

  it('reserve is all-or-nothing across counters while others race on each of them', async () => {
    const all = await connections(12);
    const tenant = hard('tenant:acme:day', 0.5);
    const users = ['alice', 'bob', 'carol'].map((u) => hard(`user:${u}:day`, 0.3));
    const amount = usdToFemto(0.01);
    await Promise.all(
      all.flatMap((store, s) =>
        Array.from({ length: 30 }, (_, i) =>
          store.reserve({
            callId: `c${s}-${i}`,
            amountFemto: amount,
            counters: [users[(s + i) % 3] as BudgetCounter, tenant],
            holdUntil: NOW + 60_000,
            now: NOW,
          }),
        ),
      ),
    );
    const states = await all[0]!.counters([tenant.key, ...users.map((u) => u.key)], NOW);
    const [tenantState, ...userStates] = states;
    const userSum = userStates.reduce((s, c) => s + c.reservedFemto, 0n);
    // Every hold is on exactly one user and on the tenant: the sums agree to the femto-dollar.
    expect(tenantState?.reservedFemto).toBe(userSum);
    expect(tenantState!.reservedFemto <= tenant.limitFemto).toBe(true);
    for (const state of userStates) expect(state.reservedFemto <= usdToFemto(0.3)).toBe(true);
    expect(tenantState?.reservedFemto).toBe(usdToFemto(0.5));
  });

  it('concurrent reserve → settle cycles: the ledger of settled amounts equals the counter exactly', async () => {
    const all = await connections(8);
    const global = hard('global:day', 0.2);
    const ledger: bigint[] = [];
    let refusals = 0;
    await Promise.all(
      all.map(async (store, s) => {
        for (let i = 0; i < 40; i++) {
          const callId = `w${s}-${i}`;
          const estimate = 3_333_333_333_337n + BigInt(i); // odd femto amounts, no rounding
          const reserved = await store.reserve({
            callId,
            amountFemto: estimate,
            counters: [global],
            holdUntil: NOW + 60_000,
            now: NOW,
          });
          if (!reserved.ok) {
            refusals++;
            continue;
          }
          const actual = estimate - BigInt((s * 7919 + i * 104_729) % 1_000_000_007);
          await store.settle(callId, actual, [global], NOW);
          ledger.push(actual);
        }
      }),
    );
    const [state] = await all[0]!.counters([global.key], NOW);
    expect(state?.reservedFemto).toBe(0n);
    expect(state?.settledFemto).toBe(ledger.reduce((a, b) => a + b, 0n));
    expect(state!.settledFemto <= global.limitFemto).toBe(true);
    expect(refusals).toBeGreaterThan(0);
  });

  it('settle and release race on the same call: one wins, nothing is counted twice', async () => {
    const all = await connections(4);
    const user = hard('user:alice:day', 10);
    for (let round = 0; round < 50; round++) {
      const callId = `race-${round}`;
      await all[0]!.reserve({
        callId,
        amountFemto: 1_000n,
        counters: [user],
        holdUntil: NOW + 60_000,
        now: NOW,
      });
      await Promise.all([
        all[1]!.settle(callId, 700n, [user], NOW),
        all[2]!.release(callId, NOW),
        all[3]!.settle(callId, 700n, [user], NOW),
      ]);
    }
    const [state] = await all[0]!.counters([user.key], NOW);
    expect(state?.reservedFemto).toBe(0n);
    // Each round: settle first (700) or release first then the settle adds 700: always 700.
    expect(state?.settledFemto).toBe(50n * 700n);
  });

  it('a crashed worker’s hold frees itself at holdUntil on every counter it held', async () => {
    const [store] = await connections(1);
    const user = hard('user:alice:day', 1);
    const tenant = hard('tenant:acme:day', 1);
    await store!.reserve({
      callId: 'crashed',
      amountFemto: usdToFemto(1),
      counters: [user, tenant],
      holdUntil: NOW + 1_000,
      now: NOW,
    });
    const refused = await store!.reserve({
      callId: 'next',
      amountFemto: 1n,
      counters: [tenant],
      holdUntil: NOW + 60_000,
      now: NOW + 1_000,
    });
    expect(refused.ok).toBe(false);
    const later = await store!.reserve({
      callId: 'next',
      amountFemto: usdToFemto(1),
      counters: [tenant],
      holdUntil: NOW + 60_000,
      now: NOW + 1_001,
    });
    expect(later).toEqual({ ok: true });
    // The user counter is purged when next read, even though no one reserved on it since.
    expect(await store!.counters([user.key], NOW + 1_001)).toEqual([
      { key: user.key, settledFemto: 0n, reservedFemto: 0n },
    ]);
    // A late settle of the crashed call still counts its actual cost, once.
    await store!.settle('crashed', 5n, [user], NOW + 2_000);
    await store!.settle('crashed', 5n, [user], NOW + 2_000);
    expect((await store!.counters([user.key], NOW + 2_000))[0]?.settledFemto).toBe(5n);
  });

  it('holds amounts up to MAX_COUNTER_FEMTO exactly and refuses larger ones', async () => {
    const [store] = await connections(1);
    const big: BudgetCounter = {
      key: 'global:month',
      limitFemto: MAX_COUNTER_FEMTO,
      hard: true,
      expiresAt: END_OF_DAY,
    };
    const half = MAX_COUNTER_FEMTO / 2n;
    await store!.settle('a', half, [big], NOW);
    await store!.settle('b', MAX_COUNTER_FEMTO - half, [big], NOW);
    expect((await store!.counters([big.key], NOW))[0]?.settledFemto).toBe(MAX_COUNTER_FEMTO);
    const full = await store!.reserve({
      callId: 'c',
      amountFemto: 1n,
      counters: [big],
      holdUntil: NOW + 1,
      now: NOW,
    });
    expect(full).toEqual({
      ok: false,
      key: big.key,
      limitFemto: MAX_COUNTER_FEMTO,
      usedFemto: MAX_COUNTER_FEMTO,
    });
    await expect(store!.settle('d', MAX_COUNTER_FEMTO + 1n, [big], NOW)).rejects.toThrow(
      RangeError,
    );
  });
});
