/**
 * Monthly range partitions of the records and the rollups. A month is numbered from 1970-01
 * (UTC): 682 is 2026-11. Partitions are made ahead of need (this month and the next two, when
 * the store opens) and on demand for any other month a batch touches, old ones included.
 * Retention drops whole months: `DROP TABLE` of a partition, never a mass `DELETE`.
 */
import type { Pool, Queryable } from './connect.js';
import { transaction } from './connect.js';

/**
 * The partitioned tables (the records and every rollup), all split by the same months.
 *
 * @example
 * for (const table of PARTITIONED) await pool.query(`VACUUM ANALYZE "tollgate".${table}`);
 */
export const PARTITIONED = [
  'records',
  'rollup_hourly',
  'rollup_thread_hourly',
  'rollup_tenant_hourly',
  'rollup_tenant_daily',
  'rollup_user_hourly',
  'rollup_user_daily',
] as const;

/** The month number of an epoch-ms instant (UTC). */
export function monthOf(ms: number): number {
  const date = new Date(ms);
  return (date.getUTCFullYear() - 1970) * 12 + date.getUTCMonth();
}

/** Epoch ms at which month `month` starts (UTC). */
export function monthStart(month: number): number {
  const year = 1970 + Math.floor(month / 12);
  return Date.UTC(year, month - (year - 1970) * 12, 1);
}

/** `2026-11` for month 682. */
export function monthLabel(month: number): string {
  return new Date(monthStart(month)).toISOString().slice(0, 7);
}

/** A partition's table name: `records_2026_11` (a year before 0 reads `records_n0001_01`). */
function partitionName(table: string, month: number): string {
  const label = monthLabel(month)
    .replace(/^-/, 'n')
    .replace(/-(\d\d)$/, '_$1');
  return `${table}_${label.replace(/[^0-9a-z_]/g, '_')}`;
}

export class Partitions {
  /** Months known to exist (per process; a partition dropped elsewhere is found on insert). */
  private readonly known = new Set<number>();
  private readonly lockKey: string;

  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {
    this.lockKey = `${schema}:partitions`;
  }

  /** Makes sure every month in `months` has its partitions; one transaction for the missing. */
  async ensure(months: Iterable<number>): Promise<void> {
    const missing = [...new Set(months)].filter((m) => !this.known.has(m)).sort((a, b) => a - b);
    if (!missing.length) return;
    await transaction(this.pool, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('tollgate:ddl'), hashtext($1))`, [
        this.lockKey,
      ]);
      for (const month of missing) {
        for (const table of PARTITIONED) {
          await client.query(
            `CREATE TABLE IF NOT EXISTS ${this.schema}.${partitionName(table, month)}
             PARTITION OF ${this.schema}.${table} FOR VALUES FROM (${month}) TO (${month + 1})`,
          );
        }
      }
    });
    for (const month of missing) this.known.add(month);
  }

  /** Forgets what this process knew: another may have dropped partitions meanwhile. */
  forget(): void {
    this.known.clear();
  }

  /** The months that have a records partition, oldest first. */
  async list(db: Queryable = this.pool): Promise<number[]> {
    const { rows } = await db.query<{ bound: string }>(
      `SELECT pg_get_expr(c.relpartbound, c.oid) AS bound
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = to_regclass($1)`,
      [`${this.schema}.records`],
    );
    const months: number[] = [];
    for (const { bound } of rows) {
      const match = /FROM \('?(-?\d+)'?\)/.exec(bound);
      if (match) months.push(Number(match[1]));
    }
    return months.sort((a, b) => a - b);
  }

  /**
   * Drops every month that ends at or before `cutoff` (epoch ms), in the records and every
   * rollup at once, and returns those months. A month still partly inside the window stays.
   */
  async dropBefore(cutoff: number): Promise<number[]> {
    const dropped = await transaction(this.pool, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('tollgate:ddl'), hashtext($1))`, [
        this.lockKey,
      ]);
      const old = (await this.list(client)).filter((month) => monthStart(month + 1) <= cutoff);
      for (const month of old) {
        const tables = PARTITIONED.map((t) => `${this.schema}.${partitionName(t, month)}`);
        await client.query(`DROP TABLE IF EXISTS ${tables.join(', ')}`);
      }
      return old;
    });
    for (const month of dropped) this.known.delete(month);
    return dropped;
  }
}
