/**
 * What the API sends: ledger rows and summaries as JSON. Money is the exact femto-dollar amount
 * rounded once to a USD number, with the exact decimal string beside it (`costUsdExact`).
 */
import { addRowToRow, emptySummaryRow } from '../keep/summary.js';
import type { LedgerRecord, SummaryRow } from '../keep/types.js';
import { femtoToDecimal, femtoToUsd } from '../price/money.js';

/** Totals of a group of calls. */
export interface TotalsJson {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  totalTokens: number;
  /** Calls whose model had no price: in the tokens, not in the cost. */
  unpricedCalls: number;
  costUsd: number;
  costUsdExact: string;
}

export function totalsJson(row: SummaryRow = emptySummaryRow()): TotalsJson {
  return {
    calls: row.calls,
    inputTokens: row.inputTokens,
    outputTokens: row.outputTokens,
    cachedTokens: row.cachedTokens,
    reasoningTokens: row.reasoningTokens,
    totalTokens: row.totalTokens,
    unpricedCalls: row.unpricedCalls,
    costUsd: femtoToUsd(row.costFemto),
    costUsdExact: femtoToDecimal(row.costFemto),
  };
}

/** One row holding the sum of `rows` (exact: the cost is a bigint sum). */
export function sumRows(rows: readonly SummaryRow[], key = ''): SummaryRow {
  const total = emptySummaryRow(key);
  for (const row of rows) addRowToRow(total, row);
  return total;
}

/** Share of the whole, as a ratio with 4 decimals (0 when the whole is 0). */
export function share(part: bigint, whole: bigint): number {
  if (whole <= 0n) return 0;
  return Number((part * 10_000n) / whole) / 10_000;
}

/** A day or hour bucket (`key` is the bucket's ISO start). */
export const bucketJson = (row: SummaryRow) => ({ start: row.key, ...totalsJson(row) });

/** One ledger record as JSON. */
export function recordJson(record: LedgerRecord) {
  return {
    id: record.id,
    callId: record.callId,
    timestamp: record.timestamp,
    time: isoOf(record.timestamp),
    sessionId: record.sessionId,
    agent: record.agent,
    node: record.node,
    model: record.model,
    provider: record.provider,
    userId: record.userId,
    tenantId: record.tenantId,
    threadId: record.threadId,
    inputTokens: record.inputTokens,
    cacheReadTokens: record.cacheReadTokens,
    cacheWriteTokens: record.cacheWriteTokens,
    outputTokens: record.outputTokens,
    reasoningTokens: record.reasoningTokens,
    toolUsePromptTokens: record.toolUsePromptTokens,
    totalTokens: record.totalTokens,
    priced: record.priced,
    serviceTier: record.serviceTier ?? 'standard',
    prepaid: record.serviceTier === 'provisioned',
    costUsd: femtoToUsd(record.costFemto),
    costUsdExact: femtoToDecimal(record.costFemto),
    metadata: record.metadata,
  };
}

/** ISO time of epoch ms, or null for an instant no Date can hold (never a RangeError). */
export function isoOf(ms: number): string | null {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
