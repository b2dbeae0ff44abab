import { describe, expect, it } from 'vitest';
import { describe as describeValue, InvalidUsageError } from '../../src/errors.js';
import { normalizeUsage, type TokenUsage } from '../../src/usage/index.js';
import { expectInvariants } from './invariants.js';

interface Row {
  name: string;
  raw: unknown;
  /** The field path strict mode names (and lenient mode's repair lists). */
  field: string;
  /** The offending value as received. */
  value: unknown;
  /** What lenient mode returns (a subset). */
  lenient: Partial<TokenUsage>;
  /** The value the lenient repair used. */
  used: number;
}

const rows: Row[] = [
  {
    name: 'negative count',
    raw: { promptTokenCount: -5, candidatesTokenCount: 3, totalTokenCount: 3 },
    field: 'promptTokenCount',
    value: -5,
    lenient: { inputTokens: 0, outputTokens: 3, totalTokens: 3 },
    used: 0,
  },
  {
    name: 'NaN',
    raw: { input_tokens: Number.NaN, output_tokens: 2 },
    field: 'input_tokens',
    value: Number.NaN,
    lenient: { inputTokens: 0, outputTokens: 2, totalTokens: 2 },
    used: 0,
  },
  {
    name: 'Infinity',
    raw: { usage: { prompt_tokens: Number.POSITIVE_INFINITY, completion_tokens: 1 } },
    field: 'usage.prompt_tokens',
    value: Number.POSITIVE_INFINITY,
    lenient: { inputTokens: 0, outputTokens: 1 },
    used: 0,
  },
  {
    name: '-Infinity',
    raw: { inputTokens: Number.NEGATIVE_INFINITY, outputTokens: 1 },
    field: 'inputTokens',
    value: Number.NEGATIVE_INFINITY,
    lenient: { inputTokens: 0, outputTokens: 1, format: 'canonical' },
    used: 0,
  },
  {
    name: 'fractional count',
    raw: { promptTokenCount: 1, candidatesTokenCount: 2.6 },
    field: 'candidatesTokenCount',
    value: 2.6,
    lenient: { inputTokens: 1, outputTokens: 3, totalTokens: 4 },
    used: 3,
  },
  {
    name: 'numeric string',
    raw: { usage_metadata: { input_tokens: 1, output_tokens: '42' } },
    field: 'usage_metadata.output_tokens',
    value: '42',
    lenient: { inputTokens: 1, outputTokens: 42, totalTokens: 43 },
    used: 42,
  },
  {
    name: 'non-numeric string',
    raw: { input_tokens: 5, cache_read_input_tokens: 'lots', output_tokens: 1 },
    field: 'cache_read_input_tokens',
    value: 'lots',
    lenient: { inputTokens: 5, cacheReadTokens: 0, format: 'anthropic' },
    used: 0,
  },
  {
    name: 'numeric string beyond 2^53',
    raw: { promptTokenCount: '99999999999999999999', candidatesTokenCount: 1 },
    field: 'promptTokenCount',
    value: '99999999999999999999',
    lenient: { inputTokens: 0, outputTokens: 1 },
    used: 0,
  },
  {
    name: 'object as a count',
    raw: { inputTokens: { n: 1 }, outputTokens: 2 },
    field: 'inputTokens',
    value: { n: 1 },
    lenient: { inputTokens: 0, outputTokens: 2 },
    used: 0,
  },
  {
    name: 'array as a count',
    raw: { prompt_tokens: [3], completion_tokens: 2 },
    field: 'prompt_tokens',
    value: [3],
    lenient: { inputTokens: 0, outputTokens: 2 },
    used: 0,
  },
  {
    name: 'boolean',
    raw: { promptTokenCount: 1, candidatesTokenCount: 1, thoughtsTokenCount: true },
    field: 'thoughtsTokenCount',
    value: true,
    lenient: { outputTokens: 1, reasoningTokens: 0 },
    used: 0,
  },
  {
    name: 'bigint',
    raw: { promptTokenCount: 10n, candidatesTokenCount: 1 },
    field: 'promptTokenCount',
    value: 10n,
    lenient: { inputTokens: 10, totalTokens: 11 },
    used: 10,
  },
  {
    name: 'bigint beyond 2^53',
    raw: { promptTokenCount: 2n ** 60n, candidatesTokenCount: 1 },
    field: 'promptTokenCount',
    value: 2n ** 60n,
    lenient: { inputTokens: 0, totalTokens: 1 },
    used: 0,
  },
  {
    name: 'huge number (2^53)',
    raw: { output_tokens: 2 ** 53, input_tokens: 1 },
    field: 'output_tokens',
    value: 2 ** 53,
    lenient: { inputTokens: 1, outputTokens: 0 },
    used: 0,
  },
  {
    name: 'huge number (1e300)',
    raw: { usageMetadata: { promptTokenCount: 1e300, candidatesTokenCount: 1 } },
    field: 'usageMetadata.promptTokenCount',
    value: 1e300,
    lenient: { inputTokens: 0 },
    used: 0,
  },
  {
    name: 'parts summing beyond 2^53',
    raw: { inputTokens: Number.MAX_SAFE_INTEGER, outputTokens: 10 },
    field: 'outputTokens',
    value: 10,
    lenient: { inputTokens: Number.MAX_SAFE_INTEGER, outputTokens: 0 },
    used: 0,
  },
  {
    name: 'LangChain cache_read > input (summed stream chunks)',
    raw: {
      input_tokens: 1844,
      output_tokens: 523,
      total_tokens: 2367,
      input_token_details: { cache_read: 9010 },
    },
    field: 'input_token_details.cache_read',
    value: 9010,
    lenient: { inputTokens: 1844, cacheReadTokens: 0 },
    used: 0,
  },
  {
    name: 'Gemini cached > prompt',
    raw: {
      promptTokenCount: 10,
      cachedContentTokenCount: 50,
      candidatesTokenCount: 1,
      totalTokenCount: 11,
    },
    field: 'cachedContentTokenCount',
    value: 50,
    lenient: { inputTokens: 10, cacheReadTokens: 0, totalTokens: 11 },
    used: 0,
  },
  {
    name: 'OpenAI cached > prompt',
    raw: { prompt_tokens: 10, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 11 } },
    field: 'prompt_tokens_details.cached_tokens',
    value: 11,
    lenient: { inputTokens: 10, cacheReadTokens: 0 },
    used: 0,
  },
  {
    name: 'canonical cache read + write > input',
    raw: { inputTokens: 10, cacheReadTokens: 6, cacheWriteTokens: 6, outputTokens: 1 },
    field: 'cacheReadTokens',
    value: 6,
    lenient: { inputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 6 },
    used: 0,
  },
  {
    name: 'canonical cache write > input',
    raw: { inputTokens: 10, cacheWriteTokens: 12, outputTokens: 1 },
    field: 'cacheWriteTokens',
    value: 12,
    lenient: { inputTokens: 10, cacheWriteTokens: 10 },
    used: 10,
  },
  {
    name: 'canonical toolUse > input',
    raw: { inputTokens: 5, toolUsePromptTokens: 9, outputTokens: 1 },
    field: 'toolUsePromptTokens',
    value: 9,
    lenient: { inputTokens: 5, toolUsePromptTokens: 5 },
    used: 5,
  },
  {
    name: 'OpenAI reasoning > completion',
    raw: {
      prompt_tokens: 1,
      completion_tokens: 5,
      total_tokens: 6,
      completion_tokens_details: { reasoning_tokens: 9 },
    },
    field: 'completion_tokens_details.reasoning_tokens',
    value: 9,
    lenient: { outputTokens: 5, reasoningTokens: 5, totalTokens: 6 },
    used: 5,
  },
  {
    name: 'Gemini total > parts',
    raw: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 18 },
    field: 'candidatesTokenCount',
    value: 5,
    lenient: { outputTokens: 8, totalTokens: 18 },
    used: 8,
  },
  {
    name: 'Gemini total < parts',
    raw: {
      promptTokenCount: 10,
      candidatesTokenCount: 5,
      thoughtsTokenCount: 3,
      totalTokenCount: 12,
    },
    field: 'totalTokenCount',
    value: 12,
    lenient: { outputTokens: 8, totalTokens: 18 },
    used: 18,
  },
  {
    name: 'Gemini total < prompt + thoughts, candidates absent',
    raw: { promptTokenCount: 10, thoughtsTokenCount: 3, totalTokenCount: 11 },
    field: 'totalTokenCount',
    value: 11,
    lenient: { inputTokens: 10, outputTokens: 3, totalTokens: 13 },
    used: 13,
  },
  {
    name: 'LangChain total > input + output (thinking omitted)',
    raw: { input_tokens: 10, output_tokens: 5, total_tokens: 45 },
    field: 'output_tokens',
    value: 5,
    lenient: { outputTokens: 35, reasoningTokens: 30, totalTokens: 45 },
    used: 35,
  },
  {
    name: 'LangChain total < input + output',
    raw: { input_tokens: 10, output_tokens: 5, total_tokens: 9 },
    field: 'total_tokens',
    value: 9,
    lenient: { outputTokens: 5, totalTokens: 15 },
    used: 15,
  },
  {
    name: 'OpenAI responses total > parts',
    raw: { input_tokens: 3, output_tokens: 4, total_tokens: 10, output_tokens_details: {} },
    field: 'output_tokens',
    value: 4,
    lenient: { outputTokens: 7, reasoningTokens: 0, format: 'openai' },
    used: 7,
  },
  {
    name: 'canonical total < parts',
    raw: { inputTokens: 3, outputTokens: 4, totalTokens: 5 },
    field: 'totalTokens',
    value: 5,
    lenient: { totalTokens: 7 },
    used: 7,
  },
  {
    name: 'Gemini modality count > its parent',
    raw: {
      promptTokenCount: 10,
      candidatesTokenCount: 1,
      totalTokenCount: 11,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: 50 }],
    },
    field: 'promptTokensDetails[0].tokenCount',
    value: 50,
    lenient: { inputTokens: 10, inputByModality: { text: 10 } },
    used: 10,
  },
  {
    name: 'Gemini modality count not a number',
    raw: {
      response: {
        usageMetadata: {
          promptTokenCount: 10,
          promptTokensDetails: [
            { modality: 'IMAGE', tokenCount: 4 },
            { modality: 'TEXT', tokenCount: 'six' },
          ],
        },
      },
    },
    field: 'response.usageMetadata.promptTokensDetails[1].tokenCount',
    value: 'six',
    lenient: { inputTokens: 10, inputByModality: { image: 4 } },
    used: 0,
  },
  {
    name: 'Gemini details not a list',
    raw: { promptTokenCount: 1, promptTokensDetails: 'TEXT' },
    field: 'promptTokensDetails',
    value: 'TEXT',
    lenient: { inputTokens: 1 },
    used: 0,
  },
  {
    name: 'Gemini details entry not an object',
    raw: { promptTokenCount: 1, candidatesTokensDetails: [7] },
    field: 'candidatesTokensDetails[0]',
    value: 7,
    lenient: { inputTokens: 1 },
    used: 0,
  },
  {
    name: 'LangChain details not an object',
    raw: { input_tokens: 1, output_tokens: 1, input_token_details: 7 },
    field: 'input_token_details',
    value: 7,
    lenient: { inputTokens: 1, cacheReadTokens: 0, format: 'langchain' },
    used: 0,
  },
  {
    name: 'LangChain modality > its parent',
    raw: { input_tokens: 1, output_tokens: 2, output_token_details: { audio: 3 } },
    field: 'output_token_details.audio',
    value: 3,
    lenient: { outputTokens: 2, outputByModality: { audio: 2 } },
    used: 2,
  },
  {
    name: 'Anthropic TTL buckets > cache_creation_input_tokens',
    raw: {
      input_tokens: 5,
      cache_creation_input_tokens: 4,
      cache_read_input_tokens: 0,
      output_tokens: 1,
      cache_creation: { ephemeral_5m_input_tokens: 10 },
    },
    field: 'cache_creation_input_tokens',
    value: 4,
    lenient: { inputTokens: 15, cacheWriteTokens: 10 },
    used: 10,
  },
];

