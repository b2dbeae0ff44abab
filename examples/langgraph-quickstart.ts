/**
 * tollgate/langgraph in one file: a two-agent graph tracked with runWithTracking, offline.
 *
 *   npx tsx examples/langgraph-quickstart.ts
 *
 * Swap `OfflineModel` for `new ChatGoogleGenerativeAI({ model: 'gemini-2.5-flash' })` (or any
 * LangChain chat model): nothing else changes.
 */
import {
  BaseChatModel,
  type BaseChatModelCallOptions,
} from '@langchain/core/language_models/chat_models';
import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import { Annotation, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { BudgetExceededError } from 'tollgate';
import {
  agentCompleted,
  agentStarted,
  runWithTracking,
  TokenUsageAnnotation,
  type TrackedRunFailure,
  tokenUsageUpdate,
} from 'tollgate/langgraph';

/** Answers at once and reports usage the way LangChain chat models do. */
class OfflineModel extends BaseChatModel<BaseChatModelCallOptions> {
  _llmType() {
    return 'offline';
  }
  override invocationParams() {
    return { model: 'gemini-2.5-flash' };
  }
  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const input = 400 * messages.length;
    const message = new AIMessage({
      content: `Answer to ${messages.length} message(s)`,
      usage_metadata: { input_tokens: input, output_tokens: 600, total_tokens: input + 600 },
    });
    return { generations: [{ message, text: String(message.content) }] };
  }
}

const model = new OfflineModel({});
const State = Annotation.Root({ ...MessagesAnnotation.spec, ...TokenUsageAnnotation.spec });

const graph = new StateGraph(State)
  .addNode('planner', async (state) => {
    agentStarted('planner', 'Breaking down task into subtasks');
    const plan = await model.invoke(state.messages);
    agentCompleted('planner', 'Created 3 subtasks');
    return { messages: [plan], ...tokenUsageUpdate() };
  })
  .addNode('writer', async (state) => {
    agentStarted('writer', 'Drafting the report');
    const drafts = [];
    for (let i = 0; i < 3; i++) drafts.push(await model.invoke(state.messages));
    agentCompleted('writer', 'Wrote 3 sections');
    return { messages: drafts, ...tokenUsageUpdate() };
  })
  .addEdge(START, 'planner')
  .addEdge('planner', 'writer')
  .compile();

const input = { messages: [{ role: 'user', content: 'RAG systems' }] };

const result = await runWithTracking(graph, input, {
  workflowName: 'RAG systems',
  budgetLimitUsd: 0.0075, // 90% is crossed by the last call: a budget_warning line
  streamOutput: true,
  printLlmCalls: true,
  reportPath: false,
});
console.log(`\nwriter spent $${result.tokenUsageStats.byAgent.writer?.costUsd.toFixed(6)}`);

// The same graph under a hard limit it cannot meet: the run stops before the model is called.
try {
  await runWithTracking(graph, input, {
    budgetLimitUsd: 0.004,
    enforce: 'hard',
    printReport: false,
    reportPath: false,
  });
} catch (error) {
  if (!(error instanceof BudgetExceededError)) throw error;
  const { tokenUsageStats } = error as BudgetExceededError & TrackedRunFailure;
  console.log(`\nStopped: ${error.message} after ${tokenUsageStats?.totalCalls} calls`);
}
