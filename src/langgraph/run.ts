/**
 * `runWithTracking`: one tracked run of a compiled graph: a fresh tracker, the callback handler
 * and the stream feed, console lines, the final statistics on the returned state, and the JSON
 * report, also when the run fails.
 */
import { resolve } from 'node:path';
import type { Callbacks } from '@langchain/core/callbacks/manager';
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import { sessionTracker, TRACKER_CONFIG_KEY } from '../account/tracker.js';
import { describe } from '../errors.js';
import {
  type BudgetManager,
  ConfigurationError,
  fileTimestamp,
  TokenTracker,
  type TokenTrackerOptions,
} from '../index.js';
import { formatUsd } from '../price/money.js';
import { plural } from '../show/plural.js';
import { snapshotTokenUsage, type TokenUsageSnapshot } from './annotation.js';
import { attachStreamFeed, type TokenFeedChunk } from './feed.js';
import { formatFeedChunk, workflowStartedLine } from './format.js';
import { TokenTrackingCallbackHandler } from './handler.js';
import { type BudgetApproval, isBudgetInterrupt } from './interrupt.js';
import { Command, isCommand } from './langchain.js';
import { observeNodes, PARENT_STREAM_KEY } from './nodes.js';

/** What `runWithTracking` needs of a graph: any compiled LangGraph graph has it. */
export interface TrackableGraph {
  // Method syntax on purpose: its parameters are checked bivariantly, so every compiled graph,
  // whatever its state type, is accepted.
  /** `CompiledStateGraph.stream`: used with `streamMode: 'values'`. */
  stream(input: unknown, options?: Record<string, unknown>): Promise<AsyncIterable<unknown>>;
  /** `CompiledStateGraph.invoke`. */
  invoke(input: unknown, options?: Record<string, unknown>): Promise<unknown>;
  checkpointer?: unknown;
  name?: string | undefined;
}

/** Options of `runWithTracking`. */
export interface RunWithTrackingOptions {
  /** Session budget in USD (set on the given tracker too, and kept after the run). */
  budgetLimitUsd?: number;
  /**
   * Warning thresholds as fractions of the budget (default `[0.9]`). With a `tracker` of
   * yours: applied for this run only (`tracker.overrideLimits`), the tracker's own afterwards.
   */
  warnAt?: readonly number[];
  /**
   * `hard` refuses a model call when the budget is used up or its estimate does not fit beside
   * the spend and the calls in flight (see `tracker.reserve`); `warn` (default) only reports.
   * With a `tracker` of yours: applied for this run only, as `warnAt`. Two concurrent runs on
   * one tracker asking different `enforce` / `warnAt` throw `ConfigurationError`.
   */
  enforce?: 'warn' | 'hard';
  /**
   * On a spent hard budget: `throw` (default) rejects with `BudgetExceededError`; `interrupt`
   * pauses the graph for approval (implies `enforce: 'hard'`; needs a checkpointer and a
   * `thread_id`). Resume with `resumeWithTracking(graph, { approved, newLimitUsd }, options)`.
   */
  onBudgetExceeded?: 'throw' | 'interrupt';
  /** Print feed lines (`[agent_started] …`) to the console (default false). */
  streamOutput?: boolean;
  /** With `streamOutput`, print an `[llm_call]` line per model call too (default false). */
  printLlmCalls?: boolean;
  /** Receives every feed chunk of the run. */
  onEvent?: (chunk: TokenFeedChunk) => void;
  /**
   * A shared `BudgetManager` whose events join the feed: `budget_adapted` (an adaptive budget
   * switched a call's model or lowered its output cap) and `budget_alert` chunks, printed with
   * `streamOutput`. Give the same manager to `trackGemini` for it to enforce them.
   */
  budgets?: BudgetManager;
  /**
   * Where to write the JSON report. Default: nowhere. `true` writes it to
   * `outputs/token_usage_<timestamp>_<sessionId>.json` under the working directory (the session
   * id keeps concurrent runs apart); the path written is on `error.reportPath` after a hard stop.
   */
  reportPath?: string | boolean;
  /** Print the cost report to the console at the end (default false). */
  printReport?: boolean;
  /** Passed to the graph (thread_id, recursionLimit, your callbacks, …). */
  config?: LangGraphRunnableConfig;
  /** Track into this tracker instead of a fresh one. */
  tracker?: TokenTracker;
  /** Options of the fresh tracker (pricing overrides, strict usage, …). */
  trackerOptions?: Omit<TokenTrackerOptions, 'budgetLimitUsd' | 'warnAt' | 'enforce'>;
  /** The name in the `[workflow_started]` line (default: the graph's name). */
  workflowName?: string;
  /**
   * Attach the `TokenTrackingCallbackHandler` that records LangChain chat models (default true).
   * Set false when every model call goes through `trackGemini`: any LangChain callback handler
   * makes LangChain build callback managers for every runnable of the graph, which costs about
   * 0.3 ms per node; `trackGemini` records, guards and feeds the stream without it.
   * (Interrupt mode needs the handler.)
   */
  langchainCallbacks?: boolean;
  /**
   * Write an `agent_started` / `agent_completed` pair for every node task of the graph (default
   * true): subgraphs and prebuilt agents as one step named by their node, each `Send` task on
   * its own, the completion with the step's cost and tokens (`failed: true` when the task threw).
   * An `agentStarted` / `agentCompleted` call inside the node replaces the default message.
   */
  agentSteps?: boolean;
}

