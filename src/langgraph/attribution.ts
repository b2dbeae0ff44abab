/**
 * Who made an LLM call, read from the metadata LangGraph attaches to every run inside a graph.
 * Pure functions of the metadata: they work in callback handlers, where `getConfig()` is
 * undefined, and never mix concurrent runs.
 */

/** Who made one call. */
export interface Attribution {
  /** The agent: the first segment of `checkpoint_ns`, else `langgraph_node`, else undefined. */
  agent: string | undefined;
  /** The LangGraph node that ran the model (`agent` for every prebuilt agent). */
  node: string | undefined;
  threadId: string | undefined;
  userId: string | undefined;
  /** The full checkpoint namespace, e.g. `researcher:1f0…|agent:9b0…`. */
  checkpointNs: string | undefined;
}

/** Metadata key that names the agent explicitly, e.g. for a model called outside any graph. */
export const AGENT_METADATA_KEY = 'tollgate_agent';

/**
 * The agent a checkpoint namespace belongs to: its first segment without the task id. Prebuilt
 * agents (createReactAgent, supervisor, swarm) all call their model node `agent`, so the node
 * name says nothing; the top-level node that runs the agent's subgraph carries its name.
 *
 * @example
 * agentFromNamespace('researcher:1f0c…|agent:9b0b…'); // → 'researcher'
 * agentFromNamespace('planner:6d2a…');                // → 'planner'
 * agentFromNamespace('');                             // → undefined
 */
export function agentFromNamespace(checkpointNs: string | undefined): string | undefined {
  if (!checkpointNs) return undefined;
  // Two scans instead of two `split`s: this runs for every model call (no arrays allocated).
  let end = checkpointNs.indexOf('|');
  if (end < 0) end = checkpointNs.length;
  const colon = checkpointNs.indexOf(':');
  if (colon >= 0 && colon < end) end = colon;
  return end > 0 ? checkpointNs.slice(0, end) : undefined;
}

/**
 * Reads agent, node, thread and user from a run's metadata (as a callback handler receives it
 * in `handleChatModelStart`). `metadata.tollgate_agent` overrides the derived agent.
 *
 * @example
 * attributeRun({ langgraph_node: 'agent', checkpoint_ns: 'writer:a1|agent:b2', thread_id: 't1' });
 * // → { agent: 'writer', node: 'agent', threadId: 't1', userId: undefined, checkpointNs: … }
 */
export function attributeRun(metadata: Record<string, unknown> | undefined): Attribution {
  const meta = metadata ?? {};
  const node = text(meta.langgraph_node);
  const checkpointNs = text(meta.checkpoint_ns);
  return {
    agent: text(meta[AGENT_METADATA_KEY]) ?? agentFromNamespace(checkpointNs) ?? node,
    node,
    threadId: text(meta.thread_id),
    userId: text(meta.user_id) ?? text(meta.userId),
    checkpointNs,
  };
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number') return String(value);
  return undefined;
}
