/**
 * Input checks every store driver applies before touching its state, so that a value a caller
 * computed wrongly (a NaN `now`, a number where a bigint belongs) is a `ConfigurationError`
 * naming the field, never a silent admission, a key that never expires, or an untyped error.
 * NaN is the usual culprit: every comparison with it is false, so "over the limit?",
 * "expired yet?" and "held until when?" all quietly answer no.
 */
import { ConfigurationError, describe } from '../errors.js';
import { parseServiceTier } from '../usage/tier.js';
import type { ServiceTier } from '../usage/types.js';
import type { BudgetCounter, GroupBy, LedgerRecord, RateRequest, RecordFilter } from './types.js';

/** The token counts of a ledger record: each a whole number ≥ 0. */
export const RECORD_COUNTS = [
  'inputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'outputTokens',
  'reasoningTokens',
  'toolUsePromptTokens',
  'totalTokens',
] as const;

/** The largest epoch ms a `Date` holds (±100,000,000 days around 1970). */
export const MAX_DATE_MS = 8.64e15;

/**
 * True for epoch milliseconds a `Date` can hold. A time beyond them is accepted by arithmetic
 * but breaks every later `new Date(…).toISOString()`: exports, ledger writes, calendar windows.
 */
export function isDateMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_DATE_MS;
}

/** `now` must be a real instant: NaN or ±Infinity would never expire or refuse anything. */
export function checkNow(now: number, name = 'now'): void {
  if (typeof now !== 'number' || !Number.isFinite(now)) {
    throw new ConfigurationError(`${name} must be epoch milliseconds, got ${describe(now)}`);
  }
}

/** A time that may be unbounded (Infinity holds forever) but must not be NaN or missing. */
export function checkNumber(value: number, name: string): void {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new ConfigurationError(`${name} must be a number, got ${describe(value)}`);
  }
}

/**
 * Money is an exact bigint ≥ 0. A negative amount would give a hard budget headroom it never
 * had; a number (or NaN) would mix with bigints in a TypeError, or be stored as "NaN".
 */
export function checkAmount(value: bigint, name: string): void {
  if (typeof value !== 'bigint' || value < 0n) {
    throw new ConfigurationError(
      `${name} must be a bigint of femto-dollars ≥ 0, got ${describe(value)}`,
    );
  }
}

/**
 * Each counter's limit is a bigint (a NaN limit compares false, so it never refused) and its
 * `expiresAt` a number (NaN left the counter without an expiry).
 */
export function checkCounters(counters: readonly BudgetCounter[]): void {
  for (const counter of counters) {
    if (typeof counter.limitFemto !== 'bigint') {
      throw new ConfigurationError(
        `limitFemto of "${counter.key}" must be a bigint of femto-dollars, got ${describe(counter.limitFemto)}`,
      );
    }
    checkNumber(counter.expiresAt, `expiresAt of "${counter.key}"`);
  }
}

/**
 * A rate limit needs limit > 0, windowMs > 0, cost ≥ 0 and a finite `now`. With NaN anywhere
 * the GCRA arithmetic admitted every request (`remaining: NaN`); a negative cost credited the
 * bucket with units no one had waited for.
 */
export function checkRate(request: RateRequest): void {
  const { limit, windowMs, cost, now } = request;
  if (!(limit > 0 && windowMs > 0 && cost >= 0)) {
    throw new ConfigurationError(
      `rate limit needs limit > 0, windowMs > 0 and cost ≥ 0; got ${describe(limit)}, ${describe(windowMs)}, ${describe(cost)}`,
    );
  }
  checkNow(now);
}

const GROUP_BYS: ReadonlySet<unknown> = new Set<GroupBy>([
  'none',
  'user',
  'tenant',
  'thread',
  'agent',
  'model',
  'hour',
  'day',
]);

/**
 * A summary's `groupBy` is one of the names a summary knows. Looked up in a set, not as an
 * object key: 'toString' or '__proto__' found Object.prototype's members, and a driver then
 * summed everything into one row, or put the name into its SQL.
 */
export function checkGroupBy(groupBy: unknown): asserts groupBy is GroupBy {
  if (!GROUP_BYS.has(groupBy)) {
    throw new ConfigurationError(`unknown groupBy ${describe(groupBy)}`);
  }
}

/**
 * `from` and `to` of a filter, when set, are finite instants (as the SQLite ledger requires):
 * a NaN bound matched everything or nothing, depending on how a driver compared it.
 */
export function checkBounds(filter: RecordFilter): void {
  if (filter.from !== undefined) checkNow(filter.from, 'from');
  if (filter.to !== undefined) checkNow(filter.to, 'to');
}

/**
 * The tier a driver stores for a record: `undefined` for standard (the default, stored as
 * nothing), else the tier's canonical name (`FLEX` is stored as `flex`). Anything that is not
 * a tier name is a `ConfigurationError` naming the field.
 */
export function storedTier(value: unknown): Exclude<ServiceTier, 'standard'> | undefined {
  if (value === undefined || value === null || value === 'standard') return undefined;
  const tier = parseServiceTier(value);
  if (tier === undefined) {
    throw new ConfigurationError(
      `serviceTier: expected standard, flex, priority, batch or provisioned (got ${describe(value)})`,
    );
  }
  return tier === 'standard' ? undefined : tier;
}

/** Checks every record's `serviceTier` before a driver writes any of them. */
export function checkRecordTiers(records: readonly LedgerRecord[]): void {
  for (const record of records) {
    if (record.serviceTier !== undefined) storedTier(record.serviceTier);
  }
}
