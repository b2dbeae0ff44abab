/**
 * The real ChatGoogleGenerativeAI (@langchain/google-genai) inside LangGraph graphs, against
 * tollgate/testing's Gemini stand-in: implicit cache hits, thinking, multi-chunk streams whose
 * usage is a running total on every chunk (as the Gemini Developer API sends it). LangChain's
 * own final usage sums the running `cache_read` over the chunks; the records must hold the
 * API's numbers and the catalog's exact price for them.
 */
import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import type { AIMessageChunk, BaseMessage, UsageMetadata } from '@langchain/core/messages';
import type { ChatGenerationChunk } from '@langchain/core/outputs';
import { concat } from '@langchain/core/utils/stream';
import { ChatGoogleGenerativeAI } from '@langchain/google-genai';
import { Annotation, START, StateGraph } from '@langchain/langgraph';
import { calcPrice } from '@pydantic/genai-prices';
import { describe, expect, it } from 'vitest';
import { TokenTracker, type UsageRecord } from '../../src/index.js';
import { TokenTrackingCallbackHandler } from '../../src/langgraph/index.js';
import type {
  GeminiStandInOptions,
  UsageMetadata as GeminiUsage,
} from '../../src/testing/index.js';
import { closeStandIns, standInFor } from '../gemini/support.js';
import { describeWithFixtures, GEMINI_FIXTURES } from '../support/fixtures.js';

closeStandIns();

const MODEL = 'gemini-2.5-flash';

/** How the `ask` node's call reaches the model. */
type Path =
  | 'model.stream() in the node'
  | 'invoke() under a "messages" graph stream'
  | 'invoke() with streaming: true'
  | 'invoke() (unary generateContent)';

const STREAMED: Path[] = [
  'model.stream() in the node',
  'invoke() under a "messages" graph stream',
  'invoke() with streaming: true',
];

const State = Annotation.Root({
  prompt: Annotation<string>,
  /** The `usage_metadata` LangChain itself returned for the `ask` call. */
  reported: Annotation<UsageMetadata | undefined>,
});

/** `count` words of one token each under the stand-in's tokenizer. */
const words = (count: number, word: string) => Array.from({ length: count }, () => word).join(' ');

/**
 * A chat model that hands each chunk to `handleLLMNewToken` (`fields.chunk`), as OpenAI's and
 * Anthropic's integrations do; @langchain/google-genai 2.3 passes only the text.
 */
class ChunkForwardingGemini extends ChatGoogleGenerativeAI {
  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    for await (const chunk of super._streamResponseChunks(messages, options, undefined)) {
      yield chunk;
      await runManager?.handleLLMNewToken(chunk.text, undefined, undefined, undefined, undefined, {
        chunk,
      });
    }
  }
}

interface Scenario {
  /** Prompt tokens of the `ask` call, of which `cached` were sent before (an implicit hit). */
  prompt: number;
  cached: number;
  /** Text chunks of a streamed reply. */
  chunks: number;
  path: Path;
  forwardChunks?: boolean;
  includeThoughts?: boolean;
  standIn?: GeminiStandInOptions;
}

/** Runs warm → ask in a graph; returns the `ask` record, the API's usage and LangChain's. */
async function run(scenario: Scenario) {
  const standIn = await standInFor({ streamChunks: scenario.chunks, ...scenario.standIn });
  const Model = scenario.forwardChunks ? ChunkForwardingGemini : ChatGoogleGenerativeAI;
  const model = new Model({
    model: MODEL,
    apiKey: 'test-key',
    baseUrl: standIn.baseUrl,
    streaming: scenario.path === 'invoke() with streaming: true',
    ...(scenario.includeThoughts ? { thinkingConfig: { includeThoughts: true } } : {}),
  });
  const prefix = words(scenario.cached, 'tok');
  const graph = new StateGraph(State)
    // The first call puts the prefix in the stand-in's implicit cache.
    .addNode('warm', async () => {
      await model.invoke(prefix);
      return {};
    })
    .addNode('ask', async (state) => {
      if (scenario.path === 'model.stream() in the node') {
        let message: AIMessageChunk | undefined;
        for await (const chunk of await model.stream(state.prompt)) {
          message = message === undefined ? chunk : concat(message, chunk);
        }
        return { reported: message?.usage_metadata };
      }
      return { reported: (await model.invoke(state.prompt)).usage_metadata };
    })
    .addEdge(START, 'warm')
    .addEdge('warm', 'ask')
    .compile();

  const tracker = new TokenTracker();
  const config = { callbacks: [new TokenTrackingCallbackHandler({ tracker })] };
  const input = { prompt: `${prefix} ${words(scenario.prompt - scenario.cached, 'new')}` };
  let state: typeof State.State | undefined;
  if (scenario.path === 'invoke() under a "messages" graph stream') {
    const stream = await graph.stream(input, { ...config, streamMode: ['messages', 'values'] });
    for await (const [mode, payload] of stream) {
      if (mode === 'values') state = payload as typeof State.State;
    }
  } else {
    state = await graph.invoke(input, config);
  }
  const record = tracker.getUsageHistory().find((r) => r.node === 'ask');
  const ask = standIn.requests.at(-1);
  expect(ask?.stream).toBe(scenario.path !== 'invoke() (unary generateContent)');
  return { record, truth: ask?.usageMetadata ?? {}, reported: state?.reported, tracker };
}

