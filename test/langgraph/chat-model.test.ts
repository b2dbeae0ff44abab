/**
 * `trackChatModel` with real chat models: @langchain/google-genai's ChatGoogleGenerativeAI
 * talking to `tollgate/testing`'s Gemini stand-in over loopback (unary, streamed, tools,
 * structured output, createReactAgent), and LangChain's own fakes for the generic cases.
 */
import { AIMessage, HumanMessage, type UsageMetadata } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { FakeListChatModel, FakeStreamingChatModel } from '@langchain/core/utils/testing';
import { ChatGoogleGenerativeAI } from '@langchain/google-genai';
import { Annotation, StateGraph } from '@langchain/langgraph';
import { createReactAgent } from '@langchain/langgraph/prebuilt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BudgetExceededError, ConfigurationError, TokenTracker } from '../../src/index.js';
import {
  runWithTracking,
  type TokenFeedChunk,
  TokenTrackingCallbackHandler,
  trackChatModel,
} from '../../src/langgraph/index.js';
import {
  type GeminiStandIn,
  type StandInReply,
  type StandInRequest,
  startGeminiStandIn,
} from '../../src/testing/index.js';
import { ScriptedChatModel } from './fake-model.js';
import { silenceHandlerErrors } from './support.js';

let standIn: GeminiStandIn;
let reply: (request: StandInRequest) => StandInReply = () => undefined;

beforeAll(async () => {
  standIn = await startGeminiStandIn({
    respond: (request) => reply(request),
    cacheMinTokens: 8,
    streamChunks: 3,
  });
});
afterAll(() => standIn.close());
afterEach(() => {
  reply = () => undefined;
  standIn.reset();
});

function gemini(model = 'gemini-2.5-flash') {
  return new ChatGoogleGenerativeAI({ model, apiKey: 'test', baseUrl: standIn.baseUrl });
}

/** A one-node graph whose node runs `fn` (the node is called `writer`). */
function oneNode(fn: () => Promise<unknown>, name = 'writer') {
  const State = Annotation.Root({ out: Annotation<unknown>() });
  return new StateGraph(State)
    .addNode(name, async () => ({ out: await fn() }))
    .addEdge('__start__', name)
    .compile();
}

const LONG_PROMPT =
  'You are a careful research assistant. Summarize the following passage in one line. ' +
  'Transformers replaced recurrence with attention, which lets every token look at every ' +
  'other token in one step and trains well on parallel hardware.';

