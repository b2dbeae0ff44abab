import type { Serialized } from '@langchain/core/load/serializable';
import { AIMessage } from '@langchain/core/messages';
import type { ChatGeneration, LLMResult } from '@langchain/core/outputs';
import { MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { describe, expect, it, vi } from 'vitest';
import { BudgetExceededError, TokenTracker, type UsageAnomalyEvent } from '../../src/index.js';
import { TokenTrackingCallbackHandler } from '../../src/langgraph/index.js';
import { ScriptedChatModel } from './fake-model.js';
import { costOf, silenceHandlerErrors } from './support.js';

const USAGE = { input_tokens: 100, output_tokens: 20, total_tokens: 120 };
const input = { messages: [{ role: 'user', content: 'go' }] };
const llm: Serialized = { lc: 1, type: 'not_implemented', id: ['fake'] };

/** What a chat model hands `handleLLMEnd`. */
function chatResult(usage: typeof USAGE): LLMResult {
  const generation: ChatGeneration = {
    text: 'ok',
    message: new AIMessage({ content: 'ok', usage_metadata: usage }),
  };
  return { generations: [[generation]] };
}

function oneNodeGraph(model: ScriptedChatModel, calls = 1) {
  return new StateGraph(MessagesAnnotation)
    .addNode('writer', async (state) => {
      const replies = [];
      for (let i = 0; i < calls; i++) replies.push(await model.invoke(state.messages));
      return { messages: replies };
    })
    .addEdge(START, 'writer')
    .compile();
}

describe('TokenTrackingCallbackHandler', () => {
  it('records each call with its model, agent, node and thread', async () => {
    const model = new ScriptedChatModel({
      model: 'gemini-2.5-pro',
      script: () => ({ usage: USAGE }),
    });
    const tracker = new TokenTracker();
    const handler = new TokenTrackingCallbackHandler({ tracker });
    await oneNodeGraph(model, 2).invoke(input, {
      callbacks: [handler],
      configurable: { thread_id: 'thread-7' },
      metadata: { user_id: 'ada' },
    });
    const [first] = tracker.getUsageHistory();
    expect(tracker.getStatistics().totalCalls).toBe(2);
    expect(first).toMatchObject({
      agent: 'writer',
      node: 'writer',
      model: 'gemini-2.5-pro',
      threadId: 'thread-7',
      userId: 'ada',
    });
    expect(first?.usage).toMatchObject({ inputTokens: 100, outputTokens: 20, totalTokens: 120 });
    expect(first?.cost.totalUsd).toBe(costOf('gemini-2.5-pro', USAGE));
    expect(first?.callId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('uses the tracker current when it is created', async () => {
    const tracker = new TokenTracker();
    const handler = tracker.run(() => new TokenTrackingCallbackHandler());
    expect(handler.tracker).toBe(tracker);
  });

  it('counts a run once when it is recorded twice (same run id)', async () => {
    const tracker = new TokenTracker();
    const handler = new TokenTrackingCallbackHandler({ tracker });
    const output = chatResult(USAGE);
    const runId = '0191f3a8-0000-7000-8000-000000000001';
    await handler.handleChatModelStart(llm, [], runId, undefined, {
      invocation_params: { model: 'gemini-2.5-flash' },
    });
    await handler.handleLLMEnd(output, runId);
    await handler.handleLLMEnd(output, runId);
    expect(tracker.getStatistics().totalCalls).toBe(1);

    // The same handler registered twice sees every call twice, and still counts it once.
    const model = new ScriptedChatModel({ script: () => ({ usage: USAGE }) });
    await oneNodeGraph(model).invoke(input, { callbacks: [handler, handler] });
    expect(tracker.getStatistics().totalCalls).toBe(2);
  });

  it('shares calls in flight with the copies LangChain makes of it', async () => {
    const tracker = new TokenTracker();
    const handler = new TokenTrackingCallbackHandler({ tracker, enforce: 'hard' });
    const copy = handler.copy() as TokenTrackingCallbackHandler;
    expect(copy).toBeInstanceOf(TokenTrackingCallbackHandler);
    expect(copy.tracker).toBe(tracker);
    expect(copy.enforce).toBe('hard');
    expect(copy.awaitHandlers).toBe(true);
    expect(copy.raiseError).toBe(true);
    const runId = '0191f3a8-0000-7000-8000-000000000002';
    await handler.handleChatModelStart(llm, [], runId, undefined, undefined, undefined, {
      ls_model_name: 'gemini-2.5-flash',
      langgraph_node: 'agent',
      checkpoint_ns: 'critic:1|agent:2',
    });
    await copy.handleLLMEnd(chatResult(USAGE), runId);
    expect(tracker.getUsageHistory()[0]).toMatchObject({
      agent: 'critic',
      node: 'agent',
      model: 'gemini-2.5-flash',
    });
  });

  it('falls back to llmOutput.tokenUsage, and records plain LLMs from handleLLMStart', async () => {
    const tracker = new TokenTracker();
    const handler = new TokenTrackingCallbackHandler({ tracker });
    const runId = '0191f3a8-0000-7000-8000-000000000003';
    await handler.handleLLMStart(
      llm,
      ['prompt'],
      runId,
      undefined,
      {
        invocation_params: { model_name: 'gpt-4o-mini' },
      },
      undefined,
      { tollgate_agent: 'summarizer' },
    );
    await handler.handleLLMEnd(
      {
        generations: [[{ text: 'done' }]],
        llmOutput: { tokenUsage: { promptTokens: 50, completionTokens: 10, totalTokens: 60 } },
      },
      runId,
    );
    expect(tracker.getUsageHistory()[0]).toMatchObject({
      agent: 'summarizer',
      model: 'gpt-4o-mini',
      usage: { inputTokens: 50, outputTokens: 10 },
    });
  });

  it('repairs @langchain/google-genai usage: thinking tokens only in total_tokens', async () => {
    const model = new ScriptedChatModel({
      model: 'gemini-2.5-flash',
      script: () => ({ usage: { input_tokens: 10, output_tokens: 5, total_tokens: 45 } }),
    });
    const tracker = new TokenTracker();
    const anomalies: UsageAnomalyEvent[] = [];
    tracker.on('usage_anomaly', (event) => anomalies.push(event));
    await oneNodeGraph(model).invoke(input, {
      callbacks: [new TokenTrackingCallbackHandler({ tracker })],
    });
    const [call] = tracker.getUsageHistory();
    expect(call?.usage).toMatchObject({
      inputTokens: 10,
      outputTokens: 35,
      reasoningTokens: 30,
      totalTokens: 45,
    });
    expect(anomalies).toHaveLength(1);
    expect(anomalies[0]?.message).toMatch(/thinking tokens recovered/);
  });

  it('recovers a cache_read repeated on every chunk, whichever provider sent it', async () => {
    // Ten chunks, each repeating the running cache_read of 901 while input is a delta (0 after
    // the first): LangChain's concat sums 9010. A delta never caches more than it inputs, so
    // the chunks carry a running value and the last one is the call's.
    const chunkUsage = Array.from({ length: 10 }, (_, i) => ({
      input_tokens: i === 0 ? 1844 : 0,
      output_tokens: i === 9 ? 523 : 0,
      total_tokens: (i === 0 ? 1844 : 0) + (i === 9 ? 523 : 0),
      input_token_details: { cache_read: 901 },
    }));
    const model = new ScriptedChatModel({
      streaming: true,
      script: () => ({ content: 'a streamed answer', chunkUsage }),
    });
    const tracker = new TokenTracker();
    const graph = oneNodeGraph(model);
    // "messages" mode makes LangChain stream the model through _streamResponseChunks.
    for await (const _ of await graph.stream(input, {
      streamMode: 'messages',
      callbacks: [new TokenTrackingCallbackHandler({ tracker })],
    })) {
      // drain
    }
    const [call] = tracker.getUsageHistory();
    expect(call?.usage).toMatchObject({
      inputTokens: 1844,
      outputTokens: 523,
      cacheReadTokens: 901,
    });
    expect(call?.usage.repairs).toBeUndefined();
  });

  it('keeps the upper-bound repair for a cache_read with nothing else to go on', async () => {
    // One message, no chunks: a cache_read above the input cannot be trusted.
    const model = new ScriptedChatModel({
      script: () => ({
        usage: {
          input_tokens: 1844,
          output_tokens: 523,
          total_tokens: 2367,
          input_token_details: { cache_read: 9010 },
        },
      }),
    });
    const tracker = new TokenTracker();
    await oneNodeGraph(model).invoke(input, {
      callbacks: [new TokenTrackingCallbackHandler({ tracker })],
    });
    const [call] = tracker.getUsageHistory();
    expect(call?.usage).toMatchObject({ inputTokens: 1844, outputTokens: 523, cacheReadTokens: 0 });
    expect(call?.usage.repairs?.map((r) => r.field)).toContain('input_token_details.cache_read');
  });

  it('never fails a paid call because recording failed', async () => {
    const onError = vi.fn();
    const tracker = new TokenTracker({ strictUsage: true });
    const model = new ScriptedChatModel({
      script: () => ({ usage: { input_tokens: -3, output_tokens: 1, total_tokens: -2 } }),
    });
    const state = await oneNodeGraph(model).invoke(input, {
      callbacks: [new TokenTrackingCallbackHandler({ tracker, onError })],
    });
    expect(state.messages).toHaveLength(2);
    expect(onError).toHaveBeenCalledOnce();
    expect(tracker.getStatistics().totalCalls).toBe(0);
  });
});

describe('a hard budget through the callback handler', () => {
  const limit = costOf('gemini-2.5-flash', USAGE) * 1.5; // spent after the second call

  const runners = {
    invoke: (graph: ReturnType<typeof oneNodeGraph>, config: object) => graph.invoke(input, config),
    stream: async (graph: ReturnType<typeof oneNodeGraph>, config: object) => {
      for await (const _ of await graph.stream(input, {
        ...config,
        streamMode: ['values', 'custom'],
      })) {
        // drain
      }
    },
    streamEvents: async (graph: ReturnType<typeof oneNodeGraph>, config: object) => {
      for await (const _ of graph.streamEvents(input, { ...config, version: 'v2' })) {
        // drain
      }
    },
  };

  it.each(Object.entries(runners))(
    'refuses the call before the model is called, through %s',
    async (_name, run) => {
      silenceHandlerErrors();
      const model = new ScriptedChatModel({ script: () => ({ usage: USAGE }) });
      // Estimates as small as the calls (20 output tokens; 1,024 before the first record).
      const tracker = new TokenTracker({
        budgetLimitUsd: limit,
        enforce: 'hard',
        holdOutputTokens: 20,
      });
      const handler = new TokenTrackingCallbackHandler({ tracker });
      const error = await run(oneNodeGraph(model, 5), { callbacks: [handler] }).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(BudgetExceededError);
      expect(BudgetExceededError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ agent: 'writer', limitUsd: limit, scope: 'session' });
      // The first call spends 2/3 of the budget; the second's estimate (20 output tokens) does
      // not fit in the rest, so it is refused before it reaches the model.
      expect(model.calls).toBe(1);
      expect(tracker.getStatistics().totalCalls).toBe(1);
      expect((error as BudgetExceededError).estimateUsd).toBeGreaterThan(limit / 3);
      expect(tracker.callsInFlight).toBe(0);
    },
  );

  it('enforces per handler even when the tracker only warns', async () => {
    silenceHandlerErrors();
    const model = new ScriptedChatModel({ script: () => ({ usage: USAGE }) });
    const tracker = new TokenTracker({ budgetLimitUsd: limit, holdOutputTokens: 20 });
    const handler = new TokenTrackingCallbackHandler({ tracker, enforce: 'hard' });
    await expect(oneNodeGraph(model, 5).invoke(input, { callbacks: [handler] })).rejects.toThrow(
      BudgetExceededError,
    );
    expect(model.calls).toBe(1);
  });

  it('does not refuse with enforce "warn"', async () => {
    const model = new ScriptedChatModel({ script: () => ({ usage: USAGE }) });
    const tracker = new TokenTracker({ budgetLimitUsd: limit, enforce: 'hard' });
    const handler = new TokenTrackingCallbackHandler({ tracker, enforce: 'warn' });
    await oneNodeGraph(model, 5).invoke(input, { callbacks: [handler] });
    expect(model.calls).toBe(5);
  });
});

describe('TokenTrackingCallbackHandler options', () => {
  it('rejects an unknown enforce mode, naming the option', () => {
    expect(() => new TokenTrackingCallbackHandler({ enforce: 'strict' as 'hard' })).toThrow(
      /enforce/,
    );
  });
});
