/**
 * Who is calling: attribution read from the running LangGraph node, without extra arguments.
 *
 * LangGraph keeps each node's config in @langchain/core's AsyncLocalStorage. Its metadata says
 * `langgraph_node` (the node) and `checkpoint_ns` (`"researcher:<id>|agent:<id>"` inside a
 * subgraph). Rules:
 * - agent: the FIRST segment of `checkpoint_ns` before `:`. Prebuilt agents all name their model
 *   node `agent`, so the subgraph's name is the agent; in a top-level node it is the node itself;
 * - node: `langgraph_node`;
 * - thread: `configurable.thread_id`, else `metadata.thread_id`.
 *
 * @langchain/core is an optional peer: it is imported lazily, once; when it is absent, or the call
 * runs outside any graph, nothing is known and the caller falls back to agent `"unknown"`.
 */

import { isRecord } from '../usage/counts.js';

/** What the running graph says about a call; every field is optional. */
export interface GraphAttribution {
  agent?: string;
  node?: string;
  threadId?: string;
}

type ConfigReader = () => unknown;

let reader: Promise<ConfigReader | undefined> | undefined;

function loadReader(): Promise<ConfigReader | undefined> {
  reader ??= import('@langchain/core/singletons').then(
    ({ AsyncLocalStorageProviderSingleton: als }) =>
      () =>
        als.getRunnableConfig(),
    () => undefined, // not installed: no attribution
  );
  return reader;
}

/**
 * Attribution of the LangGraph node running the current async context (`{}` outside a graph).
 *
 * @example
 * // inside a node of a subgraph registered as "researcher":
 * await graphAttribution(); // { agent: 'researcher', node: 'agent', threadId: 't-1' }
 */
export async function graphAttribution(): Promise<GraphAttribution> {
  const read = await loadReader();
  try {
    return attributionFrom(read?.());
  } catch {
    return {};
  }
}

/**
 * Attribution from a RunnableConfig-like object (pure; exported for tests).
 *
 * @example
 * attributionFrom({ metadata: { langgraph_node: 'agent', checkpoint_ns: 'researcher:a|agent:b' } });
 * // { agent: 'researcher', node: 'agent' }
 */
export function attributionFrom(config: unknown): GraphAttribution {
  if (!isRecord(config)) return {};
  const metadata = isRecord(config.metadata) ? config.metadata : {};
  const configurable = isRecord(config.configurable) ? config.configurable : {};
  const node = text(metadata.langgraph_node);
  const namespace = text(metadata.checkpoint_ns) ?? text(configurable.checkpoint_ns);
  const agent = text(namespace?.split('|')[0]?.split(':')[0]) ?? node;
  const threadId = text(configurable.thread_id) ?? text(metadata.thread_id);
  const found: GraphAttribution = {};
  if (agent) found.agent = agent;
  if (node) found.node = node;
  if (threadId) found.threadId = threadId;
  return found;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value !== '' ? value : undefined;
}
