import type { Serialized } from '@langchain/core/load/serializable';
import { AIMessageChunk } from '@langchain/core/messages';
import { ChatGenerationChunk } from '@langchain/core/outputs';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { detectUsageFormat, TokenTracker } from '../../src/index.js';
import { TokenTrackingCallbackHandler } from '../../src/langgraph/index.js';
import { cacheReadFromSum, StreamTally, settleUsage } from '../../src/langgraph/stream-usage.js';

type Usage = Record<string, unknown>;

/** What `handleLLMNewToken` gets as `fields` for one chunk. */
function chunkFields(usage: Usage | undefined, extra: { provider?: string; info?: Usage } = {}) {
  return {
    chunk: {
      text: '',
      generationInfo: extra.info,
      message: {
        usage_metadata: usage,
        response_metadata: extra.provider ? { model_provider: extra.provider } : {},
      },
    },
  };
}

/**
 * A tally of chunks as @langchain/google-genai would pass them (if it passed them): input as a
 * delta (`input` on every chunk, default 0), the cache count repeated.
 */
function tallyOf(cacheReads: unknown[], provider = 'google-genai', input = 0): StreamTally {
  const tally = new StreamTally();
  for (const cacheRead of cacheReads) {
    tally.add(
      chunkFields(
        { input_tokens: input, input_token_details: { cache_read: cacheRead } },
        { provider },
      ),
    );
  }
  return tally;
}

/** The final `LLMResult` of a call. */
function result(
  usage: Usage | undefined,
  more: { provider?: string; info?: Usage; llm?: Usage } = {},
) {
  return {
    generations: [
      [
        {
          text: '',
          generationInfo: more.info,
          message: {
            usage_metadata: usage,
            response_metadata: more.provider ? { model_provider: more.provider } : {},
          },
        },
      ],
    ],
    llmOutput: more.llm,
  };
}

/** google-genai's final usage: 1,000 prompt tokens, `sum` summed cache_read. */
const summed = (sum: unknown, input: unknown = 1000): Usage => ({
  input_tokens: input,
  output_tokens: 40,
  total_tokens: 1556,
  input_token_details: { cache_read: sum, text: 1000 },
});

/** `n` chunks seen without `fields` (google-genai 2.3). */
function blindTally(n: number): StreamTally {
  const tally = new StreamTally();
  for (let i = 0; i < n; i++) tally.add(undefined);
  return tally;
}

const cacheOf = (settled: { usage: unknown }) =>
  (settled.usage as { input_token_details?: { cache_read?: unknown } }).input_token_details
    ?.cache_read;

describe('cacheReadFromSum', () => {
  it.each([
    [900, 3, 1000, 300],
    [1800, 3, 1000, 600],
    [600, 1, 1000, 600],
    [9010, 12, 1844, 901], // recorded: 10 of 12 chunks carried 901
    [999 * 7, 7, 1000, 999],
    [300, 3, 1000, 100], // ambiguous (one chunk of 300, or three of 100): the smaller
    [7, 2, 10, 7],
    [5000, 3, 1000, undefined], // no reading fits under the input
    [0, 3, 1000, undefined],
  ])('sum %i over %i chunks, input %i → %s', (sum, chunks, input, expected) => {
    expect(cacheReadFromSum(sum, chunks, input)).toBe(expected);
  });

  it('is exact when every chunk carried the count, and never above the true count', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200_000 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 0, max: 64 }),
        fc.integer({ min: 0, max: 50_000 }),
        (cached, chunks, without, extraInput) => {
          const carrying = Math.max(1, chunks - without);
          const input = cached + extraInput;
          expect(cacheReadFromSum(cached * chunks, chunks, input)).toBe(cached);
          const found = cacheReadFromSum(cached * carrying, chunks, input);
          expect(found).toBeDefined();
          expect(found).toBeLessThanOrEqual(cached);
        },
      ),
      { numRuns: 2000, seed: 1212 },
    );
  });
});

