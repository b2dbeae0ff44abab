import { afterEach, describe, expect, it } from 'vitest';
import {
  AlertDeliveryError,
  createBudgetAlert,
  verifySignature,
  webhookChannel,
} from '../../src/alerts/index.js';
import { ConfigurationError } from '../../src/index.js';
import { type SinkReply, startWebhookSink, type WebhookSink } from './support.js';

const SECRET = 'whsec_test_1234';
const alert = createBudgetAlert({
  threshold: 0.9,
  spentUsd: 0.47,
  limitUsd: 0.5,
  scope: 'user:alice',
  window: 'day',
  timestamp: Date.parse('2026-11-23T10:00:00Z'),
});
/** Fast, exact waits so the tests measure the schedule, not luck. */
const quick = { initialMs: 30, maxMs: 200, factor: 2, jitter: false } as const;

let sink: WebhookSink | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

async function sinkAnswering(...replies: SinkReply[]): Promise<WebhookSink> {
  sink = await startWebhookSink((n) => replies[Math.min(n, replies.length) - 1] ?? { status: 200 });
  return sink;
}

async function failure(promise: Promise<unknown>): Promise<AlertDeliveryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!AlertDeliveryError.isInstance(error)) throw new Error(`expected a delivery error: ${error}`);
  return error;
}

