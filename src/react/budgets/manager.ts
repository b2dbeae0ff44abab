/**
 * `BudgetManager`: budgets that hold across processes. Before a call, one atomic
 * check-and-reserve of its estimate over every counter the call is charged to; after it, settle
 * with the actual cost, or release when it failed. Reservations that are neither settled nor
 * released stop holding at `holdUntil`, so nothing leaks. Counters are keyed by calendar window,
 * so budgets reset at window boundaries. (The LiteLLM races in DESIGN.md are what this avoids.)
 */
import { BudgetExceededError, ConfigurationError, describe } from '../../errors.js';
import { isDateMs } from '../../keep/checks.js';
import { MemoryStore } from '../../keep/memory.js';
import type { BudgetCounter, ReserveResult, Store } from '../../keep/types.js';
import { parseModelName } from '../../price/catalog.js';
import { femtoToUsd, usdToFemto } from '../../price/money.js';
import { thresholdFemto } from '../budget.js';
import { forecastSpend } from '../forecast.js';
import { SafeEmitter } from '../safe-emitter.js';
import { planAdaptation } from './adaptive.js';
import { AlertBook } from './alerts.js';
import { assertTimeZone, type CalendarWindow } from './calendar.js';
import { defaultPricer } from './estimate.js';
import type { BudgetManagerEvents, ChargedScope, StoreErrorEvent } from './events.js';
import { addCounter, defaultDailyLimit, estimateOf, failsOpen } from './inputs.js';
import {
  type BudgetRule,
  type BudgetWindow,
  type CallSubject,
  matchRules,
  scopeKey,
  validateRule,
  windowKey,
} from './rules.js';
import type {
  BudgetManagerOptions,
  Charge,
  Reservation,
  ReserveInput,
  ReserveOutcome,
  UserStats,
  WindowStats,
} from './types.js';

/** A store with the budgets capability: the methods the manager calls. */
type BudgetStore = Store & Required<Pick<Store, 'reserve' | 'settle' | 'release' | 'counters'>>;

const DEFAULT_HOLD_MS = 600_000;
const TRACKED: readonly CalendarWindow[] = ['day', 'week', 'month'];
/** Throws `ConfigurationError` unless `now` is an epoch-ms instant a `Date` can hold. */
function assertInstant(now: unknown, where: string): asserts now is number {
  if (!isDateMs(now)) {
    throw new ConfigurationError(
      `${where}: now must be a finite epoch-ms time within the Date range, got ${describe(now)}`,
    );
  }
}

/**
 * Per-user, tenant, model, provider, agent and global budgets over request, hour, day, week and
 * month windows, enforced atomically in a shared store.
 *
 * @example
 * const budgets = new BudgetManager({ store, defaultDailyUserLimitUsd: 5 });
 * budgets.setRule({ id: 'acme', scope: { kind: 'tenant', id: 'acme' }, window: 'month', limitUsd: 500, mode: 'hard' });
 * budgets.on('budget_alert', (e) => notify(`${e.key} at ${e.threshold * 100}%`));
 * const { reservation } = await budgets.reserve({ callId, userId: 'alice', tenantId: 'acme', model, estimateUsd: 0.01 });
 * try { const reply = await callModel(); await budgets.settle(reservation, costFemto(reply)); }
 * catch (error) { await budgets.release(reservation); throw error; }
 */
export class BudgetManager {
  readonly store: Store;
  private readonly budgetStore: BudgetStore;
  private readonly rules = new Map<string, BudgetRule>();
  private readonly limits = new Map<string, bigint>();
  private readonly holdMs: number;
  private readonly timeZone: string;
  private readonly trackUserSpend: boolean;
  private readonly failOpen: boolean;
  private readonly events: SafeEmitter<BudgetManagerEvents>;
  private readonly alerts: AlertBook;

