/**
 * `trackChatModel`: records a LangChain chat model's calls without a callback handler.
 *
 * Why not a handler: once any handler is attached to a graph, LangChain builds a callback
 * manager for every runnable the graph runs, about 190–210 µs a model call before the handler
 * does anything (DESIGN.md, "What tracking costs"). Wrapping the model costs only what tollgate
 * itself does.
 *
 * Where it intercepts (@langchain/core 1.x): the three methods every path of a chat model ends
 * in, `_generate` (invoke, batch, generate; also `stream` on a model without streaming),
 * `_streamResponseChunks` (stream, and invoke when a streaming handler is attached) and, when the
 * model has its own, `_streamChatModelEvents` (LangGraph's "messages" stream v2, `streamEvents`).
 * The wrapper is `Object.create(model)` with these three as own properties: `bindTools`,
 * `withConfig` and `withStructuredOutput` build their runnables around `this`, the wrapper, so
 * they stay tracked, and so do prebuilt agents that call `bindTools`. Every other read falls
 * through to the model (no Proxy trap on LangChain's many property reads), and `instanceof`
 * holds. An override is installed only where the model has its own method: LangChain compares
 * `this._streamResponseChunks` with the base class's to decide whether a model streams.
 */
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { UsageMetadata } from '@langchain/core/messages';
import { newCallId } from '../account/ids.js';
import { FRESH_CALL_ID, type RecordInput } from '../account/record.js';
import { trackerInConfigurable, trackerWithin } from '../account/tracker.js';
import { ConfigurationError, describe, TollgateError } from '../errors.js';
import type { TokenTracker } from '../index.js';
import { AGENT_METADATA_KEY, agentFromNamespace } from './attribution.js';
import {
  AsyncLocalStorageProviderSingleton,
  BaseChatModel as BaseChatModelClass,
  mergeUsageMetadata,
} from './langchain.js';
import { type SettledUsage, StreamTally, settleGeneration } from './stream-usage.js';

/** Options of `trackChatModel`; explicit values beat what the running graph says. */
export interface TrackChatModelOptions {
  /** Where calls are recorded. Default: `getTokenTracker()` at each call (sessions apply). */
  tracker?: TokenTracker;
  /** Default: the LangGraph agent running the call (first segment of `checkpoint_ns`), else the node, else `"unknown"`. */
  agent?: string;
  userId?: string;
  /** Added to every record's metadata. */
  metadata?: Record<string, unknown>;
}

type Generate = BaseChatModel['_generate'];
type StreamChunks = BaseChatModel['_streamResponseChunks'];
type StreamEvents = BaseChatModel['_streamChatModelEvents'];
type Options = Parameters<Generate>[1];
type RunManager = Parameters<Generate>[2];

/** The model behind each wrapper, so wrapping twice never records twice. */
const originals = new WeakMap<object, BaseChatModel>();
/**
 * Options objects of calls `_generate` is recording: a model whose `_generate` streams
 * internally (`ChatGoogleGenerativeAI` with `streaming: true`) passes the same object to
 * `_streamResponseChunks`, which must not record the call a second time.
 */
const generating = new WeakSet<object>();

/** Who made one call and where it goes, fixed when the call starts. */
interface OpenCall {
  tracker: TokenTracker;
  agent: string;
  node: string | undefined;
  threadId: string | undefined;
  checkpointNs: string | undefined;
  callId: string;
  fresh: boolean;
  startedAt: number;
}

/**
 * Wraps a LangChain chat model (any `BaseChatModel`: `ChatGoogleGenerativeAI`, `ChatOpenAI`,
 * `ChatAnthropic`, fakes) so that each of its calls is recorded once, with no callback handler:
 * `invoke`, `batch`, `stream` (usage settled from the chunks exactly as the callback handler
 * settles it: cached counts exact), and the runnables built from it
 * (`bindTools`, `withStructuredOutput`, `withConfig`, prebuilt agents such as `createReactAgent`).
 * Returns an object of the same class; the model itself is not changed.
 *
 * - Attribution: the running LangGraph node's agent (first segment of `checkpoint_ns`, else
 *   `langgraph_node`), node, thread and `checkpoint_ns`, read from `getConfig()` when the call
 *   starts; `"unknown"` outside a graph. `metadata.tollgate_agent` in the config names the agent.
 * - Hard budget: `tracker.guard(agent)` runs before each request; once the budget is spent the
 *   call rejects with `BudgetExceededError` and nothing is sent.
 * - Call ids: LangChain's run id when callbacks are attached (so a `TokenTrackingCallbackHandler`
 *   on the same calls does not count them twice), else a fresh id. The record's timestamp is
 *   the call's start.
 * - Wrapping a wrapped model wraps its original again with the new options: still one record a call.
 * - Tracking never breaks the caller: recording problems are reported to `console.error`, unless
 *   they are tollgate errors you opted into (strict usage or pricing).
 *
 * @example
 * const model = trackChatModel(new ChatGoogleGenerativeAI({ model: 'gemini-2.5-flash' }));
 * const agent = createReactAgent({ llm: model, tools: [search] });
 * await agent.invoke({ messages: [{ role: 'user', content: 'Hi' }] });
 * console.log(getTokenTracker().getStatistics().totalCostUsd);
 */
