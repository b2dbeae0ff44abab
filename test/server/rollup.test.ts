/**
 * The hourly rollup answers exactly what the store answers, for random ledgers, ranges,
 * groupings, tenants and time zones, as the clock moves and records keep arriving.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/keep/memory.js';
import type { GroupBy, SummaryOptions } from '../../src/keep/types.js';
import { Rollup } from '../../src/server/index.js';
import { DAY, HOUR, NOW, rec, watched } from './support.js';

const arbitraryRecord = (start: number, span: number) =>
  fc
    .record({
      offset: fc.integer({ min: 0, max: span - 1 }),
      tenant: fc.constantFrom('a', 'b', undefined),
      user: fc.constantFrom('u1', 'u2', 'u3', undefined),
      model: fc.constantFrom('m1', 'm2'),
      agent: fc.constantFrom('x', 'y'),
      cost: fc.bigInt({ min: 0n, max: 10n ** 16n }),
      tokens: fc.integer({ min: 0, max: 10_000 }),
    })
    .map((r) =>
      rec({
        timestamp: start + r.offset,
        tenantId: r.tenant,
        userId: r.user,
        model: r.model,
        agent: r.agent,
        costFemto: r.cost,
        inputTokens: r.tokens,
        totalTokens: r.tokens + 200,
      }),
    );

const arbitraryQuery = fc.record({
  groupBy: fc.constantFrom<GroupBy>('none', 'user', 'tenant', 'agent', 'model', 'day', 'hour'),
  tenantId: fc.constantFrom('a', 'b', undefined),
  timeZone: fc.constantFrom('UTC', 'Asia/Kolkata', 'America/New_York'),
  days: fc.integer({ min: 1, max: 8 }),
  extraMs: fc.integer({ min: 0, max: 3 * HOUR }),
  limit: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
});

type Query = typeof arbitraryQuery extends fc.Arbitrary<infer Q> ? Q : never;

function request(q: Query, now: number): SummaryOptions {
  return {
    groupBy: q.groupBy,
    timeZone: q.timeZone,
    from: now - q.days * DAY - q.extraMs,
    to: now,
    ...(q.tenantId === undefined ? {} : { tenantId: q.tenantId }),
    ...(q.limit === undefined ? {} : { limit: q.limit }),
  };
}

describe('Rollup', () => {
  it('equals the store for any ledger and query, as time passes and records arrive', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbitraryRecord(NOW - 10 * DAY, 10 * DAY), { maxLength: 120 }),
        fc.array(
          fc.tuple(
            arbitraryQuery,
            fc.integer({ min: 0, max: 5 * HOUR }),
            fc.array(arbitraryRecord(0, 10 * 60_000), { maxLength: 5 }),
            // Calls just around the start of this step's range: the head read from the store.
            fc.array(arbitraryRecord(-10 * 60_000, 20 * 60_000), { maxLength: 4 }),
          ),
          { minLength: 1, maxLength: 6 },
        ),
        async (seed, steps) => {
          const store = new MemoryStore();
          // Everything dated before a step's settled buckets is in the ledger from the start.
          let now = NOW;
          const edges = steps.flatMap(([query, advance, , near]) => {
            now += advance;
            const from = request(query, now).from as number;
            return near.map((r) => ({ ...r, timestamp: from + r.timestamp }));
          });
          await store.append([...seed, ...edges]);
          now = NOW;
          const rollup = new Rollup(store, { settleMs: 10 * 60_000 }, () => now);
          for (const [query, advance, fresh] of steps) {
            now += advance;
            // New calls land within the settle window, as a live tracker's do.
            await store.append(fresh.map((r) => ({ ...r, timestamp: now - r.timestamp })));
            const options = request(query, now);
            expect(await rollup.summarize(options)).toEqual(await store.summarize(options));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('asks the store only for buckets it has not kept, and the few minutes at the end', async () => {
    const store = new MemoryStore();
    await store.append(Array.from({ length: 100 }, (_, i) => rec({ timestamp: NOW - i * HOUR })));
    const ranges: [number, number][] = [];
    const counting = watched(store, {
      summarize: (o) => ranges.push([o.from ?? 0, o.to ?? 0]),
    });
    let now = NOW + 30 * 60_000;
    const rollup = new Rollup(counting, {}, () => now);
    const options = () => ({ groupBy: 'model' as const, from: now - 2 * DAY, to: now });
    await rollup.summarize(options());
    // Cold, calls on every whole hour: the six 5-minute buckets to the first hour are known to
    // be empty from one query for the first record after them (not a summary); then 11 hours
    // to midnight, one day (24 hours), 12 hours, and the 5-minute buckets to now − 10 min: two
    // read (12:00 with a call, 12:05 without), the two after known empty; then the last 10
    // minutes.
    expect(ranges.length).toBe(11 + 24 + 12 + 2 + 1);
    ranges.length = 0;
    now += HOUR;
    const answer = await rollup.summarize(options());
    // An hour later: the first hour is now six 5-minute buckets (known empty), one new hour,
    // four new 5-minute buckets (those after an empty one known empty), and the last 10 minutes.
    expect(ranges.length).toBeGreaterThan(0);
    expect(ranges.length).toBeLessThanOrEqual(6 + 1 + 4 + 1);
    expect(ranges.every(([from, to]) => to - from <= HOUR)).toBe(true);
    expect(answer).toEqual(await store.summarize(options()));
  });

  it('a cold fill skips what holds no calls: a year with three busy hours is a few queries', async () => {
    const store = new MemoryStore();
    const busy = [NOW - 300 * DAY, NOW - 100 * DAY - 5 * HOUR, NOW - 2 * DAY];
    await store.append(busy.map((timestamp) => rec({ timestamp, tenantId: 'a' })));
    await store.append([rec({ timestamp: NOW - 50 * DAY, tenantId: 'b' })]);
    let summaries = 0;
    let queries = 0;
    const counting = watched(store, {
      query: () => {
        queries += 1;
      },
      summarize: () => {
        summaries += 1;
      },
    });
    const rollup = new Rollup(counting, {}, () => NOW);
    for (const zone of ['UTC', 'Asia/Kolkata']) {
      summaries = 0;
      queries = 0;
      const options = {
        groupBy: 'day' as const,
        timeZone: zone,
        tenantId: 'a',
        from: NOW - 366 * DAY,
        to: NOW,
      };
      expect(await rollup.summarize(options)).toEqual(await store.summarize(options));
      // Per busy hour: the hour read, the next one read (empty), then one query for the next
      // call; plus the first query and the edges. Not 366 × 24 hourly reads.
      expect(summaries).toBeLessThanOrEqual(3 * 2 + 2);
      expect(queries).toBe(3 + 1);
    }
  });

  it('a group whose last call slides out of the range is gone, not a row of zeros', async () => {
    const store = new MemoryStore();
    await store.append([rec({ model: 'old', timestamp: NOW - 2 * DAY + HOUR })]);
    let now = NOW;
    const rollup = new Rollup(store, {}, () => now);
    const options = () => ({ groupBy: 'model' as const, from: now - 2 * DAY, to: now });
    expect((await rollup.summarize(options())).map((r) => r.key)).toEqual(['old']);
    now += 3 * HOUR;
    expect(await rollup.summarize(options())).toEqual([]);
  });

  it('a late record in a cached hour shows once that hour is refetched', async () => {
    const store = new MemoryStore();
    await store.append([rec({ timestamp: NOW - 5 * DAY })]);
    let wall = 0;
    const rollup = new Rollup(
      store,
      { refreshMs: 1_000 },
      () => NOW,
      () => wall,
    );
    const options = { groupBy: 'none' as const, from: NOW - 7 * DAY, to: NOW };
    expect((await rollup.summarize(options))[0]?.calls).toBe(1);
    await store.append([rec({ timestamp: NOW - 5 * DAY + 1 })]);
    expect((await rollup.summarize(options))[0]?.calls).toBe(1); // cached
    wall += 2_000;
    // Stale buckets are refetched a few milliseconds' worth per call: it shows within a few calls.
    let calls = 0;
    for (let i = 0; i < 200 && calls !== 2; i++)
      calls = (await rollup.summarize(options))[0]?.calls ?? 0;
    expect(calls).toBe(2);
  });

  it('a range too large to keep goes to the store, still exact', async () => {
    const store = new MemoryStore();
    await store.append(
      Array.from({ length: 200 }, (_, i) => rec({ userId: `u${i}`, timestamp: NOW - i * HOUR })),
    );
    const rollup = new Rollup(store, { maxRows: 50 }, () => NOW);
    const options = { groupBy: 'user' as const, from: NOW - 9 * DAY, to: NOW };
    expect(await rollup.summarize(options)).toEqual(await store.summarize(options));
    expect(await rollup.summarize(options)).toEqual(await store.summarize(options));
  });
});
