/** Console lines of the token feed, in the one format tollgate prints them. */
import { type Adaptation, type BudgetAlertEvent, formatUsd } from '../index.js';
import type { TokenFeedChunk } from './chunk.js';

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
 * The sentence of a `budget_adapted` chunk: what an adaptive budget running low changes.
 *
 * @example
 * adaptedMessage('planner', 'gemini-2.5-pro', { model: 'gemini-2.5-flash', maxOutputTokens: 1024 });
 * // 'Budget low: switching planner from gemini-2.5-pro to gemini-2.5-flash, maxOutputTokens 1024'
 * adaptedMessage('planner', 'gemini-2.5-pro', { maxOutputTokens: 256 });
 * // 'Budget low: planner keeps gemini-2.5-pro, maxOutputTokens 256'
 */
export function adaptedMessage(
  agent: string,
  model: string | undefined,
  adapt: Adaptation,
): string {
  const from = model ?? 'its model';
  const change =
    adapt.model !== undefined
      ? `switching ${agent} from ${from} to ${adapt.model}`
      : `${agent} keeps ${from}`;
  const cap =
    adapt.maxOutputTokens === undefined ? '' : `, maxOutputTokens ${adapt.maxOutputTokens}`;
  return `Budget low: ${change}${cap}`;
}

const WINDOW_NAMES: Record<BudgetAlertEvent['window'], string> = {
  request: 'per-call',
  hour: 'hourly',
  day: 'daily',
  week: 'weekly',
  month: 'monthly',
};

/**
 * The sentence of a `budget_alert` chunk: a shared budget crossed one of its thresholds.
 *
 * @example
 * alertMessage({ scope: { kind: 'user', id: 'alice' }, window: 'day', threshold: 0.8,
 *   spentUsd: 4.02, limitUsd: 5, … });
 * // 'Budget alert: user alice daily budget at 80% ($4.02 / $5.00)'
 */
export function alertMessage(
  event: Pick<BudgetAlertEvent, 'scope' | 'window' | 'threshold' | 'spentUsd' | 'limitUsd'>,
): string {
  const { scope, window, threshold, spentUsd, limitUsd } = event;
  const who = scope.id === undefined ? scope.kind : `${scope.kind} ${scope.id}`;
  const pct = `${Math.round(threshold * 1000) / 10}%`;
  const amounts = `${budgetUsd(spentUsd, limitUsd)} / ${budgetUsd(limitUsd, limitUsd)}`;
  return `Budget alert: ${who} ${WINDOW_NAMES[window]} budget at ${pct} (${amounts})`;
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
 * // [budget_adapted] Budget low: switching planner from gemini-2.5-pro to gemini-2.5-flash, maxOutputTokens 1024
 * // [budget_alert] Budget alert: user alice daily budget at 80% ($4.02 / $5.00)
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
    case 'budget_adapted':
    case 'budget_alert':
      return `${tag} ${chunk.message ?? ''}`;
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
