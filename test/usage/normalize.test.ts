import { describe, expect, it } from 'vitest';
import { ConfigurationError, InvalidUsageError } from '../../src/errors.js';
import {
  CountReader,
  detectUsageFormat,
  normalizeGemini,
  normalizeUsage,
  type TokenUsage,
} from '../../src/usage/index.js';
import { expectInvariants } from './invariants.js';

/** Lenient, invariants checked, raw dropped (so `toEqual` compares the numbers only). */
function norm(raw: unknown, options: { strict?: boolean; format?: TokenUsage['format'] } = {}) {
  const usage = normalizeUsage(raw, { ...options, keepRaw: false });
  expectInvariants(usage);
  return usage;
}

const ZERO = {
  inputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
  toolUsePromptTokens: 0,
  totalTokens: 0,
};

describe('normalizeUsage: Gemini', () => {
  const mcpFinal = {
    cacheTokensDetails: [{ modality: 'TEXT', tokenCount: 901 }],
    cachedContentTokenCount: 901,
    candidatesTokenCount: 432,
    promptTokenCount: 1844,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: 1844 }],
    thoughtsTokenCount: 91,
    toolUsePromptTokenCount: 1934,
    toolUsePromptTokensDetails: [{ modality: 'TEXT', tokenCount: 1934 }],
    totalTokenCount: 4301,
  };

  it('input = prompt + toolUse, output = candidates + thoughts, cache read = cached', () => {
    expect(norm(mcpFinal, { strict: true })).toEqual({
      inputTokens: 3778,
      cacheReadTokens: 901,
      cacheWriteTokens: 0,
      outputTokens: 523,
      reasoningTokens: 91,
      toolUsePromptTokens: 1934,
      totalTokens: 4301,
      inputByModality: { text: 3778 },
      cacheReadByModality: { text: 901 },
      format: 'gemini',
    });
  });

  it('derives absent candidates from the total (thinking-only reply), without a repair', () => {
    const usage = norm(
      { promptTokenCount: 7, thoughtsTokenCount: 19, totalTokenCount: 26 },
      { strict: true },
    );
    expect(usage).toEqual({
      ...ZERO,
      inputTokens: 7,
      outputTokens: 19,
      reasoningTokens: 19,
      totalTokens: 26,
      format: 'gemini',
    });
  });

  it('total above the parts: the difference is charged as output, with a repair', () => {
    const usage = norm({ promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 18 });
    expect(usage).toMatchObject({ inputTokens: 10, outputTokens: 8, totalTokens: 18 });
    expect(usage.repairs).toEqual([
      expect.objectContaining({ field: 'candidatesTokenCount', received: 5, used: 8 }),
    ]);
  });

  it('total below the parts: the sum is used, with a repair', () => {
    const usage = norm({ promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 12 });
    expect(usage).toMatchObject({ inputTokens: 10, outputTokens: 5, totalTokens: 15 });
    expect(usage.repairs).toEqual([
      expect.objectContaining({ field: 'totalTokenCount', received: 12, used: 15 }),
    ]);
  });

  it('maps modality lists: lowercase keys, prompt + toolUse summed, unknown modalities ignored', () => {
    const usage = norm(
      {
        promptTokenCount: 100,
        toolUsePromptTokenCount: 40,
        candidatesTokenCount: 30,
        totalTokenCount: 170,
        trafficType: 'PROVISIONED_THROUGHPUT',
        promptTokensDetails: [
          { modality: 'TEXT', tokenCount: 60 },
          { modality: 'IMAGE', tokenCount: 30 },
          { modality: 'MODALITY_UNSPECIFIED', tokenCount: 10 },
          { modality: 'HOLOGRAM', tokenCount: 5 },
          { modality: 'AUDIO' },
        ],
        toolUsePromptTokensDetails: [
          { modality: 'TEXT', tokenCount: 35 },
          { modality: 'DOCUMENT', tokenCount: 5 },
        ],
        candidatesTokensDetails: [
          { modality: 'TEXT', tokenCount: 20 },
          { modality: 'AUDIO', tokenCount: 10 },
        ],
      },
      { strict: true },
    );
    expect(usage.inputByModality).toEqual({ text: 95, image: 30, document: 5 });
    expect(usage.outputByModality).toEqual({ text: 20, audio: 10 });
    expect(usage.cacheReadByModality).toBeUndefined();
    expect(usage.trafficType).toBe('PROVISIONED_THROUGHPUT');
  });

  it('clamps a modality count above its parent, with a repair naming the entry', () => {
    const raw = {
      usageMetadata: {
        promptTokenCount: 10,
        candidatesTokenCount: 1,
        totalTokenCount: 11,
        promptTokensDetails: [
          { modality: 'TEXT', tokenCount: 8 },
          { modality: 'TEXT', tokenCount: 8 },
        ],
      },
    };
    const usage = norm(raw);
    expect(usage.inputByModality).toEqual({ text: 10 });
    expect(usage.repairs).toEqual([
      expect.objectContaining({
        field: 'usageMetadata.promptTokensDetails[1].tokenCount',
        received: 8,
        used: 2,
      }),
    ]);
    expect(() => normalizeUsage(raw, { strict: true })).toThrow(
      'usageMetadata.promptTokensDetails[1].tokenCount = 8',
    );
  });

  it('returns null for a Vertex stream chunk with only trafficType (and billablePromptUsage)', () => {
    expect(
      normalizeUsage({ usageMetadata: { trafficType: 'ON_DEMAND' } }, { strict: true }),
    ).toBeNull();
    expect(
      normalizeUsage(
        { usageMetadata: { billablePromptUsage: { textCount: 16 }, trafficType: 'ON_DEMAND' } },
        { strict: true },
      ),
    ).toBeNull();
    expect(normalizeUsage({ trafficType: 'ON_DEMAND' })).toBeNull();
    expect(detectUsageFormat({ trafficType: 'ON_DEMAND' })).toBe('gemini');
  });

  it('zero counts are a zero-cost call, not "no usage"', () => {
    expect(norm({ promptTokenCount: 0, totalTokenCount: 0 }, { strict: true })).toEqual({
      ...ZERO,
      format: 'gemini',
    });
  });

  it('normalizeGemini can be called directly with a reader', () => {
    const reader = new CountReader(false);
    const usage = normalizeGemini({ promptTokenCount: 3, candidatesTokenCount: '4' }, reader);
    expect(usage).toMatchObject({ inputTokens: 3, outputTokens: 4, totalTokens: 7 });
    expect(reader.repairs).toHaveLength(1);
  });
});

