/**
 * Fills a Postgres ledger server-side (generate_series), for tests of query plans and for the
 * benchmarks: millions of records in seconds, the rollups kept exact by the same statement
 * shape `append` uses (`insertSql`). Free of vitest.
 */
import type pg from 'pg';
import { insertSql, monthOf } from '../../src/postgres/index.js';

export interface FillOptions {
  /** How many records (call ids `${prefix}${i}`). */
  count: number;
  /** Spread evenly over [from, to) (epoch ms). */
  from: number;
  to: number;
  users?: number;
  tenants?: number;
  threads?: number;
  agents?: number;
  models?: number;
  prefix?: string;
  /** Records per statement (default 500,000). */
  chunk?: number;
}

/**
 * Generates `count` records with spread-out users (i × 7919 mod users), tenants, threads,
 * agents, models and sessions, and returns their exact total cost in femto-dollars.
 */
export async function fillLedger(
  pool: pg.Pool,
  schema: string,
  options: FillOptions,
): Promise<bigint> {
  const { count, from, to } = options;
  const users = options.users ?? 1_000;
  const tenants = options.tenants ?? 50;
  const threads = options.threads ?? 20_000;
  const agents = options.agents ?? 8;
  const models = options.models ?? 12;
  const prefix = options.prefix ?? 'gen-';
  const chunk = options.chunk ?? 500_000;
  const span = to - from;
  // Partitions first, for every month the range touches.
  const months = new Set<number>();
  for (let t = from; t < to; t += 86_400_000) months.add(monthOf(t));
  months.add(monthOf(to - 1));
  for (const month of months) {
    for (const table of ['records', 'rollup_hourly', 'rollup_thread_hourly']) {
      const label = new Date(Date.UTC(1970, month, 1)).toISOString().slice(0, 7).replace('-', '_');
      await pool.query(
        `CREATE TABLE IF NOT EXISTS ${schema}.${table}_${label} PARTITION OF ${schema}.${table}
         FOR VALUES FROM (${month}) TO (${month + 1})`,
      );
    }
  }
  let total = 0n;
  for (let start = 0; start < count; start += chunk) {
    const end = Math.min(count, start + chunk);
    const source = `SELECT
        ((extract(year FROM to_timestamp(ts / 1000.0) AT TIME ZONE 'UTC') - 1970) * 12
          + extract(month FROM to_timestamp(ts / 1000.0) AT TIME ZONE 'UTC') - 1)::int,
        '${prefix}r' || i, '${prefix}' || i, ts, 'session-' || (i % 5003), 'agent-' || (i % ${agents}),
        NULL, 'model-' || ((i / 7) % ${models}), 'google', 'user-' || ((i * 7919) % ${users}),
        'tenant-' || ((i * 31) % ${tenants}), 'thread-' || ((i * 104729) % ${threads}),
        1000 + i % 500, i % 100, 0, 100 + i % 300, i % 50, 0, 1100 + i % 500 + i % 300, true,
        ((i % 1000003) * 1000000)::numeric, NULL
      FROM (SELECT i, ${from}::bigint + (i * ${span}::numeric / ${count})::bigint AS ts
              FROM generate_series(${start}::bigint, ${end - 1}::bigint) i) g`;
    await pool.query(insertSql(schema, source));
  }
  const { rows } = await pool.query<{ cost: string }>(
    `SELECT COALESCE(sum((i % 1000003) * 1000000), 0)::text AS cost FROM generate_series(0::bigint, ${count - 1}::bigint) i`,
  );
  total += BigInt(rows[0]?.cost ?? '0');
  return total;
}
