import { afterAll, beforeAll, expect, it } from 'vitest';
import type { QueryOptions, SummaryOptions } from '../../src/keep/types.js';
import { PARTITIONED, type PostgresStore } from '../../src/postgres/index.js';
import { ledgerRecords } from '../keep/fixtures.js';
import { fillLedger } from '../support/postgres-fill.js';
import { describePostgres, dropStore, openStore, sql, usePostgresServer } from './support.js';

const DAY = 86_400_000;
const FROM = Date.UTC(2026, 9, 1);
const TO = Date.UTC(2027, 2, 1); // five months
const NOW = Date.UTC(2026, 10, 30); // open-ended ranges reach months after it

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

/** Every (node type, relation) of a JSON plan. */
function scans(node: PlanNode, into: string[] = []): string[] {
  if (node['Relation Name']) into.push(`${node['Node Type']} on ${node['Relation Name']}`);
  for (const child of node.Plans ?? []) scans(child, into);
  return into;
}

describePostgres('Postgres at scale: indexes for every filter, retention by partition', () => {
  const server = usePostgresServer();
  let store: PostgresStore;
  let statements: { text: string; values: unknown[] }[] = [];

  beforeAll(async () => {
    store = await openStore(server());
    // 250,000 records over five months: 1,000 users, 50 tenants, 20,000 threads, 8 agents,
    // 12 models. Enough rows that a sequential scan of a partition is the costly plan it is
    // in production, and statistics taken, as autovacuum would.
    await fillLedger(store.pool, store.schema, { count: 250_000, from: FROM, to: TO });
    for (const table of PARTITIONED) await sql(server(), `ANALYZE ${store.schema}.${table}`);
    const [filled] = await sql(
      server(),
      `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname LIKE 'records_%' AND c.reltuples > 1000`,
      [store.schema.replaceAll('"', '')],
    );
    expect(filled?.n).toBe(5); // every month partition holds rows: the checks below bite
    // Capture the statements the store sends, to EXPLAIN exactly those.
    const query = store.pool.query.bind(store.pool) as (
      t: string,
      v?: unknown[],
    ) => Promise<unknown>;
    Object.assign(store.pool, {
      query: (text: string, values?: unknown[]) => {
        statements.push({ text, values: values ?? [] });
        return query(text, values);
      },
    });
  }, 300_000);
  afterAll(async () => {
    if (store) await dropStore(server(), store);
  });

  /**
   * Sequential scans of partitions that hold rows. A partition made ahead of need (a month the
   * clock has not reached) is empty and read in no time whatever the plan, so it is not counted.
   */
  async function seqScans(found: string[]): Promise<string[]> {
    const rows = await sql<{ relname: string }>(
      server(),
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.reltuples > 0`,
      [store.schema.replaceAll('"', '')],
    );
    const filled = new Set(rows.map((r) => r.relname));
    return found.filter((scan) => {
      const match = /^Seq Scan on (\S+)$/.exec(scan);
      return match !== null && filled.has(match[1] as string);
    });
  }

  async function plansOf(run: () => Promise<unknown>): Promise<string[]> {
    statements = [];
    await run();
    const found: string[] = [];
    for (const { text, values } of statements) {
      const [row] = await sql<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
        server(),
        `EXPLAIN (FORMAT JSON) ${text}`,
        values,
      );
      const plan = row?.['QUERY PLAN'][0]?.Plan;
      if (plan) found.push(...scans(plan));
    }
    return found;
  }

  const month = 30 * DAY;
  const queries: [string, QueryOptions][] = [
    ['user, 30 days', { userId: 'user-17', from: NOW - month, to: NOW }],
    ['user, newest first', { userId: 'user-17', order: 'desc' }],
    ['tenant', { tenantId: 'tenant-3', from: NOW - month }],
    ['thread', { threadId: 'thread-42' }],
    ['agent, a day', { agent: 'agent-2', from: NOW - DAY, to: NOW }],
    ['model, newest first', { model: 'model-5', order: 'desc', limit: 50 }],
    ['session', { sessionId: 'session-7' }],
    ['an hour', { from: NOW - 3_600_000, to: NOW }],
    ['latest records', { order: 'desc', limit: 100 }],
  ];

  it.each(queries)('query by %s reads an index, never a whole partition', async (_, options) => {
    const found = await plansOf(() => store.query(options));
    expect(found.length).toBeGreaterThan(0);
    expect(await seqScans(found), found.join('; ')).toEqual([]);
  });

  const summaries: [string, SummaryOptions][] = [
    [
      'user, 30 days by model',
      { groupBy: 'model', userId: 'user-17', from: NOW - month - 1234, to: NOW + 999 },
    ],
    [
      'tenant, by day in New York',
      { groupBy: 'day', tenantId: 'tenant-3', timeZone: 'America/New_York', from: NOW - month },
    ],
    ['agent, by user', { groupBy: 'user', agent: 'agent-2', from: NOW - 7 * DAY }],
    ['model, by hour', { groupBy: 'hour', model: 'model-5', from: NOW - DAY, to: NOW }],
    ['user, by thread', { groupBy: 'thread', userId: 'user-17', from: NOW - month }],
    [
      'user, 30 days by UTC day (daily rollup)',
      { groupBy: 'day', userId: 'user-17', from: NOW - month - 1234, to: NOW + 999 },
    ],
    [
      'tenant, by user (daily rollup)',
      { groupBy: 'user', tenantId: 'tenant-3', from: NOW - month },
    ],
    ['thread', { groupBy: 'agent', threadId: 'thread-42' }],
    ['session', { groupBy: 'none', sessionId: 'session-7', from: NOW - month }],
    [
      'user, by day in Kolkata (quarter-hour slots: records)',
      { groupBy: 'day', userId: 'user-17', timeZone: 'Asia/Kolkata', from: NOW - month },
    ],
  ];

  it.each(summaries)(
    'summary by %s reads indexes: no sequential scan of records or rollups',
    async (_, options) => {
      const found = await plansOf(() => store.summarize(options));
      expect(found.length).toBeGreaterThan(0);
      expect(await seqScans(found), found.join('; ')).toEqual([]);
    },
  );

  it('a summary of whole hours reads the rollup, not the records', async () => {
    const found = await plansOf(() =>
      store.summarize({ groupBy: 'model', userId: 'user-17', from: NOW - month, to: NOW }),
    );
    expect(found.some((s) => s.includes('rollup_user_'))).toBe(false);
    expect(found.some((s) => s.includes('rollup_hourly'))).toBe(true);
    expect(found.some((s) => / on records_/.test(s))).toBe(false);
  });

  it('a per-user summary of whole UTC days reads the daily rollup, hours only at the ends', async () => {
    const found = await plansOf(() =>
      store.summarize({
        groupBy: 'day',
        userId: 'user-17',
        from: NOW - month - 7_200_000,
        to: NOW,
      }),
    );
    expect(found.some((s) => s.includes('rollup_user_daily'))).toBe(true);
    expect(found.some((s) => s.includes('rollup_user_hourly'))).toBe(true);
    expect(found.some((s) => / on records_/.test(s))).toBe(false);
  });

  it('retention drops whole months (records and rollups); the rest stays exact', async () => {
    const other = await openStore(server());
    // One record a day for 12 months.
    const start = Date.UTC(2025, 11, 1);
    await other.append(ledgerRecords(365, (i) => ({ timestamp: start + i * DAY, costFemto: 5n })));
    const before = await other.months();
    expect(before.length).toBeGreaterThanOrEqual(12);
    const dropped = await other.dropBefore(Date.UTC(2026, 1, 15));
    expect(dropped).toEqual(['2025-12', '2026-01']); // February is partly inside: it stays
    expect(await other.months()).toEqual(before.filter((m) => !dropped.includes(m)));
    const tables = await sql(
      server(),
      `SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename LIKE '%2026_01'`,
      [other.schema.replaceAll('"', '')],
    );
    expect(tables).toEqual([]);
    const [none] = await other.summarize({ groupBy: 'none' });
    expect(none?.calls).toBe(365 - 31 - 31);
    expect(none?.costFemto).toBe(5n * BigInt(365 - 62));
    expect((await other.query({ to: Date.UTC(2026, 1, 1) })).records).toEqual([]);
    // A late record for a dropped month makes its partition again.
    expect(await other.append(ledgerRecords(1, () => ({ timestamp: Date.UTC(2026, 0, 5) })))).toBe(
      1,
    );
    expect((await other.query({ to: Date.UTC(2026, 1, 1) })).records).toHaveLength(1);
    await dropStore(server(), other);
  });

  it('the retention option drops what is older when the store opens', async () => {
    const first = await openStore(server());
    const old = Date.now() - 400 * DAY;
    await first.append(ledgerRecords(3, () => ({ timestamp: old })));
    await first.append(ledgerRecords(3));
    await first.close();
    const schema = first.schema.replaceAll('"', '');
    const { createPostgresStore } = await import('../../src/postgres/index.js');
    const again = await createPostgresStore({
      connectionString: server().url,
      schema,
      retention: '180d',
    });
    expect(again.retentionMs).toBe(180 * DAY);
    const months = await again.months();
    expect(months).not.toContain(new Date(old).toISOString().slice(0, 7));
    expect((await again.query()).records).toHaveLength(3);
    await dropStore(server(), again);
  });
});
