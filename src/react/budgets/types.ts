/** The budget manager's public shapes: options, inputs, reservations, statistics. */
import type { BudgetCounter, Store } from '../../keep/types.js';
import type { SpendForecast } from '../forecast.js';
import type { ListenerErrorHandler } from '../safe-emitter.js';
import type { Adaptation, ChargedScope } from './events.js';
import type { BudgetMode, BudgetRule, BudgetWindow, CallSubject } from './rules.js';

/**
 * Options of `new BudgetManager(options)`.
 *
 * @example
 * new BudgetManager({ store, defaultDailyUserLimitUsd: 5, onStoreError: 'fail-closed' });
 */
export interface BudgetManagerOptions {
  /** Where counters live; share one store (Redis, SQLite) to share budgets. Default: memory. */
  store?: Store;
  rules?: BudgetRule[];
  /**
   * A hard daily limit for every user without a limit of their own. Default: the
   * `DEFAULT_DAILY_LIMIT` environment variable (USD) when set; `null` for none even then.
   */
  defaultDailyUserLimitUsd?: number | null;
  /** How long an unsettled reservation holds budget (default 10 minutes). */
  holdMs?: number;
  /** Zone of `setUserLimit` rules, the default user limit and user spend tracking (default UTC). */
  timeZone?: string;
  /**
   * Count every user's spend per day, week and month even without a rule, so `getUserStats`
   * always has it (default true).
   */
  trackUserSpend?: boolean;
  /**
   * When the store throws: `fail-open` (default) lets the call go on and emits `store_error`;
   * `fail-closed` rethrows the store's error from reserve, settle and release.
   */
  onStoreError?: 'fail-open' | 'fail-closed';
  /** Where listener errors go (default `console.error`). */
  onListenerError?: ListenerErrorHandler;
}

/** What a call asks to reserve: who makes it, and its estimated cost. */
export interface ReserveInput extends CallSubject {
  callId: string;
  /** The estimate in USD; `estimateFemto` wins when both are given. */
  estimateUsd?: number;
  estimateFemto?: bigint | number;
  /** The call's output cap, scaled down by adaptive budgets that set `minMaxOutputTokens`. */
  maxOutputTokens?: number;
  /** Epoch ms (default now). */
  now?: number;
}

/** One rule window a reservation is charged to. */
export interface Charge {
  ruleId: string;
  /** Counter key (`user:alice:day:2026-11-23@UTC`), or `<scope>:request` for per-call rules. */
  key: string;
  window: BudgetWindow;
  mode: BudgetMode;
  limitFemto: bigint;
  scope: ChargedScope;
  alertAt: readonly number[];
  /** Window end (epoch ms); for `request` rules, the reservation's end. */
  expiresAt: number;
}

/** A held reservation: pass it to `settle` after the call, or `release` if the call failed. */
export interface Reservation {
  readonly callId: string;
  readonly amountFemto: bigint;
  readonly counters: readonly BudgetCounter[];
  readonly holdUntil: number;
  readonly charges: readonly Charge[];
  /**
   * True when a limit was checked for this call. False when the store was unavailable and
   * `fail-open` (the manager's `onStoreError`, or a resilient store's `failMode: 'open'`) let
   * the call through unchecked; `degraded` is then true.
   */
  readonly enforced: boolean;
  /**
   * True when the call was admitted without its budget store (fail-open during an outage): no
   * limit was checked, so the spend may pass the limit. Absent otherwise.
   */
  readonly degraded?: boolean;
}

/** The answer of an admitted `BudgetManager.reserve`: the reservation to settle or release, and an adaptation when a rule runs low (a refusal throws). */
export interface ReserveOutcome {
  ok: true;
  reservation: Reservation;
  /** Present when an adaptive budget runs low: degrade the call as it says. */
  adapt?: Adaptation;
}

/** Spend in one window for `getUserStats`. */
export interface WindowStats {
  spentUsd: number;
  /** Held by calls in flight. */
  reservedUsd: number;
  /** The tightest user limit for this window; null when no rule applies. */
  limitUsd: number | null;
  /** What a new call may still use (limit − spent − reserved, at least 0); null without limit. */
  remainingUsd: number | null;
  key: string;
  resetsAt: number;
  /** Spend projected to the window's end from the ledger's daily series (null when unknown). */
  forecast: SpendForecast | null;
}

/** A user's spend today, this week and this month, with limits, what remains and when each resets. */
export interface UserStats {
  today: WindowStats;
  week: WindowStats;
  month: WindowStats;
}
