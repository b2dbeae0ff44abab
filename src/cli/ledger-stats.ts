/**
 * `TokenUsageStats` (what the console report prints) from the ledger's summaries instead of a
 * live tracker, so `tollgate report` prints the report every tracker prints.
 */
import type { AggregateStats } from '../account/aggregate.js';
import type { TokenUsageStats } from '../account/tracker.js';
import type { RecordFilter, Store, SummaryRow } from '../keep/types.js';
import { femtoToDecimal, femtoToUsd } from '../price/money.js';

/** Most users and threads listed (agents and models are few; all are kept). */
const MOST_GROUPS = 100;

function aggregate(row: SummaryRow): AggregateStats {
  return {
    calls: row.calls,
    // As the tracker counts them: input plus output.
    tokens: row.inputTokens + row.outputTokens,
    inputTokens: row.inputTokens,
    outputTokens: row.outputTokens,
    cachedTokens: row.cachedTokens,
    reasoningTokens: row.reasoningTokens,
    costUsd: femtoToUsd(row.costFemto),
    unpricedCalls: row.unpricedCalls,
  };
}

/** Rows as `{ key: stats }`, in the stores' order (largest cost first); '' (no id) left out. */
function byKey(rows: readonly SummaryRow[]): Record<string, AggregateStats> {
  const result: Record<string, AggregateStats> = {};
  for (const row of rows) if (row.key !== '') result[row.key] = aggregate(row);
  return result;
}

/**
 * The statistics of every call in the ledger matching `filter`. Exact: the cost is summed in
 * femto-dollars by the store and rounded once. The "duration" is first to last call.
 *
 * @example
 * const stats = await ledgerStatistics(store, { userId: 'alice', from: Date.now() - 7 * 86_400_000 });
 * console.log(formatCostReport(stats));
 */
export async function ledgerStatistics(
  store: Store,
  filter: RecordFilter,
): Promise<TokenUsageStats> {
  const [agents, models, users, threads, first, last] = await Promise.all([
    store.summarize({ ...filter, groupBy: 'agent' }),
    store.summarize({ ...filter, groupBy: 'model' }),
    store.summarize({ ...filter, groupBy: 'user', limit: MOST_GROUPS + 1 }),
    store.summarize({ ...filter, groupBy: 'thread', limit: MOST_GROUPS + 1 }),
    store.query({ ...filter, limit: 1, order: 'asc' }),
    store.query({ ...filter, limit: 1, order: 'desc' }),
  ]);
  // Every call has an agent: the agents' rows add up to the whole.
  let calls = 0;
  let femto = 0n;
  const totals = {
    inputTokens: 0,
    outputTokens: 0,
    cachedTokens: 0,
    reasoningTokens: 0,
    unpriced: 0,
  };
  for (const row of agents) {
    calls += row.calls;
    femto += row.costFemto;
    totals.inputTokens += row.inputTokens;
    totals.outputTokens += row.outputTokens;
    totals.cachedTokens += row.cachedTokens;
    totals.reasoningTokens += row.reasoningTokens;
    totals.unpriced += row.unpricedCalls;
  }
  const tokens = totals.inputTokens + totals.outputTokens;
  const start = first.records[0]?.timestamp;
  const end = last.records[0]?.timestamp;
  return {
    totalCalls: calls,
    totalTokens: tokens,
    inputTokens: totals.inputTokens,
    outputTokens: totals.outputTokens,
    cachedTokens: totals.cachedTokens,
    reasoningTokens: totals.reasoningTokens,
    totalCostUsd: femtoToUsd(femto),
    totalCostUsdExact: femtoToDecimal(femto),
    averageTokensPerCall: calls ? tokens / calls : 0,
    averageCostPerCall: calls ? femtoToUsd(femto / BigInt(calls)) : 0,
    sessionDurationSeconds: start !== undefined && end !== undefined ? (end - start) / 1000 : 0,
    budgetLimitUsd: null,
    budgetUtilizationPercent: null,
    budgetRemainingUsd: null,
    unpricedCalls: totals.unpriced,
    droppedFromHistory: 0,
    byAgent: byKey(agents),
    byModel: byKey(models),
    byUser: byKey(users.slice(0, MOST_GROUPS)),
    byThread: byKey(threads.slice(0, MOST_GROUPS)),
  };
}