  constructor(options: BudgetManagerOptions = {}) {
    this.store = options.store ?? new MemoryStore();
    const store = this.store;
    if (!store.reserve || !store.settle || !store.release || !store.counters) {
      throw new ConfigurationError(
        `store "${store.name}" has no budgets capability (reserve, settle, release, counters)`,
      );
    }
    this.budgetStore = store as BudgetStore;
    this.holdMs = options.holdMs ?? DEFAULT_HOLD_MS;
    if (!Number.isSafeInteger(this.holdMs) || this.holdMs <= 0) {
      throw new ConfigurationError(
        `holdMs must be a positive integer (ms), got ${describe(options.holdMs)}`,
      );
    }
    this.timeZone = options.timeZone ?? 'UTC';
    assertTimeZone(this.timeZone);
    this.trackUserSpend = options.trackUserSpend ?? true;
    this.failOpen = failsOpen(options.onStoreError);
    this.events = new SafeEmitter(options.onListenerError);
    this.alerts = new AlertBook(store);
    const fallbackLimit = defaultDailyLimit(options.defaultDailyUserLimitUsd);
    if (fallbackLimit !== undefined) {
      this.setRule({
        id: 'default:user:day',
        scope: { kind: 'user' },
        window: 'day',
        limitUsd: fallbackLimit,
        mode: 'hard',
        timeZone: this.timeZone,
      });
    }
    for (const rule of options.rules ?? []) this.setRule(rule);
  }

  /** Listens to a manager event (`budget_alert`, `budget_refused`, `adaptive`, `store_error`). */
  on<E extends keyof BudgetManagerEvents>(event: E, listener: BudgetManagerEvents[E]): this {
    this.events.on(event, listener);
    return this;
  }

  /** Removes a listener (or every listener of the event when none is given). */
  off<E extends keyof BudgetManagerEvents>(event: E, listener?: BudgetManagerEvents[E]): this {
    this.events.off(event, listener);
    return this;
  }

  /** Adds or replaces (same id) a rule, validated; throws `ConfigurationError` naming the field. */
  setRule(rule: BudgetRule): BudgetRule {
    const valid = validateRule(rule);
    this.rules.set(valid.id, valid);
    this.limits.set(valid.id, usdToFemto(valid.limitUsd));
    return valid;
  }

  /**
   * A hard limit for one user (id `user:<userId>:<window>`), replacing the default for users.
   *
   * @example
   * budgets.setUserLimit('alice', 10); // $10 a day, resets at midnight in the manager's zone
   */
  setUserLimit(userId: string, usd: number, window: BudgetWindow = 'day'): BudgetRule {
    return this.setRule({
      id: `user:${userId}:${window}`,
      scope: { kind: 'user', id: userId },
      window,
      limitUsd: usd,
      mode: 'hard',
      timeZone: this.timeZone,
    });
  }

  /** Removes a rule by id; `false` when there was none. */
  removeRule(id: string): boolean {
    this.limits.delete(id);
    return this.rules.delete(id);
  }

  /** Every rule, the per-user default included. */
  listRules(): BudgetRule[] {
    return [...this.rules.values()].map((rule) => structuredClone(rule));
  }

