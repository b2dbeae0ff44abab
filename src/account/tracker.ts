import { AsyncLocalStorage } from 'node:async_hooks';
import {
  BudgetExceededError,
  ConfigurationError,
  describe,
  InvalidUsageError,
  UnknownModelError,
} from '../errors.js';
import { getInsights } from '../insights/analyze.js';
import type { InsightReport } from '../insights/types.js';
import { isDateMs } from '../keep/checks.js';
import { toUsageRecord } from '../keep/record.js';
import type { Store } from '../keep/types.js';
import { femtoToDecimal, femtoToUsd } from '../price/money.js';
import {
  type CostBreakdown,
  defaultPricer,
  Pricer,
  type PricerOptions,
  UNPRICED_COST,
} from '../price/pricer.js';
import { SessionBudget } from '../react/budget.js';
import type { BudgetEvent, TrackerEventName, TrackerEvents } from '../react/events.js';
import {
  type BudgetHold,
  DEFAULT_HOLD_MS,
  DEFAULT_HOLD_OUTPUT_TOKENS,
  HoldBook,
  type HoldRequest,
  NO_HOLD,
} from '../react/holds.js';
import { type ListenerErrorHandler, logListenerError, SafeEmitter } from '../react/safe-emitter.js';
import { type CurrencyConverter, currencyConverter } from '../show/currency/convert.js';
import { type FxRates, ratesFromEnv } from '../show/currency/rates.js';
import {
  defaultExportPath,
  toCsv,
  toExportedCall,
  type UsageExport,
  writeFileAtomic,
} from '../show/export.js';
import { currencyJson } from '../show/export-currency.js';
import { formatCostReport } from '../show/report.js';
import { normalizeUsage } from '../usage/normalize.js';
import { Aggregate, AggregateMap } from './aggregate.js';
import { newSessionId } from './ids.js';
import { LedgerWriter, type LedgerWriterOptions } from './ledger.js';
import { callerTier, FRESH_CALL_ID, type RecordInput, type UsageRecord } from './record.js';
import type { TokenUsageStats } from './stats.js';

/**
 * Options of `new TokenTracker(options)`: budget, thresholds, enforcement, pricing and the ledger.
 *
 * @example
 * const tracker = new TokenTracker({ budgetLimitUsd: 0.5, warnAt: [0.5, 0.9], enforce: 'hard' });
 */
export interface TokenTrackerOptions extends LedgerWriterOptions {
  /** Session budget in USD; no budget when absent. */
  budgetLimitUsd?: number;
  /** Warning thresholds as fractions of the budget (default `[0.9]`). */
  warnAt?: readonly number[];
  /**
   * `warn` (default): budget events only. `hard`: integrations refuse a call (throw
   * `BudgetExceededError`, nothing sent) once the budget is used up, and, through `reserve()`,
   * when its estimate does not fit beside the spend and what the calls in flight hold (see
   * `reserve` for the bound this guarantees under parallel calls).
   */
  enforce?: 'warn' | 'hard';
  /**
   * Output tokens a hard budget assumes for a call that sets no `maxOutputTokens` before any
   * call of the session was recorded (default 1,024). Afterwards: the agent's running average.
   */
  holdOutputTokens?: number;
  /** How long a hard budget's hold on a call in flight lasts at most (default 10 minutes). */
  holdMs?: number;
  /** Most records kept in history (default 100,000); statistics stay exact beyond it. */
  historyLimit?: number;
  /** How many recent call ids are remembered to drop duplicates (default 10,000). */
  dedupeWindow?: number;
  /** Throw `InvalidUsageError` on bad usage instead of repairing it. */
  strictUsage?: boolean;
  /** Price catalog options: overrides, strict pricing (unknown models throw). */
  pricing?: PricerOptions;
  /** A pricer shared between trackers (overrides `pricing`). */
  pricer?: Pricer;
  /** Where listener errors go (default: `console.error`). They never reach the LLM call. */
  onListenerError?: ListenerErrorHandler;
  /**
   * A ledger (`tollgate/sqlite`, `tollgate/redis`, …) that receives every recorded call, in
   * batches (see `flushIntervalMs`, `flushBatchSize`, `maxPendingRecords`). A failing store
   * never breaks `record()`: it emits `store_error` and the batch is retried. The flush timer
   * does not keep the process alive: `await tracker.close()` before exiting writes the rest.
   */
  store?: Store;
  /** The session id (default: random). `TokenTracker.resume` sets it to continue a session. */
  sessionId?: string;
  /**
   * Show the report and exports in this ISO 4217 currency (records stay in exact USD). Checked
   * when the tracker is made: an unknown code or a missing rate throws `CurrencyError`.
   */
  currency?: string;
  /** Rates per USD for `currency` (default `TOLLGATE_FX_RATES`). */
  rates?: FxRates;
}

