/**
 * Summaries from what Redis keeps: the kept records, and the UTC daily and hourly aggregates
 * that outlive them. MemoryStore, the reference driver, is the oracle for every answer.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MemoryStore } from '../../src/keep/memory.js';
import type { LedgerRecord, SummaryOptions } from '../../src/keep/types.js';
import type { RedisStore } from '../../src/redis/index.js';
import { ledgerRecords } from '../keep/fixtures.js';
import { describeRedis, openStore, useRedisServer } from './support.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MIDNIGHT = Date.UTC(2026, 10, 22);

/** Two and a half UTC days of calls from 3 users, 2 tenants, 3 agents, 2 models. */
function twoDays(): LedgerRecord[] {
  return ledgerRecords(
    120,
    (i) => ({
      userId: ['alice', 'bob', 'carol'][i % 3],
      ...(i % 4 === 0 ? {} : { tenantId: i % 2 ? 'acme' : 'globex' }),
      agent: ['planner', 'coder', 'critic'][i % 3 === 0 ? 0 : i % 5 === 0 ? 1 : 2],
      model: i % 2 ? 'gemini-2.5-flash' : 'gemini-2.5-pro',
      priced: i % 7 !== 3,
      costFemto: i % 7 === 3 ? 0n : 2n ** 55n + BigInt(i * 1_000_003),
      inputTokens: 100 + i,
      outputTokens: 3 * i,
      cacheReadTokens: i % 11,
      reasoningTokens: i % 13,
      totalTokens: 100 + 4 * i,
    }),
    MIDNIGHT + 90 * 60_000,
  ).map((record, i) => ({ ...record, timestamp: MIDNIGHT + i * 30 * 60_000 + (i % 17) * 1000 }));
}

/** Answerable from the aggregates: whole UTC days or hours, one filter field at most. */
const AGGREGATE_CASES: SummaryOptions[] = [
  { groupBy: 'none', from: MIDNIGHT, to: MIDNIGHT + 3 * DAY },
  { groupBy: 'day', from: MIDNIGHT, to: MIDNIGHT + 3 * DAY },
  { groupBy: 'day', from: MIDNIGHT + DAY, to: MIDNIGHT + 2 * DAY, userId: 'alice' },
  { groupBy: 'user', from: MIDNIGHT, to: MIDNIGHT + 2 * DAY },
  { groupBy: 'tenant', from: MIDNIGHT, to: MIDNIGHT + 3 * DAY },
  { groupBy: 'agent', from: MIDNIGHT, to: MIDNIGHT + 3 * DAY, limit: 2 },
  { groupBy: 'model', from: MIDNIGHT, to: MIDNIGHT + 3 * DAY, model: 'gemini-2.5-pro' },
  { groupBy: 'hour', from: MIDNIGHT + 5 * HOUR, to: MIDNIGHT + 30 * HOUR },
  { groupBy: 'hour', from: MIDNIGHT, to: MIDNIGHT + 12 * HOUR, model: 'gemini-2.5-flash' },
  { groupBy: 'none', from: MIDNIGHT + 3 * HOUR, to: MIDNIGHT + 7 * HOUR },
  { groupBy: 'day', from: MIDNIGHT + 3 * HOUR, to: MIDNIGHT + 29 * HOUR, model: 'gemini-2.5-pro' },
];

/** Only the records can answer these exactly. */
const RECORD_CASES: SummaryOptions[] = [
  { groupBy: 'user', from: MIDNIGHT + 1, to: MIDNIGHT + DAY },
  { groupBy: 'model', userId: 'bob', from: MIDNIGHT, to: MIDNIGHT + DAY },
  { groupBy: 'thread' },
  { groupBy: 'day', timeZone: 'Asia/Kolkata', from: MIDNIGHT, to: MIDNIGHT + 3 * DAY },
  { groupBy: 'hour', from: MIDNIGHT, to: MIDNIGHT + DAY, userId: 'alice' },
  { groupBy: 'none', sessionId: 'session-1', from: MIDNIGHT, to: MIDNIGHT + DAY },
];

describeRedis('RedisStore.summarize: records and aggregates', () => {
  const server = useRedisServer();
  let store: RedisStore;
  const oracle = new MemoryStore();
  const records = twoDays();

  beforeEach(async () => {
    store = await openStore(server());
    await store.append(records);
    await oracle.append(records);
  });
  afterEach(async () => {
    await store.close();
  });

  it.each([...AGGREGATE_CASES, ...RECORD_CASES])(
    'matches the reference driver: %o',
    async (options) => {
      expect(await store.summarize(options)).toEqual(await oracle.summarize(options));
    },
  );

  it('answers whole days and hours from the aggregates after the records have expired', async () => {
    // What the 24 h TTL does to records, done at once: drop every record hash.
    const recordKeys = await store.client.keys(`${store.keys.prefix}rec:*`);
    await store.client.del(...recordKeys);
    expect((await store.query()).records).toEqual([]);
    for (const options of AGGREGATE_CASES) {
      expect(await store.summarize(options)).toEqual(await oracle.summarize(options));
    }
    // …while questions only records could answer now see nothing.
    expect(await store.summarize(RECORD_CASES[0] as SummaryOptions)).toEqual([]);
  });

  it('replaying the same records changes no aggregate', async () => {
    expect(await store.append(records)).toBe(0);
    for (const options of AGGREGATE_CASES) {
      expect(await store.summarize(options)).toEqual(await oracle.summarize(options));
    }
  });
});
