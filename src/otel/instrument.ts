/**
 * `instrumentTracker`: every call a TokenTracker records becomes GenAI attributes on a span.
 * Telemetry must never break what it watches: each step is guarded, failures are reported
 * (once, by default) and tracking goes on.
 */
import type { Tracer } from '@opentelemetry/api';
import type { UsageRecord } from '../account/record.js';
import { ConfigurationError, describe } from '../errors.js';
import { loadOtelApi } from './api.js';
import { type GenAiAttributeOptions, genAiAttributes, genAiSpanName } from './attributes.js';

export interface InstrumentTrackerOptions extends GenAiAttributeOptions {
  /** Where spans go (default: `trace.getTracer('tollgate')`, the global provider's). */
  tracer?: Tracer;
  /**
   * `child-span` (default): a short CLIENT span `{operation} {model}` per call, a child of the
   * span active when the call is recorded. `active-span`: the attributes go on the active span
   * itself (the one your LLM instrumentation or your own code opened around the call); nothing
   * is set when no span is active.
   */
  mode?: 'active-span' | 'child-span';
  /** Where telemetry failures go (default: the first one is logged, later ones are not). */
  onError?: (error: unknown) => void;
}

/** The part of a TokenTracker the bridge uses. */
export interface UsageSource {
  /** Subscribes to recorded calls. */
  on(event: 'usage', listener: (record: UsageRecord) => void): unknown;
  /** Unsubscribes from recorded calls. */
  off(event: 'usage', listener: (record: UsageRecord) => void): unknown;
}

let warnedMissing = false;

/**
 * Puts each tracked call on OpenTelemetry traces with the GenAI semantic-convention attributes
 * and its cost. Returns a function that stops it. Without @opentelemetry/api installed it does
 * nothing, and says so once.
 *
 * @example
 * import { instrumentTracker } from 'tollgate/otel';
 * const stop = instrumentTracker(tracker); // spans via the global tracer provider
 * // or, to enrich the span of an existing LLM instrumentation:
 * instrumentTracker(tracker, { mode: 'active-span' });
 */
export function instrumentTracker(
  tracker: UsageSource,
  options: InstrumentTrackerOptions = {},
): () => void {
  const mode = options.mode ?? 'child-span';
  if (mode !== 'child-span' && mode !== 'active-span') {
    throw new ConfigurationError(
      `instrumentTracker: mode must be "child-span" or "active-span", got ${describe(mode)}`,
    );
  }
  if (typeof tracker?.on !== 'function' || typeof tracker.off !== 'function') {
    throw new ConfigurationError(
      `instrumentTracker: expected a TokenTracker, got ${describe(tracker)}`,
    );
  }
  const api = loadOtelApi();
  if (!api) {
    if (!warnedMissing) {
      warnedMissing = true;
      console.warn(
        '[tollgate] instrumentTracker: @opentelemetry/api is not installed, so no spans are recorded (npm install @opentelemetry/api).',
      );
    }
    return () => {};
  }
  const report = options.onError ?? logFirstFailure();
  const tracer = options.tracer ?? api.trace.getTracer('tollgate');

  const listener = (record: UsageRecord) => {
    try {
      const attributes = genAiAttributes(record, options);
      if (mode === 'active-span') {
        const span = api.trace.getActiveSpan();
        if (span?.isRecording()) span.setAttributes(attributes);
        return;
      }
      const span = tracer.startSpan(
        genAiSpanName(record, options),
        {
          kind: api.SpanKind.CLIENT,
          attributes,
          // From the call's time when the integration gave it; never in the future.
          startTime: Math.min(record.timestamp, Date.now()),
        },
        api.context.active(),
      );
      span.end();
    } catch (error) {
      try {
        report(error);
      } catch {
        // A failing error handler has nowhere left to report to.
      }
    }
  };
  tracker.on('usage', listener);
  return () => {
    tracker.off('usage', listener);
  };
}

function logFirstFailure(): (error: unknown) => void {
  let logged = false;
  return (error) => {
    if (logged) return;
    logged = true;
    console.error(
      '[tollgate] the OpenTelemetry bridge failed; tracking goes on (later failures are not logged):',
      error,
    );
  };
}
