/**
 * End to end on loopback: a TokenTracker with a budget, the dispatcher attached, a real HTTP
 * receiver and a real SMTP server. Crossing 90% and then 100% sends exactly one webhook and one
 * email per threshold.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createAlertDispatcher,
  emailChannel,
  verifySignature,
  webhookChannel,
} from '../../src/alerts/index.js';
import { TokenTracker } from '../../src/index.js';
import { type SmtpSink, startSmtpSink, startWebhookSink, type WebhookSink } from './support.js';

const SECRET = 'e2e-secret';
const quick = { initialMs: 20, maxMs: 100, jitter: false } as const;

/** $0.03 a call on gemini-2.5-flash (100,000 input tokens at $0.30/M). */
const usage = { promptTokenCount: 100_000, candidatesTokenCount: 0, totalTokenCount: 100_000 };

let webhook: WebhookSink | undefined;
let smtp: SmtpSink | undefined;
afterEach(async () => {
  await webhook?.close();
  await smtp?.close();
});

async function setup(reply?: Parameters<typeof startWebhookSink>[0]) {
  webhook = await startWebhookSink(reply);
  smtp = await startSmtpSink();
  const errors: unknown[] = [];
  const alerts = createAlertDispatcher({
    channels: [
      webhookChannel({ url: webhook.url, secret: SECRET, backoff: quick }),
      emailChannel({
        transport: { host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true },
        from: 'tollgate@example.com',
        to: 'ops@example.com',
      }),
    ],
    onError: (error) => errors.push(error),
  });
  const tracker = new TokenTracker({ budgetLimitUsd: 0.1, sessionId: 'e2e' });
  alerts.attach(tracker);
  return { alerts, tracker, errors, webhook, smtp };
}

describe('alerts end to end', () => {
  it('one webhook and one email at 90%, one of each at 100%, nothing more', async () => {
    const { alerts, tracker, errors, webhook, smtp } = await setup();
    const spent: number[] = [];
    for (let i = 0; i < 6; i++) {
      tracker.record({ agent: 'researcher', model: 'gemini-2.5-flash', usage, userId: 'alice' });
      spent.push(tracker.spentUsd);
    }
    expect(spent).toEqual([0.03, 0.06, 0.09, 0.12, 0.15, 0.18]); // 90% at call 3, 100% at call 4
    await alerts.close();

    expect(errors).toEqual([]);
    const bodies = webhook.requests.map((r) => JSON.parse(r.body));
    expect(bodies.map((b) => [b.kind, b.threshold, b.text])).toEqual([
      [
        'warning',
        0.9,
        'Budget warning: $0.09 / $0.10 (90.0%) for session e2e; last call by researcher on gemini-2.5-flash',
      ],
      [
        'exceeded',
        1,
        'Budget exceeded: $0.12 / $0.10 (120.0%) for session e2e; last call by researcher on gemini-2.5-flash',
      ],
    ]);
    for (const r of webhook.requests) {
      expect(verifySignature(r.raw, r.headers['x-tollgate-signature'], SECRET)).toBe(true);
    }
    expect(smtp.messages.map((m) => m.subject)).toEqual([
      '[tollgate] Budget warning: 90.0% of $0.10 for session e2e',
      '[tollgate] Budget exceeded: 120.0% of $0.10 for session e2e',
    ]);
    expect(smtp.messages.map((m) => m.headers['x-tollgate-alert-id'])).toEqual(
      webhook.requests.map((r) => r.headers['idempotency-key']),
    );
  });

  it('a flaky receiver sees repeats with one idempotency key: one alert per threshold', async () => {
    // Each alert's first attempt fails with a 500 after the receiver has seen it.
    const { alerts, tracker, errors, webhook } = await setup((n) =>
      n % 2 === 1 ? { status: 500 } : { status: 200 },
    );
    for (let i = 0; i < 5; i++) tracker.record({ agent: 'a', model: 'gemini-2.5-flash', usage });
    await alerts.flush();
    await alerts.close();
    expect(errors).toEqual([]);
    expect(webhook.requests).toHaveLength(4);
    const keys = webhook.requests.map((r) => r.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(2);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).toBe(keys[3]);
  });

  it('an unreachable receiver is reported, and tracking is untouched', async () => {
    const { alerts, tracker, errors, webhook } = await setup(() => ({ status: 400 }));
    for (let i = 0; i < 4; i++) {
      expect(tracker.record({ agent: 'a', model: 'gemini-2.5-flash', usage })).toBeDefined();
    }
    expect(tracker.getStatistics().totalCalls).toBe(4);
    await alerts.close();
    expect(webhook.requests).toHaveLength(2);
    expect(errors.map(String)).toEqual([
      expect.stringMatching(/not delivered by webhook after 1 attempt\(s\): HTTP 400/),
      expect.stringMatching(/not delivered by webhook after 1 attempt\(s\): HTTP 400/),
    ]);
  });
});