describe('normalizeUsage: LangChain usage_metadata', () => {
  it('input includes cache, output includes reasoning', () => {
    const usage = norm(
      {
        input_tokens: 1844,
        output_tokens: 523,
        total_tokens: 2367,
        input_token_details: { cache_read: 901, cache_creation: 100, text: 1800, audio: 44 },
        output_token_details: { reasoning: 91, text: 432 },
      },
      { strict: true },
    );
    expect(usage).toEqual({
      inputTokens: 1844,
      cacheReadTokens: 901,
      cacheWriteTokens: 100,
      outputTokens: 523,
      reasoningTokens: 91,
      toolUsePromptTokens: 0,
      totalTokens: 2367,
      inputByModality: { text: 1800, audio: 44 },
      outputByModality: { text: 432 },
      format: 'langchain',
    });
  });

  it('defect 1: thinking tokens only in total_tokens are recovered into output and reasoning', () => {
    // 10 + 5 = 15, total 45 → 30 thinking tokens.
    const usage = norm({ input_tokens: 10, output_tokens: 5, total_tokens: 45 });
    expect(usage).toMatchObject({
      inputTokens: 10,
      outputTokens: 35,
      reasoningTokens: 30,
      totalTokens: 45,
    });
    expect(usage.repairs).toEqual([
      expect.objectContaining({ field: 'output_tokens', received: 5, used: 35 }),
    ]);
    expect(usage.repairs?.[0]?.reason).toMatch(/thinking tokens recovered from total_tokens/);

    expect(norm({ input_tokens: 10, output_tokens: 5, total_tokens: 50 })).toMatchObject({
      outputTokens: 40,
      reasoningTokens: 35,
      totalTokens: 50,
    });
  });

  it('defect 1 with reasoning reported: the excess is output, reasoning kept', () => {
    const usage = norm({
      input_tokens: 10,
      output_tokens: 5,
      total_tokens: 45,
      output_token_details: { reasoning: 2 },
    });
    expect(usage).toMatchObject({ outputTokens: 35, reasoningTokens: 2, totalTokens: 45 });
    expect(usage.repairs?.[0]?.reason).toMatch(/charged as output/);
  });

  it('defect 1 is a repair: strict mode throws', () => {
    expect(() =>
      normalizeUsage({ input_tokens: 10, output_tokens: 5, total_tokens: 45 }, { strict: true }),
    ).toThrow(InvalidUsageError);
  });

  it('defect 2: a summed stream cache_read (9010 > input 1844) cannot be trusted → 0', () => {
    const raw = {
      usage_metadata: {
        input_tokens: 1844,
        output_tokens: 523,
        total_tokens: 2367,
        input_token_details: { cache_read: 9010 },
      },
    };
    const usage = norm(raw);
    expect(usage).toMatchObject({ inputTokens: 1844, cacheReadTokens: 0, totalTokens: 2367 });
    expect(usage.repairs).toEqual([
      expect.objectContaining({
        field: 'usage_metadata.input_token_details.cache_read',
        received: 9010,
        used: 0,
      }),
    ]);
    expect(() => normalizeUsage(raw, { strict: true })).toThrow(
      'usage_metadata.input_token_details.cache_read = 9010',
    );
  });

  it('output_tokens absent: derived from total_tokens, no reasoning, no repair', () => {
    expect(norm({ input_tokens: 10, total_tokens: 25 }, { strict: true })).toMatchObject({
      outputTokens: 15,
      reasoningTokens: 0,
      totalTokens: 25,
    });
  });

  it('a bare {input_tokens, output_tokens} reads as langchain', () => {
    expect(detectUsageFormat({ input_tokens: 3, output_tokens: 4 })).toBe('langchain');
    expect(norm({ input_tokens: 3, output_tokens: 4, total_tokens: 7 }, { strict: true })).toEqual({
      ...ZERO,
      inputTokens: 3,
      outputTokens: 4,
      totalTokens: 7,
      format: 'langchain',
    });
  });
});

