/**
 * The token feed: tollgate events as LangGraph "custom" stream chunks.
 *
 * Chunks travel through the graph's own stream writer (`config.writer`, as `getWriter()` finds
 * it). LangGraph delivers them when `streamMode` includes "custom", from any node, helper,
 * parallel branch, `Send` task or subgraph. The `writer` exported by @langchain/langgraph is a
 * silent no-op in 1.7 and `dispatchCustomEvent` never reaches the "custom" stream, so neither is
 * used. Inside a callback handler no writer is reachable (`getConfig()` is undefined there): the
 * handler passes the writer it captured from its node (`withFeedWriter`), and events that find
 * no writer at all go to the fallback sink given to `attachStreamFeed`.
 */
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import {
  type AdaptiveEvent,
  type BudgetAlertEvent,
  type BudgetEvent,
  type BudgetManager,
  currentTokenTracker,
  getTokenTracker,
  type TokenTracker,
  type UsageRecord,
} from '../index.js';
import { agentFromNamespace } from './attribution.js';
import type { FeedBudgetInfo, TokenFeedChunk } from './chunk.js';
import { adaptedMessage, alertMessage, budgetMessage } from './format.js';
import { AsyncLocalStorageProviderSingleton } from './langchain.js';

export type { FeedBudgetInfo, TokenFeedChunk, TokenFeedChunkType } from './chunk.js';

/** A stream writer, as LangGraph passes it in `config.writer`. */
export type ChunkWriter = (chunk: unknown) => void;

/** Options of `attachStreamFeed`. */
export interface StreamFeedOptions {
  /**
   * Receives the chunks no stream writer can take: events fired outside any node, or from a
   * callback handler that could not capture its node's writer. `runWithTracking` prints them.
   */
  fallback?: (chunk: TokenFeedChunk) => void;
  /**
   * Deliver every chunk of this tracker straight to this function, instead of through the graph's
   * stream, for as long as the feed is attached. For the one consumer of a run's stream, as
   * `runWithTracking` is: a chunk written into LangGraph's stream costs about 50 µs on its way
   * through the stream machinery, a direct call next to nothing, and the chunk arrives at once,
   * from inside the node that fired it. Chunks then never reach `graph.stream()`'s "custom" mode.
   */
  direct?: (chunk: TokenFeedChunk) => void;
  /**
   * Also forward this `BudgetManager`'s events: `adaptive` as `budget_adapted` chunks,
   * `budget_alert` as `budget_alert` chunks. They fire inside the node that reserves or settles
   * (`trackGemini` does both in the node), so they reach that node's stream. A manager shared
   * by concurrent runs feeds each event to the run it fired in only: the run whose tracker is
   * current (`tracker.run`, or the `runWithTracking` run's), else the last tracker attached with it.
   */
  budgets?: BudgetManager;
}

interface FeedState {
  refs: number;
  fallbacks: ((chunk: TokenFeedChunk) => void)[];
  directs: ((chunk: TokenFeedChunk) => void)[];
  unsubscribe: () => void;
}

const feeds = new WeakMap<TokenTracker, FeedState>();

/**
 * The writer a callback handler captured from its node, set for the synchronous duration of a
 * `record()` (tracker events fire synchronously), since `getWriter()` is undefined there.
 * A variable, not an AsyncLocalStorage: nothing asynchronous reads it, and an AsyncLocalStorage,
 * once run, stays enabled and copies its store onto every async resource the process creates
 * from then on, a cost paid on each of the many promises of every LangGraph runnable.
 */
let handlerWriter: ChunkWriter | undefined;

/**
 * The writer of the node running now: the one a callback handler captured, else the node's own
 * (`getWriter()`); undefined outside a node. @internal
 */
export function currentWriter(): ChunkWriter | undefined {
  return handlerWriter ?? nodeWriter();
}

/** True while `attachStreamFeed` (or `runWithTracking`) feeds this tracker. @internal */
export function hasAttachedFeed(tracker: TokenTracker): boolean {
  return feeds.has(tracker);
}

/** Runs `fn` with `writer` as the feed's writer; used by the callback handler. @internal */
export function withFeedWriter<T>(writer: ChunkWriter | undefined, fn: () => T): T {
  const previous = handlerWriter;
  handlerWriter = writer;
  try {
    return fn();
  } finally {
    handlerWriter = previous;
  }
}

/** Trackers fed by each BudgetManager, and how to unsubscribe from it. */
interface BudgetFeed {
  trackers: TokenTracker[];
  unsubscribe: () => void;
}

const budgetFeeds = new WeakMap<BudgetManager, BudgetFeed>();

/** True for chunks of the token feed. */
export function isTokenFeedChunk(value: unknown): value is TokenFeedChunk {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { source?: unknown }).source === 'tollgate' &&
    typeof (value as { type?: unknown }).type === 'string'
  );
}

/**
 * The current node's writer, as `getWriter()` finds it, but undefined outside a graph, where
 * `getWriter()` throws.
 */
