import { RateLimitExceededError } from '../../src/errors.js';
import { MemoryStore } from '../../src/keep/memory.js';
import type { Store } from '../../src/keep/types.js';
import type { BudgetManagerEvents } from '../../src/react/budgets/index.js';
import { BudgetManager, type BudgetManagerOptions } from '../../src/react/budgets/index.js';

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

/** The error of class `kind` that `promise` rejects with; fails the test on any other outcome. */
export async function rejection<E extends Error>(
  promise: Promise<unknown>,
  kind: { name: string; isInstance(value: unknown): value is E },
): Promise<E> {
  try {
    await promise;
  } catch (error) {
    if (kind.isInstance(error)) return error;
    throw error;
  }
  throw new Error(`expected ${kind.name}, the promise resolved`);
}

/** The `RateLimitExceededError` a check rejects with; fails the test when it passes. */
export const refusal = (promise: Promise<unknown>) => rejection(promise, RateLimitExceededError);
