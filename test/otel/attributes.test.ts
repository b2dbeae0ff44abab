import { describe, expect, it } from 'vitest';
import { type RecordInput, TokenTracker } from '../../src/index.js';
import { genAiAttributes } from '../../src/otel/index.js';

/** Recorded calls → attributes, with no OpenTelemetry involved (the mapping is pure). */
describe('genAiAttributes', () => {
  it.each<[string, RecordInput, Record<string, unknown>]>([
    [
      'Anthropic with a cache write and a cache read: input counts both, as the convention asks',
      {
        agent: 'writer',
        model: 'claude-sonnet-4-5',
        provider: 'anthropic',
        usage: {
          input_tokens: 100,
          cache_creation_input_tokens: 50,
          cache_read_input_tokens: 20,
          output_tokens: 30,
        },
      },
      {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.system': 'anthropic',
        'gen_ai.request.model': 'claude-sonnet-4-5',
        'gen_ai.response.model': 'claude-sonnet-4-5',
        'gen_ai.usage.input_tokens': 170,
        'gen_ai.usage.output_tokens': 30,
        'gen_ai.usage.cache_read.input_tokens': 20,
        'gen_ai.usage.cache_creation.input_tokens': 50,
        'gen_ai.agent.name': 'writer',
        // 100 × $3/M + 50 × $3.75/M + 20 × $0.30/M + 30 × $15/M
        'tollgate.cost.usd': 0.0009435,
        'tollgate.cost.priced': true,
        'tollgate.record.id': 't-1',
      },
    ],
    [
      'Gemini on Vertex, no agent, no cache',
      {
        model: 'gemini-2.5-flash',
        provider: 'vertex',
        usage: { promptTokenCount: 1000, candidatesTokenCount: 100, totalTokenCount: 1100 },
      },
      {
        'gen_ai.operation.name': 'generate_content',
        'gen_ai.provider.name': 'gcp.vertex_ai',
        'gen_ai.system': 'gcp.vertex_ai',
        'gen_ai.request.model': 'gemini-2.5-flash',
        'gen_ai.response.model': 'gemini-2.5-flash',
        'gen_ai.usage.input_tokens': 1000,
        'gen_ai.usage.output_tokens': 100,
        // 1,000 × $0.30/M + 100 × $2.50/M
        'tollgate.cost.usd': 0.00055,
        'tollgate.cost.priced': true,
        'tollgate.record.id': 't-1',
      },
    ],
  ])('%s', (_, input, attributes) => {
    const record = new TokenTracker({ sessionId: 't' }).record(input);
    expect(genAiAttributes(record!)).toEqual(attributes);
  });
});

describe('genAiAttributes: service tiers', () => {
  const usage = { promptTokenCount: 11, candidatesTokenCount: 51, totalTokenCount: 62 };
  const attributesOf = (input: Omit<RecordInput, 'model'>) => {
    const record = new TokenTracker().record({ model: 'gemini-3-flash-preview', ...input });
    if (!record) throw new Error('not recorded');
    return genAiAttributes(record);
  };

  it('names a tier other than standard, and marks prepaid capacity', () => {
    expect(attributesOf({ usage: { ...usage, trafficType: 'ON_DEMAND_FLEX' } })).toMatchObject({
      'tollgate.service_tier': 'flex',
      'tollgate.cost.usd': 0.00007925,
    });
    const provisioned = attributesOf({
      usage: { ...usage, trafficType: 'PROVISIONED_THROUGHPUT' },
    });
    expect(provisioned).toMatchObject({
      'tollgate.service_tier': 'provisioned',
      'tollgate.cost.prepaid': true,
    });
    const batch = attributesOf({ usage, serviceTier: 'batch' });
    expect(batch['tollgate.service_tier']).toBe('batch');
    expect(batch).not.toHaveProperty('tollgate.cost.prepaid');
  });

  it('adds nothing for standard calls', () => {
    const attributes = attributesOf({ usage: { ...usage, trafficType: 'ON_DEMAND' } });
    expect(attributes).not.toHaveProperty('tollgate.service_tier');
    expect(attributes).not.toHaveProperty('tollgate.cost.prepaid');
  });
});
