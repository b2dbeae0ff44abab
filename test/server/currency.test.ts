/**
 * `?currency=` on every money-returning route: each USD amount gains its amount in the currency,
 * exact and rounded once to the minor unit, with the rate and its date; errors are 400s.
 */
import { describe, expect, it } from 'vitest';
import { parseRates } from '../../src/show/currency/rates.js';
import { call, fixture } from './support.js';

const fxRates = parseRates({
  date: '2026-11-20',
  rates: { EUR: '0.5', JPY: '150', BHD: '0.376', KWD: '0.3075' },
});

/** Units of `code` for an exact USD decimal, rounded half up at `digits`: worked independently. */
function expected(usdExact: string, rate: string, digits: number): string {
  const [w, f = ''] = usdExact.split('.');
  const [rw, rf = ''] = rate.split('.');
  const num = BigInt(`${w}${f}`) * BigInt(`${rw}${rf}`) * 10n ** BigInt(digits);
  const den = 10n ** BigInt(f.length + rf.length);
  let units = num / den;
  if ((num % den) * 2n >= den) units += 1n;
  const text = units.toString().padStart(digits + 1, '0');
  return digits ? `${text.slice(0, -digits)}.${text.slice(-digits)}` : text;
}

/** Every `<x>InCurrency` in an answer, checked against its `<x>UsdExact` (or `<x>Usd`). */
function checkAll(body: unknown, rate: string, digits: number): number {
  let checked = 0;
  const walk = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (!value || typeof value !== 'object') return;
    const object = value as Record<string, unknown>;
    for (const [key, item] of Object.entries(object)) {
      walk(item);
      const stem = /^(.+)Usd(Exact)?$/.exec(key)?.[1];
      if (stem === undefined) continue;
      expect(Object.hasOwn(object, `${stem}InCurrency`), `${key} has no ${stem}InCurrency`).toBe(
        true,
      );
    }
    for (const [key, item] of Object.entries(object)) {
      const stem = /^(.+)InCurrency$/.exec(key)?.[1];
      if (stem === undefined) continue;
      const usd = object[`${stem}UsdExact`] ?? object[`${stem}Usd`];
      if (usd === null) {
        expect(item).toBeNull();
      } else {
        const text = typeof usd === 'string' ? usd : String(usd);
        expect(item, key).toBe(expected(text, rate, digits));
        if (digits === 0) expect(item).not.toContain('.');
        else expect((item as string).split('.')[1]).toHaveLength(digits);
      }
      checked++;
    }
  };
  walk(body);
  return checked;
}

const ROUTES = [
  '/api/usage/summary?days=30',
  '/api/usage/users/alice?days=30',
  '/api/usage/threads/t-a',
  '/api/usage/records?days=30',
  '/api/usage/by-model?days=30',
  '/api/usage/by-agent?days=30',
  '/api/budgets',
  '/api/insights?days=30',
];

describe('?currency= on every money-returning route', () => {
  it.each([
    ['EUR', '0.5', 2],
    ['JPY', '150', 0],
    ['BHD', '0.376', 3],
    ['KWD', '0.3075', 3],
  ] as const)(
    '%s: every amount converted exactly, rounded once to %s',
    async (code, rate, digits) => {
      const { handler, keys, budgets } = await fixture({ fxRates });
      budgets.setRule({
        id: 'all',
        scope: { kind: 'global' },
        window: 'month',
        limitUsd: 0.2,
        mode: 'soft',
      });
      budgets.setRule({
        id: 'alice',
        scope: { kind: 'user', id: 'alice' },
        window: 'day',
        limitUsd: 1,
        mode: 'hard',
      });
      for (const route of ROUTES) {
        const plain = await call(handler, `GET ${route}`, { key: keys.admin });
        const res = await call(
          handler,
          `GET ${route}${route.includes('?') ? '&' : '?'}currency=${code.toLowerCase()}`,
          { key: keys.admin },
        );
        expect(res.status, route).toBe(200);
        expect(res.body.currency, route).toMatchObject({
          code,
          minorDigits: digits,
          rate,
          rateDate: '2026-11-20',
          rateSource: 'user',
        });
        expect(checkAll(res.body, rate, digits), route).toBeGreaterThan(0);
        // The USD answer is unchanged beside it, and has no currency without the parameter.
        expect(JSON.stringify(plain.body)).not.toMatch(/InCurrency/);
        expect(plain.body.currency).toBeUndefined();
      }
    },
  );

  it('worked figures: the seeded $0.116 in each currency', async () => {
    const { handler, keys } = await fixture({ fxRates });
    const total = async (code: string) =>
      (await call(handler, `GET /api/usage/summary?days=30&currency=${code}`, { key: keys.viewer }))
        .body.totals;
    expect(await total('EUR')).toMatchObject({ costUsdExact: '0.116', costInCurrency: '0.06' }); // 0.058
    expect(await total('JPY')).toMatchObject({ costInCurrency: '17' }); // 17.4
    expect(await total('BHD')).toMatchObject({ costInCurrency: '0.044' }); // 0.043616
    expect(await total('KWD')).toMatchObject({ costInCurrency: '0.036' }); // 0.03567
    expect(await total('USD')).toMatchObject({ costInCurrency: '0.12' });
  });

  it('a missing rate, an unknown code, an empty or repeated parameter is a 400 naming currency', async () => {
    const { handler, keys } = await fixture({ fxRates });
    for (const [query, message] of [
      ['currency=CHF', /^currency: No exchange rate for CHF/],
      ['currency=NOPE', /^currency: Unknown currency/],
      ['currency=', /^currency: Unknown currency/],
      ['currency=EUR&currency=JPY', /^currency: give one currency/],
    ] as const) {
      for (const route of ['/api/usage/summary?days=3', '/api/budgets', '/api/usage/records']) {
        const res = await call(handler, `GET ${route}${route.includes('?') ? '&' : '?'}${query}`, {
          key: keys.viewer,
        });
        expect(res.status, `${route} ${query}`).toBe(400);
        expect(res.body.error.message).toMatch(message);
      }
    }
    // Without rates configured, a currency other than USD is refused, never shown as USD.
    const bare = await fixture({ fxRates: parseRates({}) });
    const res = await call(bare.handler, 'GET /api/usage/summary?currency=EUR', {
      key: bare.keys.viewer,
    });
    expect(res.status).toBe(400);
  });
});