function nodeWriter(): ChunkWriter | undefined {
  const config = AsyncLocalStorageProviderSingleton.getRunnableConfig() as
    | LangGraphRunnableConfig
    | undefined;
  const writer = config?.writer ?? config?.configurable?.writer;
  return typeof writer === 'function' ? (writer as ChunkWriter) : undefined;
}

/** Runs before a chunk is delivered: a node step announces itself first (`steps.ts`). */
let beforeDeliver: ((tracker: TokenTracker) => void) | undefined;

/** @internal Installs the hook that runs before each delivered chunk. */
export function setBeforeDeliver(hook: (tracker: TokenTracker) => void): void {
  beforeDeliver = hook;
}

/**
 * Writes a chunk to the tracker's direct sink, else the current node's stream, else the
 * tracker's fallback sink. @internal
 */
export function deliver(tracker: TokenTracker, chunk: TokenFeedChunk): void {
  if (beforeDeliver && chunk.type !== 'agent_started') beforeDeliver(tracker);
  const state = feeds.get(tracker);
  const sink = state?.directs.at(-1) ?? handlerWriter ?? nodeWriter() ?? state?.fallbacks.at(-1);
  if (!sink) return;
  try {
    sink(chunk);
  } catch {
    // A feed must never break the node that fired it.
  }
}

/** Utilization in percent, with 6 decimals; null without a budget. */
function utilization(spentUsd: number, limitUsd: number | null): number | null {
  return limitUsd === null ? null : round6((spentUsd / limitUsd) * 100);
}

