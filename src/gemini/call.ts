/**
 * One tracked request: who made it (resolved when the call starts), the usage it reported, and
 * the single `tracker.record()` at its end.
 */

import { newCallId } from '../account/ids.js';
import { FRESH_CALL_ID, type RecordInput, type UsageRecord } from '../account/record.js';
import { type TokenTracker, trackerWithin } from '../account/tracker.js';
import { TollgateError } from '../errors.js';
import type { BudgetManager } from '../react/budgets/manager.js';
import type { RateLimiter } from '../react/rate-limit.js';
import { isRecord } from '../usage/counts.js';
import { admit, type Costed, type Gate, type PlannedRequest } from './budget.js';
import { type GraphAttribution, graphAttribution } from './context.js';
import type { CallScope } from './scope.js';

/** Options of `trackGemini`; every field is optional. Explicit values beat the graph's. */
export interface TrackGeminiOptions {
  /** Where calls are recorded. Default: `getTokenTracker()` at each call (so `tracker.run()` applies). */
  tracker?: TokenTracker;
  /** Default: the LangGraph agent running the call (see `context.ts`), else `"unknown"`. */
  agent?: string;
  /** Default: the LangGraph node running the call. */
  node?: string;
  userId?: string;
  /** Default: the graph's `configurable.thread_id`. */
  threadId?: string;
  /**
   * Added to every record's metadata, next to what tollgate adds: `responseId`, `modelVersion`,
   * `stream` (`complete` | `abandoned` | `failed`), `afcRound`, `automaticFunctionCalling`.
   */
  metadata?: Record<string, unknown>;
  /** Provider id for pricing (default `"google"`). */
  provider?: string;
  /**
   * Shared budgets (`BudgetManager`: per user, tenant, model, provider, agent, global; one store
   * shared by every process). Before each request its estimated cost is reserved atomically: a
   * hard budget without room throws `BudgetExceededError` and nothing is sent; an adaptive
   * budget running low switches the request to its fallback model and/or lowers its
   * `maxOutputTokens` (the record then carries the model used and `metadata.adapted`). After
   * the response, or the end of a stream, the reservation is settled with the recorded exact
   * cost (a stream cut midway: the cost of the usage it reported); a failed request, or a failed
   * or abandoned stream that reported no usage, releases it. Settled with the estimate instead:
   * a call whose model has no price (or that strict mode refused to record), and a response
   * without usage, so budgets never under-count what they cannot price (an estimate without a
   * price is 0: price the model with an override on the tracker, whose prices the estimate
   * uses). The estimate is an upper bound of the actual cost when the request caps its output
   * (`maxOutputTokens`, which also caps thinking) and the prompt estimate is not low (use
   * `estimate: 'countTokens'` for tight budgets), so a hard limit is never overspent then.
   * The call waits for the settlement before returning (before a stream's end).
   */
  budgets?: BudgetManager;
  /** Requests and tokens per minute (`RateLimiter`), checked before each request. */
  rateLimiter?: RateLimiter;
  /** The tenant of the calls, for tenant budgets and records. */
  tenantId?: string;
  /**
   * How budgets and rate limits estimate a prompt: `local` (default, about 4 characters a
   * token, no request) or `countTokens` (the SDK's own `countTokens` on the same contents, an
   * extra untracked request; the local estimate when it fails). @google/genai's Gemini API
   * `countTokens` takes contents only: the system instruction is added by the local estimate.
   */
  estimate?: 'local' | 'countTokens';
  /**
   * The output cap assumed by the estimate when the request sets no `maxOutputTokens` (default
   * 8192). Only estimated, never sent: set `maxOutputTokens` on the request (or the model) for
   * the estimate to be a true upper bound of the call's cost.
   */
  defaultMaxOutputTokens?: number;
}

export type { CallScope } from './scope.js';

/**
 * Resolves the tracker and the attribution of a call, then runs the hard-budget guard: a
 * `BudgetExceededError` thrown here means the request is never sent.
 */
export function openScope(
  options: TrackGeminiOptions,
  model: string,
): CallScope | Promise<CallScope> {
  const graph = graphAttribution();
  return graph instanceof Promise
    ? graph.then((found) => scopeOf(options, model, found)) // in the caller's async context
    : scopeOf(options, model, graph);
}

