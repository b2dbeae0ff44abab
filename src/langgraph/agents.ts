/**
 * `agentStarted` / `agentCompleted`: a node announces an agent's step on the token feed, and the
 * completion carries what that step cost.
 *
 * A step is identified by its agent and the node task it runs in (`checkpoint_ns`), so steps of
 * one agent that run at once (parallel branches, `Send` fan-out) each get their own numbers: a
 * call counts for every open step whose task contains it. A call's task is the namespace the
 * callback handler recorded with it, or, for captures that run inside the node (wrappers,
 * manual `record()`), the namespace current when it is recorded.
 */
import { AsyncLocalStorageProviderSingleton } from '@langchain/core/singletons';
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import { trackerWithin } from '../account/tracker.js';
import { femtoToUsd, type TokenTracker, type UsageRecord } from '../index.js';
import { configTracker, currentNamespace, namespaceIn } from './context.js';
import { deliver, feedChunk, type TokenFeedChunk } from './feed.js';

/** One open step: what its calls have cost so far. */
interface Step {
  agent: string;
  /** The task's checkpoint namespace; undefined outside a graph (then: the agent's calls). */
  ns: string | undefined;
  /** The exact cost in femto-dollars: `femto` while it stays a safe integer, then `bigFemto`. */
  femto: number;
  bigFemto: bigint;
  tokens: number;
}

function addCost(step: Step, femto: number | bigint): void {
  if (typeof femto === 'number' && step.femto + femto <= Number.MAX_SAFE_INTEGER) {
    step.femto += femto;
  } else {
    step.bigFemto += BigInt(step.femto) + BigInt(femto);
    step.femto = 0;
  }
}

interface Steps {
  open: Set<Step>;
}

const stepsByTracker = new WeakMap<TokenTracker, Steps>();

function namespaceOf(record: UsageRecord): string | undefined {
  const recorded = record.metadata?.checkpointNs;
  return typeof recorded === 'string' ? recorded : currentNamespace();
}

function contains(step: Step, record: UsageRecord, ns: string | undefined): boolean {
  if (step.ns === undefined) return record.agent === step.agent;
  return ns !== undefined && (ns === step.ns || ns.startsWith(`${step.ns}|`));
}

function openSteps(tracker: TokenTracker): Steps {
  let steps = stepsByTracker.get(tracker);
  if (!steps) {
    const open = new Set<Step>();
    const onUsage = (record: UsageRecord) => {
      if (open.size === 0) return;
      const ns = namespaceOf(record);
      for (const step of open) {
        if (!contains(step, record, ns)) continue;
        step.tokens += record.usage.totalTokens;
        if (record.cost.priced) addCost(step, record.cost.totalFemto);
      }
    };
    // Subscribed for the tracker's lifetime: a node's steps open and close many times a run,
    // and a listener with no open step costs one empty loop per call.
    tracker.observeRecords(onUsage);
    steps = { open };
    stepsByTracker.set(tracker, steps);
  }
  return steps;
}

/** The open step `agentCompleted` closes: same agent and task, else the agent's latest. */
function findStep(steps: Steps, agent: string, ns: string | undefined): Step | undefined {
  let latest: Step | undefined;
  for (const step of steps.open) {
    if (step.agent !== agent) continue;
    if (step.ns === ns) return step;
    latest = step;
  }
  return latest;
}

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
  openSteps(tracker).open.add({
    agent,
    ns: namespaceIn(config),
    femto: 0,
    bigFemto: 0n,
    tokens: 0,
  });
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
  const steps = stepsByTracker.get(tracker);
  const step = steps && findStep(steps, agent, namespaceIn(config));
  let costUsd: number;
  let tokens: number;
  if (step && steps) {
    steps.open.delete(step);
    costUsd = femtoToUsd(step.bigFemto === 0n ? step.femto : step.bigFemto + BigInt(step.femto));
    tokens = step.tokens;
  } else {
    const totals = tracker.getStatistics().byAgent[agent];
    costUsd = totals?.costUsd ?? 0;
    tokens = totals?.tokens ?? 0;
  }
  const chunk = feedChunk(tracker, 'agent_completed', agent, message, { costUsd, tokens });
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
