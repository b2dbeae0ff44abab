/**
 * Summary rows as every driver builds and orders them (the rules are on `SummaryRow`), so the
 * memory, SQLite and Redis stores and the server's rollups agree by construction.
 */
import type { LedgerRecord, SummaryOptions, SummaryRow } from './types.js';

/** A row with nothing in it yet. */
export function emptySummaryRow(key = ''): SummaryRow {
  return {
    key,
    calls: 0,
    inputTokens: 0,
    outputTokens: 0,
    cachedTokens: 0,
    reasoningTokens: 0,
    totalTokens: 0,
    unpricedCalls: 0,
    costFemto: 0n,
  };
}

/** Adds one ledger record to a row (an unpriced record counts in tokens, not in cost). */
export function addRecordToRow(row: SummaryRow, record: LedgerRecord): void {
  row.calls += 1;
  row.inputTokens += record.inputTokens;
  row.outputTokens += record.outputTokens;
  row.cachedTokens += record.cacheReadTokens;
  row.reasoningTokens += record.reasoningTokens;
  row.totalTokens += record.totalTokens;
  if (record.priced) row.costFemto += record.costFemto;
  else row.unpricedCalls += 1;
}

/** Adds `row` into `into` (or subtracts it, `sign` −1): summaries are sums, so they compose. */
export function addRowToRow(into: SummaryRow, row: SummaryRow, sign: 1 | -1 = 1): void {
  into.calls += sign * row.calls;
  into.inputTokens += sign * row.inputTokens;
  into.outputTokens += sign * row.outputTokens;
  into.cachedTokens += sign * row.cachedTokens;
  into.reasoningTokens += sign * row.reasoningTokens;
  into.totalTokens += sign * row.totalTokens;
  into.unpricedCalls += sign * row.unpricedCalls;
  into.costFemto += sign === 1 ? row.costFemto : -row.costFemto;
}

const byKey = (a: SummaryRow, b: SummaryRow) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Largest cost first; ties by key. */
function byCostDesc(a: SummaryRow, b: SummaryRow): number {
  if (a.costFemto !== b.costFemto) return a.costFemto > b.costFemto ? -1 : 1;
  return byKey(a, b);
}

/**
 * Sorts `rows` in place as summaries are ordered (time buckets by start, other groups by cost,
 * largest first, then key) and applies `limit`.
 */
export function orderSummaryRows(
  rows: SummaryRow[],
  options: Pick<SummaryOptions, 'groupBy' | 'limit'>,
): SummaryRow[] {
  rows.sort(options.groupBy === 'hour' || options.groupBy === 'day' ? byKey : byCostDesc);
  return options.limit === undefined ? rows : rows.slice(0, Math.max(0, options.limit));
}
