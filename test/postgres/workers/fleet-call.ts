/** What the fleet workers' calls cost and record: deterministic, so every run is the same. */
import type { LedgerRecord } from '../../../src/keep/types.js';

/** Call `i`'s estimate: $0.001 to $0.002. */
export const estimateOf = (i: number): bigint =>
  1_000_000_000n + BigInt((i * 7919) % 1000) * 1_000_000n;

/** Call `i`'s actual cost: at most its estimate. */
export const actualOf = (i: number): bigint => estimateOf(i) - BigInt((i * 104_729) % 997) * 997n;

/** One in seven calls fails after its reserve and is released. */
export const failsAt = (i: number): boolean => i % 7 === 3;

/** The ledger record of a granted call. */
export function fleetRecord(worker: string, callId: string, costFemto: bigint): LedgerRecord {
  return {
    id: `r-${callId}`,
    callId,
    timestamp: Date.now(),
    sessionId: worker,
    agent: 'fleet',
    model: 'gemini-2.5-flash',
    userId: 'alice',
    inputTokens: 100,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 10,
    reasoningTokens: 0,
    toolUsePromptTokens: 0,
    totalTokens: 110,
    priced: true,
    costFemto,
  };
}
