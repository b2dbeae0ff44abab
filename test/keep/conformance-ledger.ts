import { expect, it } from 'vitest';
import type { LedgerRecord, QueryOptions, SummaryRow } from '../../src/keep/types.js';
import type { SuiteContext } from './conformance.js';
import { BASE, callIds, ledgerRecord, ledgerRecords } from './fixtures.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Pages through a query with `limit`, appending `between(page)` records after each page. */
async function pages(
  context: SuiteContext,
  options: QueryOptions,
  between?: (page: number) => Promise<void>,
): Promise<LedgerRecord[][]> {
  const result: LedgerRecord[][] = [];
  let cursor: string | undefined;
  do {
    const page = await context.store().query({ ...options, ...(cursor ? { cursor } : {}) });
    result.push(page.records);
    cursor = page.nextCursor;
    if (between) await between(result.length);
  } while (cursor && result.length < 1_000);
  return result;
}

export function queryTests(context: SuiteContext): void {
  it('returns records oldest first by default, newest first with order desc', async () => {
    const records = ledgerRecords(5);
    await context
      .store()
      .append([records[3], records[0], records[4], records[1], records[2]] as LedgerRecord[]);
    expect(callIds((await context.store().query()).records)).toEqual(callIds(records));
    const desc = await context.store().query({ order: 'desc' });
    expect(callIds(desc.records)).toEqual(callIds(records).reverse());
  });

  it('returns an empty page without a cursor when nothing matches', async () => {
    await context.store().append(ledgerRecords(3));
    const page = await context.store().query({ userId: 'nobody' });
    expect(page.records).toEqual([]);
    expect(page.nextCursor).toBeUndefined();
  });

  it.each([
    ['userId', 'alice'],
    ['tenantId', 'acme'],
    ['threadId', 't-2'],
    ['agent', 'coder'],
    ['model', 'gemini-2.5-pro'],
    ['sessionId', 'session-2'],
  ] as const)('filters by %s', async (field, value) => {
    const records = ledgerRecords(12, (i) => (i % 3 === 1 ? { [field]: value } : {}));
    await context.store().append(records);
    const page = await context.store().query({ [field]: value });
    expect(callIds(page.records)).toEqual(callIds(records.filter((r) => r[field] === value)));
  });

  it('combines filters with AND', async () => {
    const records = ledgerRecords(20, (i) => ({
      userId: i % 2 ? 'alice' : 'bob',
      model: i % 3 ? 'gemini-2.5-flash' : 'gemini-2.5-pro',
    }));
    await context.store().append(records);
    const page = await context.store().query({ userId: 'alice', model: 'gemini-2.5-pro' });
    const expected = records.filter((r) => r.userId === 'alice' && r.model === 'gemini-2.5-pro');
    expect(callIds(page.records)).toEqual(callIds(expected));
  });

  it('covers [from, to): from included, to excluded', async () => {
    const records = ledgerRecords(10); // BASE, BASE + 1 s, …
    await context.store().append(records);
    const page = await context.store().query({ from: BASE + 2000, to: BASE + 5000 });
    expect(callIds(page.records)).toEqual(callIds(records.slice(2, 5)));
    expect((await context.store().query({ from: BASE + 9000 })).records).toHaveLength(1);
    expect((await context.store().query({ to: BASE })).records).toHaveLength(0);
    expect((await context.store().query({ from: BASE + 1, to: BASE + 1000 })).records).toEqual([]);
  });

  it('returns 100 records by default, with a cursor when more follow', async () => {
    await context.store().append(ledgerRecords(150));
    const page = await context.store().query();
    expect(page.records).toHaveLength(100);
    expect(page.nextCursor).toEqual(expect.any(String));
  });

  it('returns at most 10,000 records however large the limit', async () => {
    await context.store().append(ledgerRecords(10_001));
    const page = await context.store().query({ limit: 50_000 });
    expect(page.records).toHaveLength(10_000);
    expect(page.nextCursor).toEqual(expect.any(String));
  });

  it('gives no cursor on a last page that is exactly full', async () => {
    await context.store().append(ledgerRecords(10));
    const [first, second, ...rest] = await pages(context, { limit: 5 });
    expect(first).toHaveLength(5);
    expect(second).toHaveLength(5);
    expect(rest).toEqual([]);
  });

  it.each(['asc', 'desc'] as const)(
    'pages %s with cursors, ties in timestamp included: no duplicates, no gaps',
    async (order) => {
      // Groups of three records share a timestamp, so a page boundary falls inside a tie.
      const records = ledgerRecords(25, (i) => ({ timestamp: BASE + Math.floor(i / 3) * 1000 }));
      await context.store().append(records);
      const all = (await pages(context, { limit: 7, order })).flat();
      expect(all).toHaveLength(25);
      expect(new Set(callIds(all)).size).toBe(25);
      const times = all.map((r) => r.timestamp);
      const sorted = [...times].sort((a, b) => (order === 'asc' ? a - b : b - a));
      expect(times).toEqual(sorted);
      const single = await context.store().query({ limit: 100, order });
      expect(callIds(all)).toEqual(callIds(single.records));
    },
  );

  it('refuses a cursor it did not make', async () => {
    await context.store().append(ledgerRecords(5));
    await expect(context.store().query({ cursor: 'not-a-cursor' })).rejects.toThrow();
  });

  it('pages through a filtered query', async () => {
    const records = ledgerRecords(40, (i) => ({ userId: i % 2 ? 'alice' : 'bob' }));
    await context.store().append(records);
    const all = (await pages(context, { userId: 'alice', limit: 6 })).flat();
    expect(callIds(all)).toEqual(callIds(records.filter((r) => r.userId === 'alice')));
  });

  it.each(['asc', 'desc'] as const)(
    'keeps %s pages stable while records are appended between them',
    async (order) => {
      const records = ledgerRecords(30);
      await context.store().append(records);
      const all = await pages(context, { limit: 10, order }, async (page) => {
        // Before, inside and after the range already paged.
        await context
          .store()
          .append([
            ledgerRecord({ timestamp: BASE - 5000 - page }),
            ledgerRecord({ timestamp: BASE + 15_500 + page }),
            ledgerRecord({ timestamp: BASE + 99_000 + page }),
          ]);
      });
      const seen = callIds(all.flat());
      expect(new Set(seen).size).toBe(seen.length);
      for (const id of callIds(records)) expect(seen).toContain(id);
    },
  );
}

