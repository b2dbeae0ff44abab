import type BetterSqlite3 from 'better-sqlite3';
import { checkAmount, checkCounters, checkNow, checkNumber, checkRate } from '../keep/checks.js';
import { assertOneNow, gcraStep, gcraSteps } from '../keep/gcra.js';
import type {
  BudgetCounter,
  CounterState,
  RateRequest,
  RateResult,
  RatesResult,
  ReserveRequest,
  ReserveResult,
} from '../keep/types.js';
import { joinFemto, splitFemto } from './money.js';

type Db = BetterSqlite3.Database;
type Sums = { micro: bigint | null; rem: bigint | null };
/** GCRA state: the theoretical arrival time, exactly `ms + frac / limit`. */
type Cell = { ms: number; frac: number; limit: number; windowMs: number };

const DAY = 86_400_000;
/** Expired rows are swept at most this often (they stop counting at once; this only frees space). */
const SWEEP_EVERY_MS = 60_000;

/**
 * Budgets, rate limits and alerts on SQLite. Every check-and-write runs in one IMMEDIATE
 * transaction: it takes the database's write lock before reading, so processes sharing the file
 * are serialized and none can act on a total another is about to change (no check-then-increment
 * race). Amounts are split into micro-dollars and a remainder (see schema.ts).
 */
export class SqliteBudgets {
  private readonly settledOf;
  private readonly liveOf;
  private readonly heldBy;
  private readonly isSettled;
  private readonly hold;
  private readonly touchCounter;
  private readonly addSettled;
  private readonly markSettled;
  private readonly dropReservation;
  private readonly dropExpiredHolds;
  private readonly cellOf;
  private readonly setCell;
  private readonly addAlert;
  private readonly snapshot: <T>(read: () => T) => T;
  private lastSweep = Number.NEGATIVE_INFINITY;
  /** The latest `now` callers passed (tests inject time); alerts expire against it. */
  private clock = Number.NEGATIVE_INFINITY;

  constructor(private readonly db: Db) {
    this.settledOf = db
      .prepare<[string], Sums>(
        'SELECT settled_micro AS micro, settled_rem AS rem FROM budget_counters WHERE key = ?',
      )
      .safeIntegers(true);
    this.liveOf = db
      .prepare<[string, number], Sums>(
        'SELECT SUM(amount_micro) AS micro, SUM(amount_rem) AS rem FROM reservations WHERE key = ? AND hold_until > ?',
      )
      .safeIntegers(true);
    this.heldBy = db.prepare<[number, string], { key: string; live: number }>(
      'SELECT key, hold_until > ? AS live FROM reservations WHERE call_id = ?',
    );
    this.isSettled = db.prepare<[string], unknown>('SELECT 1 FROM settled_calls WHERE call_id = ?');
    this.hold = db.prepare<[string, string, number | bigint, number, number]>(
      `INSERT INTO reservations (call_id, key, amount_micro, amount_rem, hold_until)
       VALUES (?, ?, ?, ?, ?) ON CONFLICT (call_id, key) DO NOTHING`,
    );
    this.touchCounter = db.prepare<[string, number]>(
      `INSERT INTO budget_counters (key, settled_micro, settled_rem, expires_at) VALUES (?, 0, 0, ?)
       ON CONFLICT (key) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)`,
    );
    this.addSettled = db.prepare<[string, number | bigint, number, number]>(
      `INSERT INTO budget_counters (key, settled_micro, settled_rem, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET
         settled_micro = settled_micro + excluded.settled_micro,
         settled_rem = settled_rem + excluded.settled_rem,
         expires_at = MAX(expires_at, excluded.expires_at)`,
    );
    this.markSettled = db.prepare<[string, number]>(
      'INSERT INTO settled_calls (call_id, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
    );
    this.dropReservation = db.prepare<[string]>('DELETE FROM reservations WHERE call_id = ?');
    this.dropExpiredHolds = db.prepare<[string, number]>(
      'DELETE FROM reservations WHERE call_id = ? AND hold_until <= ?',
    );
    this.cellOf = db.prepare<[string], Cell>(
      'SELECT tat_ms AS ms, tat_frac AS frac, rate_limit AS "limit", window_ms AS windowMs FROM rate_limits WHERE key = ?',
    );
    this.setCell = db.prepare<[string, number, number, number, number]>(
      `INSERT INTO rate_limits (key, tat_ms, tat_frac, rate_limit, window_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET tat_ms = excluded.tat_ms, tat_frac = excluded.tat_frac,
         rate_limit = excluded.rate_limit, window_ms = excluded.window_ms`,
    );
    // A new alert, or one whose window has ended: either way it fires (changes = 1).
    this.addAlert = db.prepare<[string, number, number, number]>(
      `INSERT INTO alerts (key, threshold, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key, threshold) DO UPDATE SET expires_at = excluded.expires_at
       WHERE alerts.expires_at <= ?`,
    );

    const read = db.transaction((fn: () => unknown) => fn());
    this.snapshot = <T>(fn: () => T) => read.deferred(fn) as T;
  }

