import { ConfigurationError, describe } from '../errors.js';
import { femtoToUsd, usdToFemto } from '../price/money.js';

/**
 * The spend at which a threshold of a limit is reached: limit × fraction, exactly, with the
 * fraction to 9 decimals, and never below one femto-dollar, so a tiny fraction (1e-12) needs
 * some spend instead of firing on a call that cost nothing. Session warnings and shared-budget
 * alerts both use it.
 */
export function thresholdFemto(limitFemto: bigint, fraction: number): bigint {
  const at = (limitFemto * BigInt(Math.round(fraction * 1e9))) / 1_000_000_000n;
  return at > 0n ? at : 1n;
}

/** What crossing happened on one spend update. */
export interface BudgetCrossing {
  /** Warning thresholds newly crossed, ascending (fractions such as 0.9). */
  warnings: number[];
  /** True the first time spend passes the limit (spent > limit; exactly 100% is not exceeded). */
  exceeded: boolean;
}

const NONE: BudgetCrossing = Object.freeze({ warnings: [], exceeded: false }) as BudgetCrossing;

/** The exact, immutable part of a budget: its limit and thresholds in femto-dollars. */
interface ParsedBudget {
  limitFemto: bigint;
  limitNumber: number | undefined;
  thresholds: readonly { fraction: number; femto: bigint; femtoNumber: number }[];
}

/**
 * Parsed budgets by limit and thresholds: a run that creates a tracker per session (as
 * `runWithTracking` does) parses its budget once per process, not once per run. Bounded.
 */
const parsedBudgets = new Map<string, ParsedBudget>();
const MAX_PARSED_BUDGETS = 256;

function parseBudget(limitUsd: number, warnAt: readonly number[]): ParsedBudget {
  // Validated before the cache is asked: '0.5' and 0.5 would share a key.
  if (typeof limitUsd !== 'number' || !Number.isFinite(limitUsd) || limitUsd <= 0) {
    throw new ConfigurationError(
      `budgetLimitUsd must be a finite number > 0, got ${String(limitUsd)}`,
    );
  }
  if (!Array.isArray(warnAt)) {
    throw new ConfigurationError(
      `warnAt must be an array of fractions between 0 and 1 (e.g. [0.9]), got ${describe(warnAt)}`,
    );
  }
  for (const fraction of warnAt) {
    if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1)) {
      throw new ConfigurationError(
        `warnAt values must be fractions between 0 and 1 (0.9 = 90%), got ${String(fraction)}`,
      );
    }
  }
  const key = `${limitUsd}|${warnAt.join(',')}`;
  const known = parsedBudgets.get(key);
  if (known) return known;
  const limitFemto = usdToFemto(limitUsd);
  if (limitFemto === 0n) {
    throw new ConfigurationError(`budgetLimitUsd ${limitUsd} is below one femto-dollar`);
  }
  const thresholds = [...new Set(warnAt)]
    .sort((a, b) => a - b)
    .map((fraction) => {
      const femto = thresholdFemto(limitFemto, fraction);
      return { fraction, femto, femtoNumber: Number(femto) };
    });
  const parsed: ParsedBudget = {
    limitFemto,
    limitNumber: limitFemto <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(limitFemto) : undefined,
    thresholds,
  };
  if (parsedBudgets.size >= MAX_PARSED_BUDGETS) parsedBudgets.clear();
  parsedBudgets.set(key, parsed);
  return parsed;
}

/**
 * A session budget in exact femto-dollars: each warning threshold fires once, when spend reaches
 * it (spent ≥ limit × fraction), and "exceeded" fires once, when spend passes the limit
 * (spent > limit: $1.00 spent of $1.00 is 100%, used up but not exceeded). `isSpent` says
 * whether the budget is used up (spent ≥ limit), which a hard limit refuses the next call at.
 */
export class SessionBudget {
  readonly limitUsd: number;
  readonly limitFemto: bigint;
  private readonly thresholds: {
    fraction: number;
    femto: bigint;
    femtoNumber: number;
    fired: boolean;
  }[];
  /** The limit as a number when exact (below 2^53 femto-dollars), so checks need no bigint. */
  private readonly limitNumber: number | undefined;
  private exceededFired = false;

  constructor(limitUsd: number, warnAt: readonly number[] = [0.9]) {
    const parsed = parseBudget(limitUsd, warnAt);
    this.limitUsd = limitUsd;
    this.limitFemto = parsed.limitFemto;
    this.limitNumber = parsed.limitNumber;
    this.thresholds = parsed.thresholds.map((threshold) => ({ ...threshold, fired: false }));
  }

  /**
   * Reports the thresholds that `spentFemto` newly crosses; each is reported once. Takes the
   * spend as an exact integer number when it fits, which keeps this per-call check bigint-free.
   */
  update(spentFemto: bigint | number): BudgetCrossing {
    if (this.exceededFired) return NONE;
    if (typeof spentFemto === 'number' && this.limitNumber === undefined) {
      spentFemto = BigInt(spentFemto);
    }
    const numeric = typeof spentFemto === 'number';
    // Made only when a threshold is crossed: this runs on every recorded call.
    let warnings: number[] | undefined;
    for (const threshold of this.thresholds) {
      if (
        !threshold.fired &&
        (numeric ? spentFemto >= threshold.femtoNumber : spentFemto >= threshold.femto)
      ) {
        threshold.fired = true;
        warnings ??= [];
        warnings.push(threshold.fraction);
      }
    }
    const exceeded = numeric
      ? spentFemto > (this.limitNumber as number)
      : spentFemto > this.limitFemto;
    if (exceeded) this.exceededFired = true;
    return warnings !== undefined || exceeded ? { warnings: warnings ?? [], exceeded } : NONE;
  }

  /** True when the budget is used up (spent ≥ limit): a hard limit starts no further call. */
  isSpent(spentFemto: bigint): boolean {
    return spentFemto >= this.limitFemto;
  }

  /** The USD left under the limit at `spentFemto` (0 when spent). */
  remainingUsd(spentFemto: bigint): number {
    return spentFemto >= this.limitFemto ? 0 : femtoToUsd(this.limitFemto - spentFemto);
  }

  /** Spend as a percentage of the limit. */
  utilizationPercent(spentFemto: bigint): number {
    // percent with 6 decimals, exactly, then one rounding to a number
    return Number((spentFemto * 100_000_000n) / this.limitFemto) / 1e6;
  }

  /** Forgets the thresholds already crossed, so they fire again. */
  reset(): void {
    this.exceededFired = false;
    for (const threshold of this.thresholds) threshold.fired = false;
  }
}