describe('webhookChannel', () => {
  it('POSTs the alert as signed JSON with a Slack-style text field', async () => {
    const { url, requests } = await sinkAnswering({ status: 200 });
    const channel = webhookChannel({
      url,
      secret: SECRET,
      headers: { Authorization: 'Bearer abc', 'X-Tollgate-Signature': 'forged' },
    });
    const before = Math.floor(Date.now() / 1000);
    await channel.send(alert);
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/hooks/budget');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers.authorization).toBe('Bearer abc');
    expect(request?.headers['idempotency-key']).toBe(alert.id);
    expect(request?.headers['x-tollgate-attempt']).toBe('1');
    const timestamp = Number(request?.headers['x-tollgate-timestamp']);
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(timestamp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    // The receiver's check: the raw bytes, the header, the shared secret.
    expect(verifySignature(request!.raw, request?.headers['x-tollgate-signature'], SECRET)).toBe(
      true,
    );
    expect(verifySignature(request!.raw, request?.headers['x-tollgate-signature'], 'wrong')).toBe(
      false,
    );
    const body = JSON.parse(request!.body);
    expect(body).toEqual(alert);
    expect(body.text).toBe('Budget warning: $0.47 / $0.50 (94.0%) for user:alice (day)');
  });

  it('retries 500 twice then succeeds: same body and key, backoff between attempts', async () => {
    const { url, requests } = await sinkAnswering(
      { status: 500 },
      { status: 502 },
      { status: 200 },
    );
    await webhookChannel({ url, secret: SECRET, backoff: quick }).send(alert);
    expect(requests.map((r) => r.headers['x-tollgate-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(requests.map((r) => r.body)).size).toBe(1);
    expect(new Set(requests.map((r) => r.headers['idempotency-key']))).toEqual(new Set([alert.id]));
    for (const r of requests) {
      expect(verifySignature(r.raw, r.headers['x-tollgate-signature'], SECRET)).toBe(true);
    }
    const gaps = requests.slice(1).map((r, i) => r.at - (requests[i]?.at ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(25); // 30 ms
    expect(gaps[1]).toBeGreaterThanOrEqual(55); // 60 ms
  });

  it('honours Retry-After on 429 instead of its own backoff', async () => {
    const { url, requests } = await sinkAnswering(
      { status: 429, headers: { 'Retry-After': '1' } },
      { status: 204 },
    );
    await webhookChannel({ url, secret: SECRET, backoff: quick }).send(alert);
    expect(requests).toHaveLength(2);
    expect((requests[1]?.at ?? 0) - (requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('does not wait for a Retry-After beyond maxRetryAfterMs: fails at once', async () => {
    const { url, requests } = await sinkAnswering({
      status: 503,
      headers: { 'Retry-After': '3600' },
    });
    const error = await failure(webhookChannel({ url, secret: SECRET }).send(alert));
    expect(requests).toHaveLength(1);
    expect(error.message).toMatch(
      /HTTP 503 Service Unavailable; Retry-After 3600000 ms is too long/,
    );
  });

  it.each([400, 401, 404, 410, 422])('does not retry a %i', async (status) => {
    const { url, requests } = await sinkAnswering({ status });
    const error = await failure(
      webhookChannel({ url, secret: SECRET, backoff: quick }).send(alert),
    );
    expect(requests).toHaveLength(1);
    expect(error).toMatchObject({ channel: 'webhook', status, attempts: 1, alertId: alert.id });
  });

  it('gives up after `retries` retries and says why', async () => {
    const { url, requests } = await sinkAnswering({ status: 503 });
    const error = await failure(
      webhookChannel({ url, secret: SECRET, retries: 2, backoff: quick }).send(alert),
    );
    expect(requests).toHaveLength(3);
    expect(error).toMatchObject({ status: 503, attempts: 3 });
    expect(error.message).toBe(
      `Alert ${alert.id} not delivered by webhook after 3 attempt(s): HTTP 503 Service Unavailable`,
    );
  });

  it('times out a receiver that never answers, and retries it', async () => {
    const { url, requests } = await sinkAnswering('hang', 'hang', { status: 200 });
    const started = Date.now();
    await webhookChannel({ url, secret: SECRET, timeoutMs: 150, backoff: quick }).send(alert);
    expect(requests).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('reports the timeout when every attempt hangs', async () => {
    const { url, requests } = await sinkAnswering('hang');
    const error = await failure(
      webhookChannel({ url, secret: SECRET, timeoutMs: 100, retries: 1, backoff: quick }).send(
        alert,
      ),
    );
    expect(requests).toHaveLength(2);
    expect(error.message).toMatch(/after 2 attempt\(s\): no answer within 100 ms$/);
    expect(error.status).toBeUndefined();
  });

  it('a 2xx is delivered once even when its body never ends', async () => {
    const { url, requests } = await sinkAnswering({ status: 200, body: 'ok', endless: true });
    await webhookChannel({ url, secret: SECRET, timeoutMs: 150, backoff: quick }).send(alert);
    // The receiver took it: failing on the body's timeout would retry and deliver it again.
    expect(requests).toHaveLength(1);
  });

  it('drains at most 64 KiB of an endless, huge answer, then stops reading', async () => {
    const { url, requests } = await sinkAnswering(
      { status: 503, body: 'x'.repeat(1024 * 1024), endless: true },
      { status: 200, body: 'y'.repeat(1024 * 1024), endless: true },
    );
    // A timeout no test would wait for: the drain must stop at its cap, not at the timeout.
    await webhookChannel({ url, secret: SECRET, timeoutMs: 600_000, backoff: quick }).send(alert);
    expect(requests).toHaveLength(2);
  });

  it('retries a dropped connection', async () => {
    const { url, requests } = await sinkAnswering('reset', { status: 200 });
    await webhookChannel({ url, secret: SECRET, backoff: quick }).send(alert);
    expect(requests).toHaveLength(2);
  });

  it('retries a refused connection, then names the cause', async () => {
    const closed = await startWebhookSink();
    await closed.close();
    const started = Date.now();
    const error = await failure(
      webhookChannel({ url: closed.url, secret: SECRET, retries: 2, backoff: quick }).send(alert),
    );
    expect(error.attempts).toBe(3);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(85); // 30 + 60 ms of backoff
  });

  it.each([
    [
      { url: 'ftp://example.com', secret: 's' },
      /url: must be an http:\/\/ or https:\/\/ URL \(got "ftp:\/\/example.com"\)/,
    ],
    [{ url: 'not a url', secret: 's' }, /url: must be an http/],
    [{ url: 'https://example.com' }, /secret: /],
    [{ url: 'https://example.com', secret: '' }, /secret: must be a non-empty string/],
    [{ url: 'https://example.com', secret: 's', retries: -1 }, /retries: .*\(got -1\)/],
    [{ url: 'https://example.com', secret: 's', backoff: { jitter: 2 } }, /backoff\.jitter/],
    [{ url: 'https://example.com', secret: 's', timeout: 5 }, /timeout/],
    [{ url: 'https://user:pw@example.com/hook', secret: 's' }, /url: must not include credentials/],
    [
      { url: 'https://example.com', secret: 's', headers: { 'bad name': 'x' } },
      /headers\.bad name: "bad name" is not a valid HTTP header name/,
    ],
    [
      { url: 'https://example.com', secret: 's', headers: { 'X-Note': 'a\r\nX-Injected: 1' } },
      /headers\.X-Note: must be a valid HTTP header value/,
    ],
    [
      { url: 'https://example.com', secret: 's', headers: { 'X-Note': 'snow ☃' } },
      /headers\.X-Note: must be a valid HTTP header value/,
    ],
    [{ url: 'https://example.com', secret: 's', timeoutMs: 2 ** 31 }, /timeoutMs: must be at most/],
    [
      { url: 'https://example.com', secret: 's', maxRetryAfterMs: 2 ** 31 },
      /maxRetryAfterMs: must be at most/,
    ],
    [
      { url: 'https://example.com', secret: 's', backoff: { maxMs: 2 ** 31 } },
      /backoff\.maxMs: must be at most/,
    ],
  ])('validates its options: %o', (options, message) => {
    expect(() => webhookChannel(options as never)).toThrow(ConfigurationError);
    expect(() => webhookChannel(options as never)).toThrow(message);
  });
});