/** The final state, with the run's statistics and, when paused, LangGraph's interrupts. */
export type TrackedRunResult<State> = State & {
  tokenUsageStats: TokenUsageSnapshot;
  __interrupt__?: { id?: string; value?: unknown }[];
};

/** What a failed run attaches to its error (the same instance, `instanceof` intact). */
export interface TrackedRunFailure {
  /** The partial JSON report, when one was written. */
  reportPath?: string;
  tokenUsageStats?: TokenUsageSnapshot;
}

type StateOf<G extends TrackableGraph> = Awaited<ReturnType<G['invoke']>>;

/** Checks the options whose bad values would otherwise surface late, or as a wrong run. */
function checkOptions(options: RunWithTrackingOptions): void {
  const fail = (name: string, expected: string, value: unknown): never => {
    throw new ConfigurationError(
      `runWithTracking: invalid option ${name}: expected ${expected}, got ${describe(value)}`,
    );
  };
  const { budgetLimitUsd, enforce, onBudgetExceeded, reportPath } = options;
  if (
    budgetLimitUsd !== undefined &&
    !(typeof budgetLimitUsd === 'number' && Number.isFinite(budgetLimitUsd) && budgetLimitUsd > 0)
  ) {
    fail('budgetLimitUsd', 'a finite number > 0', budgetLimitUsd);
  }
  if (enforce !== undefined && enforce !== 'warn' && enforce !== 'hard') {
    fail('enforce', '"warn" or "hard"', enforce);
  }
  if (
    onBudgetExceeded !== undefined &&
    onBudgetExceeded !== 'throw' &&
    onBudgetExceeded !== 'interrupt'
  ) {
    fail('onBudgetExceeded', '"throw" or "interrupt"', onBudgetExceeded);
  }
  if (
    reportPath !== undefined &&
    typeof reportPath !== 'boolean' &&
    !(typeof reportPath === 'string' && reportPath !== '')
  ) {
    fail('reportPath', 'a non-empty path, true or false', reportPath);
  }
}

/** Trackers of runs paused by a budget interrupt, per graph and thread, for the resume. */
const pausedRuns = new WeakMap<object, Map<string, TokenTracker>>();

/**
 * Runs a compiled graph with token tracking: a fresh `TokenTracker` (unless `tracker` is given)
 * current for the whole run, a `TokenTrackingCallbackHandler` on every model call, and the stream
 * feed. Returns the final state plus `tokenUsageStats`, writes the JSON report and prints the
 * cost report. On failure (a hard budget: `BudgetExceededError`) the partial report is still
 * written and its path attached to the error as `error.reportPath`.
 *
 * Pass a `Command` (or use `resumeWithTracking`) to resume a paused run: the tracker of the paused
 * run on the same graph and `thread_id` carries on.
 *
 * @example
 * const result = await runWithTracking(graph, { messages: [['user', 'RAG systems']] }, {
 *   budgetLimitUsd: 0.5, enforce: 'hard', streamOutput: true, workflowName: 'RAG systems' });
 * result.tokenUsageStats.byAgent.researcher?.costUsd;
 */
