/**
 * Shared budgets and rate limits around one Gemini request: estimate, rate check, atomic
 * reserve (which may refuse, or adapt the request) before it leaves; settle with the recorded
 * cost, or release, after it ends.
 *
 * Only runs when `trackGemini` was given `budgets` or `rateLimiter`, or the tracker has a hard
 * budget (`tracker.reservesCalls`: the call's estimate is held in the session while it runs):
 * without them the wrapper takes its usual path, with no extra await.
 */

import type { UsageRecord } from '../account/record.js';
import {
  countWordTokens,
  estimateCallCost,
  estimatePromptTokens,
} from '../react/budgets/estimate.js';
import type { Adaptation } from '../react/budgets/events.js';
import type { BudgetManager } from '../react/budgets/manager.js';
import type { Reservation } from '../react/budgets/types.js';
import { type BudgetHold, NO_HOLD } from '../react/holds.js';
import type { RateLimiter } from '../react/rate-limit.js';
import type { CallScope } from './scope.js';

/** The options of `trackGemini` that the gate reads (documented on `TrackGeminiOptions`). */
interface GateOptions {
  budgets?: BudgetManager | undefined;
  rateLimiter?: RateLimiter | undefined;
  estimate?: 'local' | 'countTokens' | undefined;
  defaultMaxOutputTokens?: number | undefined;
}

/**
 * The output cap assumed for a request that sets none (`defaultMaxOutputTokens`). The estimate
 * is an upper bound of the call's cost only when the request really caps its output: Gemini's
 * own default cap is the model's limit (65,536 tokens for Gemini 2.5).
 */
export const DEFAULT_MAX_OUTPUT_TOKENS = 8192;

/** A request as the budget step sees it; the SDK wrappers build one per request. */
export interface PlannedRequest {
  /** What the local estimate reads: the request's contents and system instruction. */
  prompt: unknown;
  /**
   * Prompt tokens as the SDK's own `countTokens` counts them (an untracked request), for
   * `estimate: 'countTokens'`. Absent when the SDK object has no `countTokens`.
   */
  countTokens?: () => Promise<number>;
  /** The output cap the request will send (its own config, else the model's), if any. */
  maxOutputTokens: number | undefined;
  /** Changes the request before it is sent; returns what could be applied. */
  adapt(adapt: Adaptation): Adaptation;
}

/** Something that knows what one finished request cost (a `TrackedCall`). */
export interface Costed {
  /**
   * Femto-dollars to settle for this request: its exact recorded cost when priced, `estimate`
   * when it reported usage that has no price, undefined when it reported no usage at all.
   */
  cost(estimate: bigint): bigint | undefined;
  /** The record of the finished request, if one was made (settles the session hold). */
  readonly recorded: UsageRecord | undefined;
}

/**
 * The reservation of one tracked request and what its rounds cost. A request is one
 * reservation, even when @google/genai automatic function calling makes several HTTP requests
 * of it (each round is recorded; their costs are settled together).
 */
export class Gate {
  private spent = 0n;
  private seen = false;
  private closed = false;

  /**
   * @param hold The session hold of the current round (a hard tracker budget), else `NO_HOLD`.
   */
  constructor(
    private readonly budgets: BudgetManager | undefined,
    readonly reservation: Reservation | undefined,
    readonly estimateFemto: bigint,
    private hold: BudgetHold = NO_HOLD,
  ) {}

  /**
   * Holds the session budget for the next automatic-function-calling round of the same call,
   * estimated from the last round's record (its prompt and output are the next prompt) plus
   * `extraPrompt` (the tools' answers). Throws `BudgetExceededError` when it does not fit.
   */
  holdNextRound(scope: CallScope, last: UsageRecord | undefined, extraPrompt: unknown): void {
    if (!scope.tracker.reservesCalls) return;
    this.hold.release();
    const promptTokens =
      (last ? last.usage.inputTokens + last.usage.outputTokens : 0) +
      Math.max(estimatePromptTokens(extraPrompt), countWordTokens(extraPrompt));
    this.hold = scope.tracker.reserve({
      model: scope.model,
      provider: scope.provider,
      agent: scope.agent,
      promptTokens,
      maxOutputTokens: this.maxOutputTokens,
    });
  }

  /** The request's output cap, for the next round's hold. */
  maxOutputTokens: number | undefined;

  /** Adds a finished round's cost (nothing when it reported no usage). */
  add(call: Costed): void {
    // The record (already in the spend) replaces the round's session hold.
    this.hold.settle(call.recorded);
    const cost = call.cost(this.estimateFemto);
    if (cost === undefined) return;
    this.seen = true;
    this.spent += cost;
  }

  /**
   * Settles the reservation with what the rounds cost, once. Nothing was seen: a request that
   * completed anyway settles the estimate (a response without usage was still billed); one
   * that failed or was abandoned releases it. `atLeastEstimate` settles no less than the
   * estimate (unary automatic function calling, whose earlier rounds are invisible).
   */
  close(completed: boolean, atLeastEstimate = false): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.hold.release();
    const budgets = this.budgets;
    if (!budgets || !this.reservation) return Promise.resolve();
    if (!this.seen && !completed) return budgets.release(this.reservation);
    let amount = this.seen ? this.spent : this.estimateFemto;
    if (atLeastEstimate && amount < this.estimateFemto) amount = this.estimateFemto;
    return budgets.settle(this.reservation, amount);
  }
}

/** What `admit` decided: the scope to record under (the model actually used) and the gate. */
export interface Admission {
  scope: CallScope;
  gate: Gate | undefined;
  callId: string;
}

