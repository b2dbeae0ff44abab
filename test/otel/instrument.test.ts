import { SpanKind, type Tracer, trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigurationError, TokenTracker } from '../../src/index.js';
import { genAiProviderName, instrumentTracker } from '../../src/otel/index.js';
import { localTracing, useContextManager } from './support.js';

/** A Gemini 2.5 Flash response's usage: 1,200 prompt tokens (200 cached), 300 + 100 thinking. */
const geminiUsage = {
  promptTokenCount: 1200,
  cachedContentTokenCount: 200,
  candidatesTokenCount: 300,
  thoughtsTokenCount: 100,
  totalTokenCount: 1600,
};

let disableContext: () => void;
beforeAll(() => {
  disableContext = useContextManager();
});
afterAll(() => disableContext());

const { exporter, provider, tracer } = localTracing();
afterEach(() => exporter.reset());
afterAll(() => provider.shutdown());

function recordGemini(tracker: TokenTracker) {
  return tracker.record({
    agent: 'researcher',
    model: 'gemini-2.5-flash',
    usage: geminiUsage,
    userId: 'alice',
    tenantId: 'acme',
    threadId: 'thread-42',
    metadata: { modelVersion: 'gemini-2.5-flash-001', responseId: 'resp-7' },
  });
}

describe('instrumentTracker, child-span mode', () => {
  it('records one CLIENT span per call with the GenAI attributes and the cost', () => {
    const tracker = new TokenTracker({ sessionId: 'otel' });
    instrumentTracker(tracker, { tracer });
    const record = recordGemini(tracker);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    const [span] = spans;
    expect(span?.name).toBe('generate_content gemini-2.5-flash');
    expect(span?.kind).toBe(SpanKind.CLIENT);
    expect(span?.parentSpanContext).toBeUndefined();
    expect(span?.instrumentationScope.name).toBe('tollgate-test');
    expect(span?.attributes).toEqual({
      'gen_ai.operation.name': 'generate_content',
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.system': 'gcp.gemini',
      'gen_ai.request.model': 'gemini-2.5-flash',
      'gen_ai.response.model': 'gemini-2.5-flash-001',
      'gen_ai.response.id': 'resp-7',
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.usage.output_tokens': 400,
      'gen_ai.usage.cache_read.input_tokens': 200,
      'gen_ai.usage.reasoning.output_tokens': 100,
      'gen_ai.agent.name': 'researcher',
      'gen_ai.conversation.id': 'thread-42',
      'enduser.id': 'alice',
      'tollgate.tenant.id': 'acme',
      // 1,000 × $0.30/M + 200 cached × $0.03/M + 400 × $2.50/M
      'tollgate.cost.usd': 0.001306,
      'tollgate.cost.priced': true,
      'tollgate.record.id': 'otel-1',
    });
    expect(record?.cost.totalUsd).toBe(0.001306);
  });

  it('is a child of the span active when the call is recorded', () => {
    const tracker = new TokenTracker();
    instrumentTracker(tracker, { tracer });
    tracer.startActiveSpan('agent step', (step) => {
      recordGemini(tracker);
      step.end();
    });
    const spans = exporter.getFinishedSpans();
    const step = spans.find((s) => s.name === 'agent step');
    const call = spans.find((s) => s.name === 'generate_content gemini-2.5-flash');
    expect(step).toBeDefined();
    expect(call?.parentSpanContext?.spanId).toBe(step?.spanContext().spanId);
    expect(call?.spanContext().traceId).toBe(step?.spanContext().traceId);
  });

  it('starts the span at the call timestamp, never in the future', () => {
    const tracker = new TokenTracker();
    instrumentTracker(tracker, { tracer });
    const at = Date.now() - 2_000;
    tracker.record({ model: 'gemini-2.5-flash', usage: geminiUsage, timestamp: at });
    tracker.record({
      model: 'gemini-2.5-flash',
      usage: geminiUsage,
      timestamp: Date.now() + 60_000,
    });
    const [past, future] = exporter.getFinishedSpans();
    const ms = (time: [number, number] | undefined) => (time ? time[0] * 1e3 + time[1] / 1e6 : 0);
    expect(Math.round(ms(past?.startTime))).toBe(at);
    expect(ms(future?.startTime)).toBeLessThanOrEqual(Date.now());
  });

  it('leaves out what is unknown: an unpriced call has no cost, only priced: false', () => {
    const tracker = new TokenTracker({ sessionId: 'u' });
    instrumentTracker(tracker, { tracer });
    tracker.record({
      model: 'in-house-model-7',
      usage: { inputTokens: 10, outputTokens: 5 },
      usageFormat: 'canonical',
    });
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('chat in-house-model-7');
    expect(span?.attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'in-house-model-7',
      'gen_ai.response.model': 'in-house-model-7',
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 5,
      'tollgate.cost.priced': false,
      'tollgate.record.id': 'u-1',
    });
  });

  it('takes an operation name and can keep user ids off spans', () => {
    const tracker = new TokenTracker();
    instrumentTracker(tracker, {
      tracer,
      operationName: (record) => (record.agent === 'embedder' ? 'embeddings' : 'chat'),
      recordUserId: false,
    });
    tracker.record({
      agent: 'embedder',
      model: 'gpt-4o-mini',
      provider: 'openai',
      userId: 'alice',
      usage: { prompt_tokens: 50, completion_tokens: 0, total_tokens: 50 },
    });
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('embeddings gpt-4o-mini');
    expect(span?.attributes['gen_ai.provider.name']).toBe('openai');
    expect(span?.attributes).not.toHaveProperty('enduser.id');
  });

  it('stops when detached', () => {
    const tracker = new TokenTracker();
    const detach = instrumentTracker(tracker, { tracer });
    recordGemini(tracker);
    detach();
    recordGemini(tracker);
    expect(exporter.getFinishedSpans()).toHaveLength(1);
  });

  it('uses the global tracer provider by default', () => {
    const global = localTracing();
    trace.setGlobalTracerProvider(global.provider);
    try {
      const tracker = new TokenTracker();
      instrumentTracker(tracker);
      recordGemini(tracker);
      const [span] = global.exporter.getFinishedSpans();
      expect(span?.instrumentationScope.name).toBe('tollgate');
      expect(span?.name).toBe('generate_content gemini-2.5-flash');
    } finally {
      trace.disable();
    }
  });
});

