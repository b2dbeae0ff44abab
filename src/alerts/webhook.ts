/**
 * The webhook channel: a signed JSON POST, retried with exponential backoff on network errors,
 * timeouts, 429 and 5xx. The body carries a top-level `text`, so a Slack (or Mattermost, Teams
 * workflow) incoming webhook shows the sentence as is.
 */
import { z } from 'zod';
import type { BudgetAlert } from './alert.js';
import type { AlertChannel } from './channel.js';
import { AlertDeliveryError } from './errors.js';
import { backoffSchema, parseOptions, retriesSchema } from './options.js';
import { type BackoffOptions, backoffDelay, resolveBackoff, retryAfterMs, sleep } from './retry.js';
import { SIGNATURE_HEADER, signBody } from './signature.js';

export interface WebhookChannelOptions {
  /** Where to POST (http or https). */
  url: string;
  /** Signs every body: `X-Tollgate-Signature: sha256=<hex HMAC-SHA256>`; see `verifySignature`. */
  secret: string;
  /** Extra headers (an `Authorization` for the receiver…); tollgate's own headers win. */
  headers?: Record<string, string>;
  /** Retries after the first attempt (default 5). */
  retries?: number;
  backoff?: BackoffOptions;
  /** Per attempt, response included (default 5,000 ms). */
  timeoutMs?: number;
  /**
   * The longest `Retry-After` honoured (default 60,000 ms). A server asking for more is not
   * retried early against its wish: the delivery fails and is reported.
   */
  maxRetryAfterMs?: number;
}

const schema = z
  .object({
    url: z.string().refine(isHttpUrl, 'must be an http:// or https:// URL'),
    secret: z.string().min(1, 'must be a non-empty string'),
    headers: z.record(z.string(), z.string()).optional(),
    retries: retriesSchema,
    backoff: backoffSchema,
    timeoutMs: z.number().int().positive().optional(),
    maxRetryAfterMs: z.number().int().nonnegative().optional(),
  })
  .strict();

/**
 * A channel that POSTs each alert as JSON: `{ ...alert }` with its `text`, and the headers
 * `X-Tollgate-Signature` (HMAC-SHA256 of the exact body), `X-Tollgate-Timestamp` (unix seconds
 * of the attempt), `Idempotency-Key` (the alert id: the same on every retry, so a receiver drops
 * repeats) and `X-Tollgate-Attempt`. Retries: network errors, timeouts, 429 (after its
 * `Retry-After`) and 5xx; any other 4xx fails at once, and redirects are not followed (the
 * receiver's URL is part of what was configured, so a 3xx is reported, not chased).
 *
 * @example
 * webhookChannel({ url: 'https://hooks.slack.com/services/T000/B000/XXXX', secret: process.env.ALERT_SECRET! })
 */
export function webhookChannel(options: WebhookChannelOptions): AlertChannel {
  const config = parseOptions(schema, options, 'webhookChannel');
  const retries = config.retries ?? 5;
  const backoff = resolveBackoff(config.backoff);
  const timeoutMs = config.timeoutMs ?? 5_000;
  const maxRetryAfterMs = config.maxRetryAfterMs ?? 60_000;

  async function attempt(body: string, alert: BudgetAlert, number: number): Promise<Outcome> {
    const headers: Record<string, string> = {
      ...config.headers,
      'content-type': 'application/json',
      'user-agent': 'tollgate-alerts',
      [SIGNATURE_HEADER]: signBody(body, config.secret),
      'X-Tollgate-Timestamp': String(Math.floor(Date.now() / 1000)),
      'Idempotency-Key': alert.id,
      'X-Tollgate-Attempt': String(number),
    };
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await fetch(config.url, {
        method: 'POST',
        headers,
        body,
        signal,
        redirect: 'manual',
      });
      // Read the answer to the end so the connection is reused, within the same timeout.
      await response.arrayBuffer();
    } catch (error) {
      const timedOut = signal.aborted;
      return {
        retry: true,
        reason: timedOut ? `no answer within ${timeoutMs} ms` : errorText(error),
        cause: error,
      };
    }
    const status = response.status;
    if (status >= 200 && status < 300) return { done: true };
    const reason = `HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''}`;
    if (status === 429 || status >= 500) {
      const wait = retryAfterMs(response.headers.get('retry-after'));
      if (wait !== undefined && wait > maxRetryAfterMs) {
        return { retry: false, status, reason: `${reason}; Retry-After ${wait} ms is too long` };
      }
      return { retry: true, status, reason, waitMs: wait };
    }
    return { retry: false, status, reason };
  }

  return {
    name: 'webhook',
    async send(alert) {
      const body = JSON.stringify(alert);
      for (let number = 1; ; number++) {
        const outcome = await attempt(body, alert, number);
        if ('done' in outcome) return;
        if (!outcome.retry || number > retries) {
          throw new AlertDeliveryError({
            channel: 'webhook',
            alertId: alert.id,
            attempts: number,
            status: outcome.status,
            reason: outcome.reason,
            cause: outcome.cause,
          });
        }
        await sleep(outcome.waitMs ?? backoffDelay(number - 1, backoff));
      }
    },
  };
}

type Outcome =
  | { done: true }
  | {
      retry: boolean;
      reason: string;
      status?: number;
      waitMs?: number | undefined;
      cause?: unknown;
    };

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** fetch's `TypeError: fetch failed` hides the useful part (ECONNREFUSED…) in its cause. */
function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  const detail =
    cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : undefined;
  return detail ? `${error.message} (${detail})` : error.message;
}
