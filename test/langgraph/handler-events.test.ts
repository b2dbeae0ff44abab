/**
 * Which LangChain events `TokenTrackingCallbackHandler` asks for: only model calls, unless a
 * subclass adds a method for another kind (LangChain dispatches every event of every runnable
 * to every handler that does not ignore its kind, which is most of a handler's cost in a graph).
 */
import type { Serialized } from '@langchain/core/load/serializable';
import { Annotation, StateGraph } from '@langchain/langgraph';
import { describe, expect, it } from 'vitest';
import { TokenTracker } from '../../src/index.js';
import { attachStreamFeed, TokenTrackingCallbackHandler } from '../../src/langgraph/index.js';
import { ScriptedChatModel } from './fake-model.js';
import { collect } from './support.js';

function graphCalling(model: ScriptedChatModel) {
  const State = Annotation.Root({ out: Annotation<string>() });
  return new StateGraph(State)
    .addNode('writer', async () => ({ out: String((await model.invoke('hi')).content) }))
    .addEdge('__start__', 'writer')
    .compile();
}

describe('TokenTrackingCallbackHandler event kinds', () => {
  it('ignores chains, agents, retrievers and custom events, and still records and feeds', async () => {
    const tracker = new TokenTracker();
    const handler = new TokenTrackingCallbackHandler({ tracker });
    expect(handler).toMatchObject({
      ignoreChain: true,
      ignoreAgent: true,
      ignoreRetriever: true,
      ignoreCustomEvent: true,
      ignoreLLM: false,
    });
    // LangChain's copy() keeps the flags.
    expect(handler.copy()).toMatchObject({ ignoreChain: true, ignoreLLM: false });
    const { chunks } = await collect(
      graphCalling(new ScriptedChatModel()),
      {},
      {
        callbacks: [handler],
      },
    );
    expect(tracker.getUsageHistory()).toHaveLength(1);
    // With a feed attached, the llm_call chunk reaches the node's own stream through the
    // writer captured on the awaitHandlers read (the handler runs outside the node's context).
    const detach = attachStreamFeed(tracker);
    const again = await collect(
      graphCalling(new ScriptedChatModel()),
      {},
      { callbacks: [handler] },
    );
    detach();
    // Without a feed, only the automatic feed writes: the node's step, no llm_call.
    expect(chunks.map((c) => [c.type, c.agent])).toEqual([['agent_started', 'writer']]);
    expect(again.chunks.map((c) => c.type)).toEqual(['llm_call']);
    expect(again.chunks[0]?.agent).toBe('writer');
  });

  it('a subclass with a chain method still receives chain events', async () => {
    const seen: string[] = [];
    class ChainAware extends TokenTrackingCallbackHandler {
      override async handleChainStart(_chain: Serialized, _inputs: unknown, _runId: string) {
        seen.push('chain');
      }
    }
    const tracker = new TokenTracker();
    const handler = new ChainAware({ tracker });
    expect(handler.ignoreChain).toBe(false);
    expect(handler.ignoreCustomEvent).toBe(true);
    await graphCalling(new ScriptedChatModel()).invoke({}, { callbacks: [handler] });
    expect(seen.length).toBeGreaterThan(0);
    expect(tracker.getUsageHistory()).toHaveLength(1);
  });
});