/** Options of `getCostBreakdownReport`. */
export interface ReportOptions {
  /** Leave out the "Suggestions" section (default: shown). */
  suggestions?: boolean;
  /** An ISO 4217 code to show amounts in (USD stays the unit of account). */
  currency?: string;
  /** Rates per USD (`parseRates`, `loadRatesFile`, `fetchEcbRates`); default `TOLLGATE_FX_RATES`. */
  rates?: FxRates;
}

export type { TokenUsageStats } from './stats.js';

const sessionStore = new AsyncLocalStorage<TokenTracker>();

/** Most records waiting to join the per-key groups (see `TokenTracker.ungrouped`). */
const MAX_UNGROUPED = 1024;

/**
 * Tracks the tokens and cost of LLM calls for one session: normalizes each call's usage, prices
 * it exactly, keeps totals per agent, model, user and thread, and fires budget events.
 *
 * @example
 * const tracker = new TokenTracker({ budgetLimitUsd: 0.5 });
 * tracker.on('budget_warning', (e) => console.log(`at ${e.utilizationPercent}%`));
 * tracker.record({ agent: 'planner', model: 'gemini-2.5-flash', usage: response.usageMetadata });
 * console.log(tracker.getCostBreakdownReport());
 */
export class TokenTracker {
  readonly sessionId: string;
  private enforceMode: 'warn' | 'hard';
  /** The pricer this tracker prices with (its overrides), for estimates that must agree. */
  readonly pricer: Pricer;
  private readonly strictUsage: boolean;
  private readonly normalizeOptions: { strict: boolean };
  private readonly historyLimit: number;
  private readonly dedupeWindow: number;
  /** Made on the first `on`/`once`: most trackers of a graph run never get a listener. */
  private emitter: SafeEmitter<TrackerEvents> | undefined;
  /** tollgate's own per-record observers (the stream feed, agent steps): see `observeRecords`. */
  private recordObservers: ((record: UsageRecord) => void)[] = [];
  private budgetObservers: ((event: BudgetEvent) => void)[] = [];
  private readonly onListenerError: ListenerErrorHandler;
  private budget: SessionBudget | undefined;
  private warnAt: readonly number[];
  /** Holds of the calls in flight under a hard budget; made on the first `reserve`. */
  private holdBook: HoldBook | undefined;
  private readonly holdOutputTokens: number;
  private readonly holdMs: number;
  /** The `overrideLimits` in force: what it set, what it replaced, how many runs share it. */
  private override:
    | { enforce: 'warn' | 'hard'; warnAt: readonly number[]; saved: Limits; users: number }
    | undefined;

  private startedAt = Date.now();
  private sequence = 0;
  private readonly totals = new Aggregate();
  private readonly byAgent = new AggregateMap();
  private readonly byModel = new AggregateMap();
  private readonly byUser = new AggregateMap();
  private readonly byThread = new AggregateMap();
  private readonly byServiceTier = new AggregateMap();
  /**
   * Records not yet added to the per-key groups above. `totals` (budgets read it) is kept at
   * once; the groups are read only by `getStatistics`, so a record joins them there, in one
   * warm loop, instead of costing four map look-ups on every LLM call. Bounded by
   * `MAX_UNGROUPED`.
   */
  private ungrouped: UsageRecord[] = [];
  private history: UsageRecord[] = [];
  private historyStart = 0;
  private dropped = 0;
  private readonly seenCalls = new Map<string, UsageRecord>();
  /**
   * The remembered call ids in arrival order, as a ring, for eviction. Evicting through
   * `seenCalls.keys().next()` instead costs O(window) once the window is full: V8's Map walks
   * over the deleted entries at its front (measured: 7 µs a record with a 10,000 window).
   */
  private seenOrder: string[] = [];
  private seenNext = 0;
  private readonly unpricedModelsSeen = new Set<string>();
  private readonly ledger: LedgerWriter | undefined;
  private readonly currency: CurrencyConverter | undefined;