describe('trackChatModel with ChatGoogleGenerativeAI against the Gemini stand-in', () => {
  it('records a unary call in a node: agent, node, thread, model, usage as the handler sees it', async () => {
    const tracker = new TokenTracker();
    const model = trackChatModel(gemini(), { tracker });
    const graph = oneNode(() => model.invoke('Hello there'));
    const before = Date.now();
    await graph.invoke({}, { configurable: { thread_id: 't-1' } });
    const [record, ...rest] = tracker.getUsageHistory();
    expect(rest).toHaveLength(0);
    expect(record).toMatchObject({
      agent: 'writer',
      node: 'writer',
      threadId: 't-1',
      model: 'gemini-2.5-flash',
    });
    expect(record?.timestamp).toBeGreaterThanOrEqual(before);
    expect(record?.usage.inputTokens).toBeGreaterThan(0);
    expect(record?.cost.totalUsd).toBeGreaterThan(0);

    // The callback handler on the same request records the same usage and cost.
    const viaHandler = new TokenTracker();
    const handler = new TokenTrackingCallbackHandler({ tracker: viaHandler });
    standIn.reset();
    await oneNode(() => gemini().invoke('Hello there')).invoke({}, { callbacks: [handler] });
    const other = viaHandler.getUsageHistory()[0];
    expect(record?.usage).toEqual(other?.usage);
    expect(record?.cost.totalFemto).toEqual(other?.cost.totalFemto);
  });

  it('records a streamed call once, with the exact cached count (not summed over chunks)', async () => {
    const tracker = new TokenTracker();
    const model = trackChatModel(gemini(), { tracker });
    await model.invoke(LONG_PROMPT); // fills the stand-in's implicit cache
    await model.invoke(LONG_PROMPT); // unary: google-genai reports the cache exactly
    const graph = oneNode(async () => {
      let text = '';
      for await (const chunk of await model.stream(LONG_PROMPT)) text += String(chunk.content);
      return text;
    });
    await graph.invoke({});
    const [, unary, streamed] = tracker.getUsageHistory();
    expect(unary?.usage.cacheReadTokens).toBeGreaterThan(0);
    expect(streamed?.agent).toBe('writer');
    expect(streamed?.metadata?.stream).toBe('complete');
    expect(streamed?.usage.cacheReadTokens).toBe(unary?.usage.cacheReadTokens);
    expect(streamed?.usage.inputTokens).toBe(unary?.usage.inputTokens);
    expect(streamed?.usage.totalTokens).toBeGreaterThan(streamed?.usage.inputTokens ?? 0);
    expect(tracker.getUsageHistory()).toHaveLength(3);
    expect(standIn.requests).toHaveLength(3);
  });

  it('records once a call in every graph stream mode (messages, values, streamEvents)', async () => {
    const tracker = new TokenTracker();
    const model = trackChatModel(gemini(), { tracker });
    const graph = oneNode(() => model.invoke(LONG_PROMPT));
    // "messages" makes LangChain stream the call internally (a streaming handler is attached).
    for await (const _ of await graph.stream({}, { streamMode: 'messages' })) {
      // consume
    }
    await graph.invoke({});
    for await (const _ of graph.streamEvents({}, { version: 'v2' })) {
      // consume
    }
    const records = tracker.getUsageHistory();
    expect(records.map((r) => r.agent)).toEqual(['writer', 'writer', 'writer']);
    expect(records.map((r) => r.metadata?.stream)).toEqual(['complete', undefined, 'complete']);
    // The second and third calls hit the cache; streamed, the count is not summed over chunks.
    const [, unary, streamed] = records;
    expect(unary?.usage.cacheReadTokens).toBeGreaterThan(0);
    expect(streamed?.usage.cacheReadTokens).toBe(unary?.usage.cacheReadTokens);
    expect(standIn.requests).toHaveLength(3);
  });

  it('records a model built with streaming: true once (its _generate streams internally)', async () => {
    const tracker = new TokenTracker();
    const base = new ChatGoogleGenerativeAI({
      model: 'gemini-2.5-flash',
      apiKey: 'test',
      baseUrl: standIn.baseUrl,
      streaming: true,
    });
    await trackChatModel(base, { tracker }).invoke('Hi');
    expect(tracker.getUsageHistory()).toHaveLength(1);
    expect(tracker.getUsageHistory()[0]?.usage.inputTokens).toBeGreaterThan(0);
  });

  it('survives bindTools: a tool call is returned and recorded', async () => {
    reply = () => ({ functionCall: { name: 'lookup', args: { city: 'Paris' } } });
    const tracker = new TokenTracker();
    const lookup = tool(async ({ city }) => `sunny in ${city}`, {
      name: 'lookup',
      description: 'Weather of a city',
      schema: z.object({ city: z.string() }),
    });
    const bound = trackChatModel(gemini(), { tracker }).bindTools([lookup]);
    const message = await oneNode(() => bound.invoke('Weather in Paris?'), 'planner').invoke({});
    const out = message.out as AIMessage;
    expect(out.tool_calls?.[0]).toMatchObject({ name: 'lookup', args: { city: 'Paris' } });
    expect(tracker.getUsageHistory()).toHaveLength(1);
    expect(tracker.getUsageHistory()[0]?.agent).toBe('planner');
    expect(((standIn.requests[0]?.body ?? {}) as { tools?: unknown }).tools).toBeDefined();
  });

  it('survives withStructuredOutput', async () => {
    reply = () => JSON.stringify({ setup: 'Why?', punchline: 'Because.' });
    const tracker = new TokenTracker();
    const structured = trackChatModel(gemini(), { tracker }).withStructuredOutput(
      z.object({ setup: z.string(), punchline: z.string() }),
      { name: 'Joke' },
    );
    const joke = await structured.invoke('Tell a joke');
    expect(joke).toEqual({ setup: 'Why?', punchline: 'Because.' });
    expect(tracker.getUsageHistory()).toHaveLength(1);
    expect(tracker.getUsageHistory()[0]?.usage.outputTokens).toBeGreaterThan(0);
    expect(
      ((standIn.requests[0]?.body ?? {}) as { generationConfig?: { responseSchema?: unknown } })
        .generationConfig?.responseSchema,
    ).toBeDefined();
  });

  it('works inside createReactAgent, attributed to the subgraph that runs the agent', async () => {
    let round = 0;
    reply = () =>
      round++ === 0 ? { functionCall: { name: 'lookup', args: { city: 'Oslo' } } } : 'It is cold.';
    const tracker = new TokenTracker();
    const lookup = tool(async ({ city }) => `snow in ${city}`, {
      name: 'lookup',
      description: 'Weather of a city',
      schema: z.object({ city: z.string() }),
    });
    const agent = createReactAgent({ llm: trackChatModel(gemini(), { tracker }), tools: [lookup] });
    const State = Annotation.Root({ messages: Annotation<unknown[]>() });
    const parent = new StateGraph(State)
      .addNode('researcher', agent)
      .addEdge('__start__', 'researcher')
      .compile();
    const result = await parent.invoke(
      { messages: [new HumanMessage('Weather in Oslo?')] },
      { configurable: { thread_id: 'r-1' } },
    );
    expect(String((result.messages.at(-1) as AIMessage).content)).toBe('It is cold.');
    const records = tracker.getUsageHistory();
    expect(records).toHaveLength(2);
    for (const record of records) {
      expect(record).toMatchObject({ agent: 'researcher', node: 'agent', threadId: 'r-1' });
      expect(String(record.metadata?.checkpointNs)).toMatch(/^researcher:/);
    }
    expect(new Set(records.map((r) => r.callId)).size).toBe(2);
  });

  it('refuses a call before sending it once a hard budget is spent', async () => {
    const tracker = new TokenTracker({ budgetLimitUsd: 1e-9, enforce: 'hard' });
    const model = trackChatModel(gemini(), { tracker });
    await model.invoke('Spend it');
    const sent = standIn.requests.length;
    await expect(oneNode(() => model.invoke('Again')).invoke({})).rejects.toBeInstanceOf(
      BudgetExceededError,
    );
    let streamed = 0;
    await expect(
      (async () => {
        for await (const _ of await model.stream('Stream')) streamed++;
      })(),
    ).rejects.toBeInstanceOf(BudgetExceededError);
    expect(streamed).toBe(0);
    expect(standIn.requests.length).toBe(sent);
    expect(tracker.getUsageHistory()).toHaveLength(1);
  });
});