describe('normalizeUsage: OpenAI', () => {
  it('chat completions: prompt includes cached, completion includes reasoning', () => {
    const raw = {
      id: 'chatcmpl-1',
      usage: {
        prompt_tokens: 2006,
        completion_tokens: 300,
        total_tokens: 2306,
        prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: 256,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
      },
    };
    expect(norm(raw, { strict: true })).toEqual({
      inputTokens: 2006,
      cacheReadTokens: 1920,
      cacheWriteTokens: 0,
      outputTokens: 300,
      reasoningTokens: 256,
      toolUsePromptTokens: 0,
      totalTokens: 2306,
      inputByModality: { audio: 0 },
      outputByModality: { audio: 0 },
      format: 'openai',
    });
    expect(detectUsageFormat(raw)).toBe('openai');
  });

  it('responses API', () => {
    const raw = {
      input_tokens: 36,
      input_tokens_details: { cached_tokens: 10 },
      output_tokens: 87,
      output_tokens_details: { reasoning_tokens: 64 },
      total_tokens: 123,
    };
    expect(detectUsageFormat(raw)).toBe('openai');
    expect(norm(raw, { strict: true })).toEqual({
      ...ZERO,
      inputTokens: 36,
      cacheReadTokens: 10,
      outputTokens: 87,
      reasoningTokens: 64,
      totalTokens: 123,
      format: 'openai',
    });
  });

  it('total contradicting the parts', () => {
    const above = norm({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 20 });
    expect(above).toMatchObject({ outputTokens: 10, totalTokens: 20, reasoningTokens: 0 });
    expect(above.repairs?.[0]).toMatchObject({ field: 'completion_tokens', received: 5, used: 10 });
    const below = norm({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 1 });
    expect(below).toMatchObject({ outputTokens: 5, totalTokens: 15 });
    expect(below.repairs?.[0]).toMatchObject({ field: 'total_tokens', received: 1, used: 15 });
  });
});

