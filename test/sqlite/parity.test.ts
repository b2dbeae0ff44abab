import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/keep/memory.js';
import type { GroupBy } from '../../src/keep/types.js';
import { SqliteStore } from '../../src/sqlite/index.js';
import { ledgerRecord } from '../keep/fixtures.js';

const ZONES = [
  'UTC',
  'America/New_York',
  'Europe/London',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Australia/Lord_Howe',
  'America/Santiago',
];
const GROUPS: GroupBy[] = ['none', 'user', 'tenant', 'thread', 'agent', 'model', 'hour', 'day'];

describe('SQLite summaries agree with the reference MemoryStore', () => {
  it('for random records, filters, groupings and time zones', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            timestamp: fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2027, 0, 1) }),
            userId: fc.option(fc.constantFrom('alice', 'bob', 'carol'), { nil: undefined }),
            model: fc.constantFrom('m1', 'm2'),
            priced: fc.boolean(),
            costFemto: fc.bigInt({ min: 0n, max: 2n ** 62n }),
            inputTokens: fc.nat(10_000),
          }),
          { maxLength: 60 },
        ),
        fc.constantFrom(...GROUPS),
        fc.constantFrom(...ZONES),
        fc.option(fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2027, 0, 1) }), {
          nil: undefined,
        }),
        async (parts, groupBy, timeZone, from) => {
          const records = parts.map((p) =>
            ledgerRecord({ ...p, costFemto: p.priced ? p.costFemto : 0n }),
          );
          const memory = new MemoryStore();
          const sqlite = new SqliteStore({ path: ':memory:' });
          await memory.append(records);
          await sqlite.append(records);
          const options = { groupBy, timeZone, ...(from === undefined ? {} : { from }) };
          expect(await sqlite.summarize(options)).toEqual(await memory.summarize(options));
          await sqlite.close();
        },
      ),
      { numRuns: 150 },
    );
  });

  it.each([
    ['to: Number.MAX_SAFE_INTEGER', 'Asia/Kolkata', { to: Number.MAX_SAFE_INTEGER }],
    ['from: Number.MIN_SAFE_INTEGER', 'Asia/Kolkata', { from: Number.MIN_SAFE_INTEGER }],
    ['from: the earliest Date', 'Asia/Kolkata', { from: -8.64e15 }],
  ])('for bounds beyond the calendar (%s) in %s', async (_, timeZone, bounds) => {
    // India's day starts at 18:30 UTC: these two calls fall on two local days.
    const records = [
      ledgerRecord({ timestamp: Date.UTC(2026, 10, 23, 18, 10) }),
      ledgerRecord({ timestamp: Date.UTC(2026, 10, 23, 18, 40) }),
    ];
    const memory = new MemoryStore();
    const sqlite = new SqliteStore({ path: ':memory:' });
    await memory.append(records);
    await sqlite.append(records);
    for (const groupBy of ['hour', 'day'] as const) {
      const options = { groupBy, timeZone, ...bounds };
      expect(await sqlite.summarize(options)).toEqual(await memory.summarize(options));
    }
    await sqlite.close();
  });
});