  constructor(options: TokenTrackerOptions = {}) {
    this.sessionId = options.sessionId ?? newSessionId();
    this.currency = options.currency
      ? currencyConverter({ currency: options.currency, rates: options.rates ?? ratesFromEnv() })
      : undefined;
    this.enforceMode = checkEnforce(options.enforce ?? 'warn');
    this.holdOutputTokens = positiveInt(
      options.holdOutputTokens,
      DEFAULT_HOLD_OUTPUT_TOKENS,
      'holdOutputTokens',
    );
    this.holdMs = positiveInt(options.holdMs, DEFAULT_HOLD_MS, 'holdMs');
    this.pricer =
      options.pricer ?? (options.pricing ? new Pricer(options.pricing) : defaultPricer());
    this.strictUsage = options.strictUsage ?? false;
    this.normalizeOptions = { strict: this.strictUsage };
    this.historyLimit = positiveInt(options.historyLimit, 100_000, 'historyLimit');
    this.dedupeWindow = positiveInt(options.dedupeWindow, 10_000, 'dedupeWindow');
    this.warnAt = options.warnAt ?? [0.9];
    this.budget =
      options.budgetLimitUsd === undefined
        ? undefined
        : new SessionBudget(options.budgetLimitUsd, this.warnAt);
    this.onListenerError = options.onListenerError ?? logListenerError;
    this.ledger = options.store
      ? new LedgerWriter(options.store, this.sessionId, options, (event) => {
          if (this.emitter?.has('store_error')) this.emitter.emit('store_error', event);
          else console.error(`[tollgate] store "${event.store}" failed; will retry:`, event.error);
        })
      : undefined;
  }

  /**
   * Rebuilds a session from the ledger, so a restarted process goes on with exact totals, budget
   * state (thresholds already crossed stay fired) and call-id deduplication. New records keep
   * landing in `store` under the same session id.
   *
   * @example
   * const tracker = await TokenTracker.resume(createSqliteStore(), 'a1b2c3d4', { budgetLimitUsd: 5 });
   */
  static async resume(
    store: Store,
    sessionId: string,
    options: TokenTrackerOptions = {},
  ): Promise<TokenTracker> {
    const tracker = new TokenTracker({ ...options, store: options.store ?? store, sessionId });
    let cursor: string | undefined;
    do {
      const page = await store.query({ sessionId, limit: 10_000, ...(cursor ? { cursor } : {}) });
      for (const record of page.records) tracker.restore(toUsageRecord(record, tracker.pricer));
      cursor = page.nextCursor;
    } while (cursor);
    tracker.budget?.update(tracker.totals.costFemto);
    return tracker;
  }

  /** Writes every buffered record to the store; true when all were written (no store: true). */
  flush(): Promise<boolean> {
    return this.ledger ? this.ledger.flush() : Promise.resolve(true);
  }

  /** Flushes and stops the flush timer. The store stays open: it belongs to the caller. */
  close(): Promise<boolean> {
    return this.ledger ? this.ledger.close() : Promise.resolve(true);
  }

  /** Subscribes to an event; the listener can throw or reject without harm. */
  on<E extends TrackerEventName>(event: E, listener: TrackerEvents[E]): this {
    this.events().on(event, listener);
    return this;
  }

  /** Listens to one event once, then removes the listener. */
  once<E extends TrackerEventName>(event: E, listener: TrackerEvents[E]): this {
    this.events().once(event, listener);
    return this;
  }

  /** Removes a listener (or every listener of the event when none is given). */
  off<E extends TrackerEventName>(event: E, listener?: TrackerEvents[E]): this {
    this.emitter?.off(event, listener);
    return this;
  }

  private events(): SafeEmitter<TrackerEvents> {
    this.emitter ??= new SafeEmitter<TrackerEvents>(this.onListenerError);
    return this.emitter;
  }

  /**
   * Calls `observer` with every new record, right before the `usage` event, and `onBudget`, if
   * given, with each budget event right before its listeners. No event emitter: the stream feed
   * and agent steps sit on every call, and subscribe on every run. An observer that throws is
   * reported like a listener. Returns the unsubscribe. @internal
   */
  observeRecords(
    observer: (record: UsageRecord) => void,
    onBudget?: (event: BudgetEvent) => void,
  ): () => void {
    // Copy-on-write arrays: an observer unsubscribing during a call does not shift its loop.
    this.recordObservers = [...this.recordObservers, observer];
    if (onBudget) this.budgetObservers = [...this.budgetObservers, onBudget];
    return () => {
      this.recordObservers = this.recordObservers.filter((candidate) => candidate !== observer);
      if (onBudget) {
        this.budgetObservers = this.budgetObservers.filter((candidate) => candidate !== onBudget);
      }
    };
  }

  /**
   * Runs `fn` with this tracker as the current one: `getTokenTracker()` anywhere inside it,
   * across awaits, returns this tracker, so concurrent sessions never mix their numbers.
   */
  run<T>(fn: () => T): T {
    return sessionStore.run(this, fn);
  }