describe('instrumentTracker, active-span mode', () => {
  it('sets the attributes on the surrounding span and starts none', () => {
    const tracker = new TokenTracker({ sessionId: 'act' });
    instrumentTracker(tracker, { tracer, mode: 'active-span' });
    tracer.startActiveSpan('llm call', (span) => {
      recordGemini(tracker);
      span.end();
    });
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['llm call']);
    expect(spans[0]?.attributes).toMatchObject({
      'gen_ai.request.model': 'gemini-2.5-flash',
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.usage.output_tokens': 400,
      'tollgate.cost.usd': 0.001306,
      'tollgate.record.id': 'act-1',
    });
  });

  it('does nothing when no span is active', () => {
    const tracker = new TokenTracker();
    const onError = vi.fn();
    instrumentTracker(tracker, { tracer, mode: 'active-span', onError });
    expect(recordGemini(tracker)).toBeDefined();
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(onError).not.toHaveBeenCalled();
  });
});

describe('a failing telemetry pipeline', () => {
  const broken = {
    startSpan() {
      throw new Error('exporter exploded');
    },
    startActiveSpan() {
      throw new Error('exporter exploded');
    },
  } as unknown as Tracer;

  it('never breaks record(): the failure goes to onError', () => {
    const tracker = new TokenTracker();
    const onError = vi.fn();
    const listenerErrors = vi.fn();
    const guarded = new TokenTracker({ onListenerError: listenerErrors });
    instrumentTracker(tracker, { tracer: broken, onError });
    instrumentTracker(guarded, { tracer: broken, onError: () => {} });
    expect(recordGemini(tracker)?.cost.totalUsd).toBe(0.001306);
    expect(recordGemini(guarded)).toBeDefined();
    expect(tracker.getStatistics().totalCalls).toBe(1);
    expect(onError).toHaveBeenCalledWith(new Error('exporter exploded'));
    expect(listenerErrors).not.toHaveBeenCalled();
  });

  it('logs the first failure by default, then stays quiet', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const tracker = new TokenTracker();
      instrumentTracker(tracker, { tracer: broken });
      recordGemini(tracker);
      recordGemini(tracker);
      expect(spy).toHaveBeenCalledTimes(1);
      expect(spy.mock.calls[0]?.[0]).toMatch(/OpenTelemetry bridge failed; tracking goes on/);
    } finally {
      spy.mockRestore();
    }
  });

  it('survives an onError that throws', () => {
    const tracker = new TokenTracker();
    instrumentTracker(tracker, {
      tracer: broken,
      onError: () => {
        throw new Error('handler too');
      },
    });
    expect(recordGemini(tracker)).toBeDefined();
  });
});

describe('options and names', () => {
  it.each([[{ mode: 'span' }, /mode must be "child-span" or "active-span", got "span"/]])(
    'refuses %o',
    (options, message) => {
      expect(() => instrumentTracker(new TokenTracker(), options as never)).toThrow(
        ConfigurationError,
      );
      expect(() => instrumentTracker(new TokenTracker(), options as never)).toThrow(message);
    },
  );

  it('refuses something that is not a tracker', () => {
    expect(() => instrumentTracker({} as never)).toThrow(/expected a TokenTracker/);
  });

  it.each([
    ['google', 'gcp.gemini'],
    ['Google', 'gcp.gemini'],
    ['vertex', 'gcp.vertex_ai'],
    ['openai', 'openai'],
    ['anthropic', 'anthropic'],
    ['aws', 'aws.bedrock'],
    ['azure', 'azure.ai.openai'],
    ['mistral', 'mistral_ai'],
    ['x-ai', 'x_ai'],
    ['together', 'together'],
    [undefined, undefined],
  ])('provider %s → gen_ai.provider.name %s', (provider, name) => {
    expect(genAiProviderName(provider)).toBe(name);
  });
});
