/**
 * MemoryStore behaviour beyond the shared conformance suite (memory.conformance.test.ts):
 * cursors under concurrent appends, late appends, copies, bookkeeping that bounds memory, the
 * store's clock, and speed.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { MemoryStore } from '../../src/keep/memory.js';
import type { BudgetCounter, LedgerRecord } from '../../src/keep/types.js';
import { BASE, callIds, ledgerRecord, ledgerRecords } from './fixtures.js';

const DAY = 86_400_000;

async function allPages(store: MemoryStore, order: 'asc' | 'desc', limit: number) {
  const seen: LedgerRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.query({ order, limit, ...(cursor && { cursor }) });
    seen.push(...page.records);
    cursor = page.nextCursor;
  } while (cursor);
  return seen;
}

describe('MemoryStore ledger', () => {
  it('cursors are positions: appends between pages neither repeat nor skip a record', async () => {
    const store = new MemoryStore();
    const first = ledgerRecords(10);
    await store.append(first);
    const page1 = await store.query({ limit: 4 });
    // Newer records, and a late one dated before the cursor, arrive between pages.
    const newer = ledgerRecords(3, () => ({}), BASE + 60_000);
    const late = ledgerRecord({ timestamp: BASE - 1 });
    await store.append([...newer, late]);
    const rest: LedgerRecord[] = [];
    let cursor = page1.nextCursor;
    while (cursor) {
      const page = await store.query({ limit: 4, cursor });
      rest.push(...page.records);
      cursor = page.nextCursor;
    }
    expect(callIds([...page1.records, ...rest])).toEqual(callIds([...first, ...newer]));
  });

  it('desc pages are stable while newer records arrive', async () => {
    const store = new MemoryStore();
    const records = ledgerRecords(9);
    await store.append(records);
    const page1 = await store.query({ order: 'desc', limit: 5 });
    await store.append(ledgerRecords(2, () => ({}), BASE + 60_000));
    const page2 = await store.query({ order: 'desc', limit: 5, cursor: page1.nextCursor });
    expect(callIds([...page1.records, ...page2.records])).toEqual(callIds(records).reverse());
    expect(page2.nextCursor).toBeUndefined();
  });

  it('keeps records in time order whatever the append order, ties by append order', async () => {
    const store = new MemoryStore();
    const a = ledgerRecord({ timestamp: BASE + 5 });
    const b = ledgerRecord({ timestamp: BASE + 1 });
    const c = ledgerRecord({ timestamp: BASE + 5 });
    const d = ledgerRecord({ timestamp: BASE + 3 });
    await store.append([a, b]);
    await store.append([c, d]);
    expect(callIds(await allPages(store, 'asc', 2))).toEqual(callIds([b, d, a, c]));
    expect(callIds(await allPages(store, 'desc', 3))).toEqual(callIds([c, a, d, b]));
  });

  it('stores and returns copies: callers cannot change the ledger', async () => {
    const store = new MemoryStore();
    const record = ledgerRecord({ userId: 'alice' });
    await store.append([record]);
    record.userId = 'mallory';
    const [read] = (await store.query()).records;
    expect(read?.userId).toBe('alice');
    if (read) read.costFemto = 0n;
    expect((await store.query()).records[0]?.costFemto).toBe(1_000_000n);
  });

  it('rejects foreign cursors and bad limits with ConfigurationError', async () => {
    const store = new MemoryStore();
    await store.append(ledgerRecords(3));
    const { nextCursor } = await store.query({ limit: 1 });
    await expect(store.query({ cursor: 'not-a-cursor' })).rejects.toThrow(ConfigurationError);
    await expect(store.query({ cursor: nextCursor, order: 'desc' })).rejects.toThrow(
      /order "desc"/,
    );
    await expect(store.query({ limit: 0 })).rejects.toThrow(/limit/);
    await expect(store.summarize({ groupBy: 'day', timeZone: 'Nowhere/Land' })).rejects.toThrow(
      ConfigurationError,
    );
  });

  it('summarizes 200,000 records by Berlin hour, every record in exactly one hour', async () => {
    const store = new MemoryStore();
    const count = 200_000;
    // One a second from BASE (an hour boundary): 55 full hours of 3,600, then 2,000; late
    // November, so no DST change.
    await store.append(ledgerRecords(count, (i) => ({ userId: `u${i % 50}` }), BASE));
    const rows = await store.summarize({ groupBy: 'hour', timeZone: 'Europe/Berlin' });
    expect(rows).toHaveLength(56);
    expect(rows.slice(0, 55).every((row) => row.calls === 3_600)).toBe(true);
    expect(rows[55]?.calls).toBe(2_000);
    expect(rows.reduce((sum, row) => sum + row.calls, 0)).toBe(count);
    expect(rows[0]?.key).toBe(new Date(BASE).toISOString());
  });
});

describe('MemoryStore budgets', () => {
  const counter = (key: string, limit: bigint, expiresAt = BASE + DAY): BudgetCounter => ({
    key,
    limitFemto: limit,
    hard: true,
    expiresAt,
  });

  it('a reservation whose holdUntil is not after now only checks: it holds nothing', async () => {
    const store = new MemoryStore();
    const request = { callId: 'c', amountFemto: 5n, counters: [counter('k', 10n)], now: BASE };
    expect(await store.reserve({ ...request, holdUntil: BASE })).toEqual({ ok: true });
    expect(await store.counters(['k'], BASE)).toEqual([
      { key: 'k', settledFemto: 0n, reservedFemto: 0n },
    ]);
    expect(await store.reserve({ ...request, amountFemto: 11n, holdUntil: BASE })).toMatchObject({
      ok: false,
    });
  });

  it('many expired reservations are all swept: nothing stays held', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 1_000; i++) {
      await store.reserve({
        callId: `c${i}`,
        amountFemto: 1n,
        counters: [counter('k', 10_000n)],
        holdUntil: BASE + 1_000 + i,
        now: BASE,
      });
    }
    // Live while holdUntil > now: at +1,500 ms those of i = 501…999.
    expect((await store.counters(['k'], BASE + 1_500))[0]?.reservedFemto).toBe(499n);
    expect((await store.counters(['k'], BASE + 2_000))[0]?.reservedFemto).toBe(0n);
  });

  it('forgets a counter a day after its window ends (swept once a minute), and its settled calls', async () => {
    const store = new MemoryStore();
    const k = counter('user:a:day:x', 100n, BASE + 1_000);
    await store.settle('c1', 7n, [k], BASE);
    await store.settle('c1', 7n, [k], BASE + 1);
    expect((await store.counters([k.key], BASE + DAY))[0]?.settledFemto).toBe(7n);
    const forgotten = BASE + 1_000 + DAY + 60_000;
    expect((await store.counters([k.key], forgotten))[0]?.settledFemto).toBe(0n);
    await store.settle('c1', 7n, [k], forgotten);
    expect((await store.counters([k.key], forgotten))[0]?.settledFemto).toBe(7n);
  });

  it('100,000 reserve + settle pairs leave exactly the settled sum and nothing held', async () => {
    const store = new MemoryStore();
    const counters = [counter('user:a', 10n ** 30n), counter('tenant:t', 10n ** 30n)];
    for (let i = 0; i < 100_000; i++) {
      const callId = `c${i}`;
      await store.reserve({
        callId,
        amountFemto: 10n,
        counters,
        holdUntil: BASE + 60_000,
        now: BASE,
      });
      await store.settle(callId, 7n, counters, BASE);
    }
    expect(await store.counters(['user:a', 'tenant:t'], BASE)).toEqual([
      { key: 'user:a', settledFemto: 700_000n, reservedFemto: 0n },
      { key: 'tenant:t', settledFemto: 700_000n, reservedFemto: 0n },
    ]);
  });
});

describe('MemoryStore rate limits and alerts', () => {
  it('a cost above the limit can never pass; a changed limit starts a fresh bucket', async () => {
    const store = new MemoryStore();
    const rate = { key: 'k', limit: 10, windowMs: 1_000, now: BASE };
    expect(await store.consumeRate({ ...rate, cost: 11 })).toEqual({
      ok: false,
      retryAfterMs: Number.POSITIVE_INFINITY,
    });
    expect(await store.consumeRate({ ...rate, cost: 10 })).toEqual({ ok: true, remaining: 0 });
    expect(await store.consumeRate({ ...rate, limit: 20, cost: 5 })).toEqual({
      ok: true,
      remaining: 15,
    });
  });

  it('a zero cost reads the remaining units without consuming', async () => {
    const store = new MemoryStore();
    const rate = { key: 'k', limit: 7, windowMs: 60_000, now: BASE };
    await store.consumeRate({ ...rate, cost: 3 });
    expect(await store.consumeRate({ ...rate, cost: 0 })).toEqual({ ok: true, remaining: 4 });
    expect(await store.consumeRate({ ...rate, cost: 0 })).toEqual({ ok: true, remaining: 4 });
  });

  it('markAlert expires by the store clock: the latest `now` its callers passed', async () => {
    const store = new MemoryStore();
    await store.counters([], BASE);
    expect(await store.markAlert('k', 0.5, BASE + 1_000)).toBe(true);
    expect(await store.markAlert('k', 0.5, BASE + 1_000)).toBe(false);
    expect(await store.markAlert('k', 0.8, BASE + 1_000)).toBe(true);
    await store.counters([], BASE + 1_000);
    expect(await store.markAlert('k', 0.5, BASE + 2_000)).toBe(true);
  });
});
