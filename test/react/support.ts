import { RateLimitExceededError } from '../../src/errors.js';
import { MemoryStore } from '../../src/keep/memory.js';
import type { Store } from '../../src/keep/types.js';
import type { BudgetManagerEvents } from '../../src/react/budgets/index.js';
import { BudgetManager, type BudgetManagerOptions } from '../../src/react/budgets/index.js';
import { rejection } from '../support/rejection.js';

/** 2026-11-23T12:00:00Z, a Monday. */
export const NOW = Date.UTC(2026, 10, 23, 12);
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** Dollars to femto-dollars for exact expectations: `usd(0.01)` is 10^13n. */
export const usd = (dollars: number) => BigInt(Math.round(dollars * 1e6)) * 1_000_000_000n;

/** A manager on a fresh memory store, with every event collected in order. */
export function managerWithEvents(options: BudgetManagerOptions = {}) {
  const store = options.store ?? new MemoryStore();
  const manager = new BudgetManager({ defaultDailyUserLimitUsd: null, ...options, store });
  const events: { name: keyof BudgetManagerEvents; event: unknown }[] = [];
  const names: (keyof BudgetManagerEvents)[] = [
    'budget_alert',
    'budget_refused',
    'adaptive',
    'store_error',
  ];
  for (const name of names) {
    manager.on(name, (event: unknown) => {
      events.push({ name, event });
    });
  }
  const of = <E extends keyof BudgetManagerEvents>(name: E) =>
    events
      .filter((e) => e.name === name)
      .map((e) => e.event as Parameters<BudgetManagerEvents[E]>[0]);
  return { manager, store, events, of };
}

/**
 * A store whose budget methods throw, to test fail-open and fail-closed. A test double for the
 * failure only: the store under test elsewhere is always the real one.
 */
export function brokenStore(): Store {
  const fail = async (): Promise<never> => {
    throw new Error('connection refused');
  };
  return {
    name: 'broken',
    capabilities: { budgets: true, rateLimits: true, alerts: true, persistent: false },
    append: fail,
    query: fail,
    summarize: fail,
    close: async () => {},
    reserve: fail,
    settle: fail,
    release: fail,
    counters: fail,
    consumeRate: fail,
    markAlert: fail,
  };
}

export { rejection };

/** The `RateLimitExceededError` a check rejects with; fails the test when it passes. */
export const refusal = (promise: Promise<unknown>) => rejection(promise, RateLimitExceededError);
