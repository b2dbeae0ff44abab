/**
 * OpenAI and Anthropic usage exactly as today's APIs send it (the fields the SDK types of
 * openai 6.x and @anthropic-ai/sdk 1.x declare), normalized and priced.
 */
import { describe, expect, it } from 'vitest';
import { InvalidUsageError } from '../../src/errors.js';
import { normalizeUsage } from '../../src/usage/index.js';

describe('OpenAI', () => {
  it.each([
    [
      'chat completions with cache reads and writes, reasoning and a tier',
      {
        prompt_tokens: 2006,
        completion_tokens: 300,
        total_tokens: 2306,
        prompt_tokens_details: { cached_tokens: 1024, cache_write_tokens: 512, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: 256,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
        service_tier: 'priority',
      },
      {
        inputTokens: 2006,
        cacheReadTokens: 1024,
        cacheWriteTokens: 512,
        outputTokens: 300,
        reasoningTokens: 256,
        totalTokens: 2306,
        serviceTier: 'priority',
      },
    ],
    [
      'the Responses API with a flex tier',
      {
        input_tokens: 36,
        input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
        output_tokens: 87,
        output_tokens_details: { reasoning_tokens: 64 },
        total_tokens: 123,
        service_tier: 'flex',
      },
      { inputTokens: 36, outputTokens: 87, reasoningTokens: 64, serviceTier: 'flex' },
    ],
    [
      'embeddings',
      { prompt_tokens: 8, total_tokens: 8 },
      { inputTokens: 8, outputTokens: 0, totalTokens: 8 },
    ],
    [
      'the default tier',
      { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2, service_tier: 'default' },
      { serviceTier: 'standard' },
    ],
    [
      'Scale Tier (prepaid)',
      { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2, service_tier: 'scale' },
      { serviceTier: 'provisioned' },
    ],
  ])('%s', (_name, raw, expected) => {
    const usage = normalizeUsage(raw, { strict: true });
    expect(usage).toMatchObject({ ...expected, format: 'openai' });
  });

  it('prices an unknown tier as standard, with a repair (strict: an error)', () => {
    const raw = { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4, service_tier: 'turbo' };
    const usage = normalizeUsage(raw);
    expect(usage?.serviceTier).toBe('standard');
    expect(usage?.repairs).toEqual([
      expect.objectContaining({ field: 'service_tier', received: 'turbo' }),
    ]);
    expect(() => normalizeUsage(raw, { strict: true })).toThrow(InvalidUsageError);
  });

  it('clamps cache writes that with the reads exceed the prompt', () => {
    const usage = normalizeUsage({
      prompt_tokens: 10,
      completion_tokens: 1,
      total_tokens: 11,
      prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 50 },
    });
    expect(usage?.cacheWriteTokens).toBe(10);
    expect(usage?.repairs?.[0]?.field).toBe('prompt_tokens_details.cache_write_tokens');
  });
});

describe('Anthropic', () => {
  it('reads thinking tokens, TTL buckets and the tier of a full wire usage', () => {
    const usage = normalizeUsage(
      {
        usage: {
          input_tokens: 50,
          cache_creation_input_tokens: 1500,
          cache_read_input_tokens: 3000,
          cache_creation: { ephemeral_5m_input_tokens: 500, ephemeral_1h_input_tokens: 1000 },
          output_tokens: 400,
          output_tokens_details: { thinking_tokens: 250 },
          server_tool_use: null,
          service_tier: 'standard',
          inference_geo: null,
          speed: null,
        },
      },
      { strict: true },
    );
    expect(usage).toMatchObject({
      inputTokens: 4550,
      cacheWriteTokens: 1500,
      cacheReadTokens: 3000,
      cacheWriteByTtl: { '5m': 500, '1h': 1000 },
      outputTokens: 400,
      reasoningTokens: 250,
      totalTokens: 4950,
      serviceTier: 'standard',
      format: 'anthropic',
    });
  });

  it.each([
    ['priority', 'provisioned'],
    ['batch', 'batch'],
    ['standard', 'standard'],
  ])('reads service_tier %s as %s', (tier, expected) => {
    const usage = normalizeUsage(
      { input_tokens: 5, output_tokens: 2, service_tier: tier },
      { format: 'anthropic' },
    );
    expect(usage?.serviceTier).toBe(expected);
  });

  it('clamps thinking tokens above the output, with a repair', () => {
    const usage = normalizeUsage({
      input_tokens: 5,
      cache_read_input_tokens: 0,
      output_tokens: 10,
      output_tokens_details: { thinking_tokens: 40 },
    });
    expect(usage?.reasoningTokens).toBe(10);
    expect(usage?.repairs?.[0]?.field).toBe('output_tokens_details.thinking_tokens');
  });
});