export function trackChatModel<T extends BaseChatModel>(
  model: T,
  options: TrackChatModelOptions = {},
): T {
  if (!isChatModel(model)) {
    throw new ConfigurationError(
      `trackChatModel: expected a LangChain chat model (a BaseChatModel instance such as ChatGoogleGenerativeAI), got ${describe(model)}`,
    );
  }
  checkOptions(options);
  const original = (originals.get(model) ?? model) as T;
  const tracked = Object.create(original) as T;
  const settings: TrackChatModelOptions = { ...options };
  const base = BaseChatModelClass.prototype;

  const generate = original._generate as Generate;
  // Only a model with a stream of its own can stream inside `_generate` (see `generating`).
  const streams = original._streamResponseChunks !== base._streamResponseChunks;
  const wrappedGenerate: Generate = function (
    this: BaseChatModel,
    messages,
    callOptions,
    runManager,
  ) {
    const call = openCall(settings, runManager);
    if (streams) generating.add(callOptions);
    let sent: ReturnType<Generate>;
    try {
      sent = generate.call(this, messages, callOptions, runManager);
    } catch (error) {
      if (streams) generating.delete(callOptions);
      return Promise.reject(error);
    }
    // One `.then`, no async function: this sits on every model call of a graph.
    return sent.then(
      (result) => {
        if (streams) generating.delete(callOptions);
        const generation = result.generations[0];
        const message = generation?.message as MessageLike | undefined;
        recordCall(
          settings,
          call,
          modelName(this, callOptions, message),
          settleGeneration(generation, result.llmOutput, undefined),
        );
        return result;
      },
      (error: unknown) => {
        if (streams) generating.delete(callOptions);
        throw error;
      },
    );
  };
  define(tracked, '_generate', wrappedGenerate);

  const streamChunks = original._streamResponseChunks as StreamChunks;
  if (streams) {
    const wrapped: StreamChunks = async function* (
      this: BaseChatModel,
      messages,
      callOptions,
      runManager,
    ) {
      if (generating.has(callOptions)) {
        yield* streamChunks.call(this, messages, callOptions, runManager);
        return;
      }
      const call = openCall(settings, runManager, (this as Scoped)[STREAM_CONFIG]);
      const fold = new StreamFold();
      yield* observed(
        streamChunks.call(this, messages, callOptions, runManager),
        (chunk) => fold.add(chunk),
        (outcome) =>
          recordStream(settings, call, modelName(this, callOptions, fold.last), fold, outcome),
      );
    };
    define(tracked, '_streamResponseChunks', wrapped);
    // `stream()` runs the generator outside the node's AsyncLocalStorage context (LangChain
    // iterates it under `runWithConfig(…, avoidCreatingRootRunTree)`, an empty store when no
    // callbacks are attached), so `getConfig()` is undefined there. The config `stream()` built
    // in the caller's context is the `options` of `_streamIterator`: it travels to the wrapped
    // `_streamResponseChunks` on a per-call `this`.
    const streamIterator = original._streamIterator;
    define(
      tracked,
      '_streamIterator',
      function (this: BaseChatModel, input: unknown, config: unknown) {
        const scoped = Object.create(this) as Scoped;
        scoped[STREAM_CONFIG] = config as NodeConfig | undefined;
        return (streamIterator as (i: unknown, c: unknown) => unknown).call(scoped, input, config);
      },
    );
  }

  const streamEvents = original._streamChatModelEvents as StreamEvents;
  if (streamEvents !== base._streamChatModelEvents) {
    const wrapped: StreamEvents = async function* (
      this: BaseChatModel,
      messages,
      callOptions,
      runManager,
    ) {
      const call = openCall(settings, runManager);
      const fold = new StreamFold();
      yield* observed(
        streamEvents.call(this, messages, callOptions, runManager),
        // `message-finish` carries the call's final usage (not a delta): it settles as a
        // unary call's does.
        (event) => {
          if (event.event === 'message-finish' && event.usage) fold.finish(event.usage);
        },
        (outcome) =>
          recordStream(settings, call, modelName(this, callOptions, undefined), fold, outcome),
      );
    };
    define(tracked, '_streamChatModelEvents', wrapped);
  }

  // Most models bind tools with `this.withConfig(...)`, a binding around the wrapper; some make
  // a new instance of their class (LangChain's own fakes do), which must be tracked as well.
  const bindTools = original.bindTools;
  if (typeof bindTools === 'function') {
    define(tracked, 'bindTools', function (this: BaseChatModel, ...args: unknown[]) {
      return keepTracked((bindTools as (...a: unknown[]) => unknown).apply(this, args), settings);
    });
  }

  originals.set(tracked, original);
  return tracked;
}

