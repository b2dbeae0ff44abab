import { ConfigurationError, describe, StoreUnavailableError } from '../errors.js';
import { checkBounds } from '../keep/checks.js';
import { decodeCursor, pageOf } from '../keep/cursor.js';
import type {
  BudgetCounter,
  CounterState,
  LedgerRecord,
  QueryOptions,
  QueryPage,
  RateRequest,
  RateResult,
  RatesResult,
  ReserveRequest,
  ReserveResult,
  Store,
  StoreCapabilities,
  SummaryOptions,
  SummaryRow,
} from '../keep/types.js';
import { PostgresBudgets } from './budgets.js';
import {
  guard,
  isRetryable,
  isUnreachable,
  loadPg,
  type Pool,
  schemaIdentifier,
  transaction,
} from './connect.js';
import { type CopyModule, copyIn, loadCopyStreams } from './copy.js';
import { monthLabel, monthOf, Partitions } from './partitions.js';
import { parseRetention } from './retention.js';
import {
  appendSql,
  type BatchRow,
  batchRows,
  copyInsertSql,
  copyTextOf,
  fromRow,
  jsonOf,
  RECORD_COLUMNS,
  type RecordRow,
  STAGE_SQL,
  STAGE_TABLE,
  splitRows,
} from './rows.js';
import { migrate, rebuildDerivedRollupsSql } from './schema.js';
import { FILTER_COLUMNS, summarize } from './summary.js';
import { isPostgresUrl } from './url.js';

/**
 * Options of `createPostgresStore`: where the ledger is (`connectionString` or `pool`), its
 * schema, and how long records are kept.
 *
 * @example
 * const options: PostgresStoreOptions = { connectionString: 'postgres://localhost/ledger', retention: '180d' };
 * const store = await createPostgresStore(options);
 */
export interface PostgresStoreOptions {
  /**
   * `postgres://user:password@host:5432/db` (any libpq-style URL node-postgres takes). Default:
   * `TOLLGATE_DB` when it is a `postgres://` or `postgresql://` URL.
   */
  connectionString?: string | undefined;
  /** A `pg.Pool` you configured yourself; the store leaves it open on `close()`. */
  pool?: Pool | undefined;
  /** The schema that holds the ledger (default `tollgate`), created and migrated on open. */
  schema?: string | undefined;
  /**
   * Keep records (and their rollups) this long: `'180d'`, `'26w'`, or milliseconds. Whole months
   * older than that are dropped when the store opens and every hour after. Default: keep all.
   */
  retention?: string | number | undefined;
  /** Most connections of the store's own pool (default 10; ignored with `pool`). */
  maxConnections?: number | undefined;
  /** Partitions made ahead of need: this month and the next `monthsAhead` (default 2). */
  monthsAhead?: number | undefined;
  /**
   * Send batches by `COPY … FROM STDIN` (needs the `pg-copy-streams` package). Default: when
   * that package is installed; `false` sends each batch as one `jsonb` parameter instead.
   */
  copy?: boolean | undefined;
  /**
   * How many connections one large batch is spread over (default 2; 1 keeps every batch on one
   * connection). A batch of at least 2,000 records is split by tenant, user and day into parts
   * appended at once, each in its own transaction; `append` resolves once every part committed.
   */
  appendConnections?: number | undefined;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;
const HOUR = 3_600_000;
/** How often an append batch is tried on a fresh connection when the connection dropped. */
const APPEND_ATTEMPTS = 3;
/** Fewest records in a part of a batch split over several connections. */
const MIN_PART = 1_000;

/**
 * The Postgres ledger: one history shared by a fleet of workers, with every capability
 * (budgets, rate limits, alerts) shared by all processes that use the same schema.
 *
 * - `append` sends a batch by `COPY` into a staging table, then one statement inserts the new
 *   records and adds exactly those to the rollups; a call id already stored is skipped, so a
 *   batch retried after a dropped connection is never counted twice. A large batch is split over
 *   `appendConnections` connections by tenant, user and day (so its parts share no rollup row)
 *   and acknowledged only once every part committed.
 * - Summaries are read from the rollups (see summary.ts); records are partitioned by month and
 *   retention drops whole partitions.
 * - Check-and-reserve is one transaction under advisory locks, serialized across machines.
 * - Money is exact: `numeric` femto-dollars.
 *
 * @example
 * import { createPostgresStore } from 'tollgate/postgres';
 * const store = await createPostgresStore({ connectionString: process.env.DATABASE_URL });
 * const tracker = new TokenTracker({ store });
 */
export class PostgresStore implements Store {
  readonly name = 'postgres';
  readonly capabilities: StoreCapabilities = {
    budgets: true,
    rateLimits: true,
    alerts: true,
    persistent: true,
  };
  /** The quoted schema name, e.g. `"tollgate"`. */
  readonly schema: string;
  /** Retention in ms, or undefined to keep everything. */
  readonly retentionMs: number | undefined;
  readonly pool: Pool;
  private readonly partitions: Partitions;
  private readonly budgets: PostgresBudgets;
  private readonly ownsPool: boolean;
  private readonly appendStatement: string;
  private readonly copyStatement: string;
  /** pg-copy-streams, until a role without the TEMPORARY privilege turns COPY off. */
  private copy: CopyModule | undefined;
  private readonly appendConnections: number;
  private retentionTimer: NodeJS.Timeout | undefined;
  private closed = false;

