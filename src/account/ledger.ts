import { ConfigurationError } from '../errors.js';
import { toLedgerRecord } from '../keep/record.js';
import type { Store } from '../keep/types.js';
import type { StoreErrorEvent } from '../react/events.js';
import type { UsageRecord } from './record.js';

export interface LedgerWriterOptions {
  /** Most time a record waits before it is written (default 250 ms). */
  flushIntervalMs?: number;
  /** Records per `append`; reaching it flushes at once (default 500). */
  flushBatchSize?: number;
  /** Most records waiting to be written (default 100,000); past it new records are dropped. */
  maxPendingRecords?: number;
}

/**
 * Writes a tracker's records to a store in batches, off the hot path. `push` only buffers (no
 * conversion, no I/O): a flush is scheduled when the batch is full or the interval passes.
 *
 * A failing store never reaches the caller. The failed batch goes back to the front of the
 * buffer, a `store_error` event is emitted, and the next flush retries it (appends are
 * idempotent by call id, so a retry never counts twice). The buffer is bounded by
 * `maxPendingRecords`: while it is full, new records are dropped from the ledger (not from the
 * tracker's statistics) and counted in `droppedRecords`, as OpenTelemetry's batch processor does.
 */
export class LedgerWriter {
  private pending: UsageRecord[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private immediate = false;
  private chain: Promise<boolean> = Promise.resolve(true);
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly maxPending: number;
  /** Records dropped because the buffer was full. */
  dropped = 0;

  constructor(
    readonly store: Store,
    private readonly sessionId: string,
    options: LedgerWriterOptions,
    private readonly onError: (event: StoreErrorEvent) => void,
  ) {
    this.intervalMs = positive(options.flushIntervalMs, 250, 'flushIntervalMs', false);
    this.batchSize = positive(options.flushBatchSize, 500, 'flushBatchSize');
    this.maxPending = positive(options.maxPendingRecords, 100_000, 'maxPendingRecords');
  }

  /** Records waiting to be written. */
  get pendingCount(): number {
    return this.pending.length;
  }

  push(record: UsageRecord): void {
    const pending = this.pending;
    if (pending.length >= this.maxPending) {
      this.dropped += 1;
      return;
    }
    pending.push(record);
    if (pending.length >= this.batchSize) {
      if (this.immediate) return;
      // Not inline: a synchronous store would make this record() wait for a whole commit.
      this.immediate = true;
      setImmediate(() => {
        this.immediate = false;
        void this.flush();
      });
    } else if (this.timer === undefined) {
      this.arm();
    }
  }

  /** Writes everything buffered; resolves true when nothing is left, false after a store error. */
  flush(): Promise<boolean> {
    this.chain = this.chain.then(() => this.drain());
    return this.chain;
  }

  /** Flushes and stops the timer (a later record re-arms it). */
  async close(): Promise<boolean> {
    const ok = await this.flush();
    this.disarm();
    return ok;
  }

  private async drain(): Promise<boolean> {
    this.disarm();
    while (this.pending.length) {
      const batch = this.pending.splice(0, this.batchSize);
      try {
        await this.store.append(batch.map((r) => toLedgerRecord(r, this.sessionId)));
      } catch (error) {
        this.pending = batch.concat(this.pending);
        this.onError({
          type: 'store_error',
          store: this.store.name,
          operation: 'append',
          error,
          pendingRecords: this.pending.length,
          droppedRecords: this.dropped,
        });
        this.arm();
        return false;
      }
    }
    return true;
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.intervalMs);
    // A pending flush must not keep the process alive; `close()` is how to be sure of it.
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function positive(value: number | undefined, fallback: number, name: string, infinite = true) {
  if (value === undefined) return fallback;
  const whole = Number.isInteger(value) || (infinite && value === Number.POSITIVE_INFINITY);
  if (!(typeof value === 'number' && value > 0 && whole)) {
    throw new ConfigurationError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}
