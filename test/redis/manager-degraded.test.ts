/**
 * BudgetManager over a resilient store failing open, with a real redis-server stopped: the
 * reservations it admits without Redis say so (`degraded: true`, `enforced: false`).
 */
import { afterEach, expect, it } from 'vitest';
import { BudgetExceededError } from '../../src/errors.js';
import { MemoryStore } from '../../src/keep/memory.js';
import { BudgetManager } from '../../src/react/budgets/index.js';
import { createResilientStore, type ResilientStore } from '../../src/redis/index.js';
import { describeRedis, freshPrefix, openStore, useRedisServer } from './support.js';

const NOW = Date.UTC(2026, 10, 23, 12);

describeRedis('BudgetManager while Redis is down (fail-open)', () => {
  const server = useRedisServer();
  let store: ResilientStore | undefined;
  afterEach(async () => {
    await store?.close();
  });

  it('marks reservations admitted without the store degraded and not enforced', async () => {
    const redis = await openStore(server(), { prefix: freshPrefix(), commandTimeoutMs: 500 });
    store = createResilientStore({
      primary: redis,
      local: new MemoryStore(),
      failMode: 'open',
      retryIntervalMs: 25,
      onEvent: () => undefined,
    });
    const manager = new BudgetManager({ store, defaultDailyUserLimitUsd: 0.01 });
    const reserve = (callId: string, estimateUsd: number) =>
      manager.reserve({ callId, userId: 'alice', estimateUsd, now: NOW });

    const checked = await reserve('up', 0.004);
    expect(checked.reservation.enforced).toBe(true);
    expect(checked.reservation.degraded).toBeUndefined();
    await manager.settle(checked.reservation, 4_000_000_000_000n, NOW);
    await expect(reserve('too-big', 0.007)).rejects.toBeInstanceOf(BudgetExceededError);

    await server().stop();
    // The same call Redis refused a moment ago is let through unchecked, and says so.
    const unchecked = await reserve('down', 0.007);
    expect(unchecked.reservation).toMatchObject({ enforced: false, degraded: true });
  });
});