  /**
   * Records one call and returns the stored record, or the earlier record when `callId` was
   * already recorded. Returns `undefined` when the usage holds no counts yet (a Vertex stream
   * chunk with only `trafficType`): that is reported as a `usage_anomaly`, not counted as a call.
   */
  record(input: RecordInput): UsageRecord | undefined {
    if (typeof input !== 'object' || input === null) {
      throw new InvalidUsageError('input', input, 'record() takes { model, usage, … }');
    }
    if (typeof input.model !== 'string' || input.model.trim() === '') {
      throw new InvalidUsageError('model', input.model, 'a model name is required');
    }
    // Gemini's resource prefix: `models/x` and `x` are one model in every report.
    const model = input.model.startsWith('models/') ? input.model.slice(7) : input.model;
    const agent = input.agent === undefined || input.agent === '' ? 'unknown' : input.agent;
    if (typeof agent !== 'string') throw new InvalidUsageError('agent', agent, 'must be a string');
    const callId = input.callId;
    const fresh = (input as { [FRESH_CALL_ID]?: boolean })[FRESH_CALL_ID] === true;
    if (callId !== undefined && !fresh) {
      const earlier = this.seenCalls.get(callId);
      if (earlier) return earlier;
    }
    const timestamp = toEpochMs(input.timestamp);
    const tier = input.serviceTier === undefined ? undefined : callerTier(input.serviceTier);

    const usage = normalizeUsage(
      input.usage,
      input.usageFormat
        ? { strict: this.strictUsage, format: input.usageFormat }
        : this.normalizeOptions,
    );
    if (usage && tier !== undefined) usage.serviceTier = tier;
    if (!usage) {
      this.emitter?.emit('usage_anomaly', {
        type: 'usage_anomaly',
        message: `The call reported no token usage; nothing was recorded for ${model}.`,
        repairs: [],
        agent,
        model,
        callId,
        record: undefined,
      });
      return undefined;
    }
    let cost: CostBreakdown;
    let pricingError: UnknownModelError | undefined;
    try {
      cost = this.pricer.priceCall(usage, model, input.provider, timestamp);
    } catch (error) {
      if (!UnknownModelError.isInstance(error)) throw error;
      // Strict pricing: the call is still counted (unpriced, with its tokens), then refused.
      cost = UNPRICED_COST;
      pricingError = error;
    }

    const record: UsageRecord = {
      id: `${this.sessionId}-${++this.sequence}`,
      callId,
      agent,
      node: input.node,
      model,
      provider: input.provider ?? cost.provider,
      userId: input.userId,
      tenantId: input.tenantId,
      threadId: input.threadId,
      metadata: input.metadata,
      timestamp,
      usage,
      cost,
      serviceTier: usage.serviceTier ?? 'standard',
      prepaid: usage.serviceTier === 'provisioned',
    };
    this.store(record, !fresh);
    this.ledger?.push(record);
    this.announce(record);
    if (pricingError) throw pricingError;
    return record;
  }

  /**
   * `warn` (default) or `hard`: whether integrations refuse calls (see
   * `TokenTrackerOptions.enforce`). `overrideLimits` may change it for a run.
   */
  get enforce(): 'warn' | 'hard' {
    return this.enforceMode;
  }

  /**
   * Throws `BudgetExceededError` when the session budget is used up (spent ≥ limit: at exactly
   * 100% the message says so); otherwise does nothing.
   */
  checkBudget(agent?: string): void {
    const budget = this.budget;
    if (budget?.isSpent(this.totals.costFemto)) {
      throw new BudgetExceededError({
        limitUsd: budget.limitUsd,
        spentUsd: femtoToUsd(this.totals.costFemto),
        ...(agent ? { agent } : {}),
        scope: 'session',
      });
    }
  }

  /**
   * Called by integrations before each LLM call. With `enforce: 'hard'` it refuses the call
   * once the budget is used up (throws `BudgetExceededError`); with `'warn'` it does nothing.
   * Integrations that can estimate the call use `reserve` as well, which also counts the calls
   * in flight.
   */
  guard(agent?: string): void {
    ambientObserver?.callStart?.(this);
    if (this.enforceMode === 'hard') this.checkBudget(agent);
  }

  /**
   * True when calls must be reserved before they start (`enforce: 'hard'` and a budget): an
   * integration checks it before estimating anything, so untracked budgets cost nothing.
   */
  get reservesCalls(): boolean {
    return this.enforceMode === 'hard' && this.budget !== undefined;
  }

