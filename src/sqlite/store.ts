import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import {
  ConfigurationError,
  peerLoadError,
  StoreUnavailableError,
  TollgateError,
} from '../errors.js';
import { bucketKeys, checkTimeZone, slotMs } from '../keep/buckets.js';
import {
  checkGroupBy,
  checkNow,
  checkNumber,
  checkRate,
  checkRecordTiers,
} from '../keep/checks.js';
import { decodeCursor, pageOf } from '../keep/cursor.js';
import { assertOneNow } from '../keep/gcra.js';
import { orderSummaryRows } from '../keep/summary.js';
import type {
  BudgetCounter,
  CounterState,
  GroupBy,
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
import { GroupCommit } from './batch.js';
import { checkReserve, checkSettle, SqliteBudgets } from './budgets.js';
import {
  fillRow,
  fromRow,
  INSERT,
  mergeBuckets,
  type RecordRow,
  type SumRow,
  toSummaryRow,
} from './rows.js';
import { migrate } from './schema.js';
import { whereOf } from './sql.js';

/**
 * Options of `createSqliteStore`: the file, the busy timeout and the page cache size.
 *
 * @example
 * createSqliteStore({ path: 'outputs/tollgate.db', busyTimeoutMs: 5_000 });
 */
export interface SqliteStoreOptions {
  /**
   * The database file, created with its folder when missing. Default: `TOLLGATE_DB`, else
   * `outputs/tollgate.db` under the working directory. `':memory:'` keeps a private ledger.
   * A path that cannot hold a ledger (a folder, a file of another kind) is a `ConfigurationError`.
   */
  path?: string;
  /** How long a write waits for another process's lock before failing (default 5,000 ms). */
  busyTimeoutMs?: number;
  /** Most memory SQLite's page cache may take, in MiB (default 64). */
  cacheSizeMb?: number;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;

/** The columns summaries group by, for the non-time groupings. */
const GROUP_COLUMNS: Partial<Record<GroupBy, string>> = {
  user: 'user_id',
  tenant: 'tenant_id',
  thread: 'thread_id',
  agent: 'agent',
  model: 'model',
};

type Statement = BetterSqlite3.Statement<unknown[], unknown>;

/**
 * The SQLite ledger: the embedded default store, with every capability (budgets, rate limits,
 * alerts) shared by all processes that open the same file.
 *
 * - WAL journal with `synchronous = NORMAL`: readers never block the writer, and a commit that
 *   returned survives a crash of the process (a power loss may lose the last commits).
 * - `append` is one transaction per batch, so 10,000 records cost one commit.
 * - Check-and-reserve is one `BEGIN IMMEDIATE` transaction, serialized across processes.
 * - Money is exact: costs are stored as micro-dollars plus a remainder (see schema.ts).
 *
 * @example
 * import { createSqliteStore } from 'tollgate/sqlite';
 * const store = createSqliteStore({ path: 'outputs/ledger.db' });
 * const tracker = new TokenTracker({ store });
 * // …
 * await tracker.close();
 * const byUser = await store.summarize({ groupBy: 'user', from: Date.now() - 86_400_000 });
 */
export class SqliteStore implements Store {
  readonly name = 'sqlite';
  readonly capabilities: StoreCapabilities;
  /** The resolved database path (`':memory:'` for an in-memory ledger). */
  readonly path: string;
  /** The better-sqlite3 connection, for inspection (PRAGMAs, backups). */
  readonly database: BetterSqlite3.Database;
  private readonly insert: Statement;
  private readonly appendAll: (records: readonly LedgerRecord[]) => number;
  private readonly statements = new Map<string, Statement>();
  private readonly budgets: SqliteBudgets;
  private readonly batch: GroupCommit;

  constructor(options: SqliteStoreOptions = {}) {
    // An empty TOLLGATE_DB counts as unset, as shells leave it.
    const path = options.path ?? (process.env.TOLLGATE_DB || 'outputs/tollgate.db');
    if (path === '') throw new ConfigurationError('path must name a file, or be ":memory:"');
    const memory = path === ':memory:';
    this.path = memory ? ':memory:' : resolve(path);
    const busyTimeoutMs = checkBusyTimeout(options.busyTimeoutMs);
    const cacheSizeMb = checkCacheSize(options.cacheSizeMb);
    const Database = loadDriver();
    const db = open(this.path, () => {
      if (!memory) mkdirSync(dirname(this.path), { recursive: true });
      return new Database(this.path, { timeout: busyTimeoutMs });
    });
    this.database = db;
    open(this.path, () => {
      try {
        // Call ids are random (UUIDs), so each batch inserts all over the call-id index. 16 KiB
        // pages (set only when the file is new) make that tree shallower and denser: +25% ingest.
        db.pragma('page_size = 16384');
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.pragma(`cache_size = ${-Math.round(cacheSizeMb * 1024)}`);
        // Checkpoint every ~40 MB of WAL rather than every 4 MB: the index pages a batch dirties
        // are then copied back once per many batches, not once per batch (+20% ingest). The WAL
        // file is cut back to 64 MB after a checkpoint.
        db.pragma(`wal_autocheckpoint = ${(40 * 1024 * 1024) / 16384}`);
        db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
        migrate(db);
      } catch (error) {
        db.close();
        throw error;
      }
    });
    this.capabilities = { budgets: true, rateLimits: true, alerts: true, persistent: !memory };
    this.insert = db.prepare(INSERT);
    const insertAll = db.transaction((records: readonly LedgerRecord[]) => {
      let added = 0;
      // One parameter array, refilled per record: no garbage per row on the ingest path.
      const row: unknown[] = new Array(23);
      for (const record of records) added += this.insert.run(fillRow(row, record)).changes;
      return added;
    });
    this.appendAll = (records) => insertAll.immediate(records);
    this.budgets = new SqliteBudgets(db);
    this.batch = new GroupCommit(db);
  }

  /** Appends a batch in one transaction; a call id already stored is skipped. */
  async append(records: readonly LedgerRecord[]): Promise<number> {
    this.live('append');
    checkRecordTiers(records);
    return records.length ? this.appendAll(records) : 0;
  }

  /**
   * One page of records in time order (ties in insertion order). The cursor is the position of
   * the last record returned, so records appended while paging never shift a page.
   */
  async query(options: QueryOptions = {}): Promise<QueryPage> {
    this.live('query');
    const limit = pageLimit(options.limit);
    const order = options.order ?? 'asc';
    const desc = order === 'desc';
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor, order);
    const where = whereOf(options, after ? [`(ts, seq) ${desc ? '<' : '>'} (?, ?)`] : []);
    const dir = desc ? 'DESC' : 'ASC';
    const sql = `SELECT * FROM records ${where.sql} ORDER BY ts ${dir}, seq ${dir} LIMIT ?`;
    const params: unknown[] = after ? [...where.params, after.ts, after.seq] : where.params;
    const rows = this.statement(sql).all(...params, limit + 1) as RecordRow[];
    return pageOf(rows, limit, order, fromRow);
  }

  /**
   * Totals per group, computed in SQL. Records without the grouped field (no user id, say) form
   * the group `''`. Hour and day keys are the ISO instants at which each local bucket starts in
   * `timeZone`. Nothing matching gives no rows, even for `none`.
   */
  async summarize(options: SummaryOptions): Promise<SummaryRow[]> {
    this.live('summarize');
    const { groupBy } = options;
    const timeZone = options.timeZone ?? 'UTC';
    const time = groupBy === 'hour' || groupBy === 'day';
    checkGroupBy(groupBy); // before the look-up: 'toString' would find Object.prototype's
    const column = GROUP_COLUMNS[groupBy];
    if (time) checkTimeZone(timeZone);
    const where = whereOf(options); // first: it refuses a NaN or infinite from / to
    const slot = time ? slotMs(groupBy, timeZone, options.from, options.to) : 0;
    const key = time ? `CAST(ts / ${slot} AS INTEGER)` : `COALESCE(${column ?? 'NULL'}, '')`;
    const sql = `SELECT ${key} AS k, COUNT(*) AS calls, SUM(input_tokens) AS input,
      SUM(output_tokens) AS output, SUM(cache_read_tokens) AS cached,
      SUM(reasoning_tokens) AS reasoning, SUM(total_tokens) AS total, SUM(1 - priced) AS unpriced,
      SUM(cost_micro) AS micro, SUM(cost_rem) AS rem
      FROM records ${where.sql}${groupBy === 'none' ? '' : ' GROUP BY k ORDER BY k'}`;
    const sums = this.statement(sql).all(...where.params) as SumRow[];
    let rows: SummaryRow[];
    if (time) {
      const keyOf = bucketKeys(groupBy, timeZone);
      rows = mergeBuckets(sums, (k) => keyOf(k * slot));
    } else {
      rows = sums.filter((sum) => sum.calls > 0n).map((sum) => toSummaryRow(String(sum.k), sum));
    }
    return orderSummaryRows(rows, options);
  }

  /**
   * Check and reserve (see `Store.reserve`). Reservations, settlements, releases, rate-limit
   * steps and alert marks asked for in the same event-loop turn share one IMMEDIATE transaction
   * (group commit), each run in the order asked with its own result, and resolve once it has
   * committed.
   */
  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    this.live('reserve');
    const checked = checkReserve(request);
    return this.batch.add(() => this.budgets.reserveNow(checked));
  }

  /** Settles a call (see `Store.settle`), in its turn's batch, as `reserve`. */
  async settle(
    callId: string,
    actualFemto: bigint,
    counters: BudgetCounter[],
    now: number,
  ): Promise<void> {
    this.live('settle');
    const checked = checkSettle(actualFemto, counters, now);
    return this.batch.add(() => this.budgets.settleNow(callId, actualFemto, checked, now));
  }

  /** Drops a call's reservation (see `Store.release`), in its turn's batch, as `reserve`. */
  async release(callId: string, now: number): Promise<void> {
    this.live('release');
    checkNow(now);
    return this.batch.add(() => this.budgets.releaseNow(callId, now));
  }

  /**
   * Budget counters' state at `now` (see `Store.counters`), the operations asked before
   * included: read within this turn's batch when one is waiting (its transaction then answers
   * the read too), else from a snapshot at once.
   */
  async counters(keys: readonly string[], now: number): Promise<CounterState[]> {
    this.live('counters');
    if (!this.batch.waiting) return this.budgets.counters(keys, now);
    checkNow(now);
    const asked = [...keys];
    return this.batch.add(() => this.budgets.countersNow(asked, now));
  }

  /** GCRA (see `Store.consumeRate`), in its turn's batch, as `reserve`. */
  async consumeRate(request: RateRequest): Promise<RateResult> {
    this.live('consumeRate');
    checkRate(request);
    const asked = { ...request };
    return this.batch.add(() => this.budgets.consumeNow(asked));
  }

  /** All or nothing over several keys (see `Store.consumeRates`), in its turn's batch. */
  async consumeRates(requests: readonly RateRequest[]): Promise<RatesResult> {
    this.live('consumeRates');
    assertOneNow(requests);
    for (const request of requests) checkRate(request);
    const asked = requests.map((request) => ({ ...request }));
    return this.batch.add(() => this.budgets.consumeAllNow(asked));
  }

  /** Marks an alert (see `Store.markAlert`), in its turn's batch. */
  async markAlert(key: string, threshold: number, expiresAt: number): Promise<boolean> {
    this.live('markAlert');
    checkNumber(threshold, 'threshold');
    checkNumber(expiresAt, 'expiresAt');
    return this.batch.add(() => this.budgets.markAlert(key, threshold, expiresAt));
  }

  /**
   * Closes the connection (idempotent), after committing budget operations still batched. Data
   * is then on disk: every append committed. Any
   * later call throws `StoreUnavailableError`.
   */
  async close(): Promise<void> {
    if (!this.database.open) return;
    // Budget operations still waiting for their turn's commit are written first.
    this.batch.flush();
    try {
      this.database.pragma('optimize');
    } catch {
      // Only an optimization, and a write: a ledger this process may only read (a read-only
      // file) refuses it, and must still close cleanly.
    }
    this.database.close();
  }

  /**
   * Refuses to run once closed, with a typed error as a Redis store gives after `close()`:
   * better-sqlite3's own is a bare TypeError ("The database connection is not open").
   */
  private live(operation: string): void {
    if (this.database.open) return;
    const cause = new Error(`the ledger at ${this.path} was closed`);
    throw new StoreUnavailableError('sqlite', operation, { cause });
  }

  /**
   * Prepared statements, one per SQL shape (which filters are set), reading integers as bigints
   * so that money sums past 2^53 arrive exact.
   */
  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.database.prepare(sql).safeIntegers(true);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/**
 * Opens (creating and migrating as needed) a SQLite ledger.
 *
 * @example
 * const store = createSqliteStore(); // TOLLGATE_DB or outputs/tollgate.db
 * const memory = createSqliteStore({ path: ':memory:' });
 */
export function createSqliteStore(options: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(options);
}

/** better-sqlite3 is loaded on first use, so a missing install names itself. */
function loadDriver(): typeof BetterSqlite3 {
  try {
    return createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  } catch (error) {
    throw peerLoadError('tollgate/sqlite', 'better-sqlite3', error);
  }
}

/**
 * Runs one step of opening the ledger at `path`, turning a failure into a typed error that names
 * the file: SQLite's own ("unable to open database file", "file is not a database") do not.
 * A lock held past the busy timeout is an outage (try again); anything else is the path's fault.
 */
function open<T>(path: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (TollgateError.isInstance(error)) throw error;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code)) {
      throw new StoreUnavailableError('sqlite', `open ${path}`, { cause: error });
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigurationError(
      `cannot open the SQLite ledger at ${path}: ${reason}${hintFor(code)}`,
      { cause: error },
    );
  }
}

function hintFor(code: unknown): string {
  if (code === 'SQLITE_NOTADB') return ' (a file of another kind, or encrypted?)';
  if (code === 'SQLITE_CANTOPEN')
    return ' (is it a folder, or in a folder this process cannot write?)';
  if (code === 'EEXIST' || code === 'ENOTDIR') return ' (a file stands where its folder should be)';
  return '';
}

/** better-sqlite3 takes a whole number of ms up to 2^31 - 1 and throws a bare TypeError else. */
function checkBusyTimeout(value: number | undefined): number {
  if (value === undefined) return 5_000;
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
    throw new ConfigurationError(
      `busyTimeoutMs must be a whole number of milliseconds from 0 to 2147483647, got ${String(value)}`,
    );
  }
  return value;
}

/** Checked because SQLite takes anything: NaN MiB became a cache of 0 pages, -1 one of 1,024. */
function checkCacheSize(value: number | undefined): number {
  if (value === undefined) return 64;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigurationError(`cacheSizeMb must be a positive number, got ${String(value)}`);
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
