/**
 * `agentStarted` / `agentCompleted`: a node announces an agent's step on the token feed, and the
 * completion carries what that step cost (the ledger is `steps.ts`).
 *
 * Inside a node task of a `runWithTracking` run, the calls take over that task's own step: the
 * explicit message replaces the default one (`nodes.ts`), so the feed holds one pair per task.
 */
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import { trackerWithin } from '../account/tracker.js';
import type { TokenTracker } from '../index.js';
import { markStarted } from './autofeed.js';
import { configTracker, namespaceIn } from './context.js';
import { deliver, feedChunk, type TokenFeedChunk } from './feed.js';
import { AsyncLocalStorageProviderSingleton } from './langchain.js';
import {
  announce,
  findExplicitStep,
  NODE_STARTED_MESSAGE,
  newStep,
  nodeStepAt,
  stepsIfAny,
  stepsOf,
  totalsOf,
} from './steps.js';

/** Options of `agentStarted` / `agentCompleted`. */
export interface AgentFeedOptions {
  /** The tracker whose numbers the chunk carries (default: `getTokenTracker()`). */
  tracker?: TokenTracker;
}

/**
 * Announces that an agent starts a step: writes an `agent_started` chunk to the graph's stream
 * and starts counting the step's calls for `agentCompleted`. Call it from a node, or any helper
 * a node calls, in parallel branches and `Send` tasks too.
 *
 * @example
 * async function planner(state) {
 *   agentStarted('planner', 'Breaking down task into subtasks');
 *   const plan = await model.invoke(state.messages);
 *   agentCompleted('planner', 'Created 5 subtasks');
 *   return { messages: [plan], ...tokenUsageUpdate() };
 * }
 */
export function agentStarted(
  agent: string,
  message: string,
  options: AgentFeedOptions = {},
): TokenFeedChunk {
  const config = runningConfig();
  const tracker = trackerOf(options, config);
  const ns = namespaceIn(config);
  const steps = stepsOf(tracker);
  const node = nodeStepAt(steps, ns);
  if (node && !node.announced) {
    // The node's own step, not yet announced: this call is its agent_started.
    node.agent = agent;
    return announce(tracker, node, message);
  }
  steps.open.add(newStep(agent, ns));
  markStarted(ns);
  const chunk = feedChunk(tracker, 'agent_started', agent, message);
  deliver(tracker, chunk);
  return chunk;
}

/**
 * Announces that an agent finished its step: writes an `agent_completed` chunk carrying the cost
 * and tokens of the calls made in the step since `agentStarted` (the agent's session totals when
 * it was never started).
 *
 * @example
 * agentCompleted('planner', 'Created 5 subtasks');
 * // console: [agent_completed] planner: Created 5 subtasks ($0.0021, 2,340 tokens)
 */
export function agentCompleted(
  agent: string,
  message: string,
  options: AgentFeedOptions = {},
): TokenFeedChunk {
  const config = runningConfig();
  const tracker = trackerOf(options, config);
  const ns = namespaceIn(config);
  const steps = stepsIfAny(tracker);
  let step = steps && findExplicitStep(steps, agent, ns);
  if (steps && !step) {
    // The node's own step: this call is its completion (started by default if not yet).
    step = nodeStepAt(steps, ns);
    if (step && !step.announced) announce(tracker, step, NODE_STARTED_MESSAGE);
  }
  let totals: { costUsd: number; tokens: number };
  if (step && steps) {
    // A node step closed here is complete: its task's end writes nothing more.
    steps.open.delete(step);
    totals = totalsOf(step);
  } else {
    const byAgent = tracker.getStatistics().byAgent[agent];
    totals = { costUsd: byAgent?.costUsd ?? 0, tokens: byAgent?.tokens ?? 0 };
  }
  const chunk = feedChunk(tracker, 'agent_completed', agent, message, totals, step?.taskId);
  deliver(tracker, chunk);
  return chunk;
}

function runningConfig(): LangGraphRunnableConfig | undefined {
  return AsyncLocalStorageProviderSingleton.getRunnableConfig() as
    | LangGraphRunnableConfig
    | undefined;
}

/** As `getTokenTracker()`, reading the node's config once for both tracker and namespace. */
function trackerOf(
  options: AgentFeedOptions,
  config: LangGraphRunnableConfig | undefined,
): TokenTracker {
  return options.tracker ?? trackerWithin(configTracker(config));
}
