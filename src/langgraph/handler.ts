/**
 * Records every LangChain model call made inside a LangGraph workflow.
 *
 * Facts that shape it (@langchain/core 1.4, @langchain/langgraph 1.7):
 * - Handlers run in a background queue unless `awaitHandlers` is true; there an error does not
 *   stop the graph and calls of concurrent runs interleave. This handler is always awaited and
 *   `raiseError` is true, so `guard()` can refuse a call before the model is called, and the
 *   same `BudgetExceededError` instance rejects `invoke`, `stream` and `streamEvents`.
 * - `handleLLMEnd` receives no metadata, so what `handleChatModelStart` learns (model, agent,
 *   node, thread) is kept by run id until the call ends. Nothing is keyed by AsyncLocalStorage.
 * - `getConfig()` is undefined inside handlers; the node's stream writer and interrupt context
 *   come from the capture described in `context.ts`.
 * - A streamed call's final `usage_metadata` is LangChain's sum of its chunks, which is wrong for
 *   @langchain/google-genai's running `cache_read`; `handleLLMNewToken` tallies the chunks so
 *   the exact count can be recorded (`stream-usage.ts`).
 */
import type { Serialized } from '@langchain/core/load/serializable';
import type { BaseMessage } from '@langchain/core/messages';
import type { LLMResult } from '@langchain/core/outputs';
import { z } from 'zod';
import {
  BudgetExceededError,
  type BudgetHold,
  ConfigurationError,
  getTokenTracker,
  NO_HOLD,
  type TokenTracker,
  type UsageRecord,
} from '../index.js';
import { type Attribution, attributeRun } from './attribution.js';
import {
  type ContextSlot,
  installContextCapture,
  type NodeContext,
  takeContext,
} from './context.js';
import { type ChunkWriter, withFeedWriter } from './feed.js';
import { askBudgetApproval } from './interrupt.js';
import { BaseCallbackHandler } from './langchain.js';
import { StreamTally, settleUsage } from './stream-usage.js';

/** Options of `TokenTrackingCallbackHandler`. */
export interface TokenTrackingCallbackHandlerOptions {
  /** Where calls are recorded (default: `getTokenTracker()` when the handler is created). */
  tracker?: TokenTracker;
  /**
   * `hard`: refuse a model call once the budget is used up, or when its estimate (the messages,
   * the invocation's max output tokens, else the agent's running average output) does not fit
   * beside the spend and the calls in flight (throws `BudgetExceededError`; see
   * `tracker.reserve`); `warn`: never refuse. Default: the tracker's own `enforce`.
   */
  enforce?: 'warn' | 'hard';
  /** `throw` (default) rejects the run; `interrupt` pauses it for approval (needs a checkpointer). */
  onBudgetExceeded?: 'throw' | 'interrupt';
  /** Receives errors of recording (bad usage in strict mode); default `console.error`. */
  onError?: (error: unknown) => void;
}

interface RunInfo {
  model: string | undefined;
  attribution: Attribution;
  writer: ChunkWriter | undefined;
  startedAt: number;
  /** What the call's chunks said (see `stream-usage.ts`); made on the first chunk. */
  stream: StreamTally | undefined;
  /** What a hard budget holds for the call while it runs (see `tracker.reserve`). */
  hold: BudgetHold;
}

/** Writers remembered per thread, for calls whose own context had none. Bounded. */
const WRITER_MEMORY = 256;
/**
 * Calls in flight kept at most. A call refused by another handler after this one saw its start
 * never ends; the bound keeps such leftovers from growing without limit.
 */
const RUNS_IN_FLIGHT = 10_000;

const optionsSchema = z.object({
  enforce: z.enum(['warn', 'hard']).optional(),
  onBudgetExceeded: z.enum(['throw', 'interrupt']).optional(),
});

/**
 * A LangChain callback handler that records the `usage_metadata` of every chat model call
 * (Gemini, OpenAI, Anthropic, fakes) into a `TokenTracker`, attributed to the agent that made
 * it: the first segment of `checkpoint_ns` (the top-level node, which for prebuilt multi-agent
 * graphs is the agent's name), else `langgraph_node`. The call id is LangChain's run id, so a
 * call seen twice counts once. Streamed calls of ChatGoogleGenerativeAI get their exact cached
 * count, and raw Gemini usage is recorded wherever LangChain keeps it (see `settleUsage`).
 *
 * @example
 * const tracker = new TokenTracker({ budgetLimitUsd: 0.5, enforce: 'hard' });
 * const handler = new TokenTrackingCallbackHandler({ tracker });
 * await graph.invoke(input, { callbacks: [handler] });
 * console.log(tracker.getStatistics().byAgent);
 */
export class TokenTrackingCallbackHandler extends BaseCallbackHandler {
  name = 'TokenTrackingCallbackHandler';
  readonly tracker: TokenTracker;
  readonly enforce: 'warn' | 'hard' | undefined;
  readonly onBudgetExceeded: 'throw' | 'interrupt';
  /** Receives errors of recording (bad usage in strict mode). */
  readonly onError: (error: unknown) => void;
  private readonly runs: Map<string, RunInfo>;
  private readonly writers: Map<string, ChunkWriter>;
  private readonly slot: ContextSlot = { store: undefined };