/**
 * Runs before the request leaves (after `tracker.guard`): prompt estimate, rate limit check
 * (prompt + max output tokens), cost estimate, and the atomic reserve. A refusal throws
 * (`RateLimitExceededError`, `BudgetExceededError`) and nothing is sent. When an adaptive
 * budget runs low the request is changed here, and the scope says so. The reservation keeps
 * the estimate for the model asked for (a fallback is meant to be cheaper, and a lower cap only
 * lowers the cost); the settlement is what the model actually used cost.
 */
export async function admit(
  options: GateOptions,
  scope: CallScope,
  callId: string,
  request: PlannedRequest,
): Promise<Admission> {
  const counted = await promptTokensOf(options, request);
  const promptTokens = counted.tokens;
  // Before anything else is reserved: it refuses synchronously, holding nothing.
  const hold = holdSession(scope, request, counted);
  try {
    return await admitShared(options, scope, callId, request, promptTokens, hold);
  } catch (error) {
    hold.release();
    throw error;
  }
}

/** The session hold of a call under a hard tracker budget (`NO_HOLD` otherwise). */
function holdSession(
  scope: CallScope,
  request: PlannedRequest,
  counted: { tokens: number; exact: boolean },
): BudgetHold {
  if (!scope.tracker.reservesCalls) return NO_HOLD;
  return scope.tracker.reserve({
    model: scope.model,
    provider: scope.provider,
    agent: scope.agent,
    // A local count takes the larger of the two local rules, as `reserve` does.
    promptTokens: counted.exact
      ? counted.tokens
      : Math.max(counted.tokens, countWordTokens(request.prompt)),
    maxOutputTokens: request.maxOutputTokens,
  });
}

async function admitShared(
  options: GateOptions,
  scope: CallScope,
  callId: string,
  request: PlannedRequest,
  promptTokens: number,
  hold: BudgetHold,
): Promise<Admission> {
  const maxOutputTokens =
    request.maxOutputTokens ?? options.defaultMaxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS;
  if (options.rateLimiter) {
    await options.rateLimiter.check({
      userId: scope.userId,
      agent: scope.agent,
      model: scope.model,
      tokens: promptTokens + maxOutputTokens,
    });
  }
  const budgets = options.budgets;
  if (!budgets) {
    if (hold === NO_HOLD) return { scope, gate: undefined, callId };
    return { scope, gate: sessionGate(hold, request), callId };
  }
  const estimateFemto = estimate(scope, promptTokens, maxOutputTokens);
  const outcome = await budgets.reserve({
    callId,
    userId: scope.userId,
    tenantId: scope.tenantId,
    model: scope.model,
    provider: scope.provider,
    agent: scope.agent,
    estimateFemto,
    maxOutputTokens,
  });
  const gate = new Gate(budgets, outcome.reservation, estimateFemto, hold);
  gate.maxOutputTokens = request.maxOutputTokens;
  if (!outcome.adapt) return { scope, gate, callId };
  let applied: Adaptation;
  try {
    applied = request.adapt(outcome.adapt);
  } catch (error) {
    await gate.close(false);
    throw error;
  }
  if (applied.model === undefined && applied.maxOutputTokens === undefined) {
    return { scope, gate, callId };
  }
  const to = applied.model === undefined ? scope.model : stripModels(applied.model);
  const adapted: Record<string, unknown> = { from: scope.model, to };
  if (applied.maxOutputTokens !== undefined) adapted.maxOutputTokens = applied.maxOutputTokens;
  return {
    scope: { ...scope, model: to, metadata: { ...scope.metadata, adapted } },
    gate,
    callId,
  };
}

const stripModels = (model: string) =>
  model.startsWith('models/') ? model.slice('models/'.length) : model;

let countWarned = false;

/** A gate holding only the session budget. */
function sessionGate(hold: BudgetHold, request: PlannedRequest): Gate {
  const gate = new Gate(undefined, undefined, hold.estimateFemto, hold);
  gate.maxOutputTokens = request.maxOutputTokens;
  return gate;
}

async function promptTokensOf(
  options: GateOptions,
  request: PlannedRequest,
): Promise<{ tokens: number; exact: boolean }> {
  if (options.estimate === 'countTokens' && request.countTokens) {
    try {
      const counted = await request.countTokens();
      if (Number.isSafeInteger(counted) && counted >= 0) return { tokens: counted, exact: true };
    } catch (error) {
      if (!countWarned) {
        countWarned = true;
        console.warn(
          '[tollgate] countTokens failed; budgets use the local estimate instead (further failures are silent):',
          error,
        );
      }
    }
  }
  return { tokens: estimatePromptTokens(request.prompt), exact: false };
}

/** The most the call can cost, priced like the tracker prices its record. 0 when unpriced. */
function estimate(scope: CallScope, promptTokens: number, maxOutputTokens: number): bigint {
  try {
    return estimateCallCost({
      model: scope.model,
      provider: scope.provider,
      promptTokens,
      maxOutputTokens,
      pricer: scope.tracker.pricer,
    }).estimateFemto;
  } catch {
    // Strict pricing and an unknown model: the tracker refuses the record after the call;
    // the reservation holds nothing (its cost is unknown, as for any unpriced model).
    return 0n;
  }
}

/** The system instruction of the generative-ai SDK, as it formats one (for `countTokens`). */
export function systemContent(input: unknown): unknown {
  if (input == null) return undefined;
  if (typeof input === 'string') return { role: 'system', parts: [{ text: input }] };
  const value = input as { text?: unknown; parts?: unknown; role?: unknown };
  if (value.text) return { role: 'system', parts: [input] };
  if (value.parts && !value.role) return { role: 'system', parts: value.parts };
  return input;
}