/** A scripted model that streams one chunk per usage object, each carrying it. */
function streamingModel(chunkUsage: UsageMetadata[]) {
  return new ScriptedChatModel({ streaming: true, script: () => ({ content: 'abc', chunkUsage }) });
}

describe('trackChatModel, generic chat models', () => {
  it('records every input of batch with its own call id', async () => {
    const tracker = new TokenTracker();
    const model = trackChatModel(new ScriptedChatModel(), { tracker });
    await model.batch(['a', 'b', 'c']);
    const records = tracker.getUsageHistory();
    expect(records).toHaveLength(3);
    expect(new Set(records.map((r) => r.callId)).size).toBe(3);
    expect(records.map((r) => r.usage.inputTokens)).toEqual([100, 100, 100]);
  });

  it('sums streamed deltas and keeps the largest detail value (running cache counts)', async () => {
    const tracker = new TokenTracker();
    const model = trackChatModel(
      streamingModel(
        [1, 2, 3].map((i) => ({
          input_tokens: i === 1 ? 1000 : 0,
          output_tokens: 10,
          total_tokens: (i === 1 ? 1000 : 0) + 10,
          input_token_details: { cache_read: 300 },
        })),
      ),
      { tracker },
    );
    for await (const _ of await model.stream('hi')) {
      // consume
    }
    const usage = tracker.getUsageHistory()[0]?.usage;
    expect(usage).toMatchObject({ inputTokens: 1000, cacheReadTokens: 300, outputTokens: 30 });
  });

  it('records a stream the consumer leaves early with the usage seen so far', async () => {
    const tracker = new TokenTracker();
    const model = trackChatModel(
      streamingModel([1, 2, 3].map(() => ({ input_tokens: 5, output_tokens: 1, total_tokens: 6 }))),
      { tracker },
    );
    for await (const _ of await model.stream('hi')) break;
    const [record] = tracker.getUsageHistory();
    expect(record?.metadata?.stream).toBe('abandoned');
    expect(record?.usage.outputTokens).toBeGreaterThan(0);
  });

  it('stays tracked when bindTools makes a new instance (LangChain fakes, ScriptedChatModel)', async () => {
    const tracker = new TokenTracker();
    const lookup = tool(async () => 'ok', {
      name: 'lookup',
      description: 'x',
      schema: z.object({ q: z.string() }),
    });
    const anomalies: string[] = [];
    tracker.on('usage_anomaly', (event) => anomalies.push(event.agent));
    const scripted = trackChatModel(new ScriptedChatModel(), { tracker, agent: 'fixed' });
    await scripted.bindTools([lookup]).invoke('hi');
    const fake = trackChatModel(
      new FakeStreamingChatModel({ sleep: 0, responses: [new AIMessage('done')] }),
      { tracker },
    );
    await fake.bindTools([lookup]).invoke('hi');
    // The fake reports no usage: its call arrives as a usage_anomaly, once.
    expect(tracker.getUsageHistory().map((r) => r.agent)).toEqual(['fixed']);
    expect(anomalies).toEqual(['unknown']);
  });

  it('records each call of a LangChain fake once, streamed or not', async () => {
    const tracker = new TokenTracker();
    const seen: string[] = [];
    tracker.on('usage_anomaly', (event) => seen.push(event.model));
    const model = trackChatModel(new FakeListChatModel({ responses: ['one'] }), { tracker });
    for await (const _ of await model.stream('hi')) {
      // consume
    }
    await model.invoke('again');
    // No usage in LangChain's fake: each call is seen once, as a usage_anomaly.
    expect(seen).toEqual(['unknown', 'unknown']);
  });

  it('records into the runWithTracking run, with no handler (langchainCallbacks: false)', async () => {
    const model = trackChatModel(new ScriptedChatModel());
    const graph = oneNode(async () => {
      await model.invoke('one');
      return model.invoke('two');
    }, 'planner');
    const chunks: TokenFeedChunk[] = [];
    const result = await runWithTracking(
      graph,
      {},
      {
        langchainCallbacks: false,
        onEvent: (chunk) => chunks.push(chunk),
        reportPath: false,
        printReport: false,
      },
    );
    expect(result.tokenUsageStats.totalCalls).toBe(2);
    expect(result.tokenUsageStats.byAgent.planner?.calls).toBe(2);
    expect(chunks.filter((c) => c.type === 'llm_call').map((c) => c.agent)).toEqual([
      'planner',
      'planner',
    ]);
  });

  it('keeps the node attribution when the caller passes its own metadata', async () => {
    const tracker = new TokenTracker();
    const model = trackChatModel(new ScriptedChatModel(), { tracker });
    await oneNode(() => model.invoke('hi', { metadata: { purpose: 'x' } }), 'critic').invoke({});
    expect(tracker.getUsageHistory()[0]).toMatchObject({ agent: 'critic', node: 'critic' });
  });

  it('counts a call once when a callback handler also sees it (same run id)', async () => {
    const tracker = new TokenTracker();
    const model = trackChatModel(new ScriptedChatModel(), { tracker });
    const handler = new TokenTrackingCallbackHandler({ tracker });
    await oneNode(() => model.invoke('hi')).invoke({}, { callbacks: [handler] });
    expect(tracker.getUsageHistory()).toHaveLength(1);
  });

  it('is idempotent: wrapping twice records once, and the original stays untracked', async () => {
    const tracker = new TokenTracker();
    const original = new ScriptedChatModel();
    const twice = trackChatModel(trackChatModel(original, { tracker }), { tracker });
    expect(twice).toBeInstanceOf(ScriptedChatModel);
    await twice.invoke('hi');
    expect(tracker.getUsageHistory()).toHaveLength(1);
    await original.invoke('untracked');
    expect(tracker.getUsageHistory()).toHaveLength(1);
  });

  it('rejects what is not a chat model, and bad options, with ConfigurationError', () => {
    for (const bad of [
      undefined,
      null,
      42,
      'gpt',
      {},
      { invoke: () => 1 },
      [],
      new TokenTracker(),
    ]) {
      expect(() => trackChatModel(bad as never)).toThrow(ConfigurationError);
    }
    const model = new ScriptedChatModel();
    expect(() => trackChatModel(model, { tracker: {} as never })).toThrow(ConfigurationError);
    expect(() => trackChatModel(model, { agent: '' })).toThrow(ConfigurationError);
    expect(() => trackChatModel(model, { metadata: [] as never })).toThrow(ConfigurationError);
    expect(() => trackChatModel(model, null as never)).toThrow(ConfigurationError);
  });

  it('lets the model error reach the caller and records nothing', async () => {
    silenceHandlerErrors();
    const tracker = new TokenTracker();
    const model = trackChatModel(
      new FakeStreamingChatModel({ sleep: 0, thrownErrorString: 'boom' }),
      { tracker },
    );
    await expect(model.invoke('hi')).rejects.toThrow('boom');
    await expect(
      (async () => {
        for await (const _ of await model.stream('hi')) {
          // consume
        }
      })(),
    ).rejects.toThrow('boom');
    expect(tracker.getUsageHistory()).toHaveLength(0);
  });
});