/** Adds up records the way a summary row must. */
function expectedRow(key: string, records: LedgerRecord[]): SummaryRow {
  return {
    key,
    calls: records.length,
    inputTokens: records.reduce((s, r) => s + r.inputTokens, 0),
    outputTokens: records.reduce((s, r) => s + r.outputTokens, 0),
    cachedTokens: records.reduce((s, r) => s + r.cacheReadTokens, 0),
    reasoningTokens: records.reduce((s, r) => s + r.reasoningTokens, 0),
    totalTokens: records.reduce((s, r) => s + r.totalTokens, 0),
    unpricedCalls: records.filter((r) => !r.priced).length,
    costFemto: records.reduce((s, r) => s + r.costFemto, 0n),
  };
}

/** Varied records: 3 users (carol's calls unpriced), 2 tenants, 2 threads, 3 agents, 3 models. */
function mixedRecords(): LedgerRecord[] {
  const users = ['alice', 'bob', 'carol'];
  const agents = ['planner', 'coder', 'critic'];
  const models = ['gemini-2.5-flash', 'gemini-2.5-pro', 'unknown-model'];
  return ledgerRecords(30, (i) => {
    const unpriced = i % 3 === 2;
    return {
      userId: users[i % 3],
      tenantId: i % 2 ? 'acme' : 'globex',
      threadId: i < 10 ? 't-1' : 't-2',
      agent: agents[i % 3 === 0 ? 0 : i % 4 === 0 ? 1 : 2],
      model: models[i % 3],
      inputTokens: 100 + i,
      cacheReadTokens: i,
      outputTokens: 10 * i,
      reasoningTokens: i % 5,
      totalTokens: 100 + i + 10 * i,
      priced: !unpriced,
      // Odd records (tenant acme) cost a little more, so no two groups tie on cost.
      costFemto: unpriced ? 0n : BigInt((i + 1) * 1_000_003 + (i % 2) * 7),
    };
  });
}

