import { MemoryStore } from '../../src/keep/memory.js';
import type { LedgerRecord, Store } from '../../src/keep/types.js';

/** 2026-11-23T12:00:00Z, a Monday: every conformance record is dated from here. */
export const BASE = Date.UTC(2026, 10, 23, 12);

let counter = 0;

/**
 * A ledger record with plausible defaults; each call gets a fresh id and call id.
 * `ledgerRecord({ userId: 'alice', costFemto: 5n })`.
 */
export function ledgerRecord(parts: Partial<LedgerRecord> = {}): LedgerRecord {
  const n = ++counter;
  return {
    id: `rec-${n}`,
    callId: `call-${n}`,
    timestamp: BASE + n,
    sessionId: 'session-1',
    agent: 'planner',
    model: 'gemini-2.5-flash',
    inputTokens: 100,
    cacheReadTokens: 10,
    cacheWriteTokens: 0,
    outputTokens: 50,
    reasoningTokens: 5,
    toolUsePromptTokens: 0,
    totalTokens: 150,
    priced: true,
    costFemto: 1_000_000n,
    ...parts,
  };
}

/** `count` records, one second apart from `from`, built by `parts(i)`. */
export function ledgerRecords(
  count: number,
  parts: (i: number) => Partial<LedgerRecord> = () => ({}),
  from = BASE,
): LedgerRecord[] {
  return Array.from({ length: count }, (_, i) =>
    ledgerRecord({ timestamp: from + i * 1000, ...parts(i) }),
  );
}

/** Call ids in order, for comparing pages. */
export const callIds = (records: readonly LedgerRecord[]) => records.map((r) => r.callId);

/**
 * A memory store whose rate limits lack `consumeRates`, as a custom driver might: only
 * `consumeRate`, one key at a time.
 */
export function withoutConsumeRates(inner: MemoryStore = new MemoryStore()): Store {
  return {
    name: 'one-by-one',
    capabilities: inner.capabilities,
    append: (records) => inner.append(records),
    query: (options) => inner.query(options),
    summarize: (options) => inner.summarize(options),
    close: () => inner.close(),
    consumeRate: (request) => inner.consumeRate(request),
  };
}
