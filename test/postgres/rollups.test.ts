import { expect, it } from 'vitest';
import { MemoryStore } from '../../src/keep/memory.js';
import type { GroupBy, LedgerRecord, SummaryOptions } from '../../src/keep/types.js';
import type { PostgresStore } from '../../src/postgres/index.js';
import { createPostgresStore, planSummary } from '../../src/postgres/index.js';
import { ledgerRecord, ledgerRecords } from '../keep/fixtures.js';
import { fillLedger } from '../support/postgres-fill.js';
import { rollupDiffs } from './full-scan.js';
import { describePostgres, dropStore, openStore, sql, usePostgresServer } from './support.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2026, 8, 28); // late September: the data spans three months

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

function pick<T>(next: () => number, values: readonly T[]): T {
  return values[Math.floor(next() * values.length)] as T;
}

/** Varied records over 40 days: some fields missing, costs up to 2^62, unpriced calls. */
function varied(count: number, seed: number): LedgerRecord[] {
  const next = random(seed);
  return Array.from({ length: count }, () => {
    const priced = next() > 0.1;
    return ledgerRecord({
      timestamp: START + Math.floor(next() * 40 * DAY),
      userId: pick(next, ['alice', 'bob', 'carol', undefined]),
      tenantId: pick(next, ['acme', 'globex', undefined]),
      threadId: pick(next, ['t-1', 't-2', 't-3', undefined]),
      agent: pick(next, ['planner', 'coder', 'critic']),
      model: pick(next, ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-3-pro']),
      sessionId: pick(next, ['s-1', 's-2']),
      inputTokens: Math.floor(next() * 10_000),
      outputTokens: Math.floor(next() * 2_000),
      cacheReadTokens: Math.floor(next() * 500),
      reasoningTokens: Math.floor(next() * 300),
      totalTokens: Math.floor(next() * 13_000),
      priced,
      costFemto: priced ? BigInt(Math.floor(next() * 1e9)) * BigInt(Math.floor(next() * 4e9)) : 0n,
    });
  });
}

describePostgres('Postgres rollups: exact sums kept on every append', () => {
  const server = usePostgresServer();

  async function loaded(records: LedgerRecord[]): Promise<PostgresStore> {
    const store = await openStore(server());
    // Overlapping concurrent batches with repeats: each call must count once, in every rollup.
    const batches = Array.from({ length: 12 }, (_, i) =>
      records.slice(i * 200, i * 200 + 350).concat(records.slice(i * 10, i * 10 + 5)),
    );
    await Promise.all(batches.map((batch) => store.append(batch)));
    await store.append(records);
    return store;
  }

  async function expectRollupsExact(store: PostgresStore): Promise<void> {
    for (const [table, diff] of Object.entries(await rollupDiffs(server(), store.schema))) {
      expect(diff, table).toEqual([]);
      const [count] = await sql(
        server(),
        `SELECT count(*)::int AS n FROM ${store.schema}.${table}`,
      );
      expect(count?.n, table).toBeGreaterThan(100);
    }
  }

  it('every rollup row equals a full scan of the records, and nothing is missing', async () => {
    const store = await loaded(varied(2_400, 7));
    await expectRollupsExact(store);
    const [records] = await sql(server(), `SELECT count(*)::int AS n FROM ${store.schema}.records`);
    expect(records?.n).toBe(2_400);
    await dropStore(server(), store);
  });

  it.each([
    ['COPY, split over 4 connections', { copy: true, appendConnections: 4 }],
    ['COPY, one connection', { copy: true, appendConnections: 1 }],
    ['a jsonb parameter, split over 3 connections', { copy: false, appendConnections: 3 }],
  ])(
    'large batches by %s: duplicate call ids within and across batches count once, rollups exact',
    async (_, options) => {
      const store = await openStore(server(), options);
      const records = varied(6_000, 23);
      // Within a batch: 500 repeats, and one call id twice with other fields (the first wins).
      const first = records[0] as LedgerRecord;
      const twin = { ...first, userId: 'impostor', costFemto: 1n };
      const a = records.slice(0, 4_000).concat(records.slice(0, 500), [twin]);
      // Across batches: 1,000 call ids in both, sent at the same moment.
      const b = records.slice(3_000);
      const added = await Promise.all([store.append(a), store.append(b)]);
      expect(added[0] + added[1]).toBe(6_000);
      expect(await store.append(a)).toBe(0);
      expect(await store.append(records.slice(2_000, 5_000))).toBe(0);
      const [count] = await sql(server(), `SELECT count(*)::int AS n FROM ${store.schema}.records`);
      expect(count?.n).toBe(6_000);
      const stored = await sql(
        server(),
        `SELECT user_id, cost_femto::text AS cost FROM ${store.schema}.records WHERE call_id = $1`,
        [first.callId],
      );
      expect(stored).toEqual([{ user_id: first.userId ?? null, cost: first.costFemto.toString() }]);
      await expectRollupsExact(store);
      const memory = new MemoryStore();
      await memory.append(records);
      for (const groupBy of ['user', 'model', 'day'] as const) {
        const range = { from: START + 3 * DAY + 1_234, to: START + 33 * DAY - 999 };
        expect(await store.summarize({ groupBy, ...range })).toEqual(
          await memory.summarize({ groupBy, ...range }),
        );
      }
      await dropStore(server(), store);
    },
  );

  it('COPY carries tabs, line ends, backslashes and quotes in any text field unchanged', async () => {
    const store = await openStore(server(), { copy: true });
    const odd = 'a\tb\\N\\\\.\r\n"q"\\';
    const records = ledgerRecords(3, (i) => ({
      agent: `${odd}${i}`,
      node: i === 0 ? odd : undefined,
      userId: i === 1 ? odd : undefined,
      threadId: '\\.',
      provider: '\\N',
      metadata: { note: odd, nested: { line: 'x\ny' } },
    }));
    expect(await store.append(records)).toBe(3);
    const page = await store.query({ limit: 10 });
    expect(page.records).toEqual(records);
    await dropStore(server(), store);
  });

  it('a role that may not create temporary tables appends by the jsonb parameter instead', async () => {
    const owner = await openStore(server());
    const schema = owner.schema.replaceAll('"', '');
    const role = `r_${schema}`;
    await sql(server(), `CREATE ROLE ${role} LOGIN`);
    await sql(server(), 'REVOKE TEMPORARY ON DATABASE postgres FROM PUBLIC');
    for (const grant of [
      `GRANT USAGE, CREATE ON SCHEMA ${owner.schema} TO ${role}`,
      `GRANT ALL ON ALL TABLES IN SCHEMA ${owner.schema} TO ${role}`,
      `GRANT ALL ON ALL SEQUENCES IN SCHEMA ${owner.schema} TO ${role}`,
    ]) {
      await sql(server(), grant);
    }
    try {
      const store = await createPostgresStore({
        connectionString: server().url.replace('postgres@', `${role}@`),
        schema,
        copy: true,
      });
      // This month's partitions exist (the owner made them); only the owner may add more.
      const now = Date.now();
      const records = ledgerRecords(2_500, (i) => ({
        timestamp: now - (i % 600) * 1_000,
        userId: `u${i % 9}`,
        tenantId: `t${i % 2}`,
      }));
      expect(await store.append(records)).toBe(2_500);
      expect(await store.append(records.slice(0, 1_000))).toBe(0);
      await store.close();
      for (const [table, diff] of Object.entries(await rollupDiffs(server(), owner.schema))) {
        expect(diff, table).toEqual([]);
      }
    } finally {
      await sql(server(), 'GRANT TEMPORARY ON DATABASE postgres TO PUBLIC');
      await dropStore(server(), owner);
      await sql(server(), `DROP ROLE ${role}`);
    }
  });

  it('a bulk load (records, then rollups in one GROUP BY, then indexes) is exact and indexed like append', async () => {
    const store = await openStore(server());
    const indexes = `SELECT c.relname AS name, pg_get_indexdef(c.oid) AS definition,
        (SELECT count(*)::int FROM pg_inherits WHERE inhparent = c.oid) AS parts
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('I', 'i') ORDER BY 1`;
    const name = store.schema.replaceAll('"', '');
    const from = Date.UTC(2026, 0, 1);
    const to = Date.UTC(2026, 3, 1);
    await fillLedger(store.pool, store.schema, { count: 1_000, from, to });
    const before = await sql(server(), indexes, [name]);
    await dropStore(server(), store);
    const bulk = await openStore(server());
    await fillLedger(bulk.pool, bulk.schema, { count: 20_000, from, to, chunk: 7_000, bulk: true });
    await expectRollupsExact(bulk);
    const after = await sql(server(), indexes, [bulk.schema.replaceAll('"', '')]);
    const shape = (rows: Record<string, unknown>[], schema: string) =>
      rows.map((r) => ({ ...r, definition: String(r.definition).replaceAll(schema, 'S') }));
    expect(shape(after, bulk.schema.replaceAll('"', ''))).toEqual(shape(before, name));
    // Appends after a bulk load are still idempotent (the unique index is back) and counted.
    const [again] = ledgerRecords(1);
    expect(await bulk.append([again!, again!])).toBe(1);
    expect(await bulk.append([again!])).toBe(0);
    await expect(
      fillLedger(bulk.pool, bulk.schema, { count: 10, from, to, bulk: true }),
    ).rejects.toThrow(/empty ledger/);
    await dropStore(server(), bulk);
  });

  it('summaries equal the reference store for filters, unaligned ranges, groupings and zones', async () => {
    const records = varied(1_500, 11);
    const store = await loaded(records);
    const memory = new MemoryStore();
    await memory.append(records);
    const next = random(3);
    const groupBys: GroupBy[] = [
      'none',
      'user',
      'tenant',
      'thread',
      'agent',
      'model',
      'hour',
      'day',
    ];
    const zones = ['UTC', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe'];
    const fields = {
      userId: ['alice', 'bob', ''],
      tenantId: ['acme'],
      threadId: ['t-2'],
      agent: ['coder'],
      model: ['gemini-2.5-pro'],
      sessionId: ['s-1'],
    };
    const sources = new Set<string>();
    for (let i = 0; i < 120; i++) {
      const options: SummaryOptions = { groupBy: pick(next, groupBys) };
      if (options.groupBy === 'hour' || options.groupBy === 'day') {
        options.timeZone = pick(next, zones);
      }
      for (const [field, values] of Object.entries(fields)) {
        if (next() < 0.2) Object.assign(options, { [field]: pick(next, values) });
      }
      // Unaligned and aligned bounds, open ends, and ranges shorter than an hour.
      if (next() < 0.7)
        options.from = START + Math.floor(next() * 30 * DAY) - (next() < 0.3 ? 0 : 1234);
      if (next() < 0.7) {
        const width = next() < 0.2 ? Math.floor(next() * HOUR) : Math.floor(next() * 20 * DAY);
        options.to = (options.from ?? START) + width;
      }
      for (const part of planSummary(options).parts) sources.add(part.table);
      expect(await store.summarize(options), JSON.stringify(options)).toEqual(
        await memory.summarize(options),
      );
    }
    // The random cases reached every source.
    expect([...sources].sort()).toEqual([
      'records',
      'rollup_hourly',
      'rollup_tenant_daily',
      'rollup_tenant_hourly',
      'rollup_thread_hourly',
      'rollup_user_daily',
      'rollup_user_hourly',
    ]);
    await dropStore(server(), store);
  });
});
