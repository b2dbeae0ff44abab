import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { MemoryStore } from '../../src/keep/memory.js';
import { rejection } from '../support/rejection.js';
import { BASE, ledgerRecords } from './fixtures.js';

const NOW = BASE;

async function refused(run: Promise<unknown>, field: string): Promise<void> {
  const error = await rejection(run, ConfigurationError);
  expect(ConfigurationError.isInstance(error), error.message).toBe(true);
  expect(error.message).toContain(field);
}

describe('MemoryStore refuses inputs that would bend its arithmetic', () => {
  it('a counter limit that is not a bigint (NaN) is refused, not read as no limit', async () => {
    const store = new MemoryStore();
    const counter = {
      key: 'k',
      limitFemto: Number.NaN as unknown as bigint,
      hard: true,
      expiresAt: NOW + 60_000,
    };
    await refused(
      store.reserve({
        callId: 'c',
        amountFemto: 100n,
        counters: [counter],
        holdUntil: NOW + 1_000,
        now: NOW,
      }),
      'limitFemto of "k"',
    );
    expect((await store.counters(['k'], NOW))[0]?.reservedFemto).toBe(0n);
  });

  it.each([
    ['a negative cost', { cost: -3 }, 'cost'],
    ['a NaN limit', { limit: Number.NaN }, 'limit'],
    ['a zero window', { windowMs: 0 }, 'windowMs'],
  ])('a rate limit step with %s is refused', async (_, change, field) => {
    const store = new MemoryStore();
    const request = { key: 'r', limit: 1, windowMs: 1_000, cost: 1, now: NOW, ...change };
    await refused(store.consumeRate(request), field);
  });

  it('an alert with expiresAt = NaN is refused rather than firing on every call', async () => {
    const store = new MemoryStore();
    await refused(store.markAlert('k', 0.5, Number.NaN), 'expiresAt');
    await refused(store.markAlert('k', 0.5, Number.NaN), 'expiresAt');
  });

  it.each([
    // JSON reads 1e999 as Infinity: the page after it was silently empty.
    ['an infinite timestamp', '[1e999,0,"asc"]'],
    ['a fractional sequence', `[${BASE},0.5,"asc"]`],
    ['a fourth field', `[${BASE},0,"asc",1]`],
  ])('a cursor with %s is refused', async (_, position) => {
    const store = new MemoryStore();
    await store.append(ledgerRecords(3));
    const cursor = Buffer.from(position).toString('base64url');
    await refused(store.query({ cursor }), 'not a cursor');
  });
});