  /**
   * Settled spend and live reservations of each key, in the order asked; unknown keys are 0.
   * One read transaction: every number comes from the same snapshot of the file.
   */
  counters(keys: readonly string[], now: number): CounterState[] {
    checkNow(now);
    return this.snapshot(() => this.countersNow(keys, now));
  }

  /** `counters`, inside the caller's transaction (a `GroupCommit` batch), on a checked `now`. */
  countersNow(keys: readonly string[], now: number): CounterState[] {
    this.tick(now);
    return keys.map((key) => ({
      key,
      settledFemto: this.settledFemto(key),
      reservedFemto: this.liveFemto(key, now),
    }));
  }

  /** True the first time a (key, threshold) is marked in its window: one INSERT … ON CONFLICT. */
  markAlert(key: string, threshold: number, expiresAt: number): boolean {
    checkNumber(threshold, 'threshold');
    checkNumber(expiresAt, 'expiresAt');
    const now = this.clock === Number.NEGATIVE_INFINITY ? Date.now() : this.clock;
    return this.addAlert.run(key, threshold, expiresAt, now).changes === 1;
  }

  private settledFemto(key: string): bigint {
    const row = this.settledOf.get(key);
    return row ? joinFemto(row.micro, row.rem) : 0n;
  }

  private liveFemto(key: string, now: number): bigint {
    const row = this.liveOf.get(key, now);
    return row ? joinFemto(row.micro, row.rem) : 0n;
  }

  /**
   * Check and reserve, inside the caller's IMMEDIATE transaction (a `GroupCommit` batch), on a
   * request `checkReserve` passed.
   */
  reserveNow(request: ReserveRequest): ReserveResult {
    const { callId, amountFemto, counters, holdUntil, now } = request;
    this.sweep(now);
    // Already settled: the call is paid for, so holding again would only leak until holdUntil.
    if (this.isSettled.get(callId)) return { ok: true };
    const held = this.heldBy.all(now, callId);
    if (held.some((row) => row.live)) return { ok: true };
    if (held.length) this.dropExpiredHolds.run(callId, now);

    for (const counter of counters) {
      if (!counter.hard) continue;
      const used = this.settledFemto(counter.key) + this.liveFemto(counter.key, now);
      if (used + amountFemto > counter.limitFemto) {
        return { ok: false, key: counter.key, limitFemto: counter.limitFemto, usedFemto: used };
      }
    }
    const [micro, rem] = splitFemto(amountFemto);
    for (const counter of counters) {
      this.hold.run(callId, counter.key, micro, rem, holdUntil);
      this.touchCounter.run(counter.key, counter.expiresAt);
    }
    return { ok: true };
  }

