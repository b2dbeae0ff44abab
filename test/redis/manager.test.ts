/**
 * BudgetManager on RedisStore, as two pods would run it: two managers, each with its own
 * connection, share one user's daily limit. LiteLLM's pod-local spend cannot happen here.
 */
import { afterEach, expect, it } from 'vitest';
import { BudgetExceededError } from '../../src/errors.js';
import { usdToFemto } from '../../src/price/money.js';
import { BudgetManager } from '../../src/react/budgets/index.js';
import type { RedisStore } from '../../src/redis/index.js';
import { describeRedis, freshPrefix, openStore, useRedisServer } from './support.js';

const NOW = Date.UTC(2026, 10, 23, 12);

describeRedis('BudgetManager on a shared RedisStore', () => {
  const server = useRedisServer();
  let stores: RedisStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.map((s) => s.close()));
    stores = [];
  });

  it('two pods share one daily user limit: no pod-local spend, one view of the stats', async () => {
    const prefix = freshPrefix();
    stores = await Promise.all([openStore(server(), { prefix }), openStore(server(), { prefix })]);
    const pods = stores.map((store) => {
      const manager = new BudgetManager({ store, defaultDailyUserLimitUsd: null });
      manager.setUserLimit('alice', 0.01);
      return manager;
    });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        (pods[i % 2] as BudgetManager)
          .reserve({ callId: `c${i}`, userId: 'alice', estimateUsd: 0.001, now: NOW })
          .then(async ({ reservation }) => {
            await (pods[(i + 1) % 2] as BudgetManager).settle(reservation, usdToFemto(0.0005), NOW);
          }),
      ),
    );
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(refused.every((o) => BudgetExceededError.isInstance(o.reason))).toBe(true);
    expect(outcomes.length - refused.length).toBeGreaterThanOrEqual(10);
    const [a, b] = await Promise.all(pods.map((pod) => pod.getUserStats('alice', NOW)));
    expect(a).toEqual(b);
    expect(a?.today.spentUsd).toBeLessThanOrEqual(0.01);
    expect(a?.today.reservedUsd).toBe(0);
    expect(a?.today.key).toBe('user:alice:day:2026-11-23@UTC');
  });
});
