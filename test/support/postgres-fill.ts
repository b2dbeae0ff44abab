/**
 * Fills a Postgres ledger server-side (generate_series), for tests of query plans and for the
 * benchmarks: millions of records in seconds, the rollups kept exact by the same statement
 * shape `append` uses (`insertSql`). Free of vitest.
 */
import type pg from 'pg';
import {
  insertSql,
  monthOf,
  PARTITIONED,
  RECORD_INSERT_COLUMNS,
  rollupsFromRecordsSql,
} from '../../src/postgres/index.js';

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
  /**
   * Bulk load into an EMPTY ledger (benchmarks): the records are inserted with the indexes
   * dropped, then the rollups are built by one `GROUP BY` pass and the indexes made again.
   * Sound only because the generated call ids are unique and nothing else writes meanwhile.
   */
  bulk?: boolean;
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
    for (const table of PARTITIONED) {
      const label = new Date(Date.UTC(1970, month, 1)).toISOString().slice(0, 7).replace('-', '_');
      await pool.query(
        `CREATE TABLE IF NOT EXISTS ${schema}.${table}_${label} PARTITION OF ${schema}.${table}
         FOR VALUES FROM (${month}) TO (${month + 1})`,
      );
    }
  }
  const indexes = options.bulk ? await dropIndexes(pool, schema) : [];
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
        ((i % 1000003) * 1000000)::numeric, NULL, NULL
      FROM (SELECT i, ${from}::bigint + (i * ${span}::numeric / ${count})::bigint AS ts
              FROM generate_series(${start}::bigint, ${end - 1}::bigint) i) g`;
    await pool.query(
      options.bulk
        ? `INSERT INTO ${schema}.records (${RECORD_INSERT_COLUMNS.join(', ')}) ${source}`
        : insertSql(schema, source),
    );
  }
  if (options.bulk) {
    for (const statement of rollupsFromRecordsSql(schema)) await pool.query(statement);
    for (const index of indexes) await pool.query(index);
  }
  const { rows } = await pool.query<{ cost: string }>(
    `SELECT COALESCE(sum((i % 1000003) * 1000000), 0)::text AS cost FROM generate_series(0::bigint, ${count - 1}::bigint) i`,
  );
  total += BigInt(rows[0]?.cost ?? '0');
  return total;
}

/**
 * Drops the indexes of the (empty) ledger's partitioned tables and returns the statements that
 * make them again; refuses a ledger that holds anything.
 */
async function dropIndexes(pool: pg.Pool, schema: string): Promise<string[]> {
  for (const table of PARTITIONED) {
    const { rows } = await pool.query(`SELECT 1 FROM ${schema}.${table} LIMIT 1`);
    if (rows.length) throw new Error(`bulk fill needs an empty ledger (${table} holds rows)`);
  }
  const { rows } = await pool.query<{ name: string; definition: string }>(
    `SELECT c.relname AS name, pg_get_indexdef(c.oid) AS definition
       FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
      WHERE c.relkind = 'I' AND i.indrelid = ANY($1::regclass[])`,
    [PARTITIONED.map((table) => `${schema}.${table}`)],
  );
  for (const { name } of rows) await pool.query(`DROP INDEX ${schema}."${name}"`);
  // A partitioned index reads `ON ONLY parent` (the parent alone); made again on every partition.
  return rows.map((row) => row.definition.replace(' ON ONLY ', ' ON '));
}
