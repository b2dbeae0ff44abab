/** GET /metrics: Prometheus text that parses and carries tollgate's counters and gauges. */
import { describe, expect, it } from 'vitest';
import { TokenTracker } from '../../src/account/tracker.js';
import { MemoryStore } from '../../src/keep/memory.js';
import { RateLimiter } from '../../src/react/rate-limit.js';
import { createApiKey, createHandler, createMetrics } from '../../src/server/index.js';
import { call, fixture, HOUR, NOW, rec } from './support.js';

/** Parses the exposition format strictly enough to catch a malformed line. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || /^# (HELP|TYPE) \w+ .+$/.test(line)) continue;
    const match = /^(\w+)(\{(?:\w+="(?:[^"\\]|\\.)*",?)*\})? (-?[\d.e+-]+|NaN|[+-]Inf)$/.exec(line);
    if (!match) throw new Error(`not exposition format: ${line}`);
    samples.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  return samples;
}

describe('GET /metrics', () => {
  it('tokens and exact cost by model and agent, fed by a tracker', async () => {
    const metrics = createMetrics();
    const tracker = new TokenTracker();
    tracker.on('usage', metrics.observe);
    // gemini-1.5-flash ≤128k: $0.075 / $0.30 per Mtok.
    for (let i = 0; i < 3; i++) {
      tracker.record({
        agent: 'planner',
        model: 'gemini-1.5-flash',
        usage: {
          promptTokenCount: 1_000,
          candidatesTokenCount: 500,
          cachedContentTokenCount: 200,
          thoughtsTokenCount: 100,
          totalTokenCount: 1_600,
        },
      });
    }
    const { handler, keys } = await fixture({ metrics });
    const res = await call(handler, 'GET /metrics', { key: keys.viewer });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const samples = parse(res.text);
    const labels = 'model="gemini-1.5-flash",agent="planner"';
    expect(samples.get(`tollgate_tokens_total{${labels},type="input"}`)).toBe(3_000);
    expect(samples.get(`tollgate_tokens_total{${labels},type="cached"}`)).toBe(600);
    expect(samples.get(`tollgate_tokens_total{${labels},type="reasoning"}`)).toBe(300);
    expect(samples.get(`tollgate_tokens_total{${labels},type="output"}`)).toBeGreaterThan(0);
    expect(samples.get(`tollgate_cost_usd_total{${labels}}`)).toBe(tracker.spentUsd);
    expect(res.text).toContain('# TYPE tollgate_budget_utilization_ratio gauge');
    expect(res.text).toContain('# TYPE tollgate_rate_limit_rejections_total counter');
  });

  it('the cost counter is an exact sum rounded once (0.1 + 0.2 is 0.3)', async () => {
    const metrics = createMetrics();
    metrics.observe(rec({ costFemto: 100_000_000_000_000n }));
    metrics.observe(rec({ costFemto: 200_000_000_000_000n }));
    const samples = parse(await metrics.text());
    expect(samples.get('tollgate_cost_usd_total{model="gemini-2.5-flash",agent="planner"}')).toBe(
      0.3,
    );
  });

  it('budget utilization per budget, and rate-limit rejections per limit', async () => {
    const metrics = createMetrics();
    const limiter = new RateLimiter({
      limits: [{ id: 'per-user', scope: { kind: 'user' }, requestsPerMinute: 1 }],
    });
    const { handler, keys, budgets } = await fixture({ metrics, rateLimiter: limiter });
    budgets.setRule({
      id: 'monthly',
      scope: { kind: 'global' },
      window: 'month',
      limitUsd: 4,
      mode: 'hard',
    });
    const { reservation } = await budgets.reserve({
      callId: 'c',
      model: 'gemini-2.5-flash',
      estimateUsd: 1,
      now: NOW,
    });
    await budgets.settle(reservation, 1_000_000_000_000_000n, NOW); // $1 of $4
    await limiter.check({ userId: 'alice', now: NOW });
    await expect(limiter.check({ userId: 'alice', now: NOW })).rejects.toThrow(/Rate limit/);
    const samples = parse((await call(handler, 'GET /metrics', { key: keys.admin })).text);
    expect(samples.get('tollgate_budget_utilization_ratio{budget="monthly"}')).toBe(0.25);
    expect(samples.get('tollgate_rate_limit_rejections_total{scope="per-user"}')).toBe(1);
  });

  it('needs credentials unless public, and an unscoped one', async () => {
    const { handler, keys } = await fixture({ metrics: createMetrics() });
    expect((await call(handler, 'GET /metrics')).status).toBe(401);
    expect((await call(handler, 'GET /metrics', { key: keys.acmeViewer })).status).toBe(403);
    const open = await fixture({ metrics: createMetrics({ public: true }) });
    expect((await call(open.handler, 'GET /metrics')).status).toBe(200);
  });

  it('follows a ledger written by other processes', async () => {
    const store = new MemoryStore();
    const metrics = createMetrics();
    const start = Date.now();
    await store.append([rec({ timestamp: start - HOUR })]); // before: not counted
    const stop = metrics.follow(store, { intervalMs: 10, from: start });
    await store.append([rec({ timestamp: start }), rec({ timestamp: start + 1, agent: 'coder' })]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    await store.append([rec({ timestamp: start + 2 })]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    stop();
    const samples = parse(await metrics.text());
    expect(
      samples.get('tollgate_tokens_total{model="gemini-2.5-flash",agent="planner",type="input"}'),
    ).toBe(2_000);
    expect(
      samples.get('tollgate_tokens_total{model="gemini-2.5-flash",agent="coder",type="input"}'),
    ).toBe(1_000);
  });

  it('each handler has its own registry', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.observe(rec({}));
    expect(a.registry).not.toBe(b.registry);
    expect(await b.text()).not.toMatch(/tollgate_tokens_total\{/);
    const { key, record } = createApiKey('viewer');
    const handler = createHandler({
      store: new MemoryStore(),
      auth: { apiKeys: [record] },
      metrics: a,
    });
    expect((await call(handler, 'GET /metrics', { key })).text).toMatch(/tollgate_tokens_total\{/);
  });
});
