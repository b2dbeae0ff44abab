import { EventEmitter } from 'eventemitter3';

// biome-ignore lint/suspicious/noExplicitAny: each event has its own listener parameters
type Listener = (...args: any[]) => unknown;

/** Called with any error a listener throws or rejects with. */
export type ListenerErrorHandler = (error: unknown, event: string) => void;

/** The default `onListenerError` of trackers, budget managers and rate limiters: log, go on. */
export const logListenerError: ListenerErrorHandler = (error, event) =>
  console.error(`[tollgate] a "${event}" listener failed:`, error);

/**
 * A typed eventemitter3 whose listeners can never break the emitter's caller: a listener that
 * throws, or returns a promise that rejects, is reported to `onError` and the other listeners
 * still run. Tracking sits on every LLM call, so a bug in a user's listener must not fail the call.
 */
export class SafeEmitter<Events extends { [E in keyof Events]: Listener }> {
  private readonly emitter = new EventEmitter();
  private readonly wrappers = new Map<Listener, { event: string; wrapped: Listener }[]>();

  constructor(private readonly onError: ListenerErrorHandler = logListenerError) {}

  on<E extends keyof Events & string>(event: E, listener: Events[E]): this {
    this.emitter.on(event, this.wrap(event, listener, false));
    return this;
  }

  once<E extends keyof Events & string>(event: E, listener: Events[E]): this {
    this.emitter.once(event, this.wrap(event, listener, true));
    return this;
  }

  off<E extends keyof Events & string>(event: E, listener?: Events[E]): this {
    if (!listener) {
      this.emitter.removeAllListeners(event);
      return this;
    }
    const entry = this.wrappers.get(listener)?.find((candidate) => candidate.event === event);
    if (entry) {
      this.emitter.off(event, entry.wrapped);
      this.forget(listener, entry.wrapped);
    }
    return this;
  }

  /** True when anyone listens: lets the caller skip building a payload nobody reads. */
  has(event: keyof Events & string): boolean {
    return this.emitter.listenerCount(event) > 0;
  }

  emit<E extends keyof Events & string>(event: E, ...args: Parameters<Events[E]>): void {
    this.emitter.emit(event, ...args);
  }

  removeAll(): void {
    this.emitter.removeAllListeners();
    this.wrappers.clear();
  }

  private wrap(event: string, listener: Listener, once: boolean): Listener {
    const onError = this.onError;
    const wrapped = (...args: unknown[]) => {
      if (once) this.forget(listener, wrapped);
      try {
        const result = listener(...args);
        if (result && typeof (result as Promise<unknown>).then === 'function') {
          (result as Promise<unknown>).then(undefined, (error: unknown) => onError(error, event));
        }
      } catch (error) {
        onError(error, event);
      }
    };
    const list = this.wrappers.get(listener);
    if (list) list.push({ event, wrapped });
    else this.wrappers.set(listener, [{ event, wrapped }]);
    return wrapped;
  }

  private forget(listener: Listener, wrapped: Listener): void {
    const list = this.wrappers.get(listener);
    if (!list) return;
    const index = list.findIndex((entry) => entry.wrapped === wrapped);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) this.wrappers.delete(listener);
  }
}
