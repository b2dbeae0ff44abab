/**
 * The Redis key layout and its lifetimes. Every key starts with the store's prefix
 * (default `tollgate:`); `<p>` below stands for it.
 *
 * | key                          | type   | holds                                              | lifetime                         |
 * |------------------------------|--------|----------------------------------------------------|----------------------------------|
 * | `<p>rec:<callId>`            | hash   | one usage record, cost as an exact femto string    | `recordTtlMs` (24 h) from write  |
 * | `<p>seen:<callId>`           | string | the call id was appended (idempotency marker)      | longest TTL + 1 h (49 h)         |
 * | `<p>idx`                     | zset   | every kept record by timestamp                     | trimmed with the records         |
 * | `<p>idx:user:<userId>`       | zset   | a user's kept records by timestamp                 | trimmed with the records         |
 * | `<p>thread:<threadId>`       | zset   | a conversation's history by timestamp              | trimmed with the records         |
 * | `<p>exp`                     | zset   | index entries by when their record expires         | trimmed on append                |
 * | `<p>seq`                     | string | sequence that orders equal timestamps              | none (one key)                   |
 * | `<p>d:<YYYY-MM-DD>:<dim>`    | hash   | UTC daily totals per all/user/tenant/agent/model   | `dailyTtlMs` (48 h) from write   |
 * | `<p>h:<YYYY-MM-DDTHH>:<dim>` | hash   | UTC hourly metrics per all/model                   | `hourlyTtlMs` (48 h) from write  |
 * | `<p>b:<counter>`             | hash   | budget counter: `s` settled, `r` reserved, `c:<id>` | window end + `counterGraceMs`    |
 * | `<p>bz:<counter>`            | zset   | live reservations on the counter, by holdUntil     | as its counter                   |
 * | `<p>call:<callId>`           | hash   | a call's budget state: reserved/settled/released   | its latest counter's lifetime    |
 * | `<p>rate:<key>`              | hash   | GCRA arrival time (`ms`, `frac`), limit, window    | until the bucket is full, + 1 s  |
 * | `<p>alert:<key>:<threshold>` | string | the alert was sent for this window                 | until `expiresAt` (≥ 1 min)      |
 *
 * Index members are `<16-digit sequence>:<callId>`, scored by the record's timestamp.
 * Budget amounts are decimal strings of femto-dollars (see budgets.ts for the exact arithmetic).
 * Aggregate hashes name their fields `<metric>:<value>`, e.g. `calls:alice`, `cost_n:alice`;
 * `all` hashes use the empty value. Costs there are split into whole nano-dollars (`cost_n`) and
 * the femto remainder (`cost_f`), both summed with HINCRBY, so totals stay exact without ever
 * leaving 64-bit integers.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/**
 * The longest key lifetime asked of Redis. A window that never ends (`expiresAt` or `holdUntil`
 * of Infinity) made a TTL of Infinity, which PX / PEXPIRE refuse: a script then failed half-way,
 * after the amount was already added to the counters, and the reservation leaked.
 */
export const MAX_TTL_MS = Number.MAX_SAFE_INTEGER;

/** How long each kind of key lives; see the table above. */
export interface RedisRetention {
  /** Usage records and the indexes over them (default 24 h). */
  recordTtlMs: number;
  /** UTC daily totals per user, tenant, agent, model and overall (default 48 h). */
  dailyTtlMs: number;
  /** UTC hourly metrics per model and overall (default 48 h). */
  hourlyTtlMs: number;
  /** How long a budget counter outlives its window (default 24 h): yesterday stays readable. */
  counterGraceMs: number;
}

/** Key lifetimes by default: records 24 h, call ids 49 h, daily and hourly totals 48 h. */
export const DEFAULT_RETENTION: RedisRetention = {
  recordTtlMs: DAY_MS,
  dailyTtlMs: 2 * DAY_MS,
  hourlyTtlMs: 2 * DAY_MS,
  counterGraceMs: DAY_MS,
};

/**
 * The call-id markers must outlive every aggregate a replay could count twice: the longest
 * lifetime, plus an hour for writes in flight.
 */
export function seenTtlMs(retention: RedisRetention): number {
  return Math.max(retention.recordTtlMs, retention.dailyTtlMs, retention.hourlyTtlMs) + HOUR_MS;
}

/** Builds the store's keys from its prefix. */
export class KeyLayout {
  constructor(readonly prefix: string) {}

  /** `<p>rec:<callId>`: one usage record. */
  record(callId: string): string {
    return `${this.prefix}rec:${callId}`;
  }
  /** `<p>seen:<callId>`: the call id was appended (idempotency). */
  seen(callId: string): string {
    return `${this.prefix}seen:${callId}`;
  }
  get index(): string {
    return `${this.prefix}idx`;
  }
  /** `<p>idx:user:<u>`: a user's records by time. */
  userIndex(userId: string): string {
    return `${this.prefix}idx:user:${userId}`;
  }
  /** `<p>thread:<t>`: a conversation's records. */
  thread(threadId: string): string {
    return `${this.prefix}thread:${threadId}`;
  }
  get sequence(): string {
    return `${this.prefix}seq`;
  }
  get expiries(): string {
    return `${this.prefix}exp`;
  }
  /** `<p>d:<YYYY-MM-DD>:<dim>`: daily totals. */
  daily(day: string, dim: AggregateDim): string {
    return `${this.prefix}d:${day}:${dim}`;
  }
  /** `<p>h:<YYYY-MM-DDTHH>:<dim>`: hourly totals. */
  hourly(hour: string, dim: AggregateDim): string {
    return `${this.prefix}h:${hour}:${dim}`;
  }
  /** `<p>b:<counter>`: a budget counter (settled and reserved). */
  counter(key: string): string {
    return `${this.prefix}b:${key}`;
  }
  /** `<p>bz:<counter>`: a counter's live holds by expiry. */
  reservations(key: string): string {
    return `${this.prefix}bz:${key}`;
  }
  /** `<p>call:<callId>`: a reservation's state. */
  call(callId: string): string {
    return `${this.prefix}call:${callId}`;
  }
  /** `<p>rate:<key>`: a rate limit's GCRA state. */
  rate(key: string): string {
    return `${this.prefix}rate:${key}`;
  }
  /** `<p>alert:<key>:<threshold>`: an alert was sent this window. */
  alert(key: string, threshold: number): string {
    return `${this.prefix}alert:${key}:${threshold}`;
  }
}

/** Dimensions kept in aggregate hashes. Hourly hashes keep only `all` and `model`. */
export type AggregateDim = 'all' | 'user' | 'tenant' | 'agent' | 'model';
export const DAILY_DIMS: readonly AggregateDim[] = ['all', 'user', 'tenant', 'agent', 'model'];
export const HOURLY_DIMS: readonly AggregateDim[] = ['all', 'model'];

/** `2026-11-23` for the UTC day containing `ms`. */
export function utcDay(ms: number): string {
  return new Date(ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS)).toISOString().slice(0, 10);
}

/** `2026-11-23T14` for the UTC hour containing `ms`. */
export function utcHour(ms: number): string {
  return new Date(ms - (((ms % HOUR_MS) + HOUR_MS) % HOUR_MS)).toISOString().slice(0, 13);
}