describe('normalizeUsage: Anthropic', () => {
  it('input_tokens excludes the cache: input = input + cache write + cache read', () => {
    const raw = {
      type: 'message',
      usage: {
        input_tokens: 50,
        cache_creation_input_tokens: 1000,
        cache_read_input_tokens: 3000,
        output_tokens: 200,
        cache_creation: { ephemeral_5m_input_tokens: 400, ephemeral_1h_input_tokens: 600 },
      },
    };
    expect(detectUsageFormat(raw)).toBe('anthropic');
    expect(norm(raw, { strict: true })).toEqual({
      ...ZERO,
      inputTokens: 4050,
      cacheWriteTokens: 1000,
      cacheReadTokens: 3000,
      cacheWriteByTtl: { '5m': 400, '1h': 600 },
      outputTokens: 200,
      totalTokens: 4250,
      format: 'anthropic',
    });
  });

  it('keeps only the TTL buckets that hold tokens, and none when all are 0', () => {
    const base = { input_tokens: 5, cache_creation_input_tokens: 3, output_tokens: 1 };
    expect(
      norm({
        ...base,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 3 },
      }).cacheWriteByTtl,
    ).toEqual({ '5m': 0, '1h': 3 });
    expect(
      norm({
        ...base,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      }).cacheWriteByTtl,
    ).toBeUndefined();
  });

  it('cache_creation_input_tokens absent: the TTL buckets are summed', () => {
    const usage = norm(
      {
        input_tokens: 5,
        cache_read_input_tokens: 0,
        output_tokens: 1,
        cache_creation: { ephemeral_5m_input_tokens: 7, ephemeral_1h_input_tokens: 3 },
      },
      { strict: true },
    );
    expect(usage).toMatchObject({
      inputTokens: 15,
      cacheWriteTokens: 10,
      cacheWriteByTtl: { '5m': 7, '1h': 3 },
    });
  });

  it('TTL buckets above cache_creation_input_tokens: the sum is used, with a repair', () => {
    const usage = norm({
      input_tokens: 5,
      cache_creation_input_tokens: 4,
      cache_read_input_tokens: 0,
      output_tokens: 1,
      cache_creation: { ephemeral_5m_input_tokens: 7, ephemeral_1h_input_tokens: 3 },
    });
    expect(usage).toMatchObject({ inputTokens: 15, cacheWriteTokens: 10 });
    expect(usage.repairs?.[0]).toMatchObject({ field: 'cache_creation_input_tokens', used: 10 });
  });

  it('null cache fields (older API) read as 0', () => {
    expect(
      norm(
        {
          input_tokens: 9,
          cache_creation_input_tokens: null,
          cache_read_input_tokens: null,
          output_tokens: 2,
        },
        { strict: true },
      ),
    ).toMatchObject({ inputTokens: 9, outputTokens: 2, totalTokens: 11, format: 'anthropic' });
  });
});

describe('normalizeUsage: canonical', () => {
  it('validates an object already shaped like TokenUsage', () => {
    const usage = norm(
      {
        inputTokens: 1000,
        cacheReadTokens: 800,
        outputTokens: 50,
        reasoningTokens: 20,
        inputByModality: { text: 900, image: 100, smell: 3 },
        trafficType: 'ON_DEMAND',
      },
      { strict: true },
    );
    expect(usage).toEqual({
      ...ZERO,
      inputTokens: 1000,
      cacheReadTokens: 800,
      outputTokens: 50,
      reasoningTokens: 20,
      totalTokens: 1050,
      inputByModality: { text: 900, image: 100 },
      trafficType: 'ON_DEMAND',
      serviceTier: 'standard',
      format: 'canonical',
    });
  });

  it('round-trips a normalized usage', () => {
    const first = normalizeUsage({
      promptTokenCount: 7,
      thoughtsTokenCount: 19,
      totalTokenCount: 26,
    });
    const again = norm(first, { strict: true });
    expect({ ...again, format: 'gemini' }).toEqual({ ...first, raw: undefined, format: 'gemini' });
  });

  it('round-trips an Anthropic usage with cache writes by lifetime', () => {
    const first = normalizeUsage({
      input_tokens: 5,
      cache_creation_input_tokens: 10,
      output_tokens: 1,
      cache_creation: { ephemeral_5m_input_tokens: 4, ephemeral_1h_input_tokens: 6 },
    });
    const again = norm(first, { strict: true });
    expect(again.cacheWriteByTtl).toEqual({ '1h': 6, '5m': 4 });
  });

  it('fits cacheWriteByTtl into the cache writes, 1-hour first; strict mode refuses', () => {
    const raw = {
      inputTokens: 100,
      cacheWriteTokens: 10,
      outputTokens: 1,
      cacheWriteByTtl: { '5m': 8, '1h': 7 },
    };
    const usage = norm(raw);
    expect(usage.cacheWriteByTtl).toEqual({ '1h': 7, '5m': 3 });
    expect(usage.repairs?.[0]).toMatchObject({ field: 'cacheWriteByTtl.5m', received: 8, used: 3 });
    expect(() => norm(raw, { strict: true })).toThrow(InvalidUsageError);
  });
});

