/**
 * The store conformance suite: every documented behaviour of src/keep/types.ts, run against
 * each driver (as unjs/unstorage's `testDriver` and langgraph's checkpoint-validation do).
 *
 * @example
 * // test/keep/memory.conformance.test.ts
 * testStore('memory', { create: async () => new MemoryStore(), destroy: (s) => s.close() });
 *
 * Each test gets a fresh store from `create` and hands it to `destroy` afterwards. Tests of an
 * optional capability skip themselves, with a note, when the driver does not declare it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/keep/types.js';
import { appendTests } from './conformance-append.js';
import { alertTests, budgetTests, rateTests } from './conformance-capabilities.js';
import { inputTests } from './conformance-inputs.js';
import { queryTests, summaryTests } from './conformance-ledger.js';
import { consumeRatesTests } from './conformance-rates.js';

export interface StoreFactory {
  create: () => Promise<Store>;
  destroy: (store: Store) => Promise<void>;
}

/** What each group of tests receives: the current test's store. */
export interface SuiteContext {
  store: () => Store;
}

export function testStore(name: string, factory: StoreFactory): void {
  describe(`Store conformance: ${name}`, () => {
    let current: Store | undefined;
    beforeEach(async () => {
      current = await factory.create();
    });
    afterEach(async () => {
      if (current) await factory.destroy(current);
      current = undefined;
    });
    const context: SuiteContext = {
      store: () => {
        if (!current) throw new Error('no store: create() failed');
        return current;
      },
    };

    it('declares its capabilities truthfully: each declared group of methods is present', () => {
      const store = context.store();
      expect(typeof store.name).toBe('string');
      const { budgets, rateLimits, alerts, persistent } = store.capabilities;
      expect([budgets, rateLimits, alerts, persistent].every((v) => typeof v === 'boolean')).toBe(
        true,
      );
      const methods = (names: (keyof Store)[]) => names.map((m) => typeof store[m] === 'function');
      if (budgets)
        expect(methods(['reserve', 'settle', 'release', 'counters'])).not.toContain(false);
      if (rateLimits) expect(methods(['consumeRate'])).not.toContain(false);
      // consumeRates is optional within rateLimits, and never without it.
      if (store.consumeRates !== undefined) {
        expect(rateLimits && typeof store.consumeRates === 'function').toBe(true);
      }
      if (alerts) expect(methods(['markAlert'])).not.toContain(false);
    });

    describe('append', () => appendTests(context));
    describe('query', () => queryTests(context));
    describe('summarize', () => summaryTests(context));
    describe('budgets capability (skipped when the driver lacks it)', () => budgetTests(context));
    describe('rateLimits capability (skipped when the driver lacks it)', () => {
      rateTests(context);
      consumeRatesTests(context);
    });
    describe('alerts capability (skipped when the driver lacks it)', () => alertTests(context));
    describe('inputs refused with ConfigurationError', () => inputTests(context));
  });
}
