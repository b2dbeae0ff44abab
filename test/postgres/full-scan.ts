/**
 * Every rollup recomputed from the records by a full scan, and the rows where a rollup differs
 * from it (both directions, so a missing and an extra row both show).
 */
import type { PostgresServer } from '../support/postgres-server.js';
import { sql } from './support.js';

const SUMS = `count(*) AS calls, sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens, sum(cache_read_tokens) AS cached_tokens,
  sum(reasoning_tokens) AS reasoning_tokens, sum(total_tokens) AS total_tokens,
  count(*) FILTER (WHERE NOT priced) AS unpriced_calls,
  COALESCE(sum(cost_femto) FILTER (WHERE priced), 0) AS cost_femto`;

/** A rollup's rows by a full scan: per month, UTC slot (`width` ms) and `dimensions`. */
function fullScan(slot: 'hour' | 'day', width: number, dimensions: string[]) {
  const keys = ['month', slot, ...dimensions].join(', ');
  const groups = dimensions.map((_, i) => i + 3).join(', ');
  return {
    keys,
    scan: (s: string) => `SELECT month, ts - ((ts % ${width}) + ${width}) % ${width} AS ${slot},
      ${dimensions.join(', ')}, ${SUMS} FROM ${s}.records GROUP BY 1, 2, ${groups}`,
  };
}

/** The rows of each rollup, recomputed from the records by a full scan. */
export const FULL_SCANS = {
  rollup_hourly: fullScan('hour', 3_600_000, ['tenant_id', 'user_id', 'agent', 'model']),
  rollup_thread_hourly: fullScan('hour', 3_600_000, ['thread_id', 'tenant_id', 'user_id']),
  rollup_tenant_hourly: fullScan('hour', 3_600_000, ['tenant_id']),
  rollup_tenant_daily: fullScan('day', 86_400_000, ['tenant_id']),
  rollup_user_hourly: fullScan('hour', 3_600_000, ['tenant_id', 'user_id']),
  rollup_user_daily: fullScan('day', 86_400_000, ['tenant_id', 'user_id']),
} as const;

/** Per rollup, the rows that differ from the full scan (empty when the rollup is exact). */
export async function rollupDiffs(
  server: PostgresServer,
  schema: string,
): Promise<Record<string, Record<string, unknown>[]>> {
  const diffs: Record<string, Record<string, unknown>[]> = {};
  for (const [table, { keys, scan }] of Object.entries(FULL_SCANS)) {
    const columns = `${keys}, calls, input_tokens, output_tokens, cached_tokens,
      reasoning_tokens, total_tokens, unpriced_calls, cost_femto`;
    diffs[table] = await sql(
      server,
      `(SELECT ${columns} FROM ${schema}.${table} EXCEPT ALL SELECT ${columns} FROM (${scan(schema)}) a)
       UNION ALL
       (SELECT ${columns} FROM (${scan(schema)}) b EXCEPT ALL SELECT ${columns} FROM ${schema}.${table})`,
    );
  }
  return diffs;
}