/** What `bindTools` returned, with any untracked chat model in it (or under it) wrapped. */
function keepTracked(result: unknown, settings: TrackChatModelOptions): unknown {
  if (isChatModel(result)) return originals.has(result) ? result : trackChatModel(result, settings);
  if (typeof result === 'object' && result !== null && 'bound' in result) {
    const binding = result as { bound: unknown };
    if (isChatModel(binding.bound) && !originals.has(binding.bound)) {
      binding.bound = trackChatModel(binding.bound, settings);
    }
  }
  return result;
}

/**
 * Passes a stream through, showing each item to `see`, and calls `end` once with how it ended:
 * `complete`, `failed` (the error still reaches the consumer) or `abandoned` (the consumer
 * stopped early).
 */
async function* observed<T>(
  source: AsyncIterable<T>,
  see: (item: T) => void,
  end: (outcome: 'complete' | 'failed' | 'abandoned') => void,
): AsyncGenerator<T> {
  let outcome: 'complete' | 'failed' | 'abandoned' = 'abandoned';
  try {
    for await (const item of source) {
      see(item);
      yield item;
    }
    outcome = 'complete';
  } catch (error) {
    outcome = 'failed';
    throw error;
  } finally {
    end(outcome);
  }
}

/** Own, non-enumerable: the wrapper's keys stay those of the model (serialization, spreads). */
function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, configurable: true, writable: true });
}

/** A chat model by shape, so a second copy of @langchain/core is accepted too. */
function isChatModel(value: unknown): value is BaseChatModel {
  if (typeof value !== 'object' || value === null) return false;
  const model = value as Record<string, unknown>;
  return (
    typeof model._generate === 'function' &&
    typeof model._streamResponseChunks === 'function' &&
    typeof model.generatePrompt === 'function' &&
    typeof model.invoke === 'function'
  );
}

function checkOptions(options: TrackChatModelOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError(
      `trackChatModel: options must be an object, got ${describe(options)}`,
    );
  }
  const { tracker, agent, userId, metadata } = options;
  const shape = tracker as { record?: unknown; guard?: unknown } | undefined;
  if (
    tracker !== undefined &&
    (typeof shape?.record !== 'function' || typeof shape?.guard !== 'function')
  ) {
    throw new ConfigurationError(
      `trackChatModel: tracker must be a TokenTracker, got ${describe(tracker)}`,
    );
  }
  for (const [key, value] of [
    ['agent', agent],
    ['userId', userId],
  ] as const) {
    if (value !== undefined && (typeof value !== 'string' || value === '')) {
      throw new ConfigurationError(
        `trackChatModel: ${key} must be a non-empty string, got ${describe(value)}`,
      );
    }
  }
  if (
    metadata !== undefined &&
    (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
  ) {
    throw new ConfigurationError(
      `trackChatModel: metadata must be an object, got ${describe(metadata)}`,
    );
  }
}

interface MessageLike {
  usage_metadata?: unknown;
  response_metadata?: Record<string, unknown>;
}

/** The config of a `stream()` call, on the per-call `this` of its generator. */
const STREAM_CONFIG = Symbol('tollgate.streamConfig');
type Scoped = BaseChatModel & { [STREAM_CONFIG]?: NodeConfig | undefined };

interface NodeConfig {
  metadata?: Record<string, unknown>;
  configurable?: Record<string, unknown>;
}

/**
 * Attribution and guard, when the call starts. The node's config is LangChain's
 * AsyncLocalStorage store here (a chat model's `invoke` does not replace it), so the node's
 * metadata holds even when the caller passed its own `metadata` to `invoke`; `checkpoint_ns`
 * and `thread_id` are also read from `configurable`, which LangGraph always sets.
 */
function openCall(
  settings: TrackChatModelOptions,
  runManager: RunManager,
  streamConfig?: NodeConfig,
): OpenCall {
  const config =
    streamConfig ??
    (AsyncLocalStorageProviderSingleton.getRunnableConfig() as NodeConfig | undefined);
  const metadata = config?.metadata;
  const configurable = config?.configurable;
  const node = text(metadata?.langgraph_node);
  const checkpointNs = text(configurable?.checkpoint_ns) ?? text(metadata?.checkpoint_ns);
  const agent =
    settings.agent ??
    text(metadata?.[AGENT_METADATA_KEY]) ??
    agentFromNamespace(checkpointNs) ??
    node ??
    'unknown';
  const tracker = settings.tracker ?? trackerWithin(trackerInConfigurable(configurable));
  // Refuse before anything is sent: a BudgetExceededError here rejects the call.
  tracker.guard(agent);
  const runId = runManager?.runId;
  return {
    tracker,
    agent,
    node,
    threadId: text(configurable?.thread_id) ?? text(metadata?.thread_id),
    checkpointNs,
    callId: runId ?? newCallId(),
    fresh: runId === undefined,
    startedAt: Date.now(),
  };
}

