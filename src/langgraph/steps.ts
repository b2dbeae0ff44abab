/**
 * Agent steps: what the calls made inside one step of an agent cost, for its `agent_completed`
 * chunk.
 *
 * A step is an agent and the node task it runs in (`checkpoint_ns`), so steps of one agent that
 * run at once (parallel branches, `Send` fan-out) each get their own numbers: a call counts for
 * every open step whose task contains it. A call's task is the namespace the callback handler
 * recorded with it, or, for captures that run inside the node (wrappers, manual `record()`), the
 * namespace current when it is recorded.
 *
 * Two kinds of steps share the ledger: explicit ones (`agentStarted`) and node steps, one per
 * task of a `runWithTracking` run (`nodes.ts`). A node step writes its `agent_started` chunk
 * lazily, at the first of: its first recorded call, an explicit `agentStarted` (which then
 * replaces it), its end. So an explicit call made before the node's first model call is the
 * step's only `agent_started`.
 */
import { femtoToUsd, type TokenTracker, type UsageRecord } from '../index.js';
import { currentNamespace } from './context.js';
import { deliver, feedChunk, setBeforeDeliver, type TokenFeedChunk } from './feed.js';

/** One open step: what its calls have cost so far. */
export interface Step {
  agent: string;
  /** The task's checkpoint namespace; undefined outside a graph (then: the agent's calls). */
  ns: string | undefined;
  /** The exact cost in femto-dollars: `femto` while it stays a safe integer, then `bigFemto`. */
  femto: number;
  bigFemto: bigint;
  tokens: number;
  /** Node steps only: the LangGraph task id. */
  taskId?: string;
  /** Node steps only: whether its `agent_started` chunk has been written. */
  announced?: boolean;
}

/** The message of a node step's chunks that no explicit call replaced. */
export const NODE_STARTED_MESSAGE = 'Step started';
export const NODE_COMPLETED_MESSAGE = 'Step completed';

function addCost(step: Step, femto: number | bigint): void {
  if (typeof femto === 'number' && step.femto + femto <= Number.MAX_SAFE_INTEGER) {
    step.femto += femto;
  } else {
    step.bigFemto += BigInt(step.femto) + BigInt(femto);
    step.femto = 0;
  }
}

/** The open steps of one tracker. */
export interface Steps {
  open: Set<Step>;
}

const stepsByTracker = new WeakMap<TokenTracker, Steps>();

function namespaceOf(record: UsageRecord): string | undefined {
  const recorded = record.metadata?.checkpointNs;
  return typeof recorded === 'string' ? recorded : currentNamespace();
}

/** True when `ns` is the task `taskNs` or runs inside it (a subgraph's node, a helper). */
export function within(ns: string | undefined, taskNs: string): boolean {
  return ns !== undefined && (ns === taskNs || ns.startsWith(`${taskNs}|`));
}

function contains(step: Step, record: UsageRecord, ns: string | undefined): boolean {
  if (step.ns === undefined) return record.agent === step.agent;
  return within(ns, step.ns);
}

/** The tracker's open steps, if any step was ever opened for it. */
export function stepsIfAny(tracker: TokenTracker): Steps | undefined {
  return stepsByTracker.get(tracker);
}

/** The tracker's open steps, subscribing the ledger to its records on first use. */
export function stepsOf(tracker: TokenTracker): Steps {
  let steps = stepsByTracker.get(tracker);
  if (!steps) {
    const open = new Set<Step>();
    const onUsage = (record: UsageRecord) => {
      if (open.size === 0) return;
      const ns = namespaceOf(record);
      for (const step of open) {
        if (!contains(step, record, ns)) continue;
        if (step.announced === false) announce(tracker, step, NODE_STARTED_MESSAGE);
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

/** A fresh step with nothing counted yet. */
export function newStep(agent: string, ns: string | undefined, taskId?: string): Step {
  const step: Step = { agent, ns, femto: 0, bigFemto: 0n, tokens: 0 };
  if (taskId !== undefined) {
    step.taskId = taskId;
    step.announced = false;
  }
  return step;
}

/** Writes a node step's `agent_started` chunk. */
export function announce(tracker: TokenTracker, step: Step, message: string): TokenFeedChunk {
  step.announced = true;
  const chunk = feedChunk(tracker, 'agent_started', step.agent, message, undefined, step.taskId);
  deliver(tracker, chunk);
  return chunk;
}

/** The step's totals so far. */
export function totalsOf(step: Step): { costUsd: number; tokens: number } {
  const femto = step.bigFemto === 0n ? step.femto : step.bigFemto + BigInt(step.femto);
  return { costUsd: femtoToUsd(femto), tokens: step.tokens };
}

/** The explicit open step `agentCompleted` closes: same agent and task, else the agent's latest. */
export function findExplicitStep(
  steps: Steps,
  agent: string,
  ns: string | undefined,
): Step | undefined {
  let latest: Step | undefined;
  for (const step of steps.open) {
    if (step.agent !== agent || step.taskId !== undefined) continue;
    if (step.ns === ns) return step;
    latest = step;
  }
  return latest;
}

/** The open node step whose task runs the code at `ns`, if any. */
export function nodeStepAt(steps: Steps, ns: string | undefined): Step | undefined {
  if (ns === undefined) return undefined;
  for (const step of steps.open) {
    if (step.taskId !== undefined && step.ns !== undefined && within(ns, step.ns)) return step;
  }
  return undefined;
}

/**
 * Writes the `agent_started` of the node step running now, if not yet written: before a call
 * made inside the node starts, and before any other chunk fired inside it (a `budget_adapted`
 * at a call's start, say), so the feed reads in order.
 */
export function announceCurrentStep(tracker: TokenTracker): void {
  const steps = stepsByTracker.get(tracker);
  if (!steps || steps.open.size === 0) return;
  const step = nodeStepAt(steps, currentNamespace());
  if (step && step.announced === false) announce(tracker, step, NODE_STARTED_MESSAGE);
}

setBeforeDeliver(announceCurrentStep);