  /**
   * Checks and reserves a call's estimate on every budget it is charged to, in one atomic store
   * operation. Throws `BudgetExceededError` (scope = the counter key) when a hard budget has no
   * room; otherwise returns the reservation and, when an adaptive budget runs low, `adapt`.
   * Reserving the same callId again holds once.
   */
  async reserve(input: ReserveInput): Promise<ReserveOutcome> {
    if (typeof input.callId !== 'string' || input.callId === '') {
      throw new ConfigurationError(
        `reserve: callId must be a non-empty string, got ${describe(input.callId)}`,
      );
    }
    const now = input.now ?? Date.now();
    assertInstant(now, 'reserve');
    const amount = estimateOf(input);
    const holdUntil = now + this.holdMs;
    const subject = this.subject(input);
    const charges: Charge[] = [];
    const counters = new Map<string, BudgetCounter>();
    for (const { rule, entity } of matchRules(this.rules.values(), subject)) {
      const limitFemto = this.limits.get(rule.id) as bigint;
      const scope: ChargedScope =
        entity === '' ? { kind: rule.scope.kind } : { kind: rule.scope.kind, id: entity };
      let key: string;
      let expiresAt: number;
      if (rule.window === 'request') {
        key = `${scopeKey(rule.scope.kind, entity)}:request`;
        expiresAt = holdUntil;
        if (rule.mode === 'hard' && amount > limitFemto) {
          this.refuse([rule.id], key, limitFemto, amount, amount, scope, input);
        }
      } else {
        ({ key, expiresAt } = windowKey(rule.scope.kind, entity, rule.window, now, rule.timeZone));
        addCounter(counters, { key, limitFemto, hard: rule.mode === 'hard', expiresAt });
      }
      charges.push({
        ruleId: rule.id,
        key,
        window: rule.window,
        mode: rule.mode,
        limitFemto,
        scope,
        alertAt: rule.alertAt ?? [],
        expiresAt,
      });
    }
    if (this.trackUserSpend && subject.userId !== undefined) {
      for (const window of TRACKED) {
        const { key, expiresAt } = windowKey('user', subject.userId, window, now, this.timeZone);
        addCounter(counters, { key, limitFemto: 0n, hard: false, expiresAt });
      }
    }
    const reservation = (enforced: boolean): Reservation => ({
      callId: input.callId,
      amountFemto: amount,
      counters: [...counters.values()],
      holdUntil,
      charges,
      enforced,
      ...(!enforced && { degraded: true }),
    });
    if (counters.size === 0) return this.adapted(reservation(true), input, now);

    let result: ReserveResult;
    try {
      result = await this.budgetStore.reserve({
        callId: input.callId,
        amountFemto: amount,
        counters: [...counters.values()],
        holdUntil,
        now,
      });
    } catch (error) {
      this.storeFailed('reserve', error, input.callId);
      return { ok: true, reservation: reservation(false) };
    }
    // A resilient store failing open checked no limit: say so, as for a failure of our own.
    if (result.ok && result.degraded === true) {
      return { ok: true, reservation: reservation(false) };
    }
    if (!result.ok) {
      const ruleIds = charges.filter((c) => c.key === result.key).map((c) => c.ruleId);
      const scope = charges.find((c) => c.key === result.key)?.scope ?? { kind: 'global' };
      this.refuse(ruleIds, result.key, result.limitFemto, result.usedFemto, amount, scope, input);
    }
    return this.adapted(reservation(true), input, now);
  }

  /**
   * Replaces the reservation by the call's actual cost (idempotent per callId: settling twice
   * counts once), then fires each alert threshold the spend has crossed, once per window.
   */
  async settle(
    reservation: Reservation,
    actualFemto: bigint | number,
    now = Date.now(),
  ): Promise<void> {
    if (
      typeof actualFemto === 'number'
        ? !Number.isSafeInteger(actualFemto) || actualFemto < 0
        : actualFemto < 0n
    ) {
      throw new ConfigurationError(
        `settle: actualFemto must be a non-negative integer, got ${describe(actualFemto)}`,
      );
    }
    assertInstant(now, 'settle');
    const actual = BigInt(actualFemto);
    if (reservation.counters.length > 0) {
      try {
        await this.budgetStore.settle(reservation.callId, actual, [...reservation.counters], now);
      } catch (error) {
        this.storeFailed('settle', error, reservation.callId);
        return;
      }
    }
    await this.fireAlerts(reservation, actual, now);
  }

  /** Drops the reservation of a call that failed or was abandoned. Idempotent. */
  async release(reservation: Reservation, now = Date.now()): Promise<void> {
    assertInstant(now, 'release');
    if (reservation.counters.length === 0) return;
    try {
      await this.budgetStore.release(reservation.callId, now);
    } catch (error) {
      this.storeFailed('release', error, reservation.callId);
    }
  }

