/**
 * Budgets, rate limits and alerts on Postgres, shared by every process and machine that uses the
 * schema. Each check-and-write is ONE transaction that first takes transaction-level advisory
 * locks (the call id, then every counter key in hash order), so two reservations on one counter
 * are serialized wherever they run, and none acts on a total another is about to change (no
 * check-then-increment race). Locks are taken in one global order, so they cannot deadlock.
 */
import { checkAmount, checkCounters, checkNow, checkNumber, checkRate } from '../keep/checks.js';
import { assertOneNow, type GcraCell, gcraStep, gcraSteps } from '../keep/gcra.js';
import type {
  BudgetCounter,
  CounterState,
  RateRequest,
  RateResult,
  RatesResult,
  ReserveRequest,
  ReserveResult,
} from '../keep/types.js';
import { type Pool, type PoolClient, transaction } from './connect.js';

const DAY = 86_400_000;
/** Expired rows are swept at most this often (they stop counting at once; this frees space). */
const SWEEP_EVERY_MS = 60_000;

interface CellRow {
  key: string;
  ms: number;
  frac: number;
  limit: number;
  window_ms: number;
}

export class PostgresBudgets {
  private lastSweep = Number.NEGATIVE_INFINITY;
  /** The latest `now` callers passed (tests inject time); alerts expire against it. */
  private clock = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly pool: Pool,
    private readonly s: string,
  ) {}

  /** Locks the call id, then `keys` (deduplicated, in hash order), until the transaction ends. */
  private async lock(client: PoolClient, callId: string | undefined, keys: readonly string[]) {
    if (callId !== undefined) {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))`, [
        `${this.s}:call`,
        callId,
      ]);
    }
    if (!keys.length) return;
    await client.query(
      `SELECT pg_advisory_xact_lock(hashtext($1), h)
         FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) k ORDER BY 1 OFFSET 0) o`,
      [`${this.s}:key`, keys],
    );
  }

  /** Settled spend plus live reservations of each key, from one snapshot. */
  private async used(client: Pool | PoolClient, keys: readonly string[], now: number) {
    const { rows } = await client.query<{ key: string; settled: string; live: string }>(
      `SELECT k.key,
         COALESCE((SELECT settled_femto FROM ${this.s}.budget_counters c WHERE c.key = k.key), 0)::text AS settled,
         COALESCE((SELECT sum(amount_femto) FROM ${this.s}.reservations r
                    WHERE r.key = k.key AND r.hold_until > $2), 0)::text AS live
       FROM unnest($1::text[]) WITH ORDINALITY AS k(key, n) ORDER BY k.n`,
      [keys, now],
    );
    return rows.map((row) => ({
      key: row.key,
      settledFemto: BigInt(row.settled),
      reservedFemto: BigInt(row.live),
    }));
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    const { callId, amountFemto, counters, holdUntil, now } = request;
    checkAmount(amountFemto, 'amountFemto');
    checkNow(now);
    checkNumber(holdUntil, 'holdUntil');
    checkCounters(counters);
    await this.sweep(now);
    const keys = distinctKeys(counters);
    return transaction(this.pool, async (client) => {
      await this.lock(client, callId, [...keys.keys()]);
      const { rows } = await client.query<{ settled: boolean; live: boolean | null }>(
        `SELECT EXISTS (SELECT 1 FROM ${this.s}.settled_calls WHERE call_id = $1) AS settled,
                (SELECT bool_or(hold_until > $2) FROM ${this.s}.reservations WHERE call_id = $1) AS live`,
        [callId, now],
      );
      const held = rows[0];
      // Already settled: the call is paid for, so holding again would only leak until holdUntil.
      if (held?.settled || held?.live) return { ok: true };
      if (held?.live === false) {
        await client.query(`DELETE FROM ${this.s}.reservations WHERE call_id = $1`, [callId]);
      }
      const hard = counters.filter((c) => c.hard);
      if (hard.length) {
        const used = await this.used(
          client,
          hard.map((c) => c.key),
          now,
        );
        for (const [i, counter] of hard.entries()) {
          const state = used[i];
          const total = (state?.settledFemto ?? 0n) + (state?.reservedFemto ?? 0n);
          if (total + amountFemto > counter.limitFemto) {
            return {
              ok: false,
              key: counter.key,
              limitFemto: counter.limitFemto,
              usedFemto: total,
            };
          }
        }
      }
      if (keys.size) {
        await client.query(
          `WITH held AS (
             INSERT INTO ${this.s}.reservations (call_id, key, amount_femto, hold_until)
             SELECT $1, k, $2::numeric, $3 FROM unnest($4::text[]) k
             ON CONFLICT (call_id, key) DO NOTHING
           )
           INSERT INTO ${this.s}.budget_counters (key, settled_femto, expires_at)
           SELECT k, 0, e FROM unnest($4::text[], $5::float8[]) AS t(k, e)
           ON CONFLICT (key) DO UPDATE
             SET expires_at = GREATEST(${this.s}.budget_counters.expires_at, excluded.expires_at)`,
          [callId, amountFemto.toString(), holdUntil, [...keys.keys()], [...keys.values()]],
        );
      }
      return { ok: true };
    });
  }

  async settle(
    callId: string,
    actualFemto: bigint,
    counters: BudgetCounter[],
    now: number,
  ): Promise<void> {
    checkAmount(actualFemto, 'actualFemto');
    checkNow(now);
    checkCounters(counters);
    await this.sweep(now);
    const given = distinctKeys(counters);
    await transaction(this.pool, async (client) => {
      await this.lock(client, callId, []);
      const done = await client.query(`SELECT 1 FROM ${this.s}.settled_calls WHERE call_id = $1`, [
        callId,
      ]);
      if (done.rowCount) return;
      // The counters named now; with none, those the reservation held (expired or not).
      const dropped = await client.query<{ key: string }>(
        `DELETE FROM ${this.s}.reservations WHERE call_id = $1 RETURNING key`,
        [callId],
      );
      const keys = given.size ? given : new Map(dropped.rows.map((row) => [row.key, 0]));
      let keepUntil = now + DAY;
      for (const until of keys.values()) keepUntil = Math.max(keepUntil, until + DAY);
      await client.query(
        `WITH counted AS (
           INSERT INTO ${this.s}.budget_counters (key, settled_femto, expires_at)
           SELECT k, $1::numeric, e FROM unnest($2::text[], $3::float8[]) AS t(k, e)
           ON CONFLICT (key) DO UPDATE SET
             settled_femto = ${this.s}.budget_counters.settled_femto + excluded.settled_femto,
             expires_at = GREATEST(${this.s}.budget_counters.expires_at, excluded.expires_at)
         )
         INSERT INTO ${this.s}.settled_calls (call_id, expires_at) VALUES ($4, $5)
         ON CONFLICT DO NOTHING`,
        [actualFemto.toString(), [...keys.keys()], [...keys.values()], callId, keepUntil],
      );
    });
  }

  async release(callId: string, now: number): Promise<void> {
    checkNow(now);
    await this.sweep(now);
    await this.pool.query(`DELETE FROM ${this.s}.reservations WHERE call_id = $1`, [callId]);
  }

  /** Settled spend and live reservations of each key, in the order asked (one snapshot). */
  async counters(keys: readonly string[], now: number): Promise<CounterState[]> {
    checkNow(now);
    this.tick(now);
    return this.used(this.pool, keys, now);
  }

  /** GCRA, one row per key holding the exact theoretical arrival time (see `gcraStep`). */
  async consumeRate(request: RateRequest): Promise<RateResult> {
    checkRate(request);
    this.tick(request.now);
    return transaction(this.pool, async (client) => {
      await this.lock(client, undefined, [request.key]);
      const cells = await this.cells(client, [request.key]);
      const { result, cell } = gcraStep(cells.get(request.key), request);
      if (cell) await this.store(client, new Map([[request.key, cell]]));
      return result;
    });
  }

  /** All or nothing over several keys: locks them all, steps them, writes only if all pass. */
  async consumeRates(requests: readonly RateRequest[]): Promise<RatesResult> {
    assertOneNow(requests);
    for (const request of requests) checkRate(request);
    const first = requests[0];
    if (!first) return { ok: true, remaining: [] };
    this.tick(first.now);
    const keys = [...new Set(requests.map((r) => r.key))];
    return transaction(this.pool, async (client) => {
      await this.lock(client, undefined, keys);
      const cells = await this.cells(client, keys);
      const { result, cells: next } = gcraSteps((key) => cells.get(key), requests);
      if (next.size) await this.store(client, next);
      return result;
    });
  }

  /** True the first time a (key, threshold) is marked in its window: one INSERT … ON CONFLICT. */
  async markAlert(key: string, threshold: number, expiresAt: number): Promise<boolean> {
    checkNumber(threshold, 'threshold');
    checkNumber(expiresAt, 'expiresAt');
    const now = this.clock === Number.NEGATIVE_INFINITY ? Date.now() : this.clock;
    // A new alert, or one whose window has ended: either way it fires (one row written).
    const { rowCount } = await this.pool.query(
      `INSERT INTO ${this.s}.alerts (key, threshold, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (key, threshold) DO UPDATE SET expires_at = excluded.expires_at
       WHERE ${this.s}.alerts.expires_at <= $4`,
      [key, threshold, expiresAt, now],
    );
    return rowCount === 1;
  }

  private async cells(client: PoolClient, keys: readonly string[]) {
    const { rows } = await client.query<CellRow>(
      `SELECT key, tat_ms AS ms, tat_frac AS frac, rate_limit AS "limit", window_ms
         FROM ${this.s}.rate_limits WHERE key = ANY($1::text[])`,
      [keys],
    );
    return new Map<string, GcraCell>(
      rows.map((r) => [r.key, { ms: r.ms, frac: r.frac, limit: r.limit, windowMs: r.window_ms }]),
    );
  }

  private async store(client: PoolClient, cells: ReadonlyMap<string, GcraCell>): Promise<void> {
    const list = [...cells];
    await client.query(
      `INSERT INTO ${this.s}.rate_limits (key, tat_ms, tat_frac, rate_limit, window_ms)
       SELECT * FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::float8[])
       ON CONFLICT (key) DO UPDATE SET tat_ms = excluded.tat_ms, tat_frac = excluded.tat_frac,
         rate_limit = excluded.rate_limit, window_ms = excluded.window_ms`,
      [
        list.map(([key]) => key),
        list.map(([, c]) => c.ms),
        list.map(([, c]) => c.frac),
        list.map(([, c]) => c.limit),
        list.map(([, c]) => c.windowMs),
      ],
    );
  }

  private tick(now: number): void {
    if (now > this.clock) this.clock = now;
  }

  /** Deletes rows that no longer count, at most once a minute per process. */
  private async sweep(now: number): Promise<void> {
    this.tick(now);
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    const s = this.s;
    // Plain numbers checked finite by the caller: one round trip of five statements.
    await this.pool.query(`
      DELETE FROM ${s}.reservations WHERE hold_until <= ${now};
      DELETE FROM ${s}.budget_counters WHERE expires_at + ${DAY} < ${now};
      DELETE FROM ${s}.settled_calls WHERE expires_at < ${now};
      DELETE FROM ${s}.rate_limits WHERE tat_ms < ${now};
      DELETE FROM ${s}.alerts WHERE expires_at <= ${now};`);
  }
}

/** Each counter key once, with the latest `expiresAt` it was named with, in first-seen order. */
function distinctKeys(counters: readonly BudgetCounter[]): Map<string, number> {
  const keys = new Map<string, number>();
  for (const c of counters) keys.set(c.key, Math.max(keys.get(c.key) ?? c.expiresAt, c.expiresAt));
  return keys;
}
