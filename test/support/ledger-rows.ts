import type { LedgerRecord } from '../../src/keep/types.js';

/** A priced ledger row of one tiny call by `userId`, costing `costFemto`. */
export function ledgerRow(
  id: string,
  userId: string,
  timestamp: number,
  costFemto: bigint,
): LedgerRecord {
  return {
    id,
    callId: id,
    timestamp,
    sessionId: 's',
    agent: 'a',
    model: 'gemini-2.5-flash',
    userId,
    inputTokens: 1,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 1,
    reasoningTokens: 0,
    toolUsePromptTokens: 0,
    totalTokens: 2,
    priced: true,
    costFemto,
  };
}
