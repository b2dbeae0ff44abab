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
 */
import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import type { Serialized } from '@langchain/core/load/serializable';
import type { BaseMessage } from '@langchain/core/messages';
import type { LLMResult } from '@langchain/core/outputs';
import { z } from 'zod';
import {
  BudgetExceededError,
  ConfigurationError,
  getTokenTracker,
  type TokenTracker,
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

/** Options of `TokenTrackingCallbackHandler`. */
export interface TokenTrackingCallbackHandlerOptions {
  /** Where calls are recorded (default: `getTokenTracker()` when the handler is created). */
  tracker?: TokenTracker;
  /**
   * `hard`: refuse a model call once the budget is spent (throws `BudgetExceededError`);
   * `warn`: never refuse. Default: the tracker's own `enforce`.
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
 * call seen twice counts once.
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
  private readonly slot: ContextSlot = { captured: undefined };

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
    installContextCapture(this, this.slot);
  }

  override async handleChatModelStart(
    llm: Serialized,
    _messages: BaseMessage[][],
    runId: string,
    _parentRunId?: string,
    extraParams?: Record<string, unknown>,
    _tags?: string[],
    metadata?: Record<string, unknown>,
  ): Promise<void> {
    this.start(takeContext(this.slot), llm, runId, extraParams, metadata);
  }

  override async handleLLMStart(
    llm: Serialized,
    _prompts: string[],
    runId: string,
    _parentRunId?: string,
    extraParams?: Record<string, unknown>,
    _tags?: string[],
    metadata?: Record<string, unknown>,
  ): Promise<void> {
    this.start(takeContext(this.slot), llm, runId, extraParams, metadata);
  }

  override async handleLLMEnd(output: LLMResult, runId: string): Promise<void> {
    const context = takeContext(this.slot);
    const run = this.runs.get(runId);
    this.runs.delete(runId);
    try {
      this.finish(output, runId, run, context);
    } catch (error) {
      // The call is made and paid for: a recording problem must not fail it.
      this.onError(error);
    }
  }

  override async handleLLMError(_error: unknown, runId: string): Promise<void> {
    takeContext(this.slot);
    this.runs.delete(runId);
  }

  private start(
    context: NodeContext | undefined,
    llm: Serialized,
    runId: string,
    extraParams: Record<string, unknown> | undefined,
    metadata: Record<string, unknown> | undefined,
  ): void {
    const attribution = attributeRun(metadata);
    // Refuse before anything is kept: a refused call has no end callback.
    this.guard(attribution.agent, context);
    this.runs.set(runId, {
      model: modelOf(extraParams, metadata, llm),
      attribution,
      writer: this.writerFor(context, attribution.threadId),
      startedAt: Date.now(),
    });
    if (this.runs.size > RUNS_IN_FLIGHT) {
      this.runs.delete(this.runs.keys().next().value as string);
    }
  }

  private guard(agent: string | undefined, context: NodeContext | undefined): void {
    try {
      if (this.enforce === 'hard') this.tracker.checkBudget(agent);
      else if (this.enforce === undefined) this.tracker.guard(agent);
    } catch (error) {
      if (this.onBudgetExceeded !== 'interrupt' || !BudgetExceededError.isInstance(error)) {
        throw error;
      }
      askBudgetApproval(this.tracker, error, context);
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
  ): void {
    const generation = output.generations[0]?.[0] as
      | { message?: { usage_metadata?: unknown; response_metadata?: Record<string, unknown> } }
      | undefined;
    const message = generation?.message;
    const usage = message?.usage_metadata ?? usageFromLlmOutput(output.llmOutput);
    const attribution = run?.attribution ?? attributeRun(undefined);
    const model =
      run?.model ??
      text(message?.response_metadata?.model_name) ??
      text(message?.response_metadata?.model) ??
      'unknown';
    const writer = run?.writer ?? this.writerFor(context, attribution.threadId);
    withFeedWriter(writer, () =>
      this.tracker.record({
        agent: attribution.agent,
        node: attribution.node,
        model,
        usage: usage ?? {},
        usageFormat: 'langchain',
        callId: runId,
        threadId: attribution.threadId,
        userId: attribution.userId,
        ...(attribution.checkpointNs
          ? { metadata: { checkpointNs: attribution.checkpointNs } }
          : {}),
        timestamp: run?.startedAt ?? Date.now(),
      }),
    );
  }
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

/** LangChain's older `llmOutput.tokenUsage` (OpenAI style), as a `usage_metadata`. */
function usageFromLlmOutput(llmOutput: Record<string, unknown> | undefined) {
  const usage = (llmOutput?.tokenUsage ?? llmOutput?.estimatedTokenUsage) as
    | { promptTokens?: number; completionTokens?: number; totalTokens?: number }
    | undefined;
  if (!usage || typeof usage !== 'object') return undefined;
  return {
    input_tokens: usage.promptTokens,
    output_tokens: usage.completionTokens,
    total_tokens: usage.totalTokens,
  };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
