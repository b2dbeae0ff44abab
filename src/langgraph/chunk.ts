/** The shape of the token feed's chunks, shared by the feed and its formatting. */
import type { BudgetWindow, ChargedScope } from '../index.js';

/**
 * Kinds of feed chunks. `budget_warning` / `budget_exceeded` are the session budget's;
 * `budget_adapted` / `budget_alert` come from a shared `BudgetManager` (`attachStreamFeed`'s
 * `budgets` option).
 */
export type TokenFeedChunkType =
  | 'llm_call'
  | 'budget_warning'
  | 'budget_exceeded'
  | 'budget_adapted'
  | 'budget_alert'
  | 'agent_started'
  | 'agent_completed';

/** Which shared budget a `budget_adapted` / `budget_alert` chunk is about. */
export interface FeedBudgetInfo {
  ruleId: string;
  /** The counter key, e.g. `user:alice:day:2026-11-23@UTC`. */
  key: string;
  scope: ChargedScope;
  /** `budget_alert`: the window and the threshold crossed (0.8 = 80%), and when it resets. */
  window?: BudgetWindow;
  threshold?: number;
  resetsAt?: number;
  /** `budget_adapted`: what remains of the limit with the call's estimate held. */
  remainingUsd?: number;
  /** `budget_adapted`: what the budget asked of the call. */
  adapt?: { from: string | undefined; to: string | undefined; maxOutputTokens?: number };
}

/** One chunk of the token feed, as it arrives in the graph's "custom" stream. */
export interface TokenFeedChunk {
  /** Always `tollgate`: tells feed chunks from a graph's own custom chunks. */
  source: 'tollgate';
  type: TokenFeedChunkType;
  /** The agent; for shared-budget chunks, the agent of the node they fired in (or `unknown`). */
  agent: string;
  /** The model, for `llm_call` and budget chunks (`budget_adapted`: the model asked for). */
  model?: string;
  /**
   * Session spend after the event, in USD. For `budget_adapted` / `budget_alert`: the spend
   * (settled, plus held for `budget_adapted`) and limit of the shared budget in `budget`.
   */
  spentUsd: number;
  limitUsd: number | null;
  utilizationPercent: number | null;
  /** `budget_adapted` / `budget_alert`: the shared budget. */
  budget?: FeedBudgetInfo;
  /** `llm_call`: the call's cost; `agent_completed`: the agent's cost since `agentStarted`. */
  costUsd?: number;
  /** `llm_call`: the call's tokens; `agent_completed`: the agent's tokens since `agentStarted`. */
  tokens?: number;
  /** The agent's message, or the budget sentence (`Budget warning: $0.47 / $0.50 (94.0%)`). */
  message?: string;
  /** `agent_completed`: the node task failed (its error's message is in `message`). */
  failed?: true;
  /**
   * `agent_started` / `agent_completed` written for a node task by tollgate: the task's id
   * (`Send` tasks of one node each have their own). Absent on explicit `agentStarted` calls.
   */
  taskId?: string;
  /** Epoch milliseconds. */
  timestamp: number;
}