describe('normalizeUsage: containers, null and options', () => {
  const metadata = { promptTokenCount: 4, candidatesTokenCount: 6, totalTokenCount: 10 };

  it.each([
    ['a Gemini response {usageMetadata}', { candidates: [], usageMetadata: metadata }],
    [
      'a generative-ai result {response: {usageMetadata}}',
      { response: { usageMetadata: metadata } },
    ],
    ['the usageMetadata itself', metadata],
  ])('unwraps %s', (_name, raw) => {
    const usage = normalizeUsage(raw, { strict: true });
    expect(usage).toMatchObject({ inputTokens: 4, outputTokens: 6, format: 'gemini' });
    expect(usage?.raw).toBe(metadata);
  });

  it('unwraps a LangChain AIMessage {usage_metadata} and an OpenAI/Anthropic response {usage}', () => {
    const lc = { input_tokens: 2, output_tokens: 3, total_tokens: 5 };
    expect(
      normalizeUsage({ content: 'hi', response_metadata: {}, usage_metadata: lc }),
    ).toMatchObject({ totalTokens: 5, format: 'langchain', raw: lc });
    expect(normalizeUsage({ usage: { prompt_tokens: 1, completion_tokens: 1 } })).toMatchObject({
      totalTokens: 2,
      format: 'openai',
    });
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an empty object', {}],
    ['an object without count fields', { candidates: [], modelVersion: 'x' }],
    ['a container holding null', { usageMetadata: null }],
    ['a container holding undefined', { usage_metadata: undefined }],
    ['a countTokens response', { totalTokens: 11, promptTokensDetails: [] }],
    ['a pending generative-ai stream result', { stream: {}, response: Promise.resolve() }],
  ])('returns null for %s (no usage yet)', (_name, raw) => {
    expect(normalizeUsage(raw)).toBeNull();
    expect(normalizeUsage(raw, { strict: true })).toBeNull();
  });

  it.each([
    ['a string', 'usage'],
    ['a number', 42],
    ['a boolean', true],
    ['an array', [1, 2]],
    ['a bigint', 10n],
  ])('%s: null when lenient, InvalidUsageError when strict', (_name, raw) => {
    expect(normalizeUsage(raw)).toBeNull();
    expect(() => normalizeUsage(raw, { strict: true })).toThrow(InvalidUsageError);
    expect(() => normalizeUsage({ usage: raw }, { strict: true })).toThrow(
      expect.objectContaining({ field: 'usage' }),
    );
  });

  it('keepRaw: false drops raw; repairs are omitted when there are none', () => {
    const usage = normalizeUsage(metadata, { keepRaw: false });
    expect(usage).not.toHaveProperty('raw');
    expect(usage).not.toHaveProperty('repairs');
  });

  it('options.format overrides detection', () => {
    const raw = { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 3 };
    expect(normalizeUsage(raw)?.format).toBe('anthropic');
    expect(normalizeUsage(raw, { format: 'langchain' })).toMatchObject({
      format: 'langchain',
      inputTokens: 10,
    });
    expect(normalizeUsage(metadata, { format: 'openai' })).toBeNull();
    expect(() => normalizeUsage(metadata, { format: 'bogus' as TokenUsage['format'] })).toThrow(
      ConfigurationError,
    );
  });

  it.each([
    [{ promptTokenCount: 1 }, 'gemini'],
    [{ toolUsePromptTokenCount: 1 }, 'gemini'],
    [{ prompt_tokens: 1 }, 'openai'],
    [{ completion_tokens: 1 }, 'openai'],
    [{ input_tokens: 1, cache_read_input_tokens: 0 }, 'anthropic'],
    [{ input_tokens: 1, output_token_details: {} }, 'langchain'],
    [{ input_tokens: 1, input_tokens_details: {} }, 'openai'],
    [{ inputTokens: 1 }, 'canonical'],
    [{ total_tokens: 1 }, 'langchain'],
    [{ totalTokens: 1 }, null],
    ['text', null],
    [null, null],
  ])('detectUsageFormat(%j) = %s', (raw, format) => {
    expect(detectUsageFormat(raw)).toBe(format);
  });
});

describe('CountReader', () => {
  it('creates its repair list lazily and shares it with nested readers', () => {
    const reader = new CountReader(false, 'usage');
    expect(reader.repairList()).toBeUndefined();
    const nested = reader.nested('details');
    expect(nested.count({ n: '5' }, 'n')).toBe(5);
    expect(reader.repairList()).toEqual([
      {
        field: 'usage.details.n',
        received: '5',
        used: 5,
        reason: 'numeric string parsed as a count',
      },
    ]);
    expect(reader.repairs).toBe(nested.repairs);
  });

  it('names list entries in repairs and errors', () => {
    const reader = new CountReader(true, 'usageMetadata');
    expect(() => reader.count({ tokenCount: -1 }, 'tokenCount', 'promptTokensDetails', 3)).toThrow(
      'Invalid usage: usageMetadata.promptTokensDetails[3].tokenCount = -1',
    );
  });

  it('turns -0 into 0', () => {
    expect(Object.is(new CountReader(true).count({ n: -0 }, 'n'), 0)).toBe(true);
  });
});