function scopeOf(options: TrackGeminiOptions, model: string, graph: GraphAttribution): CallScope {
  const scope: CallScope = {
    // The explicit one, else as `getTokenTracker()`, with the config the attribution read.
    tracker: options.tracker ?? trackerWithin(graph.tracker),
    agent: options.agent ?? graph.agent ?? 'unknown',
    node: options.node ?? graph.node,
    threadId: options.threadId ?? graph.threadId,
    userId: options.userId,
    tenantId: options.tenantId,
    metadata: options.metadata,
    provider: options.provider ?? 'google',
    // `models/gemini-2.5-flash` and `gemini-2.5-flash` group as one model in reports.
    model: model.startsWith('models/') ? model.slice('models/'.length) : model,
  };
  scope.tracker.guard(scope.agent);
  return scope;
}

const COUNT_KEYS = [
  'promptTokenCount',
  'candidatesTokenCount',
  'totalTokenCount',
  'thoughtsTokenCount',
  'cachedContentTokenCount',
  'toolUsePromptTokenCount',
] as const;

/** True for a usageMetadata with counts (not a Vertex mid-stream `{ trafficType }`). */
function hasCounts(usage: unknown): boolean {
  if (!isRecord(usage)) return false;
  for (const key of COUNT_KEYS) if (usage[key] !== undefined) return true;
  return false;
}

let reported = false;

/** Tracking never breaks the caller: an unexpected failure is logged once per process. */
export function reportOnce(error: unknown): void {
  if (reported) return;
  reported = true;
  console.error('[tollgate] could not record a Gemini call (further failures are silent):', error);
}

/**
 * True when budgets or rate limits apply, or the tracker holds calls under a hard budget
 * (`tracker.reservesCalls`): the request then goes through `admit` first.
 */
export function isGated(options: TrackGeminiOptions, scope?: CallScope): boolean {
  return (
    options.budgets !== undefined ||
    options.rateLimiter !== undefined ||
    scope?.tracker.reservesCalls === true
  );
}

/** One HTTP request: observes responses or stream chunks, then records exactly once. */
export class TrackedCall implements Costed {
  private usage: unknown;
  private responseId: string | undefined;
  private modelVersion: string | undefined;
  /** The record `finish` made, if any. */
  recorded: UsageRecord | undefined;
  private done = false;

  /**
   * @param callId A fresh id per request: the tracker drops a second record with the same id.
   * @param gate The budget reservation this request's cost is settled against, if any.
   */
  constructor(
    readonly scope: CallScope,
    readonly gate?: Gate,
    readonly callId: string = newCallId(),
  ) {}

  /**
   * Admits a request under budgets and rate limits (see `admit`); may throw a refusal, in which
   * case nothing is sent. The call records under the adapted scope.
   */
  static async admit(
    options: TrackGeminiOptions,
    scope: CallScope,
    plan: () => PlannedRequest | Promise<PlannedRequest>,
  ): Promise<TrackedCall> {
    const admitted = await admit(options, scope, newCallId(), await plan());
    return new TrackedCall(admitted.scope, admitted.gate, admitted.callId);
  }

  /** Keeps the last usage with counts (Gemini's counts are running totals) and the ids. */
  observe(response: unknown): void {
    if (!isRecord(response)) return;
    if (hasCounts(response.usageMetadata)) this.usage = response.usageMetadata;
    if (typeof response.responseId === 'string') this.responseId = response.responseId;
    if (typeof response.modelVersion === 'string') this.modelVersion = response.modelVersion;
  }

  /**
   * Records the call once (later calls do nothing). Errors tollgate throws on purpose (strict
   * usage, strict pricing: the user opted in) propagate, unless `quiet` (the request failed and
   * its own error wins); anything else is logged once and swallowed.
   */
  finish(extra?: Record<string, unknown>, quiet = false): void {
    if (this.done) return;
    this.done = true;
    const { tracker, agent, node, model, provider, userId, tenantId, threadId } = this.scope;
    let metadata: Record<string, unknown> | undefined;
    if (this.scope.metadata || extra || this.responseId || this.modelVersion) {
      metadata = { ...this.scope.metadata, ...extra };
      if (this.responseId !== undefined) metadata.responseId = this.responseId;
      if (this.modelVersion !== undefined) metadata.modelVersion = this.modelVersion;
      if (Object.keys(metadata).length === 0) metadata = undefined;
    }
    try {
      this.recorded = tracker.record({
        agent,
        node,
        model,
        provider,
        usage: this.usage,
        callId: this.callId,
        userId,
        tenantId,
        threadId,
        metadata,
        [FRESH_CALL_ID]: true, // minted by this call, recorded once (`done`)
      } as RecordInput);
    } catch (error) {
      if (TollgateError.isInstance(error) && !quiet) throw error;
      reportOnce(error);
    } finally {
      this.gate?.add(this);
    }
  }

  cost(estimate: bigint): bigint | undefined {
    const record = this.recorded;
    if (record?.cost.priced) return BigInt(record.cost.totalFemto);
    // Usage seen but no priced record (unpriced model, strict mode refused it): the estimate.
    return this.usage === undefined ? undefined : estimate;
  }

