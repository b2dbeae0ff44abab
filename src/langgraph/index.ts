/**
 * tollgate/langgraph: token and cost tracking for LangGraph.js workflows.
 *
 * - `TokenTrackingCallbackHandler` records every LangChain model call, attributed to its agent,
 *   and refuses calls once a hard budget is spent (or pauses for approval).
 * - `attachStreamFeed`, `agentStarted`, `agentCompleted`: tollgate events as "custom" stream
 *   chunks, from any node, helper, parallel branch, `Send` task or subgraph; with `budgets`, a
 *   shared `BudgetManager`'s adaptations and alerts too.
 * - `TokenUsageAnnotation` / `tokenUsageUpdate()`: the statistics in the graph's state, merged
 *   idempotently so subgraphs never double count.
 * - `runWithTracking` / `resumeWithTracking`: all of it for one run, with console lines and reports,
 *   and an `agent_started` / `agent_completed` pair for every node task.
 * - Without any of it, a graph's own "custom" stream carries budget chunks and an `agent_started`
 *   per node that makes tracked calls (`setAutoFeed(false)` turns that off).
 */

export { type AgentFeedOptions, agentCompleted, agentStarted } from './agents.js';
export {
  mergeTokenUsage,
  snapshotTokenUsage,
  TokenUsageAnnotation,
  type TokenUsageSnapshot,
  tokenUsageUpdate,
} from './annotation.js';
export {
  AGENT_METADATA_KEY,
  type Attribution,
  agentFromNamespace,
  attributeRun,
} from './attribution.js';
export { setAutoFeed } from './autofeed.js';
export { type TrackChatModelOptions, trackChatModel } from './chat-model.js';
export {
  attachStreamFeed,
  type ChunkWriter,
  type FeedBudgetInfo,
  isTokenFeedChunk,
  type StreamFeedOptions,
  type TokenFeedChunk,
  type TokenFeedChunkType,
} from './feed.js';
export { adaptedMessage, alertMessage, budgetMessage, formatFeedChunk } from './format.js';
export {
  TokenTrackingCallbackHandler,
  type TokenTrackingCallbackHandlerOptions,
} from './handler.js';
export { type BudgetApproval, type BudgetInterruptValue, isBudgetInterrupt } from './interrupt.js';
export {
  type RunWithTrackingOptions,
  resumeWithTracking,
  runWithTracking,
  type TrackableGraph,
  type TrackedRunFailure,
  type TrackedRunResult,
} from './run.js';
