import { TollgateError } from '../errors.js';

const MARKER = Symbol.for('tollgate.error.AlertDeliveryError');

/**
 * A channel gave up on an alert: after its last retry, or at once for an answer that retrying
 * cannot fix (a 400). Handed to the dispatcher's `onError`, never thrown into tracking.
 */
export class AlertDeliveryError extends TollgateError {
  readonly [MARKER] = true;
  /** The channel's name (`webhook`, `email`, …). */
  readonly channel: string;
  /** The alert's id. */
  readonly alertId: string;
  /** Attempts made, the first included. */
  readonly attempts: number;
  /** The last HTTP status (webhook) or SMTP response code (email), when there was one. */
  readonly status: number | undefined;

  constructor(details: {
    channel: string;
    alertId: string;
    attempts: number;
    status?: number | undefined;
    reason: string;
    cause?: unknown;
  }) {
    super(
      `Alert ${details.alertId} not delivered by ${details.channel} after ${details.attempts} attempt(s): ${details.reason}`,
      { cause: details.cause },
    );
    this.name = 'AlertDeliveryError';
    this.channel = details.channel;
    this.alertId = details.alertId;
    this.attempts = details.attempts;
    this.status = details.status;
  }

  /** True for this error from any copy of the package. */
  static override isInstance(value: unknown): value is AlertDeliveryError {
    return typeof value === 'object' && value !== null && MARKER in value;
  }
}
