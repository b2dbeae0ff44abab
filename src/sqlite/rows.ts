/**
 * Ledger rows: a record to its INSERT parameters and back, and summary sums to summary rows.
 * Integers are read as bigints (safeIntegers): money columns may sum past 2^53.
 */
import { storedTier } from '../keep/checks.js';
import { metadataJson } from '../keep/record.js';
import { type LedgerColumns, recordFromColumns, summaryFromSums } from '../keep/sql-rows.js';
import { addRowToRow } from '../keep/summary.js';
import type { LedgerRecord, SummaryRow } from '../keep/types.js';
import { joinFemto, splitFemto } from './money.js';

export const INSERT = `INSERT INTO records (id, call_id, ts, session_id, agent, node, model, provider,
  user_id, tenant_id, thread_id, input_tokens, cache_read_tokens, cache_write_tokens,
  output_tokens, reasoning_tokens, tool_use_prompt_tokens, total_tokens, priced, cost_micro,
  cost_rem, metadata, service_tier)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (call_id) DO NOTHING`;

/** A row of `records` as better-sqlite3 returns it with safe integers on. */
export interface RecordRow extends Omit<LedgerColumns<bigint>, 'ts'> {
  seq: bigint;
  ts: bigint | number;
  priced: bigint;
  cost_micro: bigint;
  cost_rem: bigint;
}

export interface SumRow {
  k: string | bigint | null;
  calls: bigint;
  input: bigint | null;
  output: bigint | null;
  cached: bigint | null;
  reasoning: bigint | null;
  total: bigint | null;
  unpriced: bigint | null;
  micro: bigint | null;
  rem: bigint | null;
}

/** The INSERT parameters of a record, written into `row` (in INSERT's column order). */
export function fillRow(row: unknown[], record: LedgerRecord): unknown[] {
  const [micro, rem] = splitFemto(record.costFemto);
  row[0] = record.id;
  row[1] = record.callId;
  row[2] = record.timestamp;
  row[3] = record.sessionId;
  row[4] = record.agent;
  row[5] = record.node ?? null;
  row[6] = record.model;
  row[7] = record.provider ?? null;
  row[8] = record.userId ?? null;
  row[9] = record.tenantId ?? null;
  row[10] = record.threadId ?? null;
  row[11] = record.inputTokens;
  row[12] = record.cacheReadTokens;
  row[13] = record.cacheWriteTokens;
  row[14] = record.outputTokens;
  row[15] = record.reasoningTokens;
  row[16] = record.toolUsePromptTokens;
  row[17] = record.totalTokens;
  row[18] = record.priced ? 1 : 0;
  row[19] = micro;
  row[20] = rem;
  row[21] = record.metadata === undefined ? null : metadataJson(record.metadata);
  row[22] = record.serviceTier === undefined ? null : (storedTier(record.serviceTier) ?? null);
  return row;
}

export function fromRow(row: RecordRow): LedgerRecord {
  return recordFromColumns(row, row.priced === 1n, joinFemto(row.cost_micro, row.cost_rem));
}

export function toSummaryRow(key: string, sum: SumRow): SummaryRow {
  return summaryFromSums(key, sum, joinFemto(sum.micro, sum.rem));
}

/** Folds SQL slots into local buckets (several 15-minute slots make one hour or day). */
export function mergeBuckets(sums: SumRow[], keyOf: (slot: number) => string): SummaryRow[] {
  const buckets = new Map<string, SummaryRow>();
  for (const sum of sums) {
    const row = toSummaryRow(keyOf(Number(sum.k)), sum);
    const bucket = buckets.get(row.key);
    if (!bucket) {
      buckets.set(row.key, row);
      continue;
    }
    addRowToRow(bucket, row);
  }
  return [...buckets.values()];
}