  /**
   * Records the call (see `finish`) and closes its gate: settles the reservation with what the
   * request cost, or releases it (`completed` false and no usage seen). Returns a promise only
   * when there is a gate. Errors: the recording's first (unless `quiet`), then the settle's;
   * both are swallowed when `quiet` (the request's own error wins).
   */
  end(
    extra: Record<string, unknown> | undefined,
    quiet: boolean,
    completed: boolean,
    atLeastEstimate = false,
  ): Promise<void> | undefined {
    const gate = this.gate;
    if (!gate) {
      this.finish(extra, quiet);
      return undefined;
    }
    let failure: { error: unknown } | undefined;
    try {
      this.finish(extra, quiet);
    } catch (error) {
      failure = { error };
    }
    return closeGate(gate, completed, atLeastEstimate, quiet, failure);
  }
}

async function closeGate(
  gate: Gate,
  completed: boolean,
  atLeastEstimate: boolean,
  quiet: boolean,
  failure: { error: unknown } | undefined,
): Promise<void> {
  try {
    await gate.close(completed, atLeastEstimate);
  } catch (error) {
    // A store failing under `fail-closed` (it already emitted `store_error`).
    if (!quiet && !failure) throw error;
  }
  if (failure) throw failure.error;
}

/** Releases a request's reservation when the request itself failed (its error wins). */
export async function releaseAfter(gate: Gate | undefined, error: unknown): Promise<never> {
  await gate?.close(false).catch(() => undefined);
  throw error;
}

/** One unary request, as `trackUnary` runs it. */
export interface Unary<R> {
  /** Sends the request (the adapted one, when `plan().adapt` changed it). */
  send: () => Promise<R>;
  responseOf: (result: R) => unknown;
  extra?: ((result: R) => Record<string, unknown> | undefined) | undefined;
  /** Describes the request for budgets and rate limits; only called when either is set. */
  plan: () => PlannedRequest | Promise<PlannedRequest>;
  /** Settle no less than the estimate (unary AFC: earlier rounds are not visible). */
  atLeastEstimate?: ((result: R) => boolean) | undefined;
}

/**
 * Opens a scope, sends one unary request, records its response. Without budgets or rate limits
 * no async function runs: the request's own promise gets one `.then`, so a tracked call costs
 * the caller no extra awaits (it sits on every LLM call of a graph).
 */
export function trackUnary<R>(
  options: TrackGeminiOptions,
  model: string,
  unary: Unary<R>,
): Promise<R> {
  if (isGated(options)) return openGatedUnary(options, model, unary);
  let opened: CallScope | Promise<CallScope>;
  try {
    opened = openScope(options, model);
  } catch (error) {
    return Promise.reject(error); // the hard-budget guard: as the SDK's own methods, reject
  }
  return opened instanceof Promise
    ? opened.then((scope) => sendUnary(options, scope, unary))
    : sendUnary(options, opened, unary);
}

function sendUnary<R>(options: TrackGeminiOptions, scope: CallScope, unary: Unary<R>): Promise<R> {
  if (scope.tracker.reservesCalls) return trackGatedUnary(options, scope, unary);
  const call = new TrackedCall(scope);
  let sent: Promise<R>;
  try {
    sent = unary.send();
  } catch (error) {
    return Promise.reject(error);
  }
  return sent.then((result) => {
    call.observe(unary.responseOf(result));
    call.finish(unary.extra?.(result));
    return result;
  });
}

async function openGatedUnary<R>(
  options: TrackGeminiOptions,
  model: string,
  unary: Unary<R>,
): Promise<R> {
  return trackGatedUnary(options, await openScope(options, model), unary);
}

async function trackGatedUnary<R>(
  options: TrackGeminiOptions,
  scope: CallScope,
  unary: Unary<R>,
): Promise<R> {
  const call = await TrackedCall.admit(options, scope, unary.plan);
  let result: R;
  try {
    result = await unary.send();
  } catch (error) {
    return releaseAfter(call.gate, error);
  }
  call.observe(unary.responseOf(result));
  await call.end(unary.extra?.(result), false, true, unary.atLeastEstimate?.(result));
  return result;
}

/**
 * A Proxy of `target` that answers `pick(prop, value)` for each property read; methods keep
 * working because `this` is the proxy, whose reads fall through to the target.
 */
export function overlay<T extends object>(
  target: T,
  pick: (prop: PropertyKey, value: unknown) => unknown,
): T {
  return new Proxy(target, {
    get(object, prop, receiver) {
      return pick(prop, Reflect.get(object, prop, receiver));
    },
  });
}