  constructor(options: TokenTrackingCallbackHandlerOptions = {}) {
    super({ raiseError: true });
    const checked = optionsSchema.safeParse({
      enforce: options.enforce,
      onBudgetExceeded: options.onBudgetExceeded,
    });
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new ConfigurationError(
        `TokenTrackingCallbackHandler: invalid option ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`,
      );
    }
    this.tracker = options.tracker ?? getTokenTracker();
    this.enforce = options.enforce;
    this.onBudgetExceeded = options.onBudgetExceeded ?? 'throw';
    this.onError =
      options.onError ??
      ((error) => console.error('[tollgate] could not record an LLM call:', error));
    // LangChain's copy() calls `new constructor(this)`: copies share the calls in flight.
    if (options instanceof TokenTrackingCallbackHandler) {
      this.runs = options.runs;
      this.writers = options.writers;
    } else {
      this.runs = new Map();
      this.writers = new Map();
    }
    this.raiseError = true;
    ignoreUnhandledKinds(this);
    installContextCapture(this, this.slot);
  }

  override async handleChatModelStart(
    llm: Serialized,
    messages: BaseMessage[][],
    runId: string,
    _parentRunId?: string,
    extraParams?: Record<string, unknown>,
    _tags?: string[],
    metadata?: Record<string, unknown>,
  ): Promise<void> {
    this.start(takeContext(this.slot), llm, runId, extraParams, metadata, messages);
  }

  override async handleLLMStart(
    llm: Serialized,
    prompts: string[],
    runId: string,
    _parentRunId?: string,
    extraParams?: Record<string, unknown>,
    _tags?: string[],
    metadata?: Record<string, unknown>,
  ): Promise<void> {
    this.start(takeContext(this.slot), llm, runId, extraParams, metadata, prompts);
  }

  override async handleLLMEnd(output: LLMResult, runId: string): Promise<void> {
    const context = takeContext(this.slot);
    const run = this.runs.get(runId);
    this.runs.delete(runId);
    let record: UsageRecord | undefined;
    try {
      record = this.finish(output, runId, run, context);
    } catch (error) {
      // The call is made and paid for: a recording problem must not fail it.
      this.onError(error);
    } finally {
      // The record (already in the spend) replaces the estimate held for the call.
      run?.hold.settle(record);
    }
  }

  /**
   * Tallies each chunk in O(1): @langchain/google-genai sums a running cache count across
   * chunks, and the tally is what recovers the exact one (see `stream-usage.ts`).
   */
  override handleLLMNewToken(
    _token: string,
    _idx: unknown,
    runId: string,
    _parentRunId?: string,
    _tags?: string[],
    fields?: unknown,
  ): void {
    takeContext(this.slot);
    const run = this.runs.get(runId);
    if (run === undefined) return;
    try {
      run.stream ??= new StreamTally();
      run.stream.add(fields);
    } catch (error) {
      // A hostile chunk must not fail the stream (raiseError is on).
      this.onError(error);
    }
  }

  override async handleLLMError(_error: unknown, runId: string): Promise<void> {
    takeContext(this.slot);
    this.runs.get(runId)?.hold.release();
    this.runs.delete(runId);
  }

  private start(
    context: NodeContext | undefined,
    llm: Serialized,
    runId: string,
    extraParams: Record<string, unknown> | undefined,
    metadata: Record<string, unknown> | undefined,
    prompt: unknown,
  ): void {
    const attribution = attributeRun(metadata);
    const model = modelOf(extraParams, metadata, llm);
    // Refuse before anything is kept: a refused call has no end callback.
    const hold = this.guard(attribution.agent, context, model, extraParams, prompt);
    this.runs.set(runId, {
      model,
      attribution,
      writer: this.writerFor(context, attribution.threadId),
      startedAt: Date.now(),
      stream: undefined,
      hold,
    });
    if (this.runs.size > RUNS_IN_FLIGHT) {
      const oldest = this.runs.keys().next().value as string;
      this.runs.get(oldest)?.hold.release();
      this.runs.delete(oldest);
    }
  }

  /**
   * Refuses the call when the budget is used up, or, under a hard budget, when its estimate
   * (the messages, the invocation's max output tokens) does not fit beside the spend and the
   * calls in flight; returns the hold kept for it until it ends.
   */
  private guard(
    agent: string | undefined,
    context: NodeContext | undefined,
    model: string | undefined,
    extraParams: Record<string, unknown> | undefined,
    prompt: unknown,
  ): BudgetHold {
    const tracker = this.tracker;
    const enforce = this.enforce ?? tracker.enforce;
    if (enforce !== 'hard') return NO_HOLD;
    // An approval raises the limit and the call is checked again (a limit still too low for
    // its estimate asks again); a refusal, or a pause, throws.
    for (;;) {
      try {
        tracker.checkBudget(agent);
        if (tracker.budgetLimitUsd === undefined) return NO_HOLD;
        return tracker.reserve({
          model: model ?? 'unknown',
          agent,
          prompt,
          maxOutputTokens: maxOutputTokensOf(extraParams),
          enforce,
        });
      } catch (error) {
        if (this.onBudgetExceeded !== 'interrupt' || !BudgetExceededError.isInstance(error)) {
          throw error;
        }
        askBudgetApproval(tracker, error, context);
      }
    }
  }

  /** The node's stream writer; when the capture has none, the thread's last known writer. */
  private writerFor(context: NodeContext | undefined, threadId: string | undefined) {
    const config = context?.config;
    const writer = (config?.writer ?? config?.configurable?.writer) as ChunkWriter | undefined;
    const key = threadId ?? '';
    if (typeof writer === 'function') {
      if (this.writers.get(key) !== writer) {
        this.writers.delete(key);
        this.writers.set(key, writer);
        if (this.writers.size > WRITER_MEMORY) {
          this.writers.delete(this.writers.keys().next().value as string);
        }
      }
      return writer;
    }
    return this.writers.get(key);
  }

  private finish(
    output: LLMResult,
    runId: string,
    run: RunInfo | undefined,
    context: NodeContext | undefined,
  ): UsageRecord | undefined {
    const generation = output.generations[0]?.[0] as
      | { message?: { response_metadata?: Record<string, unknown> } }
      | undefined;
    const message = generation?.message;
    const { usage, format } = settleUsage(output, run?.stream);
    const attribution = run?.attribution ?? attributeRun(undefined);
    const model =
      run?.model ??
      text(message?.response_metadata?.model_name) ??
      text(message?.response_metadata?.model) ??
      'unknown';
    const writer = run?.writer ?? this.writerFor(context, attribution.threadId);
    return withFeedWriter(writer, () =>
      this.tracker.record({
        agent: attribution.agent,
        node: attribution.node,
        model,
        usage,
        usageFormat: format,
        callId: runId,
        threadId: attribution.threadId,
        userId: attribution.userId,
        // A plain property, not a conditional spread: this runs on every model call.
        metadata: attribution.checkpointNs ? { checkpointNs: attribution.checkpointNs } : undefined,
        timestamp: run?.startedAt ?? Date.now(),
      }),
    );
  }
}

