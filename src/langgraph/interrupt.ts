/**
 * Budget approval through LangGraph's human-in-the-loop: instead of failing, a spent budget
 * pauses the graph with `interrupt({ type: 'budget_exceeded', … })`. On resume LangGraph re-runs
 * the node from the top; its first guarded model call meets the same spent budget, and this
 * time `interrupt()` returns the resume value instead of pausing.
 */

import { z } from 'zod';
import { type BudgetExceededError, ConfigurationError, type TokenTracker } from '../index.js';
import { type NodeContext, runInNodeContext } from './context.js';
import { interrupt } from './langchain.js';

/** The value a budget interrupt carries (`result.__interrupt__[0].value`). */
export interface BudgetInterruptValue {
  type: 'budget_exceeded';
  spentUsd: number;
  limitUsd: number;
  /** The agent whose call is waiting. */
  agent: string | undefined;
  message: string;
}

/** What to resume a budget interrupt with: `new Command({ resume: { approved: true, newLimitUsd: 1 } })`. */
export interface BudgetApproval {
  approved: boolean;
  /** The new session budget; required when approved, and above the spend so far. */
  newLimitUsd?: number;
}

const approvalSchema = z.object({
  approved: z.boolean(),
  newLimitUsd: z.number().finite().positive().optional(),
});

/** True for the value of a budget interrupt. */
export function isBudgetInterrupt(value: unknown): value is BudgetInterruptValue {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { type?: unknown }).type === 'budget_exceeded'
  );
}

/**
 * Pauses the node for approval, or applies the approval it was resumed with: returns when the
 * budget was raised, throws `error` when the human refused. Throws LangGraph's `GraphInterrupt`
 * to pause; it must propagate, so it is never caught here.
 */
export function askBudgetApproval(
  tracker: TokenTracker,
  error: BudgetExceededError,
  context: NodeContext | undefined,
): void {
  // Without the node's context LangGraph cannot pause; stopping is the safe answer.
  if (!context?.config?.configurable) throw error;
  const value: BudgetInterruptValue = {
    type: 'budget_exceeded',
    spentUsd: error.spentUsd,
    limitUsd: error.limitUsd,
    agent: error.agent,
    // Says whether the budget is used up or the call's estimate does not fit the rest.
    message: `${error.message}; approve a new limit to continue`,
  };
  let answer: unknown;
  try {
    answer = runInNodeContext(context, () => interrupt(value));
  } catch (thrown) {
    if ((thrown as { lc_error_code?: string })?.lc_error_code === 'MISSING_CHECKPOINTER') {
      throw new ConfigurationError(
        'onBudgetExceeded "interrupt" needs a checkpointer: compile the graph with one, e.g. graph.compile({ checkpointer: new MemorySaver() })',
        { cause: thrown },
      );
    }
    throw thrown;
  }
  const parsed = approvalSchema.safeParse(answer);
  if (!parsed.success) {
    throw new ConfigurationError(
      `Resume a budget interrupt with { approved: boolean, newLimitUsd?: number }, got ${JSON.stringify(answer)}`,
    );
  }
  if (!parsed.data.approved) throw error;
  const newLimitUsd = parsed.data.newLimitUsd;
  if (newLimitUsd === undefined || newLimitUsd <= tracker.spentUsd) {
    throw new ConfigurationError(
      `An approved budget interrupt needs newLimitUsd above the spend so far ($${tracker.spentUsd}), got ${String(newLimitUsd)}`,
    );
  }
  tracker.setBudgetLimit(newLimitUsd);
}
