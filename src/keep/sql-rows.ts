/**
 * Rows of the SQL ledgers (SQLite, Postgres) back to records and summary rows. Both store a
 * record in the same columns and sum them under the same names; only how their drivers return
 * integers (bigint, number or numeric text) and how money is stored differ, so each driver reads
 * `priced` and the cost itself and hands the rest here.
 */
import { parseServiceTier } from '../usage/tier.js';
import type { LedgerRecord, SummaryRow } from './types.js';

/** An integer column as a driver returns it. */
type Integer = bigint | number | string;

/**
 * The record columns both SQL ledgers share, `I` being how the driver returns an integer
 * (`bigint` for better-sqlite3 with safe integers, numeric text for node-postgres).
 */
export interface LedgerColumns<I extends Integer = Integer> {
  id: string;
  call_id: string;
  ts: I;
  session_id: string;
  agent: string;
  node: string | null;
  model: string;
  provider: string | null;
  user_id: string | null;
  tenant_id: string | null;
  thread_id: string | null;
  input_tokens: I;
  cache_read_tokens: I;
  cache_write_tokens: I;
  output_tokens: I;
  reasoning_tokens: I;
  tool_use_prompt_tokens: I;
  total_tokens: I;
  metadata: string | null;
  service_tier: string | null;
}

/**
 * A ledger row as a `LedgerRecord`, with the driver's reading of `priced` and the cost.
 *
 * @example
 * recordFromColumns(row, row.priced === 1n, joinFemto(row.cost_micro, row.cost_rem));
 */
export function recordFromColumns(
  row: LedgerColumns,
  priced: boolean,
  costFemto: bigint,
): LedgerRecord {
  const record: LedgerRecord = {
    id: row.id,
    callId: row.call_id,
    timestamp: Number(row.ts),
    sessionId: row.session_id,
    agent: row.agent,
    model: row.model,
    inputTokens: Number(row.input_tokens),
    cacheReadTokens: Number(row.cache_read_tokens),
    cacheWriteTokens: Number(row.cache_write_tokens),
    outputTokens: Number(row.output_tokens),
    reasoningTokens: Number(row.reasoning_tokens),
    toolUsePromptTokens: Number(row.tool_use_prompt_tokens),
    totalTokens: Number(row.total_tokens),
    priced,
    costFemto,
  };
  if (row.node !== null) record.node = row.node;
  if (row.provider !== null) record.provider = row.provider;
  if (row.user_id !== null) record.userId = row.user_id;
  if (row.tenant_id !== null) record.tenantId = row.tenant_id;
  if (row.thread_id !== null) record.threadId = row.thread_id;
  if (row.metadata !== null) record.metadata = JSON.parse(row.metadata);
  const tier = parseServiceTier(row.service_tier);
  if (tier !== undefined && tier !== 'standard') record.serviceTier = tier;
  return record;
}

/** The sums a SQL summary selects per group (an empty group sums to null). */
export interface SumColumns {
  calls: Integer;
  input: Integer | null;
  output: Integer | null;
  cached: Integer | null;
  reasoning: Integer | null;
  total: Integer | null;
  unpriced: Integer | null;
}

/**
 * One group's sums as a `SummaryRow`, with the driver's reading of the cost.
 *
 * @example
 * summaryFromSums('gemini-2.5-flash', sum, BigInt(sum.cost ?? 0));
 */
export function summaryFromSums(key: string, sum: SumColumns, costFemto: bigint): SummaryRow {
  return {
    key,
    calls: Number(sum.calls),
    inputTokens: Number(sum.input ?? 0),
    outputTokens: Number(sum.output ?? 0),
    cachedTokens: Number(sum.cached ?? 0),
    reasoningTokens: Number(sum.reasoning ?? 0),
    totalTokens: Number(sum.total ?? 0),
    unpricedCalls: Number(sum.unpriced ?? 0),
    costFemto,
  };
}
