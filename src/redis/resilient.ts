/**
 * A store that survives its shared store going away. Pairs a primary (Redis, shared by every
 * process) with a local ledger (SQLite, or memory in tests):
 *
 * - every append lands in the local ledger first, then in the primary;
 * - while the primary is unreachable, appends, settles and releases queue up in order, and are
 *   replayed when it answers again (probed every `retryIntervalMs`). Replay is idempotent by
 *   call id: the primary skips call ids it already holds and settles each call once;
 * - a reserve fails open (allowed, marked `degraded: true`, a `fail_open` event) or closed
 *   (`StoreUnavailableError`), as `failMode` says; rate limits fall back to the local store
 *   when it has them (or pass, when it does not) or fail closed likewise;
 * - reads (`query`, `summarize`) come from the local ledger, which holds everything.
 *
 * The replay queue lives in memory, and with `journalPath` in a file too: a process that stops
 * while the primary is down leaves its queued operations there, and the next process with the
 * same `journalPath` replays them. Without a journal its records are still in the local ledger,
 * and `resync({ from })` in the next process re-appends them (but not its settles).
 */
import { ConfigurationError } from '../errors.js';
import type {
  BudgetCounter,
  CounterState,
  LedgerRecord,
  QueryOptions,
  QueryPage,
  RateRequest,
  RateResult,
  RatesResult,
  ReserveRequest,
  ReserveResult,
  Store,
  StoreCapabilities,
  SummaryOptions,
  SummaryRow,
} from '../keep/types.js';
import { StoreUnavailableError } from './errors.js';
import { type Pending, ReplayJournal } from './journal.js';

/**
 * Options of `createResilientStore`: Redis as primary, a local ledger behind it, what to do while Redis is down, and an optional journal file for the replay queue.
 *
 * @example
 * createResilientStore({ primary: redis, local: sqlite, failMode: 'open', journalPath: 'outputs/replay.jsonl' });
 */
export interface ResilientStoreOptions {
  /** The shared store (a `RedisStore`). */
  primary: Store;
  /** The local ledger every record also lands in (a SQLite store; `MemoryStore` in tests). */
  local: Store;
  /** While the primary is down: `open` (default) allows calls, `closed` refuses them. */
  failMode?: 'open' | 'closed';
  /** How often to probe the primary and replay while it is down (default 5,000 ms). */
  retryIntervalMs?: number;
  /** Most records and budget operations queued for replay (default 100,000; oldest dropped). */
  maxPending?: number;
  /** Which errors mean "primary unavailable" (default: `StoreUnavailableError`). */
  isUnavailable?: (error: unknown) => boolean;
  /** Outage, recovery and fail-open notices; a throwing listener is ignored. */
  onEvent?: (event: ResilientEvent) => void;
  /**
   * A file that keeps the replay queue across a restart (one JSON line per queued operation,
   * cleared once replayed). A store opened on a file with operations in it replays them at
   * once. Give each process its own file (e.g. with a worker id in the name).
   */
  journalPath?: string;
}

/** Events of a ResilientStore: degraded and recovered, replays, a loaded journal. */
export type ResilientEvent =
  | { type: 'unavailable'; operation: string; error: unknown }
  | { type: 'recovered'; replayed: number; downMs: number }
  | {
      type: 'fail_open';
      operation: 'reserve' | 'consumeRate' | 'consumeRates';
      callId?: string;
      key?: string;
      /** consumeRates: the keys asked for. */
      keys?: string[];
    }
  | { type: 'replay_error'; operation: string; error: unknown }
  | { type: 'replay_dropped'; dropped: number }
  /** What a previous process left in the journal, now queued; `invalid`: lines skipped. */
  | { type: 'journal_loaded'; operations: number; invalid: number };

/** A reserve answer; `degraded` marks one allowed without the primary (fail-open). */
export type ResilientReserveResult = ReserveResult & { degraded?: boolean };

type Method<K extends keyof Store> = NonNullable<Store[K]>;