describe('StreamTally', () => {
  it('counts every chunk, with or without fields', () => {
    const tally = new StreamTally();
    tally.add(undefined);
    tally.add({});
    tally.add({ chunk: null });
    tally.add(chunkFields(undefined));
    expect(tally).toMatchObject({ chunks: 4, usageChunks: 0, lastCacheRead: -1 });
  });

  it('keeps the running cache_read of google-genai chunks, not their sum', () => {
    const tally = tallyOf([300, 300, 300]);
    expect(tally).toMatchObject({ chunks: 3, usageChunks: 3, lastCacheRead: 300 });
    expect(tally.runningCache).toBe(true);
  });

  it('ignores unusable cache counts (NaN, strings, negatives, objects)', () => {
    const tally = tallyOf([300, Number.NaN, '600', -1, 2.5, { n: 1 }, Infinity, null]);
    expect(tally.lastCacheRead).toBe(300);
    expect(tally.usageChunks).toBe(8);
  });

  it('running totals: google-genai chunks, or a chunk caching more than it inputs', () => {
    expect(tallyOf([10], 'google-genai', 500).runningCache).toBe(true);
    // Deltas: each chunk's cache is part of its own input.
    expect(tallyOf([10, 10], 'openai', 10).runningCache).toBe(false);
    expect(tallyOf([10, 0], 'google-vertexai', 10).runningCache).toBe(false);
    // A chunk with input 0 and cache 10 repeats a running value, whoever sent it.
    expect(tallyOf([10, 10], 'anthropic', 0).runningCache).toBe(true);
    // Unusable input proves nothing.
    const tally = new StreamTally();
    tally.add(chunkFields({ input_tokens: 'x', input_token_details: { cache_read: 10 } }));
    expect(tally.runningCache).toBe(false);
  });

  it('keeps the last cache_creation too', () => {
    const tally = new StreamTally();
    const details = { cache_read: 800, cache_creation: 100 };
    tally.add(chunkFields({ input_tokens: 1200, input_token_details: details }));
    tally.add(chunkFields({ input_tokens: 0, input_token_details: details }));
    expect(tally).toMatchObject({ lastCacheRead: 800, lastCacheWrite: 100, runningCache: true });
  });

  it('keeps the last raw Gemini usage with counts (a Vertex {trafficType} has none)', () => {
    const tally = new StreamTally();
    const first = { promptTokenCount: 10, totalTokenCount: 12 };
    const last = { promptTokenCount: 10, candidatesTokenCount: 9, totalTokenCount: 19 };
    tally.add(chunkFields(undefined, { info: { usageMetadata: first } }));
    tally.add(chunkFields(undefined, { info: { usageMetadata: last } }));
    tally.add(chunkFields(undefined, { info: { usageMetadata: { trafficType: 'ON_DEMAND' } } }));
    tally.add(chunkFields(undefined, { info: { usageMetadata: 'nonsense' } }));
    expect(tally.raw).toBe(last);
  });
});

