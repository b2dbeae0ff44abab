import { afterEach, beforeEach, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import type { RedisStore } from '../../src/redis/index.js';
import { BASE, ledgerRecords } from '../keep/fixtures.js';
import { rejection } from '../support/rejection.js';
import { describeRedis, keysOf, openStore, useRedisServer } from './support.js';

const NOW = BASE;
const counter = (key: string, expiresAt = NOW + 3_600_000) => ({
  key,
  limitFemto: 10n,
  hard: true,
  expiresAt,
});

async function refused(run: Promise<unknown>, field: string): Promise<void> {
  const error = await rejection(run, ConfigurationError);
  expect(ConfigurationError.isInstance(error), error.message).toBe(true);
  expect(error.message).toContain(field);
}

describeRedis('RedisStore refuses inputs before any script runs', () => {
  const server = useRedisServer();
  let store: RedisStore;
  beforeEach(async () => {
    store = await openStore(server());
  });
  afterEach(async () => {
    await store.close();
  });

  it('holdUntil = NaN is refused, and leaves no amount held on the counter', async () => {
    const run = store.reserve({
      callId: 'c',
      amountFemto: 1n,
      counters: [counter('k')],
      holdUntil: Number.NaN,
      now: NOW,
    });
    await refused(run, 'holdUntil');
    expect((await store.counters(['k'], NOW))[0]?.reservedFemto).toBe(0n);
  });

  it('expiresAt = NaN is refused instead of writing keys that never expire', async () => {
    const run = store.reserve({
      callId: 'c',
      amountFemto: 1n,
      counters: [counter('k', Number.NaN)],
      holdUntil: NOW + 60_000,
      now: NOW,
    });
    await refused(run, 'expiresAt of "k"');
    await refused(store.settle('d', 1n, [counter('k')], Number.NaN), 'now');
    expect(await keysOf(store)).toEqual([]);
  });

  it('an amount that is not a bigint (NaN) is refused, and the counter stays readable', async () => {
    const run = store.reserve({
      callId: 'c',
      amountFemto: Number.NaN as unknown as bigint,
      counters: [counter('k')],
      holdUntil: NOW + 60_000,
      now: NOW,
    });
    await refused(run, 'amountFemto');
    expect(await store.counters(['k'], NOW)).toEqual([
      { key: 'k', settledFemto: 0n, reservedFemto: 0n },
    ]);
  });

  it('a window that never ends (Infinity) is held, and every key still gets a lifetime', async () => {
    const answer = await store.reserve({
      callId: 'c',
      amountFemto: 1n,
      counters: [counter('k', Number.POSITIVE_INFINITY)],
      holdUntil: Number.POSITIVE_INFINITY,
      now: NOW,
    });
    expect(answer).toEqual({ ok: true });
    expect((await store.counters(['k'], NOW))[0]?.reservedFemto).toBe(1n);
    await store.release('c', NOW);
    expect((await store.counters(['k'], NOW))[0]?.reservedFemto).toBe(0n);
    for (const key of await keysOf(store))
      expect(await store.client.pttl(key), key).toBeGreaterThan(0);
    expect(await store.markAlert('a', 0.5, Number.POSITIVE_INFINITY)).toBe(true);
    expect(await store.markAlert('a', 0.5, Number.POSITIVE_INFINITY)).toBe(false);
  });

  it('a rate limit step with now = NaN is refused, not admitted without limit', async () => {
    const request = { key: 'r', limit: 1, windowMs: 60_000, cost: 1, now: Number.NaN };
    await refused(store.consumeRate(request), 'now');
    await refused(store.consumeRate(request), 'now');
  });

  it.each([
    ['a number', 5],
    ['an empty timestamp', Buffer.from(':0000000000000001:call-1').toString('base64url')],
    ['a member without its sequence', Buffer.from(`${BASE}:call-1`).toString('base64url')],
  ])('a cursor that is %s is a ConfigurationError, not an outage', async (_, cursor) => {
    await store.append(ledgerRecords(3));
    await refused(store.query({ cursor: cursor as string }), 'not a cursor');
  });

  it('a cursor it returned still pages on', async () => {
    await store.append(ledgerRecords(3));
    const first = await store.query({ limit: 2 });
    const next = await store.query({ cursor: first.nextCursor as string });
    expect(next.records).toHaveLength(1);
  });
});
