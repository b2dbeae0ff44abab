import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidUsageError } from '../../src/errors.js';
import {
  detectUsageFormat,
  normalizeUsage,
  type TokenUsage,
  type UsageRepair,
} from '../../src/usage/index.js';
import { gemini } from './arbitraries.js';
import { expectInvariants } from './invariants.js';

const RUNS = Number(process.env.TOLLGATE_FC_RUNS ?? 1000);

/** camelCase key → the snake_case key Google's Python SDK writes. */
const SNAKE: Record<string, string> = {
  promptTokenCount: 'prompt_token_count',
  candidatesTokenCount: 'candidates_token_count',
  totalTokenCount: 'total_token_count',
  thoughtsTokenCount: 'thoughts_token_count',
  cachedContentTokenCount: 'cached_content_token_count',
  toolUsePromptTokenCount: 'tool_use_prompt_token_count',
  promptTokensDetails: 'prompt_tokens_details',
  candidatesTokensDetails: 'candidates_tokens_details',
  cacheTokensDetails: 'cache_tokens_details',
  toolUsePromptTokensDetails: 'tool_use_prompt_tokens_details',
  trafficType: 'traffic_type',
  serviceTier: 'service_tier',
  tokenCount: 'token_count',
};
const CAMEL = Object.fromEntries(Object.entries(SNAKE).map(([camel, snake]) => [snake, camel]));

const isPlain = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The same usage as the Python SDK's `model_dump()` writes it. */
function toSnake(camel: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(camel)) {
    const list = Array.isArray(value)
      ? value.map((entry: unknown) =>
          isPlain(entry)
            ? Object.fromEntries(Object.entries(entry).map(([k, v]) => [SNAKE[k] ?? k, v]))
            : entry,
        )
      : value;
    out[SNAKE[key] ?? key] = list;
  }
  return out;
}

/** A repair's field path in camelCase (`usage_metadata.prompt_token_count` → `promptTokenCount`). */
function camelField(field: string): string {
  return field
    .replace(/^usage_metadata\./, '')
    .replace(/^usageMetadata\./, '')
    .replace(/[a-z_]+/g, (name) => CAMEL[name] ?? name);
}

/** A usage without `raw`, its repairs' fields in camelCase and their reasons' names too. */
function comparable(usage: TokenUsage | null): unknown {
  if (usage === null) return null;
  const { raw: _raw, repairs, ...rest } = usage;
  if (repairs === undefined) return rest;
  return {
    ...rest,
    repairs: repairs.map((repair: UsageRepair) => ({
      field: camelField(repair.field),
      received: repair.received,
      used: repair.used,
    })),
  };
}

describe('snake_case usage_metadata (Google Python SDK)', () => {
  it('normalizes exactly as the camelCase form, lenient (property)', () => {
    fc.assert(
      fc.property(gemini, (camel) => {
        const fromCamel = normalizeUsage(camel);
        const fromSnake = normalizeUsage(toSnake(camel));
        expect(comparable(fromSnake)).toEqual(comparable(fromCamel));
        if (fromSnake) expectInvariants(fromSnake);
      }),
      { numRuns: RUNS },
    );
  });

  it('inside a {usage_metadata} container as {usageMetadata} (property)', () => {
    fc.assert(
      fc.property(gemini, (camel) => {
        const fromCamel = normalizeUsage({ usageMetadata: camel, candidates: [] });
        const fromSnake = normalizeUsage({ usage_metadata: toSnake(camel), candidates: [] });
        expect(comparable(fromSnake)).toEqual(comparable(fromCamel));
      }),
      { numRuns: RUNS },
    );
  });

  it('strict: throws for the same inputs, naming the snake_case field (property)', () => {
    fc.assert(
      fc.property(gemini, (camel) => {
        const attempt = (raw: unknown) => {
          try {
            return { usage: comparable(normalizeUsage(raw, { strict: true })) };
          } catch (error) {
            if (!InvalidUsageError.isInstance(error)) throw error;
            return { field: camelField(error.field) };
          }
        };
        expect(attempt(toSnake(camel))).toEqual(attempt(camel));
      }),
      { numRuns: RUNS },
    );
  });

  it('reads a Python SDK dump with details, thoughts, tool use, cache and the tier', () => {
    const dumped = {
      usage_metadata: {
        prompt_token_count: 1844,
        cached_content_token_count: 901,
        candidates_token_count: 432,
        thoughts_token_count: 91,
        tool_use_prompt_token_count: 1934,
        total_token_count: 4301,
        prompt_tokens_details: [{ modality: 'TEXT', token_count: 1844 }],
        cache_tokens_details: [{ modality: 'TEXT', token_count: 901 }],
        candidates_tokens_details: [{ modality: 'TEXT', token_count: 432 }],
        tool_use_prompt_tokens_details: [{ modality: 'TEXT', token_count: 1934 }],
        traffic_type: 'ON_DEMAND_FLEX',
      },
    };
    expect(detectUsageFormat(dumped)).toBe('gemini');
    const usage = normalizeUsage(dumped);
    expect(usage).toMatchObject({
      inputTokens: 3778,
      cacheReadTokens: 901,
      outputTokens: 523,
      reasoningTokens: 91,
      toolUsePromptTokens: 1934,
      totalTokens: 4301,
      inputByModality: { text: 3778 },
      cacheReadByModality: { text: 901 },
      outputByModality: { text: 432 },
      trafficType: 'ON_DEMAND_FLEX',
      serviceTier: 'flex',
      format: 'gemini',
    });
    expect(usage?.repairs).toBeUndefined();
    expect(usage?.raw).toBe(dumped.usage_metadata);
  });

  it('names the snake_case field in repairs and strict errors', () => {
    const raw = { prompt_token_count: '12', candidates_token_count: 3, total_token_count: 15 };
    expect(normalizeUsage(raw)?.repairs?.[0]?.field).toBe('prompt_token_count');
    expect(() => normalizeUsage({ usage_metadata: raw }, { strict: true })).toThrow(
      /usage_metadata\.prompt_token_count/,
    );
  });

  it("keeps LangChain's usage_metadata (input_tokens) as langchain", () => {
    const message = { usage_metadata: { input_tokens: 10, output_tokens: 5, total_tokens: 15 } };
    expect(detectUsageFormat(message)).toBe('langchain');
  });

  it('a Vertex mid-stream {traffic_type} alone is no usage yet', () => {
    expect(detectUsageFormat({ usage_metadata: { traffic_type: 'ON_DEMAND' } })).toBe('gemini');
    expect(normalizeUsage({ usage_metadata: { traffic_type: 'ON_DEMAND' } })).toBeNull();
  });
});
