/**
 * The automatic feed: tollgate's chunks in any graph's stream, without `runWithTracking` or
 * `attachStreamFeed`.
 *
 * Every tracker (one made with `new TokenTracker()`, a `tracker.run` session's, the process-wide
 * one) reports its records and budget events to one ambient observer. When the code that records
 * runs inside a LangGraph node (`trackGemini`, `record()` in a node, or the callback handler,
 * which captures its node's writer), the observer writes into that node's stream writer, so a
 * `graph.stream(input, { streamMode: [..., 'custom'] })` carries:
 * - `budget_warning` / `budget_exceeded` chunks, from the call that crossed the threshold;
 * - one `agent_started` chunk per node task that makes tracked calls, unless the node announced
 *   itself with `agentStarted` first: written just before its first call when the call is made
 *   inside the node (`trackGemini`), else when that call is recorded (a LangChain model seen by
 *   the callback handler, which runs outside the node: right after its first call). A plain
 *   stream shows tollgate no node's end, so no `agent_completed` is written for it: call
 *   `agentCompleted` in the node, or run the graph with `runWithTracking`, which writes both for
 *   every task.
 *
 * No `llm_call` chunks: each chunk costs about 50 µs in LangGraph's stream machinery, so they
 * stay an opt-in (`attachStreamFeed`). A tracker with a feed attached (`attachStreamFeed`,
 * `runWithTracking`) is fed by that feed alone, so nothing is written twice. `setAutoFeed(false)`
 * turns the automatic feed off for the process.
 */
import { setAmbientObserver } from '../account/tracker.js';
import { describe } from '../errors.js';
import {
  type BudgetEvent,
  ConfigurationError,
  type TokenTracker,
  type UsageRecord,
} from '../index.js';
import { agentFromNamespace } from './attribution.js';
import { currentNamespace } from './context.js';
import {
  budgetChunk,
  type ChunkWriter,
  currentWriter,
  feedChunk,
  hasAttachedFeed,
} from './feed.js';
import { announceCurrentStep, NODE_STARTED_MESSAGE } from './steps.js';

let enabled = true;

/** Tasks already announced, by their top-level namespace segment (`node:<task id>`). Bounded. */
const startedTasks = new Set<string>();
const STARTED_MEMORY = 4096;

/**
 * Turns the automatic feed on or off for the whole process (default on): with it off, a graph's
 * own stream carries tollgate chunks only through `attachStreamFeed`, `agentStarted` /
 * `agentCompleted` or `runWithTracking`.
 *
 * @example
 * import { setAutoFeed } from 'tollgate/langgraph';
 * setAutoFeed(false); // graph.stream(…, { streamMode: 'custom' }) shows only your own chunks
 */
export function setAutoFeed(on: boolean): void {
  if (typeof on !== 'boolean') {
    throw new ConfigurationError(`setAutoFeed takes true or false, got ${describe(on)}`);
  }
  enabled = on;
}

/** The task a namespace belongs to: its first segment (`researcher:<task id>`). */
function taskOf(ns: string): string {
  const bar = ns.indexOf('|');
  return bar < 0 ? ns : ns.slice(0, bar);
}

/** Notes that a node announced itself (`agentStarted`) at `ns`. @internal */
export function markStarted(ns: string | undefined): void {
  if (ns === undefined) return;
  startedTasks.add(taskOf(ns));
  if (startedTasks.size > STARTED_MEMORY) {
    startedTasks.delete(startedTasks.values().next().value as string);
  }
}

function write(writer: (chunk: unknown) => void, chunk: unknown): void {
  try {
    writer(chunk);
  } catch {
    // A feed must never break the node that fired it.
  }
}

/** Writes the `agent_started` of the task at `ns`, once per task. */
function startTask(tracker: TokenTracker, writer: ChunkWriter, ns: string, agent: string): void {
  const task = taskOf(ns);
  if (startedTasks.has(task)) return;
  markStarted(ns);
  const colon = task.indexOf(':');
  const taskId = colon < 0 ? undefined : task.slice(colon + 1);
  write(
    writer,
    feedChunk(tracker, 'agent_started', agent, NODE_STARTED_MESSAGE, undefined, taskId),
  );
}

/** Before a call made inside a node (`trackGemini`, a guarded `record()`): its task starts. */
function onCallStart(tracker: TokenTracker): void {
  if (hasAttachedFeed(tracker)) {
    // `runWithTracking`: the run's node step for this task, if any, opens now.
    announceCurrentStep(tracker);
    return;
  }
  if (!enabled) return;
  const writer = currentWriter();
  if (!writer) return;
  const ns = currentNamespace();
  const agent = agentFromNamespace(ns);
  if (ns !== undefined && agent !== undefined) startTask(tracker, writer, ns, agent);
}

/** After a call: its task starts, if its start could not be seen (the callback handler's). */
function onRecord(tracker: TokenTracker, record: UsageRecord): void {
  if (!enabled || hasAttachedFeed(tracker)) return;
  const writer = currentWriter();
  if (!writer) return;
  const recorded = record.metadata?.checkpointNs;
  const ns = typeof recorded === 'string' ? recorded : currentNamespace();
  if (ns !== undefined) startTask(tracker, writer, ns, agentFromNamespace(ns) ?? record.agent);
}

function onBudget(tracker: TokenTracker, event: BudgetEvent): void {
  if (!enabled || hasAttachedFeed(tracker)) return;
  const writer = currentWriter();
  if (writer) write(writer, budgetChunk(event));
}

setAmbientObserver({ callStart: onCallStart, record: onRecord, budget: onBudget });