describe('settleUsage', () => {
  it('a google-genai stream seen chunk by chunk: the running value', () => {
    for (const [reads, expected] of [
      [[300, 300, 300], 300],
      [[600, 600, 600], 600],
      [[undefined, undefined, 901, 901], 901], // the cache shows up after a tool round
      [[300, 200], 200], // a decrease (never seen): the last, lower value
      [[300, Number.NaN, 300], 300],
    ] as const) {
      const settled = settleUsage(
        result(summed(900), { provider: 'google-genai' }),
        tallyOf([...reads]),
      );
      expect(settled.format).toBe('langchain');
      expect(cacheOf(settled)).toBe(expected);
    }
  });

  it('a google-genai stream seen blind (2.3 passes no chunk): sum ÷ chunks', () => {
    const final = summed(900);
    const settled = settleUsage(result(final, { provider: 'google-genai' }), blindTally(3));
    expect(settled.usage).toEqual({
      ...final,
      input_token_details: { cache_read: 300, text: 1000 },
    });
    // LangChain's object is left as it was.
    expect(final.input_token_details).toEqual({ cache_read: 900, text: 1000 });
    expect(
      cacheOf(settleUsage(result(summed(1800), { provider: 'google-genai' }), blindTally(3))),
    ).toBe(600);
  });

  it('leaves every other provider and every unary call as reported', () => {
    const cases = [
      settleUsage(
        result(summed(900), { provider: 'openai' }),
        tallyOf([300, 300, 300], 'openai', 334),
      ),
      settleUsage(result(summed(900)), tallyOf([300, 0, 600], 'anthropic', 600)),
      settleUsage(result(summed(900), { provider: 'google-vertexai' }), blindTally(3)),
      settleUsage(result(summed(900)), blindTally(3)),
      settleUsage(result(summed(900), { provider: 'google-genai' }), blindTally(1)),
      settleUsage(result(summed(900), { provider: 'google-genai' }), undefined),
    ];
    for (const settled of cases) expect(cacheOf(settled)).toBe(900);
  });

  it('hostile final usage is left to the normalizer (which repairs it)', () => {
    for (const [sum, input] of [
      ['900', 1000],
      [Number.NaN, 1000],
      [-900, 1000],
      [900, 'lots'],
      [5000, 1000], // no reading fits: the upper-bound repair applies
    ] as const) {
      const settled = settleUsage(
        result(summed(sum, input), { provider: 'google-genai' }),
        blindTally(3),
      );
      expect(cacheOf(settled)).toBe(sum);
      const record = new TokenTracker().record({
        model: 'gemini-2.5-flash',
        usage: settled.usage,
        usageFormat: settled.format,
      });
      expect(record?.usage.cacheReadTokens).toBeLessThanOrEqual(record?.usage.inputTokens ?? 0);
      expect(Number.isFinite(record?.cost.totalUsd)).toBe(true);
    }
  });

  it('older @langchain/anthropic (cache counts repeated on message_delta): the running values', () => {
    const start = { input_tokens: 1200, output_tokens: 1, total_tokens: 1201 };
    const delta = { input_tokens: 0, output_tokens: 50, total_tokens: 50 };
    const details = { cache_read: 800, cache_creation: 100 };
    const tally = new StreamTally();
    tally.add(chunkFields({ ...start, input_token_details: details }, { provider: 'anthropic' }));
    tally.add(chunkFields({ ...delta, input_token_details: details }, { provider: 'anthropic' }));
    const final = {
      input_tokens: 1200,
      output_tokens: 51,
      total_tokens: 1251,
      input_token_details: { cache_read: 1600, cache_creation: 200 },
    };
    expect(settleUsage(result(final, { provider: 'anthropic' }), tally).usage).toEqual({
      ...final,
      input_token_details: details,
    });
  });

  it('google-genai chunks whose cache counts are all unusable: as reported', () => {
    const settled = settleUsage(
      result(summed(Number.NaN), { provider: 'google-genai' }),
      tallyOf([Number.NaN, 'x']),
    );
    expect(cacheOf(settled)).toBeNaN();
  });

  it('prefers raw Gemini usage: a chunk’s, then the final generationInfo', () => {
    const raw = { promptTokenCount: 1844, cachedContentTokenCount: 901, totalTokenCount: 4301 };
    const tally = new StreamTally();
    tally.add(chunkFields(summed(901), { provider: 'google-genai', info: { usageMetadata: raw } }));
    expect(settleUsage(result(summed(9010)), tally)).toEqual({ usage: raw, format: 'gemini' });
    expect(
      settleUsage(result(summed(9010), { info: { usageMetadata: raw } }), blindTally(3)),
    ).toEqual({ usage: raw, format: 'gemini' });
  });

  it('takes raw usage from response_metadata and llmOutput only when not concatenated', () => {
    const raw = { promptTokenCount: 10, candidatesTokenCount: 2, totalTokenCount: 12 };
    const unary = result(summed(0, 10));
    (unary.generations[0]?.[0]?.message.response_metadata as Usage).usageMetadata = raw;
    expect(settleUsage(unary, blindTally(1)).format).toBe('gemini');
    // LangChain sums the numbers of merged response_metadata: not raw usage any more.
    expect(settleUsage(unary, blindTally(2)).format).toBe('langchain');
    const fromLlmOutput = result(summed(0, 10), { llm: { usageMetadata: raw } });
    expect(settleUsage(fromLlmOutput, undefined)).toEqual({ usage: raw, format: 'gemini' });
  });

  it('a LangChain-shaped usage_metadata (google-common) is not raw usage', () => {
    const langchain = { input_tokens: 10, output_tokens: 2, total_tokens: 12 };
    const settled = settleUsage(
      result(langchain, { info: { usage_metadata: langchain } }),
      undefined,
    );
    expect(settled).toEqual({ usage: langchain, format: 'langchain' });
  });

  it('snake_case raw usage (Python SDK) is used once the normalizer reads it as Gemini', () => {
    const snake = { prompt_token_count: 10, candidates_token_count: 2, total_token_count: 12 };
    const settled = settleUsage(
      result(summed(0, 10), { info: { usage_metadata: snake } }),
      undefined,
    );
    expect(settled.format).toBe(detectUsageFormat(snake) === 'gemini' ? 'gemini' : 'langchain');
  });

  it('falls back to llmOutput.tokenUsage, then to an empty usage', () => {
    const tokenUsage = { promptTokens: 5, completionTokens: 2, totalTokens: 7 };
    expect(settleUsage(result(undefined, { llm: { tokenUsage } }), undefined).usage).toEqual({
      input_tokens: 5,
      output_tokens: 2,
      total_tokens: 7,
    });
    expect(settleUsage({ generations: [] }, undefined)).toEqual({ usage: {}, format: 'langchain' });
    // A usage_metadata that is not an object reaches the normalizer as it is (strict rejects it).
    expect(settleUsage(result('lots' as never), undefined).usage).toBe('lots');
  });
});