  /** Wraps a pool; `createPostgresStore` (which also migrates) is the usual way in. */
  constructor(
    pool: Pool,
    options: {
      schema?: string;
      retentionMs?: number;
      ownsPool?: boolean;
      copy?: CopyModule | undefined;
      appendConnections?: number;
    },
  ) {
    this.pool = pool;
    this.schema = schemaIdentifier(options.schema ?? 'tollgate');
    this.retentionMs = options.retentionMs;
    this.ownsPool = options.ownsPool ?? false;
    this.partitions = new Partitions(pool, this.schema);
    this.budgets = new PostgresBudgets(pool, this.schema);
    this.appendStatement = appendSql(this.schema);
    this.copyStatement = copyInsertSql(this.schema);
    this.copy = options.copy;
    this.appendConnections = options.appendConnections ?? 1;
  }

  /**
   * Appends a batch; returns how many records were new. Resolves only once the batch committed
   * (every part of it, when it was split). A dropped connection is retried on a fresh one (the
   * call ids make the retry harmless); an unreachable server is a `StoreUnavailableError`, and
   * nothing of the batch is acknowledged: parts that did commit are skipped when it is sent again.
   */
  async append(records: readonly LedgerRecord[]): Promise<number> {
    this.live('append');
    if (!records.length) return 0;
    const rows = batchRows(records);
    const parts = splitRows(
      rows,
      Math.min(this.appendConnections, Math.floor(rows.length / MIN_PART)),
    );
    return guard('append', async () => {
      const settled = await Promise.allSettled(parts.map((part) => this.appendPart(part)));
      let added = 0;
      for (const result of settled) {
        if (result.status === 'rejected') throw result.reason;
        added += result.value;
      }
      return added;
    });
  }

  /** One part of a batch, in one transaction, tried again on a fresh connection if it dropped. */
  private async appendPart(rows: BatchRow[]): Promise<number> {
    const months = new Set(rows.map((row) => row.month));
    for (let attempt = 1; ; attempt++) {
      const copy = this.copy;
      try {
        await this.partitions.ensure(months);
        if (!copy) {
          const { rows: added } = await this.pool.query<{ added: number }>(this.appendStatement, [
            jsonOf(rows),
          ]);
          return added[0]?.added ?? 0;
        }
        return await transaction(this.pool, async (client) => {
          await client.query(STAGE_SQL);
          // Built here, not before the transaction: the parts of a split batch then take turns
          // (one part's text is built while the server already works on the part before it).
          await copyIn(copy, client, `pg_temp.${STAGE_TABLE}`, copyTextOf(rows));
          const { rows: added } = await client.query<{ added: number }>(this.copyStatement);
          return added[0]?.added ?? 0;
        });
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        // 42501 on the staging table: the role may not create temporary tables. Without them,
        // the batch goes as a jsonb parameter, now and from now on.
        if (code === '42501' && copy && attempt < APPEND_ATTEMPTS) this.copy = undefined;
        // 23514: no partition for a row. Another process dropped it (retention): make it again.
        else if (code === '23514' && attempt < APPEND_ATTEMPTS) this.partitions.forget();
        else if (!((isUnreachable(error) || isRetryable(error)) && attempt < APPEND_ATTEMPTS)) {
          throw error;
        }
      }
    }
  }