/**
 * Wraps a primary and a local store; see the module comment for the behaviour.
 *
 * @example
 * const store = createResilientStore({
 *   primary: await createRedisStore({ url: process.env.REDIS_URL, waitForConnection: false }),
 *   local: createSqliteStore(),
 *   failMode: 'open',
 *   onEvent: (e) => console.warn('[tollgate]', e.type),
 * });
 */
export class ResilientStore implements Store {
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  readonly failMode: 'open' | 'closed';
  private readonly primary: Store;
  private readonly local: Store;
  private readonly retryIntervalMs: number;
  private readonly maxPending: number;
  private readonly unavailable: (error: unknown) => boolean;
  private readonly onEvent: (event: ResilientEvent) => void;
  private readonly journal: ReplayJournal | undefined;

  private queue: Pending[] = [];
  private queued = 0;
  private replayed = 0;
  private downSince: number | undefined;
  private lastError: unknown;
  private draining: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: ResilientStoreOptions) {
    const { primary, local } = options;
    if (!primary || !local)
      throw new ConfigurationError('createResilientStore needs primary and local');
    this.primary = primary;
    this.local = local;
    this.name = `resilient(${primary.name}+${local.name})`;
    this.capabilities = {
      ...primary.capabilities,
      persistent: primary.capabilities.persistent || local.capabilities.persistent,
    };
    this.failMode = options.failMode ?? 'open';
    if (this.failMode !== 'open' && this.failMode !== 'closed') {
      throw new ConfigurationError(
        `failMode must be 'open' or 'closed', got ${String(this.failMode)}`,
      );
    }
    this.retryIntervalMs = options.retryIntervalMs ?? 5_000;
    this.maxPending = options.maxPending ?? 100_000;
    if (!(this.retryIntervalMs > 0) || !(this.maxPending > 0)) {
      throw new ConfigurationError('retryIntervalMs and maxPending must be positive');
    }
    this.unavailable = options.isUnavailable ?? StoreUnavailableError.isInstance;
    if (typeof primary.consumeRates === 'function') {
      this.consumeRates = (requests) => this.consumeAll(requests);
    }
    const listener = options.onEvent;
    this.onEvent = (event) => {
      try {
        listener?.(event);
      } catch {
        // A listener never breaks tracking.
      }
    };
    if (options.journalPath !== undefined) {
      if (typeof options.journalPath !== 'string' || options.journalPath === '') {
        throw new ConfigurationError('journalPath must be a non-empty path');
      }
      this.journal = new ReplayJournal(options.journalPath);
      this.resumeJournal(this.journal);
    }
  }

  /** Queues what a previous process left in the journal, and replays it at once. */
  private resumeJournal(journal: ReplayJournal): void {
    const { operations, invalid } = journal.load();
    if (operations.length === 0 && invalid === 0) return;
    for (const pending of operations) this.enqueue(pending, false);
    journal.rewrite(this.queue); // without the invalid lines, and within maxPending
    this.onEvent({ type: 'journal_loaded', operations: operations.length, invalid });
    if (this.queue.length === 0) return;
    this.retryUntilDrained();
    void this.drain();
  }

  /** False from a failed primary operation until the replay after it has finished. */
  get available(): boolean {
    return this.downSince === undefined;
  }

  /** Records and budget operations waiting to be replayed to the primary. */
  get pending(): number {
    return this.queued;
  }

  /** Appends to the local ledger (its count is returned), then to the primary or the queue. */
  async append(records: readonly LedgerRecord[]): Promise<number> {
    const added = await this.local.append(records);
    if (records.length > 0) await this.write({ op: 'append', records: [...records] });
    return added;
  }

  /** Records from the local ledger, which holds every record (see `Store.query`). */
  query(options?: QueryOptions): Promise<QueryPage> {
    return this.local.query(options);
  }

  /** Totals from the local ledger (see `Store.summarize`). */
  summarize(options: SummaryOptions): Promise<SummaryRow[]> {
    return this.local.summarize(options);
  }

  async reserve(request: ReserveRequest): Promise<ResilientReserveResult> {
    const reserve = this.method('reserve');
    return this.primaryOr(
      () => reserve(request),
      { type: 'fail_open', operation: 'reserve', callId: request.callId },
      () => ({ ok: true, degraded: true }),
    );
  }

  async settle(callId: string, actualFemto: bigint, counters: BudgetCounter[], now: number) {
    this.method('settle');
    await this.write({ op: 'settle', callId, actualFemto, counters, now });
  }

  async release(callId: string, now: number): Promise<void> {
    this.method('release');
    await this.write({ op: 'release', callId, now });
  }

  /** The primary's counters; while it is down there is no honest answer, so this throws. */
  async counters(keys: readonly string[], now: number): Promise<CounterState[]> {
    const counters = this.method('counters');
    if (!this.available) {
      throw this.outage('counters');
    }
    try {
      return await counters(keys, now);
    } catch (error) {
      this.failed('counters', error);
      throw this.outage('counters');
    }
  }

  async consumeRate(request: RateRequest): Promise<RateResult> {
    const consume = this.method('consumeRate');
    return this.primaryOr(
      () => consume(request),
      { type: 'fail_open', operation: 'consumeRate', key: request.key },
      // Per-process limits are better than none while the shared ones are out of reach.
      () =>
        this.local.consumeRate
          ? this.local.consumeRate(request)
          : { ok: true, remaining: request.limit },
    );
  }

  /**
   * All or nothing on the primary; during an outage, on the local store (all or nothing there
   * too when it has `consumeRates`) or refused, as for `consumeRate`. Present only when the
   * primary has `consumeRates`, so callers of a primary without it keep their fallback.
   */
  readonly consumeRates?: (requests: readonly RateRequest[]) => Promise<RatesResult>;

  private async consumeAll(requests: readonly RateRequest[]): Promise<RatesResult> {
    const consume = this.method('consumeRates');
    return this.primaryOr(
      () => consume(requests),
      { type: 'fail_open', operation: 'consumeRates', keys: requests.map((r) => r.key) },
      () => this.consumeLocally(requests),
    );
  }

  /** `consumeRates` on the local store during an outage. */
  private async consumeLocally(requests: readonly RateRequest[]): Promise<RatesResult> {
    const { local } = this;
    if (local.consumeRates) return local.consumeRates(requests);
    // A local store with only consumeRate: one by one (not atomic), better than no limits.
    const remaining: number[] = [];
    for (const [index, request] of requests.entries()) {
      if (!local.consumeRate) {
        remaining.push(request.limit);
        continue;
      }
      const result = await local.consumeRate(request);
      if (!result.ok) return { ok: false, retryAfterMs: result.retryAfterMs, index };
      remaining.push(result.remaining);
    }
    return { ok: true, remaining };
  }

  /** Alerts fall back to the local store in both modes: then once per process, not overall. */
  async markAlert(key: string, threshold: number, expiresAt: number): Promise<boolean> {
    const mark = this.method('markAlert');
    if (this.available) {
      try {
        return await mark(key, threshold, expiresAt);
      } catch (error) {
        this.failed('markAlert', error);
      }
    }
    return this.local.markAlert ? this.local.markAlert(key, threshold, expiresAt) : false;
  }

  /**
   * Probes the primary and replays everything queued now. Resolves true when the primary is
   * available and nothing is left to replay.
   */
  async replay(): Promise<boolean> {
    // A replay already under way may have started before the primary came back: wait for it,
    // then try once more.
    if (this.draining) await this.draining;
    await this.drain();
    return this.available && this.queue.length === 0;
  }

  /**
   * Re-appends the local ledger's records timestamped in `[from, to)` to the primary, 10,000 at
   * a time, and says how many the primary lacked. For a process that stopped while the primary
   * was down: its replay queue was in memory, its records are in the local ledger. Idempotent
   * (the primary skips call ids it already holds), so a window wider than the outage is safe;
   * keep it within the primary's record retention (Redis: `recordTtlMs`, 24 h by default),
   * past which a record would come back into aggregates that have expired. Ledger records
   * only: budget counters are not changed (a hold whose settle was lost frees itself at its
   * `holdUntil`). An unreachable primary rejects (`StoreUnavailableError`): call it again later.
   *
   * @example
   * // at start-up, after an unclean stop during an outage
   * const { appended } = await store.resync({ from: Date.now() - 6 * 3_600_000 });
   */
  async resync(window: {
    from: number;
    to?: number;
  }): Promise<{ scanned: number; appended: number }> {
    const { from, to } = window ?? {};
    if (!Number.isFinite(from) || (to !== undefined && !(Number.isFinite(to) && to > from))) {
      throw new ConfigurationError(
        `resync needs { from, to? } in epoch ms with to > from, got ${JSON.stringify(window)}`,
      );
    }
    let scanned = 0;
    let appended = 0;
    let cursor: string | undefined;
    do {
      const page = await this.local.query({
        from,
        ...(to !== undefined && { to }),
        limit: 10_000,
        ...(cursor !== undefined && { cursor }),
      });
      if (page.records.length > 0) {
        appended += await this.primary.append(page.records);
        scanned += page.records.length;
      }
      cursor = page.nextCursor;
    } while (cursor);
    return { scanned, appended };
  }

  /**
   * Replays what it can (when the primary is up), then closes both stores. What is still queued
   * is dropped (a `replay_dropped` event), or kept in the journal for the next process.
   */
  async close(): Promise<void> {
    this.stopTimer();
    if (this.available && this.queue.length > 0) await this.drain();
    if (this.queued > 0 && !this.journal) {
      this.onEvent({ type: 'replay_dropped', dropped: this.queued });
    }
    await Promise.allSettled([this.primary.close(), this.local.close()]);
  }

  /** Sends a write to the primary, or queues it behind earlier ones while it is down. */
  private async write(pending: Pending): Promise<void> {
    if (this.available && this.queue.length === 0) {
      try {
        await this.apply(pending);
        return;
      } catch (error) {
        // Records are safe in the local ledger: a primary that rejects them is only reported.
        if (!this.unavailable(error)) {
          if (pending.op !== 'append') throw error;
          this.onEvent({ type: 'replay_error', operation: pending.op, error });
          return;
        }
        this.failed(pending.op, error);
      }
    }
    this.enqueue(pending);
  }

  private apply(pending: Pending): Promise<unknown> {
    switch (pending.op) {
      case 'append':
        return this.primary.append(pending.records);
      case 'settle':
        return this.method('settle')(
          pending.callId,
          pending.actualFemto,
          pending.counters,
          pending.now,
        );
      case 'release':
        return this.method('release')(pending.callId, pending.now);
    }
  }

  private enqueue(pending: Pending, journal = true): void {
    this.queue.push(pending);
    this.queued += size(pending);
    let dropped = 0;
    while (this.queued > this.maxPending && this.queue.length > 1) {
      const oldest = this.queue.shift() as Pending;
      this.queued -= size(oldest);
      dropped += size(oldest);
    }
    if (dropped > 0) this.onEvent({ type: 'replay_dropped', dropped });
    if (journal && this.journal) {
      try {
        if (dropped > 0) this.journal.rewrite(this.queue);
        else this.journal.add(pending);
      } catch (error) {
        // Still queued in memory; only a restart before the replay would lose it.
        this.onEvent({ type: 'replay_error', operation: 'journal', error });
      }
    }
  }

  /** One replay at a time; never rejects (the timer calls it unattended). */
  private drain(): Promise<void> {
    this.draining ??= this.replayQueue()
      .catch((error: unknown) => {
        this.lastError = error;
        if (!this.unavailable(error))
          this.onEvent({ type: 'replay_error', operation: 'probe', error });
      })
      .finally(() => {
        this.draining = undefined;
      });
    return this.draining;
  }

  /** Replays the queue in order; on the first outage error it stops and waits for the timer. */
  private async replayQueue(): Promise<void> {
    if (this.queue.length === 0 && !this.available) await this.probe();
    while (this.queue.length > 0) {
      const next = this.takeBatch();
      try {
        await this.apply(next);
      } catch (error) {
        if (this.unavailable(error)) {
          this.queue.unshift(next); // put back whole, in order
          throw error;
        }
        this.onEvent({ type: 'replay_error', operation: next.op, error });
      }
      this.queued -= size(next);
      this.replayed += size(next);
    }
    this.clearJournal();
    if (this.downSince !== undefined) {
      const downMs = Date.now() - this.downSince;
      const replayed = this.replayed;
      this.downSince = undefined;
      this.replayed = 0;
      this.stopTimer();
      this.onEvent({ type: 'recovered', replayed, downMs });
    }
  }

  /** The next queued operation; consecutive appends merge into one batch of ≤ 1,000 records. */
  private takeBatch(): Pending {
    const first = this.queue.shift() as Pending;
    if (first.op !== 'append') return first;
    const records = [...first.records];
    while (this.queue[0]?.op === 'append' && records.length < 1_000) {
      const next = this.queue.shift() as Extract<Pending, { op: 'append' }>;
      records.push(...next.records);
    }
    return { op: 'append', records };
  }

  private async probe(): Promise<void> {
    const ping = (this.primary as { ping?: () => Promise<void> }).ping;
    if (typeof ping === 'function') await ping.call(this.primary);
    else await this.primary.query({ limit: 1 });
  }

  /**
   * The primary's answer while it is up; when it is down or fails: refused (`fail-closed`,
   * `StoreUnavailableError`) or `fallback()` after a `fail_open` event.
   */
  private async primaryOr<T>(
    call: () => Promise<T>,
    failOpen: Extract<ResilientEvent, { type: 'fail_open' }>,
    fallback: () => T | Promise<T>,
  ): Promise<T> {
    if (this.available) {
      try {
        return await call();
      } catch (error) {
        this.failed(failOpen.operation, error);
      }
    }
    if (this.failMode === 'closed') throw this.outage(failOpen.operation);
    this.onEvent(failOpen);
    return fallback();
  }

  private failed(operation: string, error: unknown): void {
    if (!this.unavailable(error)) throw error;
    this.lastError = error;
    if (this.downSince !== undefined) return;
    this.retryUntilDrained();
    this.onEvent({ type: 'unavailable', operation, error });
  }

  /** Marks the primary as not to be used directly and probes it until the queue has drained. */
  private retryUntilDrained(): void {
    this.downSince = Date.now();
    this.timer = setInterval(() => void this.drain(), this.retryIntervalMs);
    this.timer.unref();
  }

  /** The queue has drained: the journal has nothing left to keep. */
  private clearJournal(): void {
    if (!this.journal) return;
    try {
      this.journal.clear();
    } catch (error) {
      // A stale journal is replayed again by the next process: harmless, and reported.
      this.onEvent({ type: 'replay_error', operation: 'journal', error });
    }
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private outage(operation: string): StoreUnavailableError {
    return new StoreUnavailableError(this.primary.name, operation, { cause: this.lastError });
  }

  /** The primary's optional method, bound, or a ConfigurationError when it lacks it. */
  private method<
    K extends
      | 'reserve'
      | 'settle'
      | 'release'
      | 'counters'
      | 'consumeRate'
      | 'consumeRates'
      | 'markAlert',
  >(name: K): Method<K> {
    const method = this.primary[name];
    if (typeof method !== 'function') {
      throw new ConfigurationError(`the primary store "${this.primary.name}" has no ${name}()`);
    }
    return method.bind(this.primary) as Method<K>;
  }
}

function size(pending: Pending): number {
  return pending.op === 'append' ? pending.records.length : 1;
}

/** Creates a `ResilientStore`; see its documentation. */
export function createResilientStore(options: ResilientStoreOptions): ResilientStore {
  return new ResilientStore(options);
}
