/** Console lines of the token feed, in the one format tollgate prints them. */
import { formatUsd } from '../index.js';
import type { TokenFeedChunk } from './feed.js';

const int = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * A budget amount: cents for budgets of ten cents and up ($0.47 / $0.50), four decimals below
 * that, where cents would read $0.00.
 */
function budgetUsd(usd: number, limitUsd: number): string {
  return limitUsd >= 0.1 ? `$${usd.toFixed(2)}` : formatUsd(usd, 4);
}

/**
 * The sentence of a budget chunk.
 *
 * @example
 * budgetMessage('budget_warning', 0.47, 0.5, 94);  // 'Budget warning: $0.47 / $0.50 (94.0%)'
 * budgetMessage('budget_exceeded', 0.52, 0.5, 104); // 'BUDGET EXCEEDED: $0.52 / $0.50'
 */
export function budgetMessage(
  type: 'budget_warning' | 'budget_exceeded',
  spentUsd: number,
  limitUsd: number,
  utilizationPercent: number,
): string {
  const amounts = `${budgetUsd(spentUsd, limitUsd)} / ${budgetUsd(limitUsd, limitUsd)}`;
  return type === 'budget_warning'
    ? `Budget warning: ${amounts} (${utilizationPercent.toFixed(1)}%)`
    : `BUDGET EXCEEDED: ${amounts}`;
}

/**
 * One console line for a feed chunk.
 *
 * @example
 * formatFeedChunk(chunk);
 * // [agent_started] planner: Breaking down task into subtasks
 * // [agent_completed] planner: Created 5 subtasks ($0.0021, 2,340 tokens)
 * // [llm_call] planner: gemini-2.5-flash $0.0004 (1,234 tokens)
 * // [budget_warning] Budget warning: $0.47 / $0.50 (94.0%)
 * // [budget_exceeded] BUDGET EXCEEDED: $0.52 / $0.50
 */
export function formatFeedChunk(chunk: TokenFeedChunk): string {
  const tag = `[${chunk.type}]`;
  switch (chunk.type) {
    case 'agent_started':
      return `${tag} ${chunk.agent}: ${chunk.message ?? ''}`;
    case 'agent_completed':
      return `${tag} ${chunk.agent}: ${chunk.message ?? ''} (${formatUsd(chunk.costUsd ?? 0)}, ${int(chunk.tokens ?? 0)} tokens)`;
    case 'llm_call':
      return `${tag} ${chunk.agent}: ${chunk.model ?? 'unknown'} ${formatUsd(chunk.costUsd ?? 0)} (${int(chunk.tokens ?? 0)} tokens)`;
    default:
      return `${tag} ${
        chunk.message ??
        budgetMessage(
          chunk.type,
          chunk.spentUsd,
          chunk.limitUsd ?? 0,
          chunk.utilizationPercent ?? 0,
        )
      }`;
  }
}

/** The line printed when `runWithTracking` starts. */
export function workflowStartedLine(name: string): string {
  return `[workflow_started] Starting workflow: ${name}`;
}
