/**
 * Tracked calls on OpenTelemetry traces: each recorded call becomes a CLIENT span
 * `generate_content gemini-2.5-flash` with the GenAI semantic-convention attributes and its exact
 * cost, printed here by the console exporter. Run: npx tsx examples/otel.ts
 *
 * In an application, register the SDK once (NodeSDK or NodeTracerProvider with an OTLP
 * exporter) and call `instrumentTracker(tracker)` with no tracer: it uses the global provider,
 * and the spans nest under whatever span is active when the call is recorded.
 */
import {
  BasicTracerProvider,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { TokenTracker } from 'tollgate';
import { instrumentTracker } from 'tollgate/otel';

const provider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())],
});
const tracker = new TokenTracker();
const stop = instrumentTracker(tracker, { tracer: provider.getTracer('tollgate-example') });

// A Gemini response: 1,200 prompt tokens (200 from the context cache), 300 + 100 thinking.
tracker.record({
  agent: 'researcher',
  model: 'gemini-2.5-flash',
  userId: 'alice',
  threadId: 'thread-42',
  usage: {
    promptTokenCount: 1200,
    cachedContentTokenCount: 200,
    candidatesTokenCount: 300,
    thoughtsTokenCount: 100,
    totalTokenCount: 1600,
  },
  metadata: { modelVersion: 'gemini-2.5-flash-001', responseId: 'resp-7' },
});

// An OpenAI call, for comparison: `chat gpt-4o-mini`, provider `openai`.
tracker.record({
  agent: 'summarizer',
  model: 'gpt-4o-mini',
  provider: 'openai',
  usage: { prompt_tokens: 800, completion_tokens: 120, total_tokens: 920 },
});

stop();
await provider.shutdown();
console.log(`\ntotal: $${tracker.spentUsd} for ${tracker.getStatistics().totalCalls} calls`);