export async function runWithTracking<G extends TrackableGraph>(
  graph: G,
  input: unknown,
  options: RunWithTrackingOptions = {},
): Promise<TrackedRunResult<StateOf<G>>> {
  checkOptions(options);
  const threadId = threadOf(options.config);
  const interruptMode = options.onBudgetExceeded === 'interrupt';
  if (interruptMode) requireCheckpointer(graph, threadId);
  const resuming = isCommand(input) || input === null;
  const given = options.tracker ?? (resuming ? takePausedTracker(graph, threadId) : undefined);
  const tracker =
    given ??
    new TokenTracker({
      ...options.trackerOptions,
      budgetLimitUsd: options.budgetLimitUsd,
      warnAt: options.warnAt,
      enforce: options.enforce,
    });
  // A tracker of yours runs this run with its `enforce` and `warnAt`, then gets its own back.
  const restoreLimits =
    given && (options.enforce !== undefined || options.warnAt !== undefined)
      ? given.overrideLimits({
          ...(options.enforce !== undefined && { enforce: options.enforce }),
          ...(options.warnAt !== undefined && { warnAt: options.warnAt }),
        })
      : undefined;
  if (options.budgetLimitUsd !== undefined && tracker.budgetLimitUsd !== options.budgetLimitUsd) {
    tracker.setBudgetLimit(options.budgetLimitUsd);
  }

  const print = options.streamOutput === true;
  const sink = (chunk: TokenFeedChunk) => {
    options.onEvent?.(chunk);
    if (print && (chunk.type !== 'llm_call' || options.printLlmCalls)) {
      console.log(formatFeedChunk(chunk));
    }
  };
  if (options.agentSteps !== undefined && typeof options.agentSteps !== 'boolean') {
    throw new ConfigurationError(
      `runWithTracking: invalid option agentSteps: expected true or false, got ${describe(options.agentSteps)}`,
    );
  }
  // Before the feed attaches, so a step's agent_started comes before its first llm_call chunk.
  const nodes =
    options.agentSteps === false
      ? undefined
      : observeNodes(tracker, options.config?.configurable?.[PARENT_STREAM_KEY]);
  // This run is its stream's only consumer: chunks go straight to the sink, not through
  // LangGraph's stream (about 50 µs a chunk there), and print the moment they fire.
  const detach = attachStreamFeed(tracker, {
    direct: sink,
    ...(options.budgets && { budgets: options.budgets }),
  });
  if (print && !resuming) {
    console.log(workflowStartedLine(options.workflowName ?? graph.name ?? 'LangGraph'));
  }

  try {
    const config =
      options.langchainCallbacks === false && !interruptMode
        ? (options.config ?? {})
        : withHandler(
            options.config,
            new TokenTrackingCallbackHandler({
              tracker,
              enforce: options.enforce ?? (interruptMode ? 'hard' : undefined),
              onBudgetExceeded: options.onBudgetExceeded,
            }),
          );
    // The tracker rides in the config, which LangGraph hands to every node, subgraph and Send
    // task (see `setContextTrackerLocator`). Inside a `tracker.run` session it must also shadow
    // that session's tracker, which takes precedence.
    const tracked = {
      ...config,
      configurable: {
        ...config.configurable,
        [TRACKER_CONFIG_KEY]: tracker,
        ...nodes?.configurable,
      },
    };
    const outcome = await (sessionTracker()
      ? tracker.run(() => consume(graph, input, tracked))
      : consume(graph, input, tracked));
    const tokenUsageStats = snapshotTokenUsage(tracker);
    if (outcome.interrupts && outcome.interrupts.length > 0) {
      if (threadId !== undefined) rememberPausedTracker(graph, threadId, tracker);
      if (print) {
        const budget = outcome.interrupts.map((i) => i.value).find(isBudgetInterrupt);
        console.log(
          `[workflow_interrupted] ${budget ? budget.message : 'Waiting for input to resume'}`,
        );
      }
    } else if (print) {
      console.log(
        `[workflow_completed] Workflow completed: ${plural(tokenUsageStats.totalCalls, 'call')}, ${plural(tokenUsageStats.totalTokens, 'token')}, ${formatUsd(tokenUsageStats.totalCostUsd)}`,
      );
    }
    report(tracker, options);
    return {
      ...(outcome.state as object),
      tokenUsageStats,
      ...(outcome.interrupts ? { __interrupt__: outcome.interrupts } : {}),
    } as TrackedRunResult<StateOf<G>>;
  } catch (error) {
    const reportPath = report(tracker, options);
    if (typeof error === 'object' && error !== null && Object.isExtensible(error)) {
      const details: TrackedRunFailure = { tokenUsageStats: snapshotTokenUsage(tracker) };
      if (reportPath) details.reportPath = reportPath;
      Object.assign(error, details);
    }
    throw error;
  } finally {
    nodes?.stop();
    detach();
    restoreLimits?.();
  }
}

