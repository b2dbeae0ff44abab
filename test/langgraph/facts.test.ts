/**
 * The LangGraph / LangChain behaviour tollgate/langgraph is built on (DESIGN.md, "LangGraph.js
 * facts"). When an upgrade changes one of these, this file says which.
 */
import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import { getConfig, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { describe, expect, it } from 'vitest';
import { ScriptedChatModel } from './fake-model.js';

class Probe extends BaseCallbackHandler {
  name = 'Probe';
  seen: { callback: string; hasConfig: boolean; metadata?: Record<string, unknown> }[] = [];

  constructor() {
    super({ _awaitHandler: true });
  }

  override async handleChatModelStart(
    ...args: Parameters<NonNullable<BaseCallbackHandler['handleChatModelStart']>>
  ) {
    // (llm, messages, runId, parentRunId, extraParams, tags, metadata)
    this.seen.push({ callback: 'start', hasConfig: getConfig() !== undefined, metadata: args[6] });
  }

  override async handleLLMEnd(
    ...args: Parameters<NonNullable<BaseCallbackHandler['handleLLMEnd']>>
  ) {
    // (output, runId, parentRunId, tags, extraParams): no metadata parameter at all
    this.seen.push({ callback: 'end', hasConfig: getConfig() !== undefined, metadata: args[4] });
  }
}

describe('facts tollgate/langgraph relies on', () => {
  it('awaited handlers run without the node config; only the start sees metadata', async () => {
    const model = new ScriptedChatModel({ model: 'gemini-2.5-pro' });
    const inner = new StateGraph(MessagesAnnotation)
      .addNode('draft', async (state) => {
        expect(getConfig()?.writer).toBeTypeOf('function');
        return { messages: [await model.invoke(state.messages)] };
      })
      .addEdge(START, 'draft')
      .compile();
    const graph = new StateGraph(MessagesAnnotation)
      .addNode('team', inner)
      .addEdge(START, 'team')
      .compile();
    const probe = new Probe();
    await graph.invoke(
      { messages: [{ role: 'user', content: 'x' }] },
      { callbacks: [probe], configurable: { thread_id: 't-1' } },
    );
    const [start, end] = probe.seen;
    expect(start?.hasConfig).toBe(false);
    expect(start?.metadata).toMatchObject({
      langgraph_node: 'draft',
      thread_id: 't-1',
      ls_model_name: 'gemini-2.5-pro',
      checkpoint_ns: expect.stringMatching(/^team:[^|]+\|draft:[^|]+$/),
    });
    expect(end?.hasConfig).toBe(false);
    expect(end?.metadata).toBeUndefined();
  });
});
