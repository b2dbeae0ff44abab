import { expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import type { GroupBy, LedgerRecord } from '../../src/keep/types.js';
import { rejection } from '../support/rejection.js';
import type { SuiteContext } from './conformance.js';
import { type Capable, capable } from './conformance-capabilities.js';
import { BASE, ledgerRecords } from './fixtures.js';

const NOW = BASE;
const counter = { key: 'inputs:day', limitFemto: 10n, hard: true, expiresAt: NOW + 86_400_000 };

/** Expects `run` to fail with a ConfigurationError whose message names `field`. */
async function refused(run: Promise<unknown>, field: string | RegExp): Promise<void> {
  const error = await rejection(run, ConfigurationError);
  expect(ConfigurationError.isInstance(error), error.message).toBe(true);
  if (typeof field === 'string') expect(error.message).toContain(field);
  else expect(error.message).toMatch(field);
}

/**
 * Values a caller computed wrongly (NaN above all: every comparison with it is false) are
 * refused with a `ConfigurationError` naming the field, by every driver, before any state moves.
 */
export function inputTests(context: SuiteContext): void {
  it.for([['turbo'], [42], [{ tier: 'flex' }]] as const)(
    'a record with serviceTier %j is refused, and no record of its batch is written',
    async ([serviceTier]) => {
      const store = context.store();
      const [good, bad] = ledgerRecords(2, (i) =>
        i === 1 ? { serviceTier: serviceTier as unknown as LedgerRecord['serviceTier'] } : {},
      );
      await refused(store.append([good as LedgerRecord, bad as LedgerRecord]), 'serviceTier');
      expect((await store.query({})).records).toEqual([]);
    },
  );

  it('a reservation with now = NaN is refused and never admitted past a hard limit', async (test) => {
    const store = capable(context, test, 'budgets');
    const reserve = (callId: string, now: number) =>
      store.reserve({ callId, amountFemto: 6n, counters: [counter], holdUntil: NOW + 60_000, now });
    expect(await reserve('first', NOW)).toEqual({ ok: true });
    await refused(reserve('second', Number.NaN), 'now');
    const [state] = await store.counters([counter.key], NOW);
    expect(state?.reservedFemto).toBe(6n);
  });

  it('a reservation with holdUntil = NaN is refused and holds nothing', async (test) => {
    const store = capable(context, test, 'budgets');
    const run = store.reserve({
      callId: 'c',
      amountFemto: 6n,
      counters: [counter],
      holdUntil: Number.NaN,
      now: NOW,
    });
    await refused(run, 'holdUntil');
    const [state] = await store.counters([counter.key], NOW);
    expect(state?.reservedFemto ?? 0n).toBe(0n);
  });

  it.for([
    ['amountFemto', -1n],
    ['actualFemto', -1n],
  ] as const)('a negative %s is refused and counts nothing', async ([field, amount], test) => {
    const store = capable(context, test, 'budgets');
    const run =
      field === 'amountFemto'
        ? store.reserve({
            callId: 'neg',
            amountFemto: amount,
            counters: [counter],
            holdUntil: NOW + 60_000,
            now: NOW,
          })
        : store.settle('neg', amount, [counter], NOW);
    await refused(run, field);
    const [state] = await store.counters([counter.key], NOW);
    expect(state?.settledFemto ?? 0n).toBe(0n);
    expect(state?.reservedFemto ?? 0n).toBe(0n);
  });

  it.for([
    ['expiresAt', (s: Capable) => s.settle('c', 1n, [{ ...counter, expiresAt: Number.NaN }], NOW)],
    ['now', (s: Capable) => s.settle('c', 1n, [counter], Number.NaN)],
    ['now', (s: Capable) => s.release('c', Number.NaN)],
    ['now', (s: Capable) => s.counters([counter.key], Number.NaN)],
  ] as const)(
    'a NaN %s in a budget call is a ConfigurationError naming it',
    async ([field, run], test) => {
      await refused(run(capable(context, test, 'budgets')), field);
    },
  );

  it('a rate limit step with now = NaN is refused, every time', async (test) => {
    const store = capable(context, test, 'rateLimits');
    const request = { key: 'inputs:rate', limit: 1, windowMs: 60_000, cost: 1, now: Number.NaN };
    await refused(store.consumeRate(request), 'now');
    await refused(store.consumeRate(request), 'now');
    if (store.consumeRates) await refused(store.consumeRates([request]), /now must be/);
  });

  it.for([
    ['threshold', (s: Capable) => s.markAlert('inputs:alert', Number.NaN, NOW + 60_000)],
    ['expiresAt', (s: Capable) => s.markAlert('inputs:alert', 0.5, Number.NaN)],
  ] as const)(
    'an alert with a NaN %s is a ConfigurationError naming it',
    async ([field, run], test) => {
      await refused(run(capable(context, test, 'alerts')), field);
    },
  );

  it.each(['toString', 'constructor', '__proto__'])(
    'a summary by groupBy %s (an Object.prototype member) is refused',
    async (groupBy) => {
      await context.store().append(ledgerRecords(2));
      const run = context.store().summarize({ groupBy: groupBy as GroupBy });
      await refused(run, `unknown groupBy "${groupBy}"`);
    },
  );

  it.each([
    ['from', { from: Number.NaN }],
    ['to', { to: Number.NaN }],
  ])('a NaN %s is refused by query and summarize', async (field, bounds) => {
    await context.store().append(ledgerRecords(2));
    await refused(context.store().query(bounds), field);
    await refused(context.store().summarize({ groupBy: 'none', ...bounds }), field);
  });

  it.each([
    ['a colon', Buffer.from(':').toString('base64url')],
    ['two colons', Buffer.from('::').toString('base64url')],
    ['a number', 5],
    ['null', null],
  ])('a damaged cursor (%s) is refused, not read as the start', async (_, cursor) => {
    await context.store().append(ledgerRecords(3));
    await refused(context.store().query({ cursor: cursor as string }), /not a cursor/);
  });
}