/** An agent step's chunk with `tracker`'s numbers now; `costUsd` and `tokens` on completion. @internal */
export function feedChunk(
  tracker: TokenTracker,
  type: 'agent_started' | 'agent_completed',
  agent: string,
  message: string,
  completed?: { costUsd: number; tokens: number; failed?: true },
  taskId?: string,
): TokenFeedChunk {
  const spentUsd = tracker.spentUsd;
  const limitUsd = tracker.budgetLimitUsd ?? null;
  // Filled in key order, without object spreads: every node task writes two of these.
  const chunk = {
    source: 'tollgate',
    type,
    agent,
    spentUsd,
    limitUsd,
    utilizationPercent: utilization(spentUsd, limitUsd),
  } as TokenFeedChunk;
  if (completed) {
    chunk.costUsd = completed.costUsd;
    chunk.tokens = completed.tokens;
    if (completed.failed !== undefined) chunk.failed = completed.failed;
  }
  chunk.message = message;
  if (taskId !== undefined) chunk.taskId = taskId;
  chunk.timestamp = Date.now();
  return chunk;
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function callChunk(tracker: TokenTracker, record: UsageRecord): TokenFeedChunk {
  const spentUsd = tracker.spentUsd;
  const limitUsd = tracker.budgetLimitUsd ?? null;
  return {
    source: 'tollgate',
    type: 'llm_call',
    agent: record.agent,
    model: record.model,
    spentUsd,
    limitUsd,
    utilizationPercent: utilization(spentUsd, limitUsd),
    costUsd: record.cost.totalUsd,
    tokens: record.usage.totalTokens,
    timestamp: record.timestamp,
  };
}

/** The agent of the node running now, as `trackGemini` attributes it; `unknown` outside one. */
function currentAgent(): string {
  const config = AsyncLocalStorageProviderSingleton.getRunnableConfig() as
    | LangGraphRunnableConfig
    | undefined;
  const metadata = config?.metadata as Record<string, unknown> | undefined;
  const ns = config?.configurable?.checkpoint_ns ?? metadata?.checkpoint_ns;
  const node = metadata?.langgraph_node;
  return (
    agentFromNamespace(typeof ns === 'string' ? ns : undefined) ??
    (typeof node === 'string' && node !== '' ? node : 'unknown')
  );
}

function percent(spentUsd: number, limitUsd: number): number {
  return limitUsd > 0 ? round6((spentUsd / limitUsd) * 100) : 0;
}

function adaptedChunk(event: AdaptiveEvent): TokenFeedChunk {
  const agent = currentAgent();
  const spentUsd = Math.max(0, event.limitUsd - event.remainingUsd);
  const adapt: NonNullable<FeedBudgetInfo['adapt']> = {
    from: event.model,
    to: event.adapt.model ?? event.model,
  };
  if (event.adapt.maxOutputTokens !== undefined)
    adapt.maxOutputTokens = event.adapt.maxOutputTokens;
  return {
    source: 'tollgate',
    type: 'budget_adapted',
    agent,
    ...(event.model !== undefined && { model: event.model }),
    spentUsd,
    limitUsd: event.limitUsd,
    utilizationPercent: percent(spentUsd, event.limitUsd),
    budget: {
      ruleId: event.ruleId,
      key: event.key,
      scope: event.scope,
      remainingUsd: event.remainingUsd,
      adapt,
    },
    message: adaptedMessage(agent, event.model, event.adapt),
    timestamp: Date.now(),
  };
}

function alertChunk(event: BudgetAlertEvent): TokenFeedChunk {
  return {
    source: 'tollgate',
    type: 'budget_alert',
    agent: currentAgent(),
    spentUsd: event.spentUsd,
    limitUsd: event.limitUsd,
    utilizationPercent: percent(event.spentUsd, event.limitUsd),
    budget: {
      ruleId: event.ruleId,
      key: event.key,
      scope: event.scope,
      window: event.window,
      threshold: event.threshold,
      resetsAt: event.resetsAt,
    },
    message: alertMessage(event),
    timestamp: Date.now(),
  };
}

/**
 * The tracker a shared-budget event belongs to: the current session's when it is fed by this
 * manager (undefined when the current session is not: that run did not ask), else the last
 * tracker attached with it.
 */
function feedTracker(trackers: readonly TokenTracker[]): TokenTracker | undefined {
  const current = currentTokenTracker();
  if (current) return trackers.includes(current) ? current : undefined;
  return trackers.at(-1);
}

/** Subscribes `tracker`'s feed to a manager's events; returns the unsubscribe. */
function feedBudgets(tracker: TokenTracker, budgets: BudgetManager): () => void {
  let feed = budgetFeeds.get(budgets);
  if (!feed) {
    const trackers: TokenTracker[] = [];
    const send = (chunk: () => TokenFeedChunk) => {
      const target = feedTracker(trackers);
      if (target) deliver(target, chunk());
    };
    const onAdaptive = (event: AdaptiveEvent) => send(() => adaptedChunk(event));
    const onAlert = (event: BudgetAlertEvent) => send(() => alertChunk(event));
    budgets.on('adaptive', onAdaptive);
    budgets.on('budget_alert', onAlert);
    feed = {
      trackers,
      unsubscribe: () => {
        budgets.off('adaptive', onAdaptive);
        budgets.off('budget_alert', onAlert);
      },
    };
    budgetFeeds.set(budgets, feed);
  }
  const current = feed;
  current.trackers.push(tracker);
  return () => {
    current.trackers.splice(current.trackers.lastIndexOf(tracker), 1);
    if (current.trackers.length === 0) {
      current.unsubscribe();
      budgetFeeds.delete(budgets);
    }
  };
}

/** A session budget event's chunk. @internal */
export function budgetChunk(event: BudgetEvent): TokenFeedChunk {
  return {
    source: 'tollgate',
    type: event.type,
    agent: event.agent,
    model: event.model,
    spentUsd: event.spentUsd,
    limitUsd: event.limitUsd,
    utilizationPercent: event.utilizationPercent,
    message: budgetMessage(event.type, event.spentUsd, event.limitUsd, event.utilizationPercent),
    timestamp: Date.now(),
  };
}

/**
 * Streams a tracker's events as "custom" chunks: an `llm_call` chunk for every recorded call,
 * and `budget_warning` / `budget_exceeded` chunks when a threshold is crossed; with `budgets`,
 * also `budget_adapted` and `budget_alert` chunks from that shared `BudgetManager`. Attaching
 * twice to one tracker subscribes once. Returns a function that detaches.
 *
 * @example
 * const tracker = new TokenTracker({ budgetLimitUsd: 0.5 });
 * const detach = attachStreamFeed(tracker);
 * const handler = new TokenTrackingCallbackHandler({ tracker });
 * for await (const [mode, chunk] of await graph.stream(input, {
 *   streamMode: ['values', 'custom'], callbacks: [handler] })) {
 *   if (mode === 'custom' && isTokenFeedChunk(chunk)) console.log(formatFeedChunk(chunk));
 * }
 * detach();
 */
export function attachStreamFeed(
  tracker: TokenTracker = getTokenTracker(),
  options: StreamFeedOptions = {},
): () => void {
  let state = feeds.get(tracker);
  if (!state) {
    const onUsage = (record: UsageRecord) => deliver(tracker, callChunk(tracker, record));
    const onBudget = (event: BudgetEvent) => deliver(tracker, budgetChunk(event));
    state = {
      refs: 0,
      fallbacks: [],
      directs: [],
      unsubscribe: tracker.observeRecords(onUsage, onBudget),
    };
    feeds.set(tracker, state);
  }
  const current = state;
  current.refs += 1;
  const { fallback, direct } = options;
  if (fallback) current.fallbacks.push(fallback);
  if (direct) current.directs.push(direct);
  const unfeedBudgets = options.budgets ? feedBudgets(tracker, options.budgets) : undefined;
  let attached = true;
  return () => {
    if (!attached) return;
    attached = false;
    unfeedBudgets?.();
    if (fallback) current.fallbacks.splice(current.fallbacks.lastIndexOf(fallback), 1);
    if (direct) current.directs.splice(current.directs.lastIndexOf(direct), 1);
    current.refs -= 1;
    if (current.refs === 0) {
      current.unsubscribe();
      feeds.delete(tracker);
    }
  };
}
