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

import { type TokenTracker, trackerInConfigurable } from '../account/tracker.js';
import { isRecord } from '../usage/counts.js';

/** What the running graph says about a call; every field is optional. */
export interface GraphAttribution {
  agent?: string;
  node?: string;
  threadId?: string;
  /** The tracker of the `runWithTracking` run the call belongs to. @internal */
  tracker?: TokenTracker;
}

type ConfigReader = () => unknown;

/** The config reader once loaded; `null` when @langchain/core is not installed. */
let loadedReader: ConfigReader | null | undefined;
let loading: Promise<ConfigReader | null> | undefined;

function loadReader(): Promise<ConfigReader | null> {
  loading ??= import('@langchain/core/singletons').then(
    ({ AsyncLocalStorageProviderSingleton: als }) =>
      () =>
        als.getRunnableConfig(),
    () => null, // not installed: no attribution
  );
  return loading.then((read) => {
    loadedReader = read;
    return read;
  });
}

function attributionWith(read: ConfigReader | null): GraphAttribution {
  try {
    return read ? attributionFrom(read()) : {};
  } catch {
    return {};
  }
}

/**
 * Attribution of the LangGraph node running the current async context (`{}` outside a graph).
 * Synchronous once @langchain/core has been loaded (the first call loads it): a tracked call
 * then costs no extra await.
 *
 * @example
 * // inside a node of a subgraph registered as "researcher":
 * await graphAttribution(); // { agent: 'researcher', node: 'agent', threadId: 't-1' }
 */
export function graphAttribution(): GraphAttribution | Promise<GraphAttribution> {
  if (loadedReader !== undefined) return attributionWith(loadedReader);
  return loadReader().then(attributionWith);
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
  const agent = (namespace !== undefined ? firstSegment(namespace) : undefined) ?? node;
  const threadId = text(configurable.thread_id) ?? text(metadata.thread_id);
  const found: GraphAttribution = {};
  if (agent) found.agent = agent;
  if (node) found.node = node;
  if (threadId) found.threadId = threadId;
  const tracker = trackerInConfigurable(configurable);
  if (tracker) found.tracker = tracker;
  return found;
}

/** `researcher` of `researcher:<id>|agent:<id>`; undefined when empty. */
function firstSegment(namespace: string): string | undefined {
  let end = namespace.length;
  const bar = namespace.indexOf('|');
  if (bar >= 0) end = bar;
  const colon = namespace.indexOf(':');
  if (colon >= 0 && colon < end) end = colon;
  return end > 0 ? namespace.slice(0, end) : undefined;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value !== '' ? value : undefined;
}