describe('bad input', () => {
  describe.each(rows)('$name', (row) => {
    it(`strict: throws InvalidUsageError naming ${row.field}`, () => {
      let error: unknown;
      try {
        normalizeUsage(row.raw, { strict: true });
      } catch (caught) {
        error = caught;
      }
      expect(InvalidUsageError.isInstance(error)).toBe(true);
      const invalid = error as InvalidUsageError;
      expect(invalid).toBeInstanceOf(InvalidUsageError);
      expect(invalid.field).toBe(row.field);
      expect(invalid.value).toEqual(row.value);
      expect(invalid.message).toContain(`${row.field} = ${describeValue(row.value)}`);
    });

    it('lenient: repairs, lists the repair and keeps every invariant', () => {
      const usage = normalizeUsage(row.raw);
      expectInvariants(usage);
      expect(usage).toMatchObject(row.lenient);
      const repair = usage.repairs?.find((r) => r.field === row.field);
      expect(repair).toBeDefined();
      expect(repair?.used).toBe(row.used);
      expect(repair?.received).toEqual(row.value);
    });
  });

  it('non-object input: lenient null, strict InvalidUsageError', () => {
    for (const raw of ['{"promptTokenCount":1}', 7, false, Symbol('x'), () => 1, [{}]]) {
      expect(normalizeUsage(raw)).toBeNull();
      expect(() => normalizeUsage(raw, { strict: true })).toThrow(InvalidUsageError);
    }
  });

  it('lists every repair of one object, in reading order', () => {
    const usage = normalizeUsage({
      promptTokenCount: '3',
      candidatesTokenCount: -1,
      totalTokenCount: 1.2,
    });
    expect(usage?.repairs?.map((r) => r.field)).toEqual([
      'promptTokenCount',
      'candidatesTokenCount',
      'totalTokenCount',
      'totalTokenCount',
    ]);
    expect(usage).toMatchObject({ inputTokens: 3, outputTokens: 0, totalTokens: 3 });
  });
});