  /**
   * Admits one call under a hard session budget and holds its estimated cost while it runs, so
   * parallel calls cannot all pass the check before any is recorded. The call is refused
   * (`BudgetExceededError`, with `heldUsd` and `estimateUsd`) when the budget is used up
   * (spent ≥ limit) or when spent + held + estimate > limit. The estimate: prompt tokens
   * counted locally (or `promptTokens`), output from `maxOutputTokens`, else the agent's running
   * average output in this session (the session's, else `holdOutputTokens` before any record).
   * Settle the hold with the call's record when it ends, release it when the call fails; a
   * hold never settled ends after `holdMs`. Without a hard budget: the no-op hold.
   *
   * The bound: each admission leaves spent + held ≤ limit, and only a call that costs more
   * than its estimate raises that sum. So the final spend is at most the limit plus, over the
   * calls in flight at the last admission, the sum of (actual − estimate)⁺; and at most the
   * limit itself when every call caps its output (`maxOutputTokens`) and its prompt is not
   * undercounted. Calls recorded without a hold are outside this rule.
   *
   * @example
   * const hold = tracker.reserve({ model: 'gemini-2.5-flash', agent: 'researcher', prompt, maxOutputTokens: 1024 });
   * try {
   *   const response = await model.generateContent(prompt);
   *   hold.settle(tracker.record({ agent: 'researcher', model: 'gemini-2.5-flash', usage: response.response.usageMetadata }));
   * } catch (error) {
   *   hold.release();
   *   throw error;
   * }
   */
  reserve(request: HoldRequest): BudgetHold {
    const budget = this.budget;
    if ((request?.enforce ?? this.enforceMode) !== 'hard' || !budget) return NO_HOLD;
    if (typeof request?.model !== 'string' || request.model.trim() === '') {
      throw new InvalidUsageError('model', request?.model, 'reserve() needs the model of the call');
    }
    const agent = request.agent === '' ? undefined : request.agent;
    const spent = this.totals.costFemto;
    if (budget.isSpent(spent)) this.checkBudget(agent);
    this.holdBook ??= new HoldBook(this.holdOutputTokens, this.holdMs);
    const book = this.holdBook;
    const now = Date.now();
    const held = book.heldFemto(now);
    const estimate = book.estimate(request, this.pricer);
    if (spent + held + estimate.femto > budget.limitFemto) {
      throw new BudgetExceededError({
        limitUsd: budget.limitUsd,
        spentUsd: femtoToUsd(spent),
        heldUsd: femtoToUsd(held),
        estimateUsd: estimate.usd,
        ...(agent ? { agent } : {}),
        scope: 'session',
      });
    }
    return book.take(estimate, agent, now);
  }

  /** USD held by calls in flight under a hard budget (see `reserve`). */
  get heldUsd(): number {
    return this.holdBook ? femtoToUsd(this.holdBook.heldFemto(Date.now())) : 0;
  }

  /** Calls holding budget right now (see `reserve`); 0 after every call ended. */
  get callsInFlight(): number {
    return this.holdBook?.size ?? 0;
  }

  /**
   * Sets `enforce` and/or `warnAt` until the returned function is called (what
   * `runWithTracking` does for its run with a tracker you pass). Thresholds the spend already
   * reached count as fired, before and after. Overrides with the same values nest (the last
   * restore restores); a different override while one is in force throws `ConfigurationError`,
   * as two runs asking different limits of one tracker cannot both be honoured.
   *
   * @example
   * const restore = tracker.overrideLimits({ enforce: 'hard', warnAt: [0.5, 0.9] });
   * try { await graph.invoke(input); } finally { restore(); }
   */
  overrideLimits(limits: { enforce?: 'warn' | 'hard'; warnAt?: readonly number[] }): () => void {
    const enforce = checkEnforce(limits.enforce ?? this.enforceMode);
    const warnAt = limits.warnAt ?? this.warnAt;
    const current = this.override;
    if (current) {
      if (current.enforce !== enforce || !sameNumbers(current.warnAt, warnAt)) {
        throw new ConfigurationError(
          `this tracker already runs with enforce "${current.enforce}" and warnAt [${current.warnAt.join(', ')}] for another run; ` +
            `it cannot also run with enforce "${enforce}" and warnAt [${warnAt.join(', ')}]`,
        );
      }
      current.users += 1;
    } else {
      const saved = { enforce: this.enforceMode, warnAt: this.warnAt };
      this.applyLimits({ enforce, warnAt });
      this.override = { enforce, warnAt, saved, users: 1 };
    }
    let restored = false;
    return () => {
      const override = this.override;
      if (restored || !override) return;
      restored = true;
      override.users -= 1;
      if (override.users > 0) return;
      this.override = undefined;
      this.applyLimits(override.saved);
    };
  }

  private applyLimits(limits: Limits): void {
    this.enforceMode = limits.enforce;
    if (limits.warnAt === this.warnAt) return;
    const budget = this.budget;
    // Validates warnAt before anything changes.
    const next = budget ? new SessionBudget(budget.limitUsd, limits.warnAt) : undefined;
    if (!budget) new SessionBudget(1, limits.warnAt);
    this.warnAt = limits.warnAt;
    if (next) {
      next.update(this.totals.costFemto);
      this.budget = next;
    }
  }

  /** Raises (or sets) the session budget; thresholds already crossed stay fired. */
  setBudgetLimit(limitUsd: number): void {
    this.budget = new SessionBudget(limitUsd, this.warnAt);
    // Re-arm only thresholds above today's spend, so raising a limit warns again later.
    this.budget.update(this.totals.costFemto);
  }

