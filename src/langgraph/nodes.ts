/**
 * Node steps: an `agent_started` / `agent_completed` pair for every task of a graph run by
 * `runWithTracking`, with the cost and tokens of the calls made inside it.
 *
 * How the tasks are seen, without a LangChain callback handler on the graph (that alone costs
 * about 200 µs a model call): LangGraph 1.7 runs a graph whose `configurable` holds a parent
 * stream (`__pregel_stream`, the key a parent graph uses to receive its subgraphs' chunks) with
 * both streams joined, and the modes each wants. A sink asking for "tasks" receives, synchronously
 * from the graph's loop, each task's start (before its node runs) and its result (as it settles,
 * with its error or interrupts), while the caller's own stream keeps exactly its own modes.
 * LangGraph builds these payloads only when some stream asks for "tasks": a few objects a task.
 *
 * Only the run's top-level tasks are steps: a subgraph or prebuilt agent registered as a node is
 * one step named by that node, as the attribution names its calls (first `checkpoint_ns`
 * segment), and each `Send` task is a step of its own (`taskId` tells them apart).
 */
import type { TokenTracker } from '../index.js';
import { agentFromNamespace } from './attribution.js';
import { deliver, feedChunk } from './feed.js';
import {
  announce,
  NODE_COMPLETED_MESSAGE,
  NODE_STARTED_MESSAGE,
  newStep,
  type Step,
  stepsOf,
  totalsOf,
} from './steps.js';

/** LangGraph's config key for a parent stream (`CONFIG_KEY_STREAM`, not exported). @internal */
export const PARENT_STREAM_KEY = '__pregel_stream';

/** What LangGraph requires of a parent stream: the modes it wants, and `push`. */
interface ParentStream {
  modes: Set<string>;
  push(chunk: unknown): void;
}

/** A task start ("tasks" mode): `{ id, name, input, triggers }`; a result adds `result`. */
interface TaskPayload {
  id: string;
  name: string;
  result?: unknown;
  error?: { message?: string; name?: string } | null;
  interrupts?: unknown[];
}

function isParentStream(value: unknown): value is ParentStream {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { modes?: unknown }).modes instanceof Set &&
    typeof (value as { push?: unknown }).push === 'function'
  );
}

function taskPayload(value: unknown): TaskPayload | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, name } = value as { id?: unknown; name?: unknown };
  return typeof id === 'string' && typeof name === 'string' ? (value as TaskPayload) : undefined;
}

/** The message of a failed or paused task's `agent_completed`. */
function endMessage(task: TaskPayload): string {
  if (task.error) {
    const { name, message } = task.error;
    return `Step failed: ${name ?? 'Error'}${message ? `: ${message}` : ''}`;
  }
  if (task.interrupts && task.interrupts.length > 0) return 'Step interrupted';
  return NODE_COMPLETED_MESSAGE;
}

/** The node steps of one run: the config entry that shows its tasks, and the end of the run. */
export interface NodeObserver {
  /** To merge into the graph's `configurable`. */
  configurable: Record<string, unknown>;
  /** Forgets the steps of tasks that never reported an end (a run that failed or paused). */
  stop(): void;
}

/**
 * Starts writing node steps for a run tracked by `tracker`. `parent` is a parent stream already
 * in the caller's config (a graph run inside another graph's node): it still gets its chunks.
 * @internal
 */
export function observeNodes(tracker: TokenTracker, parent?: unknown): NodeObserver {
  const steps = stepsOf(tracker);
  const byTask = new Map<string, Step>();
  const upstream = isParentStream(parent) ? parent : undefined;
  /** The run's own namespace, from its first chunk: deeper ones are subgraphs' tasks. */
  let top: string | undefined;

  const onTask = (namespace: string, task: TaskPayload) => {
    if ('result' in task) {
      const step = byTask.get(task.id);
      if (!step) return;
      byTask.delete(task.id);
      // Closed already by an explicit `agentCompleted`: that was the step's completion.
      if (!steps.open.delete(step)) return;
      if (!step.announced) announce(tracker, step, NODE_STARTED_MESSAGE);
      const totals = task.error ? { ...totalsOf(step), failed: true as const } : totalsOf(step);
      deliver(
        tracker,
        feedChunk(tracker, 'agent_completed', step.agent, endMessage(task), totals, step.taskId),
      );
      return;
    }
    const own = `${task.name}:${task.id}`;
    // Named as the attribution names the task's calls: the namespace's first segment.
    const step =
      namespace === ''
        ? newStep(task.name, own, task.id)
        : newStep(agentFromNamespace(namespace) ?? task.name, `${namespace}|${own}`, task.id);
    byTask.set(task.id, step);
    steps.open.add(step);
  };

  const sink: ParentStream = {
    modes: new Set(upstream ? ['tasks', ...upstream.modes] : ['tasks']),
    push(chunk: unknown) {
      if (upstream?.modes.has((chunk as unknown[])[1] as string)) upstream.push(chunk);
      if (!Array.isArray(chunk) || chunk[1] !== 'tasks') return;
      const [path, , payload] = chunk as [unknown, string, unknown];
      const namespace = Array.isArray(path) ? path.join('|') : '';
      top ??= namespace;
      if (namespace !== top) return;
      const task = taskPayload(payload);
      if (!task) return;
      try {
        onTask(namespace, task);
      } catch {
        // The feed must never break the graph it watches.
      }
    },
  };

  let stopped = false;
  return {
    configurable: { [PARENT_STREAM_KEY]: sink },
    stop() {
      if (stopped) return;
      stopped = true;
      for (const step of byTask.values()) steps.open.delete(step);
      byTask.clear();
    },
  };
}
