/**
 * The key layout and lifetimes documented in src/redis/keys.ts, read back from a real server:
 * which keys an append, a reserve, a rate check and an alert create, and the TTL each one has.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { BudgetCounter } from '../../src/keep/types.js';
import type { RedisStore } from '../../src/redis/index.js';
import { ledgerRecord } from '../keep/fixtures.js';
import { describeRedis, keysOf, openStore, useRedisServer } from './support.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 10, 23, 12);

/** PTTL in ms, checked to be within `slack` below `expected`. */
async function expectTtl(store: RedisStore, key: string, expected: number, slack = 5_000) {
  const ttl = await store.client.pttl(key);
  expect(ttl, key).toBeGreaterThan(expected - slack);
  expect(ttl, key).toBeLessThanOrEqual(expected);
}

describeRedis('Redis key layout and TTLs', () => {
  const server = useRedisServer();
  let store: RedisStore;
  beforeEach(async () => {
    store = await openStore(server());
  });
  afterEach(async () => {
    await store.close();
  });

  it('an append writes the record, its marker, indexes and UTC aggregates, each with its TTL', async () => {
    const p = store.keys.prefix;
    const record = ledgerRecord({
      callId: 'call-A',
      timestamp: Date.UTC(2026, 10, 23, 14, 30),
      userId: 'alice',
      tenantId: 'acme',
      threadId: 'thread-1',
      agent: 'planner',
      model: 'gemini-2.5-flash',
      costFemto: 1_234_567_890n,
    });
    expect(await store.append([record])).toBe(1);
    expect(await keysOf(store)).toEqual(
      [
        `${p}d:2026-11-23:agent`,
        `${p}d:2026-11-23:all`,
        `${p}d:2026-11-23:model`,
        `${p}d:2026-11-23:tenant`,
        `${p}d:2026-11-23:user`,
        `${p}exp`,
        `${p}h:2026-11-23T14:all`,
        `${p}h:2026-11-23T14:model`,
        `${p}idx`,
        `${p}idx:user:alice`,
        `${p}rec:call-A`,
        `${p}seen:call-A`,
        `${p}seq`,
        `${p}thread:thread-1`,
      ].sort(),
    );
    await expectTtl(store, `${p}rec:call-A`, DAY);
    await expectTtl(store, `${p}idx`, DAY);
    await expectTtl(store, `${p}idx:user:alice`, DAY);
    await expectTtl(store, `${p}thread:thread-1`, DAY);
    await expectTtl(store, `${p}d:2026-11-23:user`, 2 * DAY);
    await expectTtl(store, `${p}h:2026-11-23T14:model`, 2 * DAY);
    await expectTtl(store, `${p}seen:call-A`, 2 * DAY + HOUR);
    // Exact cost, as a string in the record and split into nano + femto remainder in totals.
    expect(await store.client.hget(`${p}rec:call-A`, 'c')).toBe('1234567890');
    expect(await store.client.hgetall(`${p}d:2026-11-23:user`)).toMatchObject({
      'calls:alice': '1',
      'cost_n:alice': '1234',
      'cost_f:alice': '567890',
    });
  });

  it('retention options change the lifetimes', async () => {
    await store.close();
    store = await openStore(server(), {
      retention: { recordTtlMs: HOUR, dailyTtlMs: 7 * DAY, hourlyTtlMs: 3 * DAY },
    });
    const p = store.keys.prefix;
    await store.append([ledgerRecord({ callId: 'x', timestamp: Date.UTC(2026, 10, 23, 9) })]);
    await expectTtl(store, `${p}rec:x`, HOUR);
    await expectTtl(store, `${p}d:2026-11-23:all`, 7 * DAY);
    await expectTtl(store, `${p}h:2026-11-23T09:all`, 3 * DAY);
    await expectTtl(store, `${p}seen:x`, 7 * DAY + HOUR);
  });

  it('budget counters live until their window ends plus the grace, on the request clock', async () => {
    const p = store.keys.prefix;
    const day: BudgetCounter = {
      key: 'user:alice:day:2026-11-23@UTC',
      limitFemto: 10n ** 15n,
      hard: true,
      expiresAt: Date.UTC(2026, 10, 24),
    };
    await store.reserve({
      callId: 'r1',
      amountFemto: 10n,
      counters: [day],
      holdUntil: NOW + 60_000,
      now: NOW,
    });
    // 12 h to the window's end + 24 h grace.
    await expectTtl(store, `${p}b:${day.key}`, 36 * HOUR);
    await expectTtl(store, `${p}bz:${day.key}`, 36 * HOUR);
    await expectTtl(store, `${p}call:r1`, 36 * HOUR);
    expect(await store.client.hgetall(`${p}b:${day.key}`)).toEqual({ r: '10', 'c:r1': '10' });
    expect(await store.client.zscore(`${p}bz:${day.key}`, 'r1')).toBe(String(NOW + 60_000));
    await store.settle('r1', 7n, [day], NOW + 1_000);
    expect(await store.client.hgetall(`${p}b:${day.key}`)).toEqual({ r: '0', s: '7' });
    expect(await store.client.hget(`${p}call:r1`, 'st')).toBe('s');
  });

  it('a rate key lives until its bucket is full again (+ 1 s); an alert key until its window ends', async () => {
    const p = store.keys.prefix;
    await store.consumeRate({
      key: 'user:alice:rpm',
      limit: 60,
      windowMs: 60_000,
      cost: 30,
      now: NOW,
    });
    await expectTtl(store, `${p}rate:user:alice:rpm`, 31_000, 10); // full in 30 s, + 1 s grace
    // consumeRates keeps the same hashes and TTLs, one per key; a refused set writes none.
    const tpm = { key: 'user:alice:tpm', limit: 1_000, windowMs: 60_000, cost: 250, now: NOW };
    const refused = { key: 'user:bob:tpm', limit: 1_000, windowMs: 60_000, cost: 1_001, now: NOW };
    expect(await store.consumeRates([tpm, refused])).toMatchObject({ ok: false, index: 1 });
    expect(await store.client.exists(`${p}rate:user:alice:tpm`)).toBe(0);
    expect(await store.consumeRates([tpm, { ...tpm, cost: 250 }])).toEqual({
      ok: true,
      remaining: [750, 500],
    });
    await expectTtl(store, `${p}rate:user:alice:tpm`, 31_000, 10);
    expect(await store.client.hgetall(`${p}rate:user:alice:tpm`)).toEqual({
      ms: String(NOW + 30_000),
      frac: '0',
      limit: '1000',
      window: '60000',
    });
    const until = Date.now() + 2 * HOUR;
    expect(await store.markAlert('user:alice:day:2026-11-23', 0.8, until)).toBe(true);
    await expectTtl(store, `${p}alert:user:alice:day:2026-11-23:0.8`, 2 * HOUR);
  });

  it('trims index entries whose records expired, on the next append', async () => {
    await store.close();
    store = await openStore(server(), { retention: { recordTtlMs: 200 } });
    const p = store.keys.prefix;
    await store.append([ledgerRecord({ callId: 'old', userId: 'alice', threadId: 't' })]);
    expect(await store.client.zcard(`${p}idx:user:alice`)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 250));
    await store.append([ledgerRecord({ callId: 'new' })]);
    expect(await store.client.zcard(`${p}idx`)).toBe(1);
    expect(await store.client.exists(`${p}idx:user:alice`, `${p}thread:t`)).toBe(0);
    expect((await store.query()).records.map((r) => r.callId)).toEqual(['new']);
  });

  it('uses only keys under its prefix: two prefixes on one server never meet', async () => {
    await store.client.flushdb(); // keys of the tests before
    const other = await openStore(server());
    try {
      await store.append([ledgerRecord({ callId: 'mine' })]);
      await other.append([ledgerRecord({ callId: 'mine' })]);
      expect((await other.query()).records).toHaveLength(1);
      expect((await store.query()).records).toHaveLength(1);
      const all = await store.client.keys('*');
      for (const key of await keysOf(store)) expect(key.startsWith(store.keys.prefix)).toBe(true);
      expect(all.length).toBe((await keysOf(store)).length + (await keysOf(other)).length);
    } finally {
      await other.close();
    }
  });
});
