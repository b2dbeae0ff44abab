/**
 * `tollgate/otel`: tracked calls on OpenTelemetry traces, with the GenAI semantic-convention
 * attributes and the exact cost. @opentelemetry/api is an optional peer, loaded on first use.
 *
 * @example
 * import { instrumentTracker } from 'tollgate/otel';
 * const stop = instrumentTracker(tracker);
 */
export {
  ATTR,
  type GenAiAttributeOptions,
  type GenAiAttributes,
  genAiAttributes,
  genAiOperationName,
  genAiProviderName,
  genAiSpanName,
} from './attributes.js';
export {
  type InstrumentTrackerOptions,
  instrumentTracker,
  type UsageSource,
} from './instrument.js';
