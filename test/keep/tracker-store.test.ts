import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TokenTracker } from '../../src/account/tracker.js';
import { ConfigurationError } from '../../src/errors.js';
import type { LedgerRecord, QueryPage, Store } from '../../src/keep/types.js';
import type { StoreErrorEvent } from '../../src/react/events.js';

/** A store double that keeps appended batches and fails while `failing` is set. */
class RecordingStore implements Store {
  readonly name = 'recording';
  readonly capabilities = { budgets: false, rateLimits: false, alerts: false, persistent: false };
  readonly batches: LedgerRecord[][] = [];
  failing = 0;

  async append(records: readonly LedgerRecord[]): Promise<number> {
    if (this.failing > 0) {
      this.failing -= 1;
      throw new Error('disk full');
    }
    this.batches.push([...records]);
    return records.length;
  }
  async query(): Promise<QueryPage> {
    return { records: this.batches.flat() };
  }
  async summarize() {
    return [];
  }
  async close() {}

  get callIds(): string[] {
    return this.batches.flat().map((r) => r.callId);
  }
}

const usage = { promptTokenCount: 100, candidatesTokenCount: 20, totalTokenCount: 120 };
const record = (tracker: TokenTracker, callId: string) =>
  tracker.record({ agent: 'a', model: 'gemini-2.5-flash', usage, callId });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('TokenTracker with a store', () => {
  it('without a store, flush and close resolve at once', async () => {
    const tracker = new TokenTracker();
    expect(await tracker.flush()).toBe(true);
    expect(await tracker.close()).toBe(true);
  });

  it('buffers records and writes them, with the session id, on flush', async () => {
    const store = new RecordingStore();
    const tracker = new TokenTracker({ store, flushIntervalMs: 60_000 });
    record(tracker, 'c1');
    record(tracker, 'c2');
    record(tracker, 'c1'); // a duplicate: counted once, written once
    expect(store.batches).toEqual([]);
    expect(await tracker.flush()).toBe(true);
    expect(store.callIds).toEqual(['c1', 'c2']);
    expect(store.batches[0]?.[0]).toMatchObject({ sessionId: tracker.sessionId, totalTokens: 120 });
    await tracker.close();
  });

  it('flushes when a batch is full, in batches of flushBatchSize', async () => {
    const store = new RecordingStore();
    const tracker = new TokenTracker({ store, flushBatchSize: 3, flushIntervalMs: 60_000 });
    for (let i = 0; i < 7; i++) record(tracker, `c${i}`);
    expect(store.batches).toEqual([]); // record() itself never writes
    await sleep(5);
    expect(store.batches.map((b) => b.length)).toEqual([3, 3, 1]);
    await tracker.close();
  });

  it('flushes after flushIntervalMs', async () => {
    const store = new RecordingStore();
    const tracker = new TokenTracker({ store, flushIntervalMs: 10 });
    record(tracker, 'c1');
    await vi.waitFor(() => expect(store.callIds).toEqual(['c1']), { timeout: 1000 });
    await tracker.close();
  });

  it('survives a failing store: record() goes on, store_error fires, the batch is retried', async () => {
    const store = new RecordingStore();
    store.failing = 2;
    const tracker = new TokenTracker({ store, flushIntervalMs: 60_000 });
    const errors: StoreErrorEvent[] = [];
    tracker.on('store_error', (event) => errors.push(event));
    record(tracker, 'c1');
    expect(await tracker.flush()).toBe(false);
    record(tracker, 'c2');
    expect(await tracker.flush()).toBe(false);
    expect(errors.map((e) => [e.store, e.operation, e.pendingRecords])).toEqual([
      ['recording', 'append', 1],
      ['recording', 'append', 2],
    ]);
    expect(errors[0]?.error).toEqual(new Error('disk full'));
    expect(tracker.getStatistics().totalCalls).toBe(2);
    expect(await tracker.flush()).toBe(true);
    expect(store.callIds).toEqual(['c1', 'c2']);
    await tracker.close();
  });

  it('retries a failed batch on its own at the next interval', async () => {
    const store = new RecordingStore();
    store.failing = 1;
    const tracker = new TokenTracker({ store, flushIntervalMs: 10, onListenerError: () => {} });
    tracker.on('store_error', () => {});
    record(tracker, 'c1');
    await vi.waitFor(() => expect(store.callIds).toEqual(['c1']), { timeout: 1000 });
    await tracker.close();
  });

  it('bounds the buffer: past maxPendingRecords new records are dropped from the ledger only', async () => {
    const store = new RecordingStore();
    store.failing = 1;
    const tracker = new TokenTracker({ store, maxPendingRecords: 5, flushIntervalMs: 60_000 });
    const errors: StoreErrorEvent[] = [];
    tracker.on('store_error', (event) => errors.push(event));
    for (let i = 0; i < 8; i++) record(tracker, `c${i}`);
    expect(await tracker.flush()).toBe(false);
    expect(errors[0]).toMatchObject({ pendingRecords: 5, droppedRecords: 3 });
    expect(tracker.getStatistics().totalCalls).toBe(8);
    await tracker.flush();
    expect(store.callIds).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    await tracker.close();
  });

  it('reports a store failure on the console when nobody listens', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const store = new RecordingStore();
    store.failing = 1;
    const tracker = new TokenTracker({ store, flushIntervalMs: 60_000 });
    record(tracker, 'c1');
    await tracker.flush();
    expect(spy).toHaveBeenCalledWith(
      '[tollgate] store "recording" failed; will retry:',
      expect.any(Error),
    );
    await tracker.close();
  });

  it('validates its flush options', () => {
    const store = new RecordingStore();
    expect(() => new TokenTracker({ store, flushBatchSize: 0 })).toThrow(ConfigurationError);
    expect(() => new TokenTracker({ store, flushIntervalMs: Infinity })).toThrow(/flushIntervalMs/);
  });
});