function byCost(rows: SummaryRow[]): SummaryRow[] {
  return [...rows].sort((a, b) =>
    a.costFemto === b.costFemto ? 0 : a.costFemto > b.costFemto ? -1 : 1,
  );
}

export function summaryTests(context: SuiteContext): void {
  it('groupBy none: one row with every total', async () => {
    const records = mixedRecords();
    await context.store().append(records);
    expect(await context.store().summarize({ groupBy: 'none' })).toEqual([
      expectedRow('', records),
    ]);
  });

  it.each([
    ['user', 'userId'],
    ['tenant', 'tenantId'],
    ['thread', 'threadId'],
    ['agent', 'agent'],
    ['model', 'model'],
  ] as const)('groupBy %s: a row per %s, largest cost first', async (groupBy, field) => {
    const records = mixedRecords();
    await context.store().append(records);
    const keys = [...new Set(records.map((r) => r[field] as string))];
    const expected = byCost(
      keys.map((k) =>
        expectedRow(
          k,
          records.filter((r) => r[field] === k),
        ),
      ),
    );
    const rows = await context.store().summarize({ groupBy });
    expect(rows).toEqual(expected);
  });

  it('groups records without the field under the key ""', async () => {
    const records = ledgerRecords(6, (i) =>
      i % 3 ? { userId: 'alice', costFemto: 5_000_000n } : {},
    );
    await context.store().append(records);
    const rows = await context.store().summarize({ groupBy: 'user' });
    expect(rows.map((r) => [r.key, r.calls])).toEqual([
      ['alice', 4],
      ['', 2],
    ]);
  });

  it('orders groups of equal cost by key', async () => {
    await context.store().append(['m-c', 'm-a', 'm-b'].map((model) => ledgerRecord({ model })));
    const rows = await context.store().summarize({ groupBy: 'model' });
    expect(rows.map((r) => r.key)).toEqual(['m-a', 'm-b', 'm-c']);
  });

  it('gives no rows when nothing matches, for every groupBy', async () => {
    await context.store().append(ledgerRecords(3));
    for (const groupBy of ['none', 'user', 'model', 'hour', 'day'] as const) {
      expect(await context.store().summarize({ groupBy, userId: 'nobody' })).toEqual([]);
    }
  });

  it('counts unpriced calls per group', async () => {
    const records = mixedRecords();
    await context.store().append(records);
    const rows = await context.store().summarize({ groupBy: 'model' });
    const unknown = rows.find((r) => r.key === 'unknown-model');
    expect(unknown).toMatchObject({ calls: 10, unpricedCalls: 10, costFemto: 0n });
    expect(rows.find((r) => r.key === 'gemini-2.5-pro')?.unpricedCalls).toBe(0);
  });

  it('limit keeps the largest groups', async () => {
    await context.store().append(mixedRecords());
    const all = await context.store().summarize({ groupBy: 'user' });
    expect(await context.store().summarize({ groupBy: 'user', limit: 2 })).toEqual(all.slice(0, 2));
  });

  it('applies the filter and [from, to) before grouping', async () => {
    const records = mixedRecords();
    await context.store().append(records);
    const from = BASE + 5000;
    const to = BASE + 20_000;
    const inRange = records.filter((r) => r.timestamp >= from && r.timestamp < to);
    const rows = await context.store().summarize({ groupBy: 'model', userId: 'alice', from, to });
    const alice = inRange.filter((r) => r.userId === 'alice');
    const keys = [...new Set(alice.map((r) => r.model))];
    expect(rows).toEqual(
      byCost(
        keys.map((k) =>
          expectedRow(
            k,
            alice.filter((r) => r.model === k),
          ),
        ),
      ),
    );
  });

  it('groupBy hour and day (UTC by default): ISO bucket starts, oldest first', async () => {
    const at = (iso: string) => ledgerRecord({ timestamp: Date.parse(iso) });
    const records = [
      at('2026-11-23T10:59:59.999Z'),
      at('2026-11-23T10:00:00.000Z'),
      at('2026-11-23T11:00:00.000Z'),
      at('2026-11-22T23:30:00.000Z'),
      at('2026-11-24T00:00:00.000Z'),
    ];
    await context.store().append(records);
    const hours = await context.store().summarize({ groupBy: 'hour' });
    expect(hours.map((r) => [r.key, r.calls])).toEqual([
      ['2026-11-22T23:00:00.000Z', 1],
      ['2026-11-23T10:00:00.000Z', 2],
      ['2026-11-23T11:00:00.000Z', 1],
      ['2026-11-24T00:00:00.000Z', 1],
    ]);
    const days = await context.store().summarize({ groupBy: 'day', timeZone: 'UTC' });
    expect(days.map((r) => [r.key, r.calls])).toEqual([
      ['2026-11-22T00:00:00.000Z', 1],
      ['2026-11-23T00:00:00.000Z', 3],
      ['2026-11-24T00:00:00.000Z', 1],
    ]);
    expect(days[1]).toEqual(expectedRow('2026-11-23T00:00:00.000Z', records.slice(0, 3)));
  });

  it('groupBy day in America/New_York, across the DST change of 2026-03-08', async () => {
    const at = (iso: string) => ledgerRecord({ timestamp: Date.parse(iso) });
    await context.store().append([
      at('2026-11-23T03:00:00Z'), // Nov 22, 22:00 EST
      at('2026-11-23T06:00:00Z'), // Nov 23, 01:00 EST
      at('2026-03-08T06:00:00Z'), // Mar 8, 01:00 EST
      at('2026-03-09T03:30:00Z'), // Mar 8, 23:30 EDT: the 23-hour day
      at('2026-03-09T04:30:00Z'), // Mar 9, 00:30 EDT
    ]);
    const days = await context.store().summarize({ groupBy: 'day', timeZone: 'America/New_York' });
    expect(days.map((r) => [r.key, r.calls])).toEqual([
      ['2026-03-08T05:00:00.000Z', 2],
      ['2026-03-09T04:00:00.000Z', 1],
      ['2026-11-22T05:00:00.000Z', 1],
      ['2026-11-23T05:00:00.000Z', 1],
    ]);
  });

  it('groupBy hour in Asia/Kolkata (UTC+5:30): local hours start at half past UTC', async () => {
    const at = (iso: string) => ledgerRecord({ timestamp: Date.parse(iso) });
    await context.store().append([
      at('2026-11-23T10:10:00Z'), // 15:40 IST
      at('2026-11-23T09:45:00Z'), // 15:15 IST
      at('2026-11-23T10:40:00Z'), // 16:10 IST
    ]);
    const hours = await context.store().summarize({ groupBy: 'hour', timeZone: 'Asia/Kolkata' });
    expect(hours.map((r) => [r.key, r.calls])).toEqual([
      ['2026-11-23T09:30:00.000Z', 2],
      ['2026-11-23T10:30:00.000Z', 1],
    ]);
    const days = await context.store().summarize({ groupBy: 'day', timeZone: 'Asia/Kolkata' });
    expect(days.map((r) => [r.key, r.calls])).toEqual([['2026-11-22T18:30:00.000Z', 3]]);
  });

  it('groupBy day over a 30-day window sums each day exactly', async () => {
    const records = ledgerRecords(60, (i) => ({
      timestamp: BASE + (i % 30) * DAY,
      costFemto: BigInt(i),
    }));
    await context.store().append(records);
    const days = await context
      .store()
      .summarize({ groupBy: 'day', from: BASE, to: BASE + 30 * DAY });
    expect(days).toHaveLength(30);
    expect(days.reduce((s, r) => s + r.costFemto, 0n)).toBe(
      records.reduce((s, r) => s + r.costFemto, 0n),
    );
    expect(days.every((r) => r.calls === 2)).toBe(true);
  });
}