  get budgetLimitUsd(): number | undefined {
    return this.budget?.limitUsd;
  }

  /** Exact spend so far, in USD (rounded once). */
  get spentUsd(): number {
    // Below 2^52 femto-dollars (about $4.50) the exact sum is a plain number: no bigint made.
    const small = this.totals.smallCostFemto;
    return small !== undefined ? femtoToUsd(small) : femtoToUsd(this.totals.costFemto);
  }

  /**
   * The session's statistics. Cost O(agents + models + the records since the last call, at most
   * 1,024), never a rescan of history.
   */
  getStatistics(): TokenUsageStats {
    this.group();
    const totals = this.totals;
    const calls = totals.calls;
    const spent = totals.costFemto;
    const budget = this.budget;
    return {
      totalCalls: calls,
      totalTokens: totals.tokens,
      inputTokens: totals.inputTokens,
      outputTokens: totals.outputTokens,
      cachedTokens: totals.cachedTokens,
      reasoningTokens: totals.reasoningTokens,
      totalCostUsd: femtoToUsd(spent),
      totalCostUsdExact: femtoToDecimal(spent),
      averageTokensPerCall: calls ? totals.tokens / calls : 0,
      averageCostPerCall: calls ? femtoToUsd(spent / BigInt(calls)) : 0,
      sessionDurationSeconds: (Date.now() - this.startedAt) / 1000,
      budgetLimitUsd: budget ? budget.limitUsd : null,
      budgetUtilizationPercent: budget ? budget.utilizationPercent(spent) : null,
      budgetRemainingUsd: budget ? budget.remainingUsd(spent) : null,
      unpricedCalls: totals.unpricedCalls,
      droppedFromHistory: this.dropped,
      byAgent: this.byAgent.toStats(),
      byModel: this.byModel.toStats(),
      byUser: this.byUser.toStats(),
      byThread: this.byThread.toStats(),
      byServiceTier: this.byServiceTier.toStats(),
    };
  }

  /** The records kept in history, oldest first (at most `historyLimit`). */
  getUsageHistory(): UsageRecord[] {
    return this.history.slice(this.historyStart);
  }

  /**
   * The console cost report (see README for a sample), with a "Suggestions" section from
   * `getInsights` unless `suggestions: false`, in `currency` when given (rates from `rates`, else
   * `TOLLGATE_FX_RATES`; a missing rate throws `CurrencyError`).
   */
  getCostBreakdownReport(options: ReportOptions = {}): string {
    const currency = options.currency
      ? currencyConverter({ currency: options.currency, rates: options.rates ?? ratesFromEnv() })
      : this.currency;
    return formatCostReport(this.getStatistics(), {
      ...(options.suggestions === false ? {} : { insights: this.insightsForReport() }),
      ...(currency ? { currency } : {}),
    });
  }

  /** Insights never break a report: a failure leaves the section out. */
  private insightsForReport(): InsightReport | undefined {
    try {
      return getInsights(this);
    } catch {
      return undefined;
    }
  }

  /** `{ sessionId, exportedAt, statistics, usageHistory, insights }`, as written by `exportToJson`. */
  toJSON(): UsageExport {
    const insights = this.insightsForReport();
    return {
      sessionId: this.sessionId,
      exportedAt: new Date().toISOString(),
      statistics: this.getStatistics(),
      usageHistory: this.getUsageHistory().map(toExportedCall),
      ...(insights ? { insights } : {}),
      ...(this.currency ? { currency: currencyJson(this.currency, this.totals.costFemto) } : {}),
    };
  }

  /**
   * Writes statistics and every call in history as JSON, atomically, and returns the path
   * (default `outputs/token_usage_<timestamp>.json` under the working directory).
   */
  exportToJson(path?: string): string {
    const target = path ?? defaultExportPath('token_usage', 'json');
    return writeFileAtomic(target, `${JSON.stringify(this.toJSON(), null, 2)}\n`);
  }

  /** Writes one CSV row per call in history (with the tracker's `currency` columns), atomically; returns the path. */
  exportToCsv(path?: string): string {
    const target = path ?? defaultExportPath('token_usage', 'csv');
    return writeFileAtomic(target, toCsv(this.getUsageHistory(), { currency: this.currency }));
  }

  /** Forgets every record and total, re-arms budget events, restarts the session clock. */
  reset(): void {
    this.startedAt = Date.now();
    this.totals.reset();
    for (const map of [
      this.byAgent,
      this.byModel,
      this.byUser,
      this.byThread,
      this.byServiceTier,
    ]) {
      map.clear();
    }
    this.ungrouped = [];
    this.history = [];
    this.historyStart = 0;
    this.dropped = 0;
    this.seenCalls.clear();
    this.seenOrder = [];
    this.seenNext = 0;
    this.unpricedModelsSeen.clear();
    this.holdBook?.clear();
    this.budget?.reset();
  }