  /**
   * A user's spend today, this ISO week and this month, with the tightest user limit of each
   * window (null when none applies). Store errors are thrown.
   *
   * @example
   * const { today } = await budgets.getUserStats('alice');
   * console.log(`$${today.spentUsd} of $${today.limitUsd}, $${today.remainingUsd} left`);
   */
  async getUserStats(userId: string, now = Date.now()): Promise<UserStats> {
    assertInstant(now, 'getUserStats');
    const userRules = [...this.rules.values()].filter((rule) => rule.scope.kind === 'user');
    const matched = matchRules(userRules, { userId });
    const plans = TRACKED.map((window) => {
      let tightest: BudgetRule | undefined;
      for (const { rule } of matched) {
        if (rule.window !== window) continue;
        if (!tightest || rule.limitUsd < tightest.limitUsd) tightest = rule;
      }
      const zone = tightest?.timeZone ?? (tightest ? 'UTC' : this.timeZone);
      return { rule: tightest, ...windowKey('user', userId, window, now, zone) };
    });
    const states = await this.budgetStore.counters(
      plans.map((plan) => plan.key),
      now,
    );
    const daily = await this.userDaily(userId, now);
    const [today, week, month] = plans.map((plan, i): WindowStats => {
      const state = states[i];
      const settled = state?.settledFemto ?? 0n;
      const reserved = state?.reservedFemto ?? 0n;
      const limit = plan.rule ? (this.limits.get(plan.rule.id) as bigint) : undefined;
      const left = limit === undefined ? undefined : limit - settled - reserved;
      return {
        spentUsd: femtoToUsd(settled),
        reservedUsd: femtoToUsd(reserved),
        limitUsd: plan.rule ? plan.rule.limitUsd : null,
        remainingUsd: left === undefined ? null : femtoToUsd(left > 0n ? left : 0n),
        key: plan.key,
        resetsAt: plan.expiresAt,
        forecast: daily
          ? forecastSpend({
              window: TRACKED[i] as CalendarWindow,
              now,
              spentFemto: settled,
              daily,
              limitUsd: plan.rule ? plan.rule.limitUsd : null,
              timeZone: plan.rule?.timeZone ?? (plan.rule ? 'UTC' : this.timeZone),
            })
          : null,
      };
    }) as [WindowStats, WindowStats, WindowStats];
    return { today, week, month };
  }

  /** The user's daily spend from the ledger for forecasts; null when the store cannot say. */
  private async userDaily(userId: string, now: number) {
    try {
      const rows = await this.store.summarize({
        userId,
        groupBy: 'day',
        from: now - 45 * 86_400_000,
        to: now + 1,
        timeZone: this.timeZone,
      });
      return rows.map((row) => ({ start: Date.parse(row.key), costFemto: row.costFemto }));
    } catch {
      return null;
    }
  }

  private subject(input: ReserveInput): CallSubject {
    let provider = input.provider;
    if (
      provider === undefined &&
      input.model !== undefined &&
      [...this.rules.values()].some((r) => r.scope.kind === 'provider')
    ) {
      // Only resolved when a provider rule exists: the catalog lookup is memoized but not free.
      provider =
        parseModelName(input.model).provider ?? defaultPricer().resolve(input.model)?.providerId;
    }
    return { ...input, provider };
  }

  private refuse(
    ruleIds: string[],
    key: string,
    limitFemto: bigint,
    usedFemto: bigint,
    amount: bigint,
    scope: ChargedScope,
    input: ReserveInput,
  ): never {
    const limitUsd = femtoToUsd(limitFemto);
    const spentUsd = femtoToUsd(usedFemto);
    this.events.emit('budget_refused', {
      type: 'budget_refused',
      ruleIds,
      key,
      callId: input.callId,
      spentUsd,
      limitUsd,
      estimateUsd: femtoToUsd(amount),
      scope,
      agent: input.agent,
    });
    throw new BudgetExceededError({
      limitUsd,
      spentUsd,
      scope: key,
      ...(input.agent !== undefined && { agent: input.agent }),
    });
  }