  /**
   * One page of records in time order (ties in append order). The cursor is the position of the
   * last record returned, so records appended while paging never shift a page.
   */
  async query(options: QueryOptions = {}): Promise<QueryPage> {
    this.live('query');
    checkBounds(options);
    const limit = pageLimit(options.limit);
    const order = options.order ?? 'asc';
    const desc = order === 'desc';
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor, order);
    const params: unknown[] = [];
    const add = (value: unknown) => `$${params.push(value)}`;
    const clauses: string[] = [];
    for (const [field, column] of Object.entries(FILTER_COLUMNS)) {
      const value = options[field as keyof typeof FILTER_COLUMNS];
      if (value !== undefined) clauses.push(`${column} = ${add(value)}`);
    }
    let from = options.from;
    let to = options.to;
    if (from !== undefined) clauses.push(`ts >= ${add(from)}`);
    if (to !== undefined) clauses.push(`ts < ${add(to)}`);
    if (after) {
      clauses.push(`(ts, seq) ${desc ? '<' : '>'} (${add(after.ts)}, ${add(after.seq)})`);
      if (desc) to = Math.min(to ?? Number.POSITIVE_INFINITY, after.ts + 1);
      else from = Math.max(from ?? Number.NEGATIVE_INFINITY, after.ts);
    }
    // The month bounds let Postgres skip whole partitions.
    if (from !== undefined && Number.isFinite(from)) clauses.push(`month >= ${add(monthOf(from))}`);
    if (to !== undefined && Number.isFinite(to)) clauses.push(`month <= ${add(monthOf(to - 1))}`);
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const dir = desc ? 'DESC' : 'ASC';
    const sql = `SELECT ${RECORD_COLUMNS} FROM ${this.schema}.records ${where}
      ORDER BY ts ${dir}, seq ${dir} LIMIT ${add(limit + 1)}`;
    const { rows } = await guard('query', () => this.pool.query<RecordRow>(sql, params));
    return pageOf(rows, limit, order, fromRow);
  }

  /**
   * Totals per group: whole UTC days from the daily rollup where it holds the filters and the
   * grouping, whole hours from an hourly rollup, the partial hours at the ends from the records.
   */
  async summarize(options: SummaryOptions): Promise<SummaryRow[]> {
    this.live('summarize');
    return guard('summarize', () => summarize(this.pool, this.schema, options));
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    this.live('reserve');
    return guard('reserve', () => this.budgets.reserve(request));
  }

  async settle(
    callId: string,
    actualFemto: bigint,
    counters: BudgetCounter[],
    now: number,
  ): Promise<void> {
    this.live('settle');
    return guard('settle', () => this.budgets.settle(callId, actualFemto, counters, now));
  }

  async release(callId: string, now: number): Promise<void> {
    this.live('release');
    return guard('release', () => this.budgets.release(callId, now));
  }

  async counters(keys: readonly string[], now: number): Promise<CounterState[]> {
    this.live('counters');
    return guard('counters', () => this.budgets.counters(keys, now));
  }

  async consumeRate(request: RateRequest): Promise<RateResult> {
    this.live('consumeRate');
    return guard('consumeRate', () => this.budgets.consumeRate(request));
  }

  /** All or nothing over several keys, in one transaction under their advisory locks. */
  async consumeRates(requests: readonly RateRequest[]): Promise<RatesResult> {
    this.live('consumeRates');
    return guard('consumeRates', () => this.budgets.consumeRates(requests));
  }

  async markAlert(key: string, threshold: number, expiresAt: number): Promise<boolean> {
    this.live('markAlert');
    return guard('markAlert', () => this.budgets.markAlert(key, threshold, expiresAt));
  }

  /**
   * Builds the derived rollups (per tenant, per tenant and user; hourly and daily) again from
   * `rollup_hourly`, in one transaction (appends wait for it, then add to the rebuilt rows).
   * Needed only after processes of a version before schema 4 appended to a ledger already at
   * version 4: they keep the first two rollups, not these.
   *
   * @example
   * await store.rebuildDerivedRollups(); // once the last older worker has stopped
   */
  async rebuildDerivedRollups(): Promise<void> {
    this.live('rebuildDerivedRollups');
    await guard('rebuildDerivedRollups', () =>
      transaction(this.pool, async (client) => {
        for (const statement of rebuildDerivedRollupsSql(this.schema))
          await client.query(statement);
      }),
    );
  }

  /** Makes the partitions of this month and the next `monthsAhead` months. */
  async prepareMonths(now = Date.now(), monthsAhead = 2): Promise<void> {
    const first = monthOf(now);
    await this.partitions.ensure(Array.from({ length: monthsAhead + 1 }, (_, i) => first + i));
  }

  /** The months that hold records (`2026-11`…), oldest first. */
  async months(): Promise<string[]> {
    this.live('months');
    return (await guard('months', () => this.partitions.list())).map(monthLabel);
  }

