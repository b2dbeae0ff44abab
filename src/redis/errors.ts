import { TollgateError } from '../errors.js';

const MARKER = Symbol.for('tollgate.error.StoreUnavailableError');

/**
 * Thrown when a store cannot be reached (Redis down, connection lost, a command timed out).
 * `createResilientStore` catches it to fail open or closed; with `failMode: 'closed'` it is what
 * the caller sees instead of a budget decision.
 *
 * @example
 * try { await store.reserve(request); }
 * catch (error) { if (StoreUnavailableError.isInstance(error)) console.warn(error.store, 'down'); }
 */
export class StoreUnavailableError extends TollgateError {
  /** The store's name, e.g. `redis`. */
  readonly store: string;
  /** The operation that failed, e.g. `reserve`. */
  readonly operation: string;

  constructor(store: string, operation: string, options?: { cause?: unknown }) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`Store "${store}" is unavailable (${operation})${reason}`, options);
    this.name = 'StoreUnavailableError';
    this.store = store;
    this.operation = operation;
  }

  /** True for this error from any copy of tollgate (a `Symbol.for` marker, not `instanceof`). */
  static override isInstance(value: unknown): value is StoreUnavailableError {
    return typeof value === 'object' && value !== null && MARKER in value;
  }
}

Object.defineProperty(StoreUnavailableError.prototype, MARKER, { value: true });