/** The catalog's price (@pydantic/genai-prices) for the API's usage: the reference. */
function referenceCost(truth: GeminiUsage, timestamp: number): number {
  const price = calcPrice(
    {
      input_tokens: (truth.promptTokenCount ?? 0) + (truth.toolUsePromptTokenCount ?? 0),
      cache_read_tokens: truth.cachedContentTokenCount ?? 0,
      output_tokens: (truth.candidatesTokenCount ?? 0) + (truth.thoughtsTokenCount ?? 0),
    },
    MODEL,
    { providerId: 'google', timestamp: new Date(timestamp) },
  );
  return price?.total_price ?? Number.NaN;
}

/** The record holds the API's counts and the exact price of them. */
function expectExact(record: UsageRecord | undefined, truth: GeminiUsage): void {
  expect(record).toBeDefined();
  if (record === undefined) return;
  expect(record.usage).toMatchObject({
    inputTokens: (truth.promptTokenCount ?? 0) + (truth.toolUsePromptTokenCount ?? 0),
    cacheReadTokens: truth.cachedContentTokenCount ?? 0,
    outputTokens: (truth.candidatesTokenCount ?? 0) + (truth.thoughtsTokenCount ?? 0),
    reasoningTokens: truth.thoughtsTokenCount ?? 0,
    toolUsePromptTokens: truth.toolUsePromptTokenCount ?? 0,
    totalTokens: truth.totalTokenCount,
  });
  // Priced exactly as the API's own usageMetadata is, and as the catalog prices it.
  const direct = new TokenTracker().record({
    model: MODEL,
    usage: truth,
    usageFormat: 'gemini',
    timestamp: record.timestamp,
  });
  expect(record.cost.totalUsd).toBe(direct?.cost.totalUsd);
  expect(record.cost.exact).toEqual(direct?.cost.exact);
  expect(Math.abs(record.cost.totalUsd - referenceCost(truth, record.timestamp))).toBeLessThan(
    1e-12,
  );
}

