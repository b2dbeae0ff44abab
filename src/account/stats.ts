import type { AggregateStats } from './aggregate.js';

/** Session statistics, kept incrementally. Money is exact, rounded once to a number. */
export interface TokenUsageStats {
  totalCalls: number;
  totalTokens: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  totalCostUsd: number;
  /** The exact total as a decimal string (no rounding). */
  totalCostUsdExact: string;
  averageTokensPerCall: number;
  averageCostPerCall: number;
  sessionDurationSeconds: number;
  budgetLimitUsd: number | null;
  budgetUtilizationPercent: number | null;
  budgetRemainingUsd: number | null;
  /** Calls whose model has no price: counted in tokens, not in cost. */
  unpricedCalls: number;
  /** Records dropped from history by `historyLimit` (still in every total). */
  droppedFromHistory: number;
  byAgent: Record<string, AggregateStats>;
  byModel: Record<string, AggregateStats>;
  byUser: Record<string, AggregateStats>;
  byThread: Record<string, AggregateStats>;
  /** Per service tier (`standard`, `flex`, `batch`, `priority`, `provisioned`). */
  byServiceTier?: Record<string, AggregateStats>;
}