  /** Adds a record read back from the ledger: counted, not announced, not written again. */
  private restore(record: UsageRecord): void {
    if (record.callId !== undefined && this.seenCalls.has(record.callId)) return;
    if (this.totals.calls === 0 || record.timestamp < this.startedAt) {
      this.startedAt = record.timestamp;
    }
    const prefix = `${this.sessionId}-`;
    if (record.id.startsWith(prefix)) {
      const sequence = Number(record.id.slice(prefix.length));
      if (sequence > this.sequence) this.sequence = sequence;
    }
    if (!record.cost.priced) this.unpricedModelsSeen.add(record.model);
    this.store(record);
  }

  private store(record: UsageRecord, rememberCallId = true): void {
    this.totals.add(record);
    this.ungrouped.push(record);
    if (this.ungrouped.length >= MAX_UNGROUPED) this.group();

    const history = this.history;
    history.push(record);
    if (history.length - this.historyStart > this.historyLimit) {
      history[this.historyStart++] = undefined as unknown as UsageRecord;
      this.dropped += 1;
      // Compact now and then instead of shifting on every record.
      if (this.historyStart >= this.historyLimit) {
        this.history = history.slice(this.historyStart);
        this.historyStart = 0;
      }
    }
    if (record.callId !== undefined && rememberCallId) {
      this.remember(record.callId, record);
    }
  }

  /** Adds the ungrouped records to the per-key groups. */
  private group(): void {
    const records = this.ungrouped;
    if (records.length === 0) return;
    this.ungrouped = [];
    for (const record of records) {
      this.byAgent.add(record.agent, record);
      this.byModel.add(record.model, record);
      this.byUser.add(record.userId, record);
      this.byThread.add(record.threadId, record);
      this.byServiceTier.add(record.serviceTier ?? 'standard', record);
    }
  }

  private remember(callId: string, record: UsageRecord): void {
    const order = this.seenOrder;
    if (order.length < this.dedupeWindow) order.push(callId);
    else {
      this.seenCalls.delete(order[this.seenNext] as string);
      order[this.seenNext] = callId;
      this.seenNext = (this.seenNext + 1) % this.dedupeWindow;
    }
    this.seenCalls.set(callId, record);
  }

  private announce(record: UsageRecord): void {
    const events = this.emitter;
    if (record.usage.repairs && events?.has('usage_anomaly')) {
      events.emit('usage_anomaly', {
        type: 'usage_anomaly',
        message: `Usage reported for ${record.model} needed ${record.usage.repairs.length} repair(s): ${record.usage.repairs.map((r) => `${r.field} (${r.reason})`).join('; ')}`,
        repairs: record.usage.repairs,
        agent: record.agent,
        model: record.model,
        callId: record.callId,
        record,
      });
    }
    if (!record.cost.priced && !this.unpricedModelsSeen.has(record.model)) {
      this.unpricedModelsSeen.add(record.model);
      events?.emit('unpriced_model', {
        type: 'unpriced_model',
        model: record.model,
        provider: record.provider,
        agent: record.agent,
      });
    }
    const observers = this.recordObservers;
    for (let i = 0; i < observers.length; i++) {
      try {
        (observers[i] as (record: UsageRecord) => void)(record);
      } catch (error) {
        this.onListenerError(error, 'usage');
      }
    }
    if (ambientObserver) {
      try {
        ambientObserver.record(this, record);
      } catch (error) {
        this.onListenerError(error, 'usage');
      }
    }
    events?.emit('usage', record);
    const budget = this.budget;
    if (!budget) return;
    const crossing = budget.update(this.totals.smallCostFemto ?? this.totals.costFemto);
    if (crossing.warnings.length === 0 && !crossing.exceeded) return;
    const spent = this.totals.costFemto;
    const base = {
      spentUsd: femtoToUsd(spent),
      limitUsd: budget.limitUsd,
      remainingUsd: budget.remainingUsd(spent),
      utilizationPercent: budget.utilizationPercent(spent),
      agent: record.agent,
      model: record.model,
      callId: record.callId,
      recordId: record.id,
      timestamp: record.timestamp,
    };
    for (const threshold of crossing.warnings) {
      this.fireBudget({ type: 'budget_warning', threshold, ...base });
    }
    if (crossing.exceeded) {
      this.fireBudget({ type: 'budget_exceeded', threshold: 1, ...base });
    }
  }

