/** GET /api/insights against the seeded ledger, through `handler(new Request(...))`. */
import { describe, expect, it } from 'vitest';
import { getInsights } from '../../src/insights/index.js';
import { parseRates } from '../../src/show/currency/index.js';
import { call, DAY, fixture, NOW, seedRecords } from './support.js';

describe('GET /api/insights', () => {
  it('analyses the window as getInsights does on the same rows', async () => {
    const { handler, keys } = await fixture();
    const res = await call(handler, 'GET /api/insights?days=30', { key: keys.viewer });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      tenantId: null,
      days: 30,
      from: new Date(NOW - 30 * DAY).toISOString(),
      calls: 12,
      truncated: false,
    });
    const direct = JSON.parse(JSON.stringify(getInsights(seedRecords())));
    expect(res.body.insights).toEqual(direct.insights);
    expect(res.body.insights[0]).toMatchObject({ kind: 'unpriced_calls', model: 'mystery-model' });
    expect(res.body.insights.some((i: { kind: string }) => i.kind === 'what_if')).toBe(true);
  });

  it('filters by user and window, and keeps a tenant key to its tenant', async () => {
    const { handler, keys } = await fixture();
    const alice = await call(handler, 'GET /api/insights?userId=alice', { key: keys.viewer });
    expect(alice.body.calls).toBe(5);
    const recent = await call(handler, 'GET /api/insights?days=1', { key: keys.viewer });
    expect(recent.body.calls).toBe(8);
    const globex = await call(handler, 'GET /api/insights', { key: keys.globex });
    expect(globex.body).toMatchObject({ tenantId: 'globex', calls: 3 });
  });

  it('rejects bad parameters and missing credentials', async () => {
    const { handler, keys } = await fixture();
    for (const bad of ['days=0', 'days=abc', 'nope=1', 'userId=', 'days=1&days=2']) {
      const res = await call(handler, `GET /api/insights?${bad}`, { key: keys.viewer });
      expect(res.status, bad).toBe(400);
    }
    expect((await call(handler, 'GET /api/insights')).status).toBe(401);
  });

  it('?currency= adds the total and each saving in that currency, exactly rounded', async () => {
    const fxRates = parseRates({ date: '2026-11-20', rates: { EUR: '0.5', JPY: '150' } });
    const { handler, keys } = await fixture({ fxRates });
    const res = await call(handler, 'GET /api/insights?currency=EUR', { key: keys.viewer });
    expect(res.status).toBe(200);
    // $0.116 recorded × 0.5 = €0.058 → €0.06
    expect(res.body.currency).toEqual({
      code: 'EUR',
      totalCost: '0.06',
      rate: '0.5',
      rateDate: '2026-11-20',
      rateSource: 'user',
      minorDigits: 2,
    });
    expect(res.body.costInCurrency).toBe('0.06');
    for (const insight of res.body.insights) {
      const cents = Math.round(Number(insight.savingUsdExact) * 0.5 * 100) / 100;
      expect(Number(insight.savingInCurrency)).toBeCloseTo(cents, 10);
    }
    const jpy = await call(handler, 'GET /api/insights?currency=jpy', { key: keys.viewer });
    expect(jpy.body.currency).toMatchObject({ totalCost: '17', minorDigits: 0 });
    for (const [code, message] of [
      ['CHF', /No exchange rate for CHF/],
      ['NOPE', /Unknown currency/],
    ] as const) {
      const bad = await call(handler, `GET /api/insights?currency=${code}`, { key: keys.viewer });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(message);
    }
  });
});