  /**
   * Drops every month of records (and rollups) that ended at or before `cutoff` (epoch ms):
   * `DROP TABLE` of whole partitions, in seconds whatever their size. Returns the months dropped.
   *
   * @example
   * await store.dropBefore(Date.now() - 180 * 86_400_000); // ['2026-04', …]
   */
  async dropBefore(cutoff: number): Promise<string[]> {
    this.live('dropBefore');
    if (!Number.isFinite(cutoff)) {
      throw new ConfigurationError(`cutoff must be epoch milliseconds, got ${describe(cutoff)}`);
    }
    return (await guard('dropBefore', () => this.partitions.dropBefore(cutoff))).map(monthLabel);
  }

  /** Applies the `retention` option now (nothing without one); returns the months dropped. */
  async applyRetention(now = Date.now()): Promise<string[]> {
    if (this.retentionMs === undefined) return [];
    return this.dropBefore(now - this.retentionMs);
  }

  /** Runs retention hourly in the background (failures wait for the next hour). */
  startRetention(): void {
    if (this.retentionMs === undefined || this.retentionTimer) return;
    this.retentionTimer = setInterval(() => {
      this.applyRetention().catch(() => {});
    }, HOUR);
    this.retentionTimer.unref();
  }

  /**
   * Stops background work and closes the store's own pool (a pool you passed stays open).
   * Every append that resolved is committed. Any later call throws `StoreUnavailableError`.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    if (this.ownsPool) await this.pool.end();
  }

  private live(operation: string): void {
    if (!this.closed) return;
    throw new StoreUnavailableError('postgres', operation, {
      cause: new Error('the store was closed'),
    });
  }
}

/**
 * Connects, creates and migrates the schema (safe with many processes starting at once), makes
 * the partitions of this month and the next two, applies `retention` and schedules it hourly.
 * Throws `ConfigurationError` for bad options or a missing `pg` package, and
 * `StoreUnavailableError` when the server cannot be reached.
 *
 * @example
 * const store = await createPostgresStore({
 *   connectionString: 'postgres://tollgate@db.internal:5432/ledger',
 *   retention: '180d',
 * });
 */
export async function createPostgresStore(
  options: PostgresStoreOptions = {},
): Promise<PostgresStore> {
  const retentionMs = parseRetention(options.retention);
  const schema = options.schema ?? 'tollgate';
  schemaIdentifier(schema);
  const monthsAhead = wholeOption('monthsAhead', options.monthsAhead, 2, 0, 120);
  const appendConnections = wholeOption('appendConnections', options.appendConnections, 2, 1, 64);
  if (options.copy !== undefined && typeof options.copy !== 'boolean') {
    throw new ConfigurationError(`copy must be true or false, got ${describe(options.copy)}`);
  }
  const copy = loadCopyStreams(options.copy);
  let pool = options.pool;
  const ownsPool = pool === undefined;
  if (!pool) {
    const env = process.env.TOLLGATE_DB;
    const connectionString =
      options.connectionString ?? (env && isPostgresUrl(env) ? env : undefined);
    if (typeof connectionString !== 'string' || connectionString === '') {
      throw new ConfigurationError(
        'createPostgresStore needs connectionString (postgres://…), a pool, or TOLLGATE_DB set to a postgres:// URL',
      );
    }
    const max = options.maxConnections ?? 10;
    if (!Number.isInteger(max) || max < 1) {
      throw new ConfigurationError(
        `maxConnections must be a whole number ≥ 1, got ${describe(max)}`,
      );
    }
    const pg = loadPg();
    pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 10_000 });
  }
  // An idle connection the server drops (a restart, pg_terminate_backend) emits 'error' on the
  // pool; unhandled, that would end the process. The next query simply takes a new connection.
  pool.on('error', () => {});
  const store = new PostgresStore(pool, {
    schema,
    ownsPool,
    copy,
    // Never more connections than the pool has.
    appendConnections: Math.min(appendConnections, pool.options.max ?? 10),
    ...(retentionMs === undefined ? {} : { retentionMs }),
  });
  try {
    await guard('open', async () => {
      const client = await (pool as Pool).connect();
      try {
        await migrate(client, store.schema);
      } finally {
        client.release();
      }
      await store.prepareMonths(Date.now(), monthsAhead);
      await store.applyRetention();
    });
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  store.startRetention();
  return store;
}

/** A whole-number option within [min, max], or its default when absent. */
function wholeOption(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(
      `${name} must be a whole number from ${min} to ${max}, got ${describe(value)}`,
    );
  }
  return value;
}

function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ConfigurationError(`limit must be a positive integer, got ${String(limit)}`);
  }
  return Math.min(limit, MAX_LIMIT);
}