  /** Asks adaptive rules whether the call should be degraded, and says so in an event. */
  private async adapted(
    reservation: Reservation,
    input: ReserveInput,
    now: number,
  ): Promise<ReserveOutcome> {
    const adaptive = reservation.charges.filter((c) => c.mode === 'adaptive');
    if (adaptive.length === 0) return { ok: true, reservation };
    const windowed = adaptive.filter((c) => c.window !== 'request');
    const used = new Map<string, bigint>();
    if (windowed.length > 0) {
      try {
        const states = await this.budgetStore.counters(
          windowed.map((c) => c.key),
          now,
        );
        for (const state of states) used.set(state.key, state.settledFemto + state.reservedFemto);
      } catch (error) {
        // Advisory only: without the counters, the call simply is not degraded.
        this.storeFailed('counters', error, input.callId, true);
        return { ok: true, reservation };
      }
    }
    const plan = planAdaptation(adaptive, (id) => this.rules.get(id), used, reservation, input);
    if (!plan) return { ok: true, reservation };
    const { adapt, tightest } = plan;
    const { charge, remaining } = tightest;
    this.events.emit('adaptive', {
      type: 'adaptive',
      ruleId: charge.ruleId,
      key: charge.key,
      callId: input.callId,
      model: input.model,
      adapt,
      remainingUsd: femtoToUsd(remaining > 0n ? remaining : 0n),
      limitUsd: femtoToUsd(charge.limitFemto),
      scope: charge.scope,
    });
    return { ok: true, reservation, adapt };
  }

  private async fireAlerts(reservation: Reservation, actual: bigint, now: number): Promise<void> {
    const alerting = reservation.charges.filter((c) => c.alertAt.length > 0);
    if (alerting.length === 0) return;
    const windowed = alerting.filter((c) => c.window !== 'request');
    const spent = new Map<string, bigint>();
    if (windowed.length > 0) {
      try {
        const states = await this.budgetStore.counters(
          [...new Set(windowed.map((c) => c.key))],
          now,
        );
        for (const state of states) spent.set(state.key, state.settledFemto);
      } catch (error) {
        this.storeFailed('counters', error, reservation.callId, true);
        return;
      }
    }
    for (const charge of alerting) {
      const amount = charge.window === 'request' ? actual : (spent.get(charge.key) ?? 0n);
      // A per-call rule's "window" is the call itself.
      const alertKey =
        charge.window === 'request'
          ? `alert:${charge.ruleId}:${charge.key}:${reservation.callId}`
          : `alert:${charge.ruleId}:${charge.key}`;
      for (const threshold of charge.alertAt) {
        const at = thresholdFemto(charge.limitFemto, threshold);
        // A warning fires when spend reaches it; 1 ("exceeded") only once spend passes the limit.
        if (threshold >= 1 ? amount <= at : amount < at) break;
        let first: boolean;
        try {
          first = await this.alerts.mark(alertKey, threshold, charge.expiresAt, now);
        } catch (error) {
          this.storeFailed('markAlert', error, reservation.callId, true);
          return;
        }
        if (!first) continue;
        this.events.emit('budget_alert', {
          type: 'budget_alert',
          ruleId: charge.ruleId,
          key: charge.key,
          threshold,
          spentUsd: femtoToUsd(amount),
          limitUsd: femtoToUsd(charge.limitFemto),
          window: charge.window,
          mode: charge.mode,
          scope: charge.scope,
          callId: reservation.callId,
          resetsAt: charge.expiresAt,
        });
      }
    }
  }

  /** Reports a store failure; rethrows it under `fail-closed` unless it is advisory only. */
  private storeFailed(
    operation: StoreErrorEvent['operation'],
    error: unknown,
    callId: string,
    advisory = false,
  ): void {
    const failOpen = this.failOpen || advisory;
    this.events.emit('store_error', { type: 'store_error', operation, error, failOpen, callId });
    if (!failOpen) throw error;
  }
}