describe('TokenTrackingCallbackHandler with chunks', () => {
  const llm: Serialized = { lc: 1, type: 'not_implemented', id: ['fake'] };
  const start = (handler: TokenTrackingCallbackHandler, runId: string) =>
    handler.handleChatModelStart(llm, [], runId, undefined, {
      invocation_params: { model: 'gemini-2.5-flash' },
    });

  it('records the raw usage a chunk carried: tool-use prompt tokens as input', async () => {
    // The final usage of a recorded server-side tool stream (prompt 1844, cached 901, …).
    const raw = {
      promptTokenCount: 1844,
      cachedContentTokenCount: 901,
      candidatesTokenCount: 432,
      thoughtsTokenCount: 91,
      toolUsePromptTokenCount: 1934,
      totalTokenCount: 4301,
    };
    const tracker = new TokenTracker();
    const handler = new TokenTrackingCallbackHandler({ tracker });
    const runId = '0191f3a8-0000-7000-8000-0000000000a1';
    await start(handler, runId);
    const chunk = new ChatGenerationChunk({
      text: 'ok',
      generationInfo: { usageMetadata: raw },
      message: new AIMessageChunk({ content: 'ok' }),
    });
    handler.handleLLMNewToken('ok', { prompt: 0, completion: 0 }, runId, undefined, undefined, {
      chunk,
    });
    await handler.handleLLMEnd({ generations: [[chunk]] }, runId);
    const [record] = tracker.getUsageHistory();
    expect(record?.usage).toMatchObject({
      inputTokens: 1844 + 1934,
      cacheReadTokens: 901,
      outputTokens: 432 + 91,
      reasoningTokens: 91,
      toolUsePromptTokens: 1934,
      totalTokens: 4301,
      format: 'gemini',
    });
    const direct = new TokenTracker().record({
      model: 'gemini-2.5-flash',
      usage: raw,
      timestamp: record?.timestamp,
    });
    expect(record?.cost.exact).toEqual(direct?.cost.exact);
  });

  it('a chunk that throws while read never fails the stream', async () => {
    const onError = vi.fn();
    const tracker = new TokenTracker();
    const handler = new TokenTrackingCallbackHandler({ tracker, onError });
    const runId = '0191f3a8-0000-7000-8000-0000000000a2';
    await start(handler, runId);
    const hostile = {
      get chunk(): never {
        throw new Error('hostile chunk');
      },
    };
    expect(() =>
      handler.handleLLMNewToken(
        'x',
        { prompt: 0, completion: 0 },
        runId,
        undefined,
        undefined,
        hostile as never,
      ),
    ).not.toThrow();
    expect(onError).toHaveBeenCalledOnce();
    // Chunks of unknown or finished runs are ignored.
    handler.handleLLMNewToken('x', { prompt: 0, completion: 0 }, 'unknown-run');
    await handler.handleLLMError(new Error('cut'), runId);
    handler.handleLLMNewToken('x', { prompt: 0, completion: 0 }, runId);
    expect(tracker.getUsageHistory()).toHaveLength(0);
  });
});
