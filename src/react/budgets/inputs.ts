/** Checks and conversions of what callers hand the budget manager. */
import { ConfigurationError, describe } from '../../errors.js';
import type { BudgetCounter } from '../../keep/types.js';
import { usdToFemto } from '../../price/money.js';
import type { ReserveInput } from './types.js';

/** True for `onStoreError: 'fail-open'` (the default); throws for anything but the two modes. */
export function failsOpen(onStoreError: unknown = 'fail-open'): boolean {
  if (onStoreError !== 'fail-open' && onStoreError !== 'fail-closed') {
    throw new ConfigurationError(
      `onStoreError must be "fail-open" or "fail-closed", got ${describe(onStoreError)}`,
    );
  }
  return onStoreError === 'fail-open';
}

/** Merges a counter into the request: one entry per key, the strictest limit. */
export function addCounter(counters: Map<string, BudgetCounter>, counter: BudgetCounter): void {
  const seen = counters.get(counter.key);
  if (!seen) {
    counters.set(counter.key, counter);
    return;
  }
  const hard = seen.hard || counter.hard;
  let limitFemto = seen.hard ? seen.limitFemto : counter.limitFemto;
  if (seen.hard && counter.hard && counter.limitFemto < limitFemto) limitFemto = counter.limitFemto;
  counters.set(counter.key, { key: counter.key, hard, limitFemto, expiresAt: seen.expiresAt });
}

/** A reservation's amount in femto-dollars: `estimateFemto` when given, else `estimateUsd`. */
export function estimateOf(input: ReserveInput): bigint {
  if (input.estimateFemto !== undefined) {
    const femto =
      typeof input.estimateFemto === 'bigint'
        ? input.estimateFemto
        : safeInteger(input.estimateFemto);
    if (femto !== undefined && femto >= 0n) return femto;
    throw new ConfigurationError(
      `reserve: estimateFemto must be a non-negative integer, got ${describe(input.estimateFemto)}`,
    );
  }
  if (
    typeof input.estimateUsd === 'number' &&
    Number.isFinite(input.estimateUsd) &&
    input.estimateUsd >= 0
  ) {
    return usdToFemto(input.estimateUsd);
  }
  throw new ConfigurationError(
    `reserve: estimateUsd (a finite number ≥ 0) or estimateFemto is required, got ${describe(input.estimateUsd)}`,
  );
}

function safeInteger(value: number): bigint | undefined {
  return Number.isSafeInteger(value) ? BigInt(value) : undefined;
}

/** The default daily user limit: the option, else `DEFAULT_DAILY_LIMIT`; null turns it off. */
export function defaultDailyLimit(option: number | null | undefined): number | undefined {
  if (option === null) return undefined;
  if (option !== undefined) return option;
  const env = process.env.DEFAULT_DAILY_LIMIT;
  if (env === undefined || env.trim() === '') return undefined;
  const usd = Number(env);
  if (!Number.isFinite(usd) || usd <= 0) {
    throw new ConfigurationError(
      `DEFAULT_DAILY_LIMIT must be a positive number of USD, got ${describe(env)}`,
    );
  }
  return usd;
}