/**
 * LangChain hands every event of every runnable to every handler: for each one it reads
 * `awaitHandlers` and runs the callback in a promise of its own inside an AsyncLocalStorage
 * run, unless the handler ignores that kind of event (checked first for starts). A graph runs
 * many chains per model call, so a handler that only records model calls ignores the kinds it
 * has no method for. Checked per method, so a subclass that adds one still receives its kind.
 */
function ignoreUnhandledKinds(handler: InstanceType<typeof BaseCallbackHandler>): void {
  const has = (...names: string[]) =>
    names.some(
      (name) => typeof (handler as unknown as Record<string, unknown>)[name] === 'function',
    );
  if (!has('handleChainStart', 'handleChainEnd', 'handleChainError')) handler.ignoreChain = true;
  if (
    !has(
      'handleAgentAction',
      'handleAgentEnd',
      'handleToolStart',
      'handleToolEnd',
      'handleToolError',
    )
  ) {
    handler.ignoreAgent = true;
  }
  if (!has('handleRetrieverStart', 'handleRetrieverEnd', 'handleRetrieverError')) {
    handler.ignoreRetriever = true;
  }
  if (!has('handleCustomEvent')) handler.ignoreCustomEvent = true;
}

/** The model name: invocation params first (what was asked for), then LangSmith metadata. */
function modelOf(
  extraParams: Record<string, unknown> | undefined,
  metadata: Record<string, unknown> | undefined,
  llm: Serialized,
): string | undefined {
  const params = extraParams?.invocation_params as Record<string, unknown> | undefined;
  const kwargs = (llm as { kwargs?: Record<string, unknown> }).kwargs;
  return (
    text(params?.model) ??
    text(params?.model_name) ??
    text(params?.modelName) ??
    text(metadata?.ls_model_name) ??
    text(kwargs?.model) ??
    text(kwargs?.model_name)
  );
}

/**
 * The call's output cap from LangChain's invocation params: Gemini (`maxOutputTokens`, also in
 * `generationConfig`), OpenAI (`max_tokens`, `max_completion_tokens`), Anthropic (`max_tokens`).
 */
function maxOutputTokensOf(extraParams: Record<string, unknown> | undefined): number | undefined {
  const params = extraParams?.invocation_params as Record<string, unknown> | undefined;
  if (!params) return undefined;
  const config = params.generationConfig as Record<string, unknown> | undefined;
  for (const value of [
    params.maxOutputTokens,
    config?.maxOutputTokens,
    params.max_output_tokens,
    params.max_completion_tokens,
    params.max_tokens,
    params.maxTokens,
  ]) {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  }
  return undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