  /** Settles, inside the caller's IMMEDIATE transaction, with inputs `checkSettle` passed. */
  settleNow(callId: string, actual: bigint, counters: readonly BudgetCounter[], now: number): void {
    this.sweep(now);
    if (this.isSettled.get(callId)) return;
    const expiresAt = new Map(counters.map((c) => [c.key, c.expiresAt]));
    // The counters named now; with none, those the reservation held (expired or not).
    const keys = expiresAt.size
      ? [...expiresAt.keys()]
      : this.heldBy.all(now, callId).map((row) => row.key);
    this.dropReservation.run(callId);
    const [micro, rem] = splitFemto(actual);
    let keepUntil = now + DAY;
    for (const key of keys) {
      const until = expiresAt.get(key) ?? 0;
      this.addSettled.run(key, micro, rem, until);
      keepUntil = Math.max(keepUntil, until + DAY);
    }
    this.markSettled.run(callId, keepUntil);
  }

  /** Drops a call's reservation, inside the caller's IMMEDIATE transaction. */
  releaseNow(callId: string, now: number): void {
    this.dropReservation.run(callId);
    this.sweep(now);
  }

  /**
   * GCRA, one row per key holding the exact theoretical arrival time (see `gcraStep`), inside
   * the caller's IMMEDIATE transaction.
   */
  consumeNow(request: RateRequest): RateResult {
    const { key, limit, windowMs, now } = request;
    checkRate(request);
    this.tick(now);
    const { result, cell } = gcraStep(this.cellOf.get(key), request);
    if (cell) this.setCell.run(key, cell.ms, cell.frac, limit, windowMs);
    return result;
  }

  /** All or nothing, inside the caller's transaction: writes the cells only if all pass. */
  consumeAllNow(requests: readonly RateRequest[]): RatesResult {
    assertOneNow(requests);
    for (const request of requests) checkRate(request);
    const first = requests[0];
    if (first) this.tick(first.now);
    const { result, cells } = gcraSteps((key) => this.cellOf.get(key), requests);
    for (const [key, cell] of cells) {
      this.setCell.run(key, cell.ms, cell.frac, cell.limit, cell.windowMs);
    }
    return result;
  }

  private tick(now: number): void {
    if (now > this.clock) this.clock = now;
  }

  /** Deletes rows that no longer count, at most once a minute. */
  private sweep(now: number): void {
    this.tick(now);
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    this.db.prepare('DELETE FROM reservations WHERE hold_until <= ?').run(now);
    this.db.prepare('DELETE FROM budget_counters WHERE expires_at + ? < ?').run(DAY, now);
    this.db.prepare('DELETE FROM settled_calls WHERE expires_at < ?').run(now);
    this.db.prepare('DELETE FROM rate_limits WHERE tat_ms < ?').run(now);
    this.db.prepare('DELETE FROM alerts WHERE expires_at <= ?').run(now);
  }
}

/**
 * Checks a reservation request and copies it: it runs later, in its turn's batch, so a caller
 * changing its objects meanwhile changes nothing.
 */
export function checkReserve(request: ReserveRequest): ReserveRequest {
  const { callId, amountFemto, counters, holdUntil, now } = request;
  checkAmount(amountFemto, 'amountFemto');
  checkNow(now);
  checkNumber(holdUntil, 'holdUntil');
  return { callId, amountFemto, counters: checkedCopy(counters), holdUntil, now };
}

/** Checks a settlement's inputs (as `checkReserve`) and returns a copy of its counters. */
export function checkSettle(
  actualFemto: bigint,
  counters: readonly BudgetCounter[],
  now: number,
): BudgetCounter[] {
  checkAmount(actualFemto, 'actualFemto');
  checkNow(now);
  return checkedCopy(counters);
}

function checkedCopy(counters: readonly BudgetCounter[]): BudgetCounter[] {
  checkCounters(counters);
  return counters.map(({ key, limitFemto, hard, expiresAt }) => ({
    key,
    limitFemto,
    hard,
    expiresAt,
  }));
}