/**
 * The model name: the instance's (`model`, `modelName`: what was asked for), else LangChain's
 * tracing parameters, else what the response says.
 */
function modelName(model: BaseChatModel, options: Options, message: MessageLike | undefined) {
  const fields = model as unknown as { model?: unknown; modelName?: unknown };
  return (
    text(fields.model) ??
    text(fields.modelName) ??
    text(lsModelName(model, options)) ??
    text(message?.response_metadata?.model_name) ??
    text(message?.response_metadata?.model) ??
    'unknown'
  );
}

function lsModelName(model: BaseChatModel, options: Options): unknown {
  try {
    return model.getLsParams(options).ls_model_name;
  } catch {
    return undefined;
  }
}

/**
 * One stream's chunks, folded as LangChain's `AIMessageChunk.concat` folds them for the
 * callback handler (usage by `mergeUsageMetadata`: deltas summed, modality details summed), and
 * tallied by the handler's `StreamTally`, so the settled usage is the handler's: exact cache
 * counts where a provider repeats its running total on every chunk (@langchain/google-genai).
 */
class StreamFold {
  readonly tally = new StreamTally();
  /** The usage LangChain's concatenated message would carry. */
  usage: UsageMetadata | undefined = undefined;
  /** The last chunk's message (its model name, its provider tag). */
  last: MessageLike | undefined = undefined;
  /** A final usage snapshot (`message-finish`), which replaces the fold. */
  final: Partial<UsageMetadata> | undefined = undefined;

  add(chunk: { message: unknown }): void {
    this.tally.addChunk(chunk);
    // A chunk without a message (a misbehaving model) must not break the stream it passes.
    const message = (chunk.message ?? undefined) as MessageLike | undefined;
    this.last = message;
    const usage = message?.usage_metadata as UsageMetadata | undefined;
    // One chunk is the message itself; from two on, LangChain merges (even a missing usage).
    if (this.tally.chunks === 1) this.usage = usage;
    else if (this.usage !== undefined || usage !== undefined) {
      this.usage = mergeUsageMetadata(this.usage, usage);
    }
  }

  finish(usage: Partial<UsageMetadata>): void {
    this.final = usage;
  }

  /** Nothing to bill yet: no chunk carried usage. */
  get empty(): boolean {
    return this.final === undefined && this.usage === undefined && this.tally.raw === undefined;
  }

  settle(): SettledUsage {
    if (this.final !== undefined) {
      return settleGeneration({ message: { usage_metadata: this.final } }, undefined, undefined);
    }
    const message = { usage_metadata: this.usage, response_metadata: this.last?.response_metadata };
    return settleGeneration({ message }, undefined, this.tally);
  }
}

function recordStream(
  settings: TrackChatModelOptions,
  call: OpenCall,
  model: string,
  fold: StreamFold,
  outcome: string,
): void {
  // A stream that failed or was abandoned before any usage arrived has nothing to bill.
  if (outcome !== 'complete' && fold.empty) return;
  recordCall(settings, call, model, fold.settle(), { stream: outcome });
}

let reported = false;

function recordCall(
  settings: TrackChatModelOptions,
  call: OpenCall,
  model: string,
  settled: SettledUsage,
  extra?: Record<string, unknown>,
): void {
  let metadata: Record<string, unknown> | undefined;
  if (settings.metadata || extra || call.checkpointNs) {
    metadata = { ...settings.metadata, ...extra };
    if (call.checkpointNs) metadata.checkpointNs = call.checkpointNs;
  }
  const input: RecordInput & { [FRESH_CALL_ID]?: true } = {
    agent: call.agent,
    node: call.node,
    model,
    usage: settled.usage,
    usageFormat: settled.format,
    callId: call.callId,
    threadId: call.threadId,
    userId: settings.userId,
    metadata,
    timestamp: call.startedAt,
  };
  // An id minted here is recorded once: the tracker can skip its dedupe window.
  if (call.fresh) input[FRESH_CALL_ID] = true;
  try {
    call.tracker.record(input);
  } catch (error) {
    // The call is made and paid for: only errors the user opted into reach the caller.
    if (TollgateError.isInstance(error)) throw error;
    if (!reported) {
      reported = true;
      console.error(
        '[tollgate] could not record a chat model call (further failures are silent):',
        error,
      );
    }
  }
}

function text(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value !== '' ? value : undefined;
}
