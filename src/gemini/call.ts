/**
 * One tracked request: who made it (resolved when the call starts), the usage it reported, and
 * the single `tracker.record()` at its end.
 */

import { randomUUID } from 'node:crypto';
import { getTokenTracker, type TokenTracker } from '../account/tracker.js';
import { TollgateError } from '../errors.js';
import { isRecord } from '../usage/counts.js';
import { graphAttribution } from './context.js';

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
}

/** Everything known about a call before its request leaves. */
export interface CallScope {
  tracker: TokenTracker;
  agent: string;
  node: string | undefined;
  threadId: string | undefined;
  userId: string | undefined;
  metadata: Record<string, unknown> | undefined;
  provider: string;
  model: string;
}

/**
 * Resolves the tracker and the attribution of a call, then runs the hard-budget guard: a
 * `BudgetExceededError` thrown here means the request is never sent.
 */
export async function openScope(options: TrackGeminiOptions, model: string): Promise<CallScope> {
  const tracker = options.tracker ?? getTokenTracker();
  const graph = await graphAttribution();
  const scope: CallScope = {
    tracker,
    agent: options.agent ?? graph.agent ?? 'unknown',
    node: options.node ?? graph.node,
    threadId: options.threadId ?? graph.threadId,
    userId: options.userId,
    metadata: options.metadata,
    provider: options.provider ?? 'google',
    // `models/gemini-2.5-flash` and `gemini-2.5-flash` group as one model in reports.
    model: model.startsWith('models/') ? model.slice('models/'.length) : model,
  };
  tracker.guard(scope.agent);
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
  return isRecord(usage) && COUNT_KEYS.some((key) => usage[key] !== undefined);
}

let reported = false;

/** Tracking never breaks the caller: an unexpected failure is logged once per process. */
export function reportOnce(error: unknown): void {
  if (reported) return;
  reported = true;
  console.error('[tollgate] could not record a Gemini call (further failures are silent):', error);
}

/** One HTTP request: observes responses or stream chunks, then records exactly once. */
export class TrackedCall {
  /** A fresh id per request: the tracker drops a second record with the same id. */
  readonly callId = randomUUID();
  private usage: unknown;
  private responseId: string | undefined;
  private modelVersion: string | undefined;
  private done = false;

  constructor(readonly scope: CallScope) {}

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
    const { tracker, agent, node, model, provider, userId, threadId } = this.scope;
    const metadata: Record<string, unknown> = { ...this.scope.metadata, ...extra };
    if (this.responseId !== undefined) metadata.responseId = this.responseId;
    if (this.modelVersion !== undefined) metadata.modelVersion = this.modelVersion;
    try {
      tracker.record({
        agent,
        node,
        model,
        provider,
        usage: this.usage,
        callId: this.callId,
        userId,
        threadId,
        metadata: Object.keys(metadata).length > 0 ? metadata : undefined,
      });
    } catch (error) {
      if (TollgateError.isInstance(error) && !quiet) throw error;
      reportOnce(error);
    }
  }
}

/** Opens a scope, sends one unary request, records its response. */
export async function trackUnary<R>(
  options: TrackGeminiOptions,
  model: string,
  send: () => Promise<R>,
  responseOf: (result: R) => unknown,
  extra?: (result: R) => Record<string, unknown> | undefined,
): Promise<R> {
  const call = new TrackedCall(await openScope(options, model));
  const result = await send();
  call.observe(responseOf(result));
  call.finish(extra?.(result));
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