/**
 * Resumes a run paused by a budget interrupt (or any interrupt) with `resume`: for a budget,
 * `{ approved: true, newLimitUsd }` raises the limit and the paused node re-runs from the top;
 * `{ approved: false }` rejects with `BudgetExceededError`. Use the same `config.thread_id`.
 *
 * @example
 * const paused = await runWithTracking(graph, input, { budgetLimitUsd: 0.1,
 *   onBudgetExceeded: 'interrupt', config: { configurable: { thread_id: 't1' } } });
 * if (paused.__interrupt__) {
 *   await resumeWithTracking(graph, { approved: true, newLimitUsd: 0.5 }, {
 *     onBudgetExceeded: 'interrupt', config: { configurable: { thread_id: 't1' } } });
 * }
 */
export function resumeWithTracking<G extends TrackableGraph>(
  graph: G,
  resume: BudgetApproval | unknown,
  options: RunWithTrackingOptions = {},
): Promise<TrackedRunResult<StateOf<G>>> {
  return runWithTracking(graph, new Command({ resume }), options);
}

interface Outcome {
  state: unknown;
  interrupts: { id?: string; value?: unknown }[] | undefined;
}

async function consume(
  graph: TrackableGraph,
  input: unknown,
  config: LangGraphRunnableConfig,
): Promise<Outcome> {
  const stream = await graph.stream(input, { ...config, streamMode: 'values' });
  let state: unknown = {};
  let interrupts: Outcome['interrupts'];
  for await (const payload of stream) {
    if (typeof payload !== 'object' || payload === null) continue;
    // On a pause LangGraph emits `{ __interrupt__ }` alone as the last "values" chunk.
    if ('__interrupt__' in payload) {
      interrupts = (payload as { __interrupt__: Outcome['interrupts'] }).__interrupt__;
    } else state = payload;
  }
  return { state, interrupts };
}

/** The user's config with the handler first, so a refusal happens before anyone sees the call. */
function withHandler(
  config: LangGraphRunnableConfig | undefined,
  handler: TokenTrackingCallbackHandler,
): LangGraphRunnableConfig {
  const callbacks: Callbacks | undefined = config?.callbacks;
  let merged: Callbacks;
  if (callbacks === undefined) merged = [handler];
  else if (Array.isArray(callbacks)) merged = [handler, ...callbacks];
  else {
    merged = callbacks.copy();
    merged.addHandler(handler, true);
  }
  return { ...config, callbacks: merged };
}

function threadOf(config: LangGraphRunnableConfig | undefined): string | undefined {
  const id = config?.configurable?.thread_id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

function requireCheckpointer(graph: TrackableGraph, threadId: string | undefined): void {
  const saver = graph.checkpointer;
  if (typeof saver !== 'object' || saver === null) {
    throw new ConfigurationError(
      'onBudgetExceeded "interrupt" pauses the graph, which needs a checkpointer: compile it with one, e.g. graph.compile({ checkpointer: new MemorySaver() })',
    );
  }
  if (threadId === undefined) {
    throw new ConfigurationError(
      'onBudgetExceeded "interrupt" needs config.configurable.thread_id to resume the paused run',
    );
  }
}

function rememberPausedTracker(graph: object, threadId: string, tracker: TokenTracker): void {
  let byThread = pausedRuns.get(graph);
  if (!byThread) {
    byThread = new Map();
    pausedRuns.set(graph, byThread);
  }
  byThread.set(threadId, tracker);
}

function takePausedTracker(graph: object, threadId: string | undefined): TokenTracker | undefined {
  if (threadId === undefined) return undefined;
  const byThread = pausedRuns.get(graph);
  const tracker = byThread?.get(threadId);
  byThread?.delete(threadId);
  return tracker;
}

/** Writes and prints the report; a failure here never hides the run's own result or error. */
function report(tracker: TokenTracker, options: RunWithTrackingOptions): string | undefined {
  let path: string | undefined;
  if (options.reportPath !== undefined && options.reportPath !== false) {
    try {
      path = tracker.exportToJson(
        options.reportPath === true
          ? resolve('outputs', `token_usage_${fileTimestamp()}_${tracker.sessionId}.json`)
          : options.reportPath,
      );
    } catch (error) {
      console.error('[tollgate] could not write the token usage report:', error);
    }
  }
  if (options.printReport === true) console.log(tracker.getCostBreakdownReport());
  return path;
}
