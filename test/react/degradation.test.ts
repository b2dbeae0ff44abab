import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/keep/memory.js';
import type { Store } from '../../src/keep/types.js';
import { BudgetManager } from '../../src/react/budgets/index.js';
import { RateLimiter } from '../../src/react/rate-limit.js';
import { createSqliteStore } from '../../src/sqlite/index.js';
import { brokenStore, managerWithEvents, NOW, usd } from './support.js';

const input = { callId: 'c1', userId: 'alice', model: 'm', estimateUsd: 0.5, now: NOW };

describe('store failures: fail-open (default) and fail-closed', () => {
  it('fail-open lets the call through unchecked and says so in store_error', async () => {
    const { manager, of } = managerWithEvents({
      store: brokenStore(),
      defaultDailyUserLimitUsd: 1,
    });
    const outcome = await manager.reserve(input);
    expect(outcome).toMatchObject({ ok: true, reservation: { enforced: false, degraded: true } });
    await manager.settle(outcome.reservation, usd(0.5), NOW);
    await manager.release(outcome.reservation, NOW);
    expect(of('store_error').map((e) => [e.operation, e.failOpen, e.callId])).toEqual([
      ['reserve', true, 'c1'],
      ['settle', true, 'c1'],
      ['release', true, 'c1'],
    ]);
    expect(of('store_error')[0]?.error).toEqual(new Error('connection refused'));
  });

  it('a real SQLite store closed under the manager: degraded, not enforced', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    const { manager, of } = managerWithEvents({ store, defaultDailyUserLimitUsd: 1 });
    const open = await manager.reserve(input);
    expect(open.reservation.enforced).toBe(true);
    expect(open.reservation.degraded).toBeUndefined();
    await store.close();
    const closed = await manager.reserve({ ...input, callId: 'c2' });
    expect(closed.reservation).toMatchObject({ enforced: false, degraded: true });
    expect(of('store_error').map((e) => [e.operation, e.failOpen])).toEqual([['reserve', true]]);
  });

  it('fail-closed rethrows the store error from reserve, settle and release', async () => {
    const { manager, of } = managerWithEvents({
      store: brokenStore(),
      defaultDailyUserLimitUsd: 1,
      onStoreError: 'fail-closed',
    });
    await expect(manager.reserve(input)).rejects.toThrow('connection refused');
    const reservation = {
      callId: 'c1',
      amountFemto: usd(0.5),
      counters: [{ key: 'k', limitFemto: usd(1), hard: true, expiresAt: NOW + 1 }],
      holdUntil: NOW + 1,
      charges: [],
      enforced: true,
    };
    await expect(manager.settle(reservation, 1n, NOW)).rejects.toThrow('connection refused');
    await expect(manager.release(reservation, NOW)).rejects.toThrow('connection refused');
    expect(of('store_error').every((e) => e.failOpen === false)).toBe(true);
  });

  it('a store that comes back counts the spend of calls let through while it was down', async () => {
    const real = new MemoryStore();
    let down = true;
    // Delegates to a real store, except while "down".
    const flaky: Store = new Proxy(real, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) =>
          down ? Promise.reject(new Error('down')) : value.apply(target, args);
      },
    });
    const manager = new BudgetManager({ store: flaky, defaultDailyUserLimitUsd: 1 });
    const { reservation } = await manager.reserve(input);
    down = false;
    await manager.settle(reservation, usd(0.75), NOW);
    expect((await manager.getUserStats('alice', NOW)).today.spentUsd).toBe(0.75);
  });

  it('alert bookkeeping failures never fail a settle, even fail-closed', async () => {
    const store = new MemoryStore();
    store.markAlert = async () => {
      throw new Error('alerts down');
    };
    const { manager, of } = managerWithEvents({
      store,
      defaultDailyUserLimitUsd: 1,
      onStoreError: 'fail-closed',
    });
    const { reservation } = await manager.reserve(input);
    await manager.settle(reservation, usd(0.9), NOW);
    expect(of('store_error')).toEqual([
      expect.objectContaining({ operation: 'markAlert', failOpen: true }),
    ]);
    expect((await manager.getUserStats('alice', NOW)).today.spentUsd).toBe(0.9);
  });

  it('a rate limiter fails open by default and closed on request', async () => {
    const limits = [{ id: 'rpm', scope: { kind: 'global' as const }, requestsPerMinute: 1 }];
    const open = new RateLimiter({ store: brokenStore(), limits });
    const errors: string[] = [];
    open.on('store_error', (e) => errors.push(e.operation));
    await expect(open.check({ now: NOW })).resolves.toEqual({ ok: true, waitedMs: 0 });
    expect(errors).toEqual(['consumeRate']);
    const closed = new RateLimiter({ store: brokenStore(), limits, onStoreError: 'fail-closed' });
    await expect(closed.check({ now: NOW })).rejects.toThrow('connection refused');
  });
});