describe('ChatGoogleGenerativeAI in LangGraph: cached tokens exact, not summed', () => {
  describe.each(STREAMED)('%s', (path) => {
    it.each([
      { cached: 300, chunks: 3 },
      { cached: 600, chunks: 3 },
      { cached: 300, chunks: 1 },
      { cached: 600, chunks: 2 },
      { cached: 300, chunks: 5 },
      { cached: 600, chunks: 8 },
    ])('$cached of 1,000 cached, $chunks chunk(s), thinking on', async ({ cached, chunks }) => {
      const { record, truth, reported } = await run({ prompt: 1000, cached, chunks, path });
      expect(truth).toMatchObject({ promptTokenCount: 1000, cachedContentTokenCount: cached });
      expect(truth.thoughtsTokenCount).toBe(516);
      // LangChain's own total: the running cache_read once per chunk.
      expect(reported?.input_token_details?.cache_read).toBe(cached * chunks);
      expectExact(record, truth);
      expect(record?.usage.repairs?.map((r) => r.field)).not.toContain(
        'input_token_details.cache_read',
      );
    });
  });

  it('unary invoke(): 300 and 600 of 1,000 cached, thinking on', async () => {
    for (const cached of [300, 600]) {
      const path = 'invoke() (unary generateContent)';
      const { record, truth, reported } = await run({ prompt: 1000, cached, chunks: 3, path });
      expect(reported?.input_token_details?.cache_read).toBe(cached);
      expect(truth).toMatchObject({ cachedContentTokenCount: cached, thoughtsTokenCount: 516 });
      expectExact(record, truth);
    }
  });

  it('a thought-summary chunk counts as a chunk like any other', async () => {
    const { record, truth, reported } = await run({
      prompt: 1000,
      cached: 600,
      chunks: 3,
      path: 'model.stream() in the node',
      includeThoughts: true,
    });
    expect(reported?.input_token_details?.cache_read).toBe(600 * 4);
    expectExact(record, truth);
  });

  it.each([
    { name: 'no cache hit: nothing cached, nothing invented', cached: 0, chunks: 4 },
    { name: 'a prompt cached whole but for one token, over 7 chunks', cached: 999, chunks: 7 },
  ])('$name', async ({ cached, chunks }) => {
    const path = 'invoke() under a "messages" graph stream';
    const { record, truth } = await run({ prompt: 1000, cached, chunks, path });
    expect(truth.cachedContentTokenCount).toBe(cached === 0 ? undefined : cached);
    expectExact(record, truth);
  });

  it.each(STREAMED)('a model that passes each chunk (%s): the running value', async (path) => {
    const { record, truth, reported } = await run({
      prompt: 1000,
      cached: 600,
      chunks: 3,
      path,
      forwardChunks: true,
    });
    expect(reported?.input_token_details?.cache_read).toBe(1800);
    expectExact(record, truth);
  });

  it('invoke() under a version "v3" messages stream (stream events): exact as reported', async () => {
    const standIn = await standInFor({ streamChunks: 3 });
    const model = new ChatGoogleGenerativeAI({
      model: MODEL,
      apiKey: 'test-key',
      baseUrl: standIn.baseUrl,
    });
    const prefix = words(600, 'tok');
    await model.invoke(prefix);
    const graph = new StateGraph(State)
      .addNode('ask', async (state) => ({
        reported: (await model.invoke(state.prompt)).usage_metadata,
      }))
      .addEdge(START, 'ask')
      .compile();
    const tracker = new TokenTracker();
    const stream = await graph.stream({ prompt: `${prefix} ${words(400, 'new')}` }, {
      callbacks: [new TokenTrackingCallbackHandler({ tracker })],
      streamMode: ['messages'],
      version: 'v3',
    } as Parameters<typeof graph.stream>[1]);
    for await (const _ of stream) {
      // drain
    }
    const truth = standIn.requests.at(-1)?.usageMetadata ?? {};
    expect(standIn.requests.at(-1)?.stream).toBe(true);
    expectExact(tracker.getUsageHistory()[0], truth);
  });

  it('Vertex-style streams (counts on the last chunk only) are never under-charged', async () => {
    // ChatGoogleGenerativeAI speaks the Developer API only; a proxy serving Vertex-style
    // streams makes the summed cache_read ambiguous, and the smaller reading is taken.
    const { record, truth, reported } = await run({
      prompt: 1000,
      cached: 300,
      chunks: 3,
      path: 'model.stream() in the node',
      standIn: { vertexStyle: true },
    });
    expect(reported?.input_token_details?.cache_read).toBe(300);
    expect(record?.usage.cacheReadTokens).toBeLessThanOrEqual(300);
    expect(record?.usage.inputTokens).toBe(1000);
    expect(record?.cost.totalUsd).toBeGreaterThanOrEqual(
      referenceCost(truth, record?.timestamp ?? 0),
    );
  });
});

describeWithFixtures('ChatGoogleGenerativeAI over recorded Gemini traffic', () => {
  const MCP_STREAM = `${GEMINI_FIXTURES}/js-genai/derived/Chats_Tests_sendMessage_multiple_messages_with_server_side_MCP_tools_stream__call1.sse`;

  it('server-side tool stream: cached 901 (not 9,010), tool-use tokens never under-charged', async () => {
    // 12 chunks; the first two (the tool round) carry no cache, the other ten the running 901.
    const standIn = await standInFor({ replay: [MCP_STREAM] });
    const model = new ChatGoogleGenerativeAI({
      model: MODEL,
      apiKey: 'test-key',
      baseUrl: standIn.baseUrl,
    });
    const tracker = new TokenTracker();
    const graph = new StateGraph(State)
      .addNode('ask', async (state) => {
        let message: AIMessageChunk | undefined;
        for await (const chunk of await model.stream(state.prompt)) {
          message = message === undefined ? chunk : concat(message, chunk);
        }
        return { reported: message?.usage_metadata };
      })
      .addEdge(START, 'ask')
      .compile();
    const state = await graph.invoke(
      { prompt: 'What is the weather in Boston?' },
      { callbacks: [new TokenTrackingCallbackHandler({ tracker })] },
    );
    const truth = standIn.requests[0]?.usageMetadata ?? {};
    expect(truth).toMatchObject({ cachedContentTokenCount: 901, toolUsePromptTokenCount: 1934 });
    expect(state.reported?.input_token_details?.cache_read).toBe(9010);
    const [record] = tracker.getUsageHistory();
    // LangChain keeps no raw usage: the 1,934 tool-use prompt tokens are only in total_tokens,
    // so they are charged at the output rate with the 91 thoughts (an upper bound).
    expect(record?.usage).toMatchObject({
      inputTokens: 1844,
      cacheReadTokens: 901,
      outputTokens: 432 + 91 + 1934,
      totalTokens: 4301,
    });
    expect(record?.cost.totalUsd).toBeGreaterThan(referenceCost(truth, record?.timestamp ?? 0));
  });
});
