/**
 * The node's LangChain context, captured for code that LangChain runs outside it.
 *
 * LangGraph keeps each node's config (its stream `writer`, checkpoint namespace, interrupt
 * scratchpad) in LangChain's AsyncLocalStorage. LangChain runs awaited callback handlers inside
 * `storage.run(undefined, …)`, so in `handleChatModelStart` / `handleLLMEnd` `getConfig()` is
 * undefined (verified with @langchain/core 1.4 and @langchain/langgraph 1.7). The one piece of
 * handler code LangChain evaluates in the caller's context is the read of `handler.awaitHandlers`,
 * synchronously just before it invokes the callback; `installContextCapture` turns that read
 * into a capture. The handler takes the capture at the very start of its callback, so nothing
 * else can run in between. When a LangChain version no longer reads the flag there, the capture
 * is simply absent: calls are still recorded, and feed chunks go to the fallback sink.
 */
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import {
  setContextTrackerLocator,
  type TokenTracker,
  trackerInConfigurable,
} from '../account/tracker.js';
import { AsyncLocalStorageProviderSingleton } from './langchain.js';

/** The node context a callback was fired from. */
export interface NodeContext {
  /** LangChain's raw AsyncLocalStorage store, to re-enter the node (for `interrupt()`). */
  readonly store: unknown;
  /** The node's config: `writer`, `configurable.checkpoint_ns`, …; undefined outside a graph. */
  readonly config: LangGraphRunnableConfig | undefined;
}

/**
 * Holds LangChain's store as of the last read of `awaitHandlers`, until taken. Only the store:
 * LangChain reads the flag for every event of every runnable (each chain's end, too), so the
 * read must cost next to nothing; the config is looked up when a model callback uses it.
 */
export interface ContextSlot {
  store: unknown;
}

/** A captured node context whose config is read on first use. */
class CapturedContext implements NodeContext {
  private read = false;
  private cached: LangGraphRunnableConfig | undefined;

  constructor(readonly store: unknown) {}

  get config(): LangGraphRunnableConfig | undefined {
    if (!this.read) {
      this.read = true;
      this.cached = runInNodeContext(
        this,
        () =>
          AsyncLocalStorageProviderSingleton.getRunnableConfig() as
            | LangGraphRunnableConfig
            | undefined,
      );
    }
    return this.cached;
  }
}

/**
 * Makes `target.awaitHandlers` always true and, on each read, captures the caller's context.
 * Must run after `super()`, which defines `awaitHandlers` as an own data property.
 */
export function installContextCapture(target: object, slot: ContextSlot): void {
  Object.defineProperty(target, 'awaitHandlers', {
    configurable: true,
    enumerable: true,
    get(): boolean {
      slot.store = AsyncLocalStorageProviderSingleton.getInstance().getStore();
      return true;
    },
    // BaseCallbackHandler assigns the flag in its constructor and in copy(); it stays true.
    set(_value: boolean) {},
  });
}

/** Returns the captured context and clears the slot. */
export function takeContext(slot: ContextSlot): NodeContext | undefined {
  const store = slot.store;
  if (store === undefined) return undefined;
  slot.store = undefined;
  return new CapturedContext(store);
}

/** Runs `fn` back inside the node, so `getConfig()` and `interrupt()` work there. */
export function runInNodeContext<T>(context: NodeContext, fn: () => T): T {
  return AsyncLocalStorageProviderSingleton.getInstance().run(context.store, fn);
}

/** The checkpoint namespace of the node running now (`getConfig()`), or undefined. */
export function currentNamespace(): string | undefined {
  return namespaceIn(
    AsyncLocalStorageProviderSingleton.getRunnableConfig() as LangGraphRunnableConfig | undefined,
  );
}

/** The checkpoint namespace of a node's config (undefined outside a graph). */
export function namespaceIn(config: LangGraphRunnableConfig | undefined): string | undefined {
  const ns: unknown = config?.configurable?.checkpoint_ns;
  return typeof ns === 'string' && ns !== '' ? ns : undefined;
}

/** The tracker `runWithTracking` put in the running graph's config, if any. */
export function configTracker(
  config: LangGraphRunnableConfig | undefined,
): TokenTracker | undefined {
  return trackerInConfigurable(config?.configurable);
}

// `getTokenTracker()` inside a node of a `runWithTracking` run returns that run's tracker.
setContextTrackerLocator(() =>
  configTracker(
    AsyncLocalStorageProviderSingleton.getRunnableConfig() as LangGraphRunnableConfig | undefined,
  ),
);