  private fireBudget(event: BudgetEvent): void {
    const observers = this.budgetObservers;
    for (let i = 0; i < observers.length; i++) {
      try {
        (observers[i] as (event: BudgetEvent) => void)(event);
      } catch (error) {
        this.onListenerError(error, event.type);
      }
    }
    if (ambientObserver) {
      try {
        ambientObserver.budget(this, event);
      } catch (error) {
        this.onListenerError(error, event.type);
      }
    }
    this.emitter?.emit(event.type, event);
  }
}

/** What `overrideLimits` sets and restores. */
interface Limits {
  enforce: 'warn' | 'hard';
  warnAt: readonly number[];
}

function checkEnforce(enforce: unknown): 'warn' | 'hard' {
  if (enforce !== 'warn' && enforce !== 'hard') {
    // Anything else would silently mean 'warn': a hard limit that never refuses.
    throw new ConfigurationError(`enforce must be "warn" or "hard", got ${describe(enforce)}`);
  }
  return enforce;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(Number.isInteger(value) && value > 0) && value !== Number.POSITIVE_INFINITY) {
    throw new ConfigurationError(`${name} must be a positive integer or Infinity, got ${value}`);
  }
  return value;
}

function toEpochMs(value: Date | number | string | undefined): number {
  if (value === undefined) return Date.now();
  const ms =
    value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!isDateMs(ms)) {
    throw new InvalidUsageError('timestamp', value, 'not a valid date');
  }
  return ms;
}

let processTracker: TokenTracker | undefined;

/** What every tracker reports to, after its own observers (see `setAmbientObserver`). @internal */
export interface AmbientObserver {
  /** A call is about to start in the current async context (`guard()`, before the request). */
  callStart?(tracker: TokenTracker): void;
  record(tracker: TokenTracker, record: UsageRecord): void;
  budget(tracker: TokenTracker, event: BudgetEvent): void;
}

/**
 * One observer for the records and budget events of every tracker, including those a user makes
 * with `new TokenTracker()` and the process-wide one: tollgate/langgraph writes them into the
 * running node's stream without any wiring. An integration installs it, the core never calls
 * out otherwise. @internal
 */
let ambientObserver: AmbientObserver | undefined;

/** @internal Installs the integration's ambient observer (see `ambientObserver`). */
export function setAmbientObserver(observer: AmbientObserver | undefined): void {
  ambientObserver = observer;
}

/**
 * Where an integration finds the tracker of the running context besides `tracker.run`:
 * tollgate/langgraph reads the one `runWithTracking` puts in the graph's config. A graph run
 * carries its tracker in its config, not in an AsyncLocalStorage of tollgate's, because every
 * AsyncLocalStorage that is in use makes each promise of the process (LangGraph makes
 * thousands a run) a little dearer, tracked or not. @internal
 */
let contextLocator: (() => TokenTracker | undefined) | undefined;

/** @internal Installs the integration's locator (see `contextLocator`). */
export function setContextTrackerLocator(locator: () => TokenTracker | undefined): void {
  contextLocator = locator;
}

/**
 * The key under which `runWithTracking` puts its tracker in `config.configurable`. Keys that
 * start with `__` stay out of LangSmith metadata and checkpoint metadata. @internal
 */
export const TRACKER_CONFIG_KEY = '__tollgate_tracker';

/** The tracker of the enclosing `tracker.run(fn)` only (not a graph's config). @internal */
export function sessionTracker(): TokenTracker | undefined {
  return sessionStore.getStore();
}

/** The tracker a graph config's `configurable` carries (`TRACKER_CONFIG_KEY`), if any. @internal */
export function trackerInConfigurable(configurable: unknown): TokenTracker | undefined {
  const tracker =
    typeof configurable === 'object' && configurable !== null
      ? (configurable as Record<string, unknown>)[TRACKER_CONFIG_KEY]
      : undefined;
  return typeof tracker === 'object' && tracker !== null ? (tracker as TokenTracker) : undefined;
}

/**
 * `getTokenTracker()` for an integration that has already read the running graph's config:
 * the `tracker.run` session's, else the graph run's (`fromConfig`), else the process-wide one.
 * @internal
 */
export function trackerWithin(fromConfig: TokenTracker | undefined): TokenTracker {
  return sessionStore.getStore() ?? fromConfig ?? processTokenTracker();
}

/**
 * The current tracker: inside `tracker.run(fn)` that tracker; inside a graph run by
 * `runWithTracking`, that run's tracker; otherwise the process-wide one (created on first use,
 * without a budget).
 */
export function getTokenTracker(): TokenTracker {
  return currentTokenTracker() ?? processTokenTracker();
}

/**
 * The tracker of the enclosing `tracker.run(fn)` or `runWithTracking` run, or undefined outside
 * any session.
 */
export function currentTokenTracker(): TokenTracker | undefined {
  return sessionStore.getStore() ?? contextLocator?.();
}

function processTokenTracker(): TokenTracker {
  processTracker ??= new TokenTracker();
  return processTracker;
}
