/**
 * The webhook channel: a signed JSON POST, retried with exponential backoff on network errors,
 * timeouts, 429 and 5xx. The body carries a top-level `text`, so a Slack (or Mattermost, Teams
 * workflow) incoming webhook shows the sentence as is.
 */
import { z } from 'zod';
import type { BudgetAlert } from './alert.js';
import type { AlertChannel } from './channel.js';
import { AlertDeliveryError } from './errors.js';
import { backoffSchema, delayMs, parseOptions, retriesSchema } from './options.js';
import { type BackoffOptions, backoffDelay, resolveBackoff, retryAfterMs, sleep } from './retry.js';
import { SIGNATURE_HEADER, signBody } from './signature.js';

/**
 * Options of `webhookChannel`: the endpoint, the signing secret, headers, timeouts and retries.
 *
 * @example
 * webhookChannel({ url: 'https://hooks.example/budget', secret: process.env.HOOK_SECRET! });
 */
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
  /**
   * Per attempt, until the status arrives (default 5,000 ms). Up to 64 KiB of the body is then
   * drained within the same time; the body never decides the outcome.
   */
  timeoutMs?: number;
  /**
   * The longest `Retry-After` honoured (default 60,000 ms). A server asking for more is not
   * retried early against its wish: the delivery fails and is reported.
   */
  maxRetryAfterMs?: number;
}

const schema = z
  .object({
    url: z
      .string()
      .refine(isHttpUrl, 'must be an http:// or https:// URL')
      // fetch refuses such a URL on every attempt: say so now, not after the last retry.
      .refine(
        (value) => !hasCredentials(value),
        'must not include credentials (user:password@); pass an Authorization header instead',
      ),
    secret: z.string().min(1, 'must be a non-empty string'),
    // Checked as fetch will check them: a bad name or value (a space, a newline, a character
    // beyond Latin-1) would otherwise fail every attempt and surface only after the retries.
    headers: z
      .record(z.string(), z.string())
      .superRefine((headers, context) => {
        for (const [name, value] of Object.entries(headers)) {
          const message = !validHeader(name, '')
            ? `"${name}" is not a valid HTTP header name`
            : !validHeader(name, value)
              ? 'must be a valid HTTP header value (Latin-1, no CR, LF or NUL)'
              : undefined;
          if (message) context.addIssue({ code: 'custom', path: [name], message });
        }
      })
      .optional(),
    retries: retriesSchema,
    backoff: backoffSchema,
    timeoutMs: delayMs().positive().optional(),
    maxRetryAfterMs: delayMs().optional(),
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
    } catch (error) {
      const timedOut = signal.aborted;
      return {
        retry: true,
        reason: timedOut ? `no answer within ${timeoutMs} ms` : errorText(error),
        cause: error,
      };
    }
    const status = response.status;
    // The status is the answer. The body is only drained so the connection can be reused: a
    // 2xx whose body is slow, endless or huge was still delivered, and failing it (or reading
    // it all into memory) would send the alert again on retry.
    await drain(response);
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

/** Most of an answer's body read to keep its connection; beyond it the body is cancelled. */
const DRAIN_BYTES = 64 * 1024;

/** Reads and drops up to DRAIN_BYTES of the body (within the attempt's timeout), never throws. */
async function drain(response: Response): Promise<void> {
  const reader = response.body?.getReader();
  if (!reader) return;
  try {
    for (let read = 0; read <= DRAIN_BYTES; ) {
      const chunk = await reader.read();
      if (chunk.done) return;
      read += chunk.value.byteLength;
    }
    await reader.cancel();
  } catch {
    // Timed out or cut by the receiver mid-body: the status already said what happened.
  }
}

/** Whether fetch accepts this header: its own check, so the two never disagree. */
function validHeader(name: string, value: string): boolean {
  try {
    new Headers([[name, value]]);
    return true;
  } catch {
    return false;
  }
}

function hasCredentials(value: string): boolean {
  try {
    const { username, password } = new URL(value);
    return username !== '' || password !== '';
  } catch {
    return false;
  }
}

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
