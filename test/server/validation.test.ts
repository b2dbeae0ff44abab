/**
 * Bad input: every parameter and body field is validated, and the 400 names the field. Then a
 * property: random paths, query strings, methods, headers and bodies never produce a 5xx.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/keep/memory.js';
import { createMetrics } from '../../src/server/index.js';
import { call, fixture, seedRecords } from './support.js';

const rule = { scope: { kind: 'user', id: 'alice' }, window: 'day', limitUsd: 5, mode: 'hard' };

describe('400s name the field', () => {
  it.each([
    ['GET /api/usage/summary?days=0', 'days: must be at least 1'],
    ['GET /api/usage/summary?days=abc', 'days: must be a whole number'],
    ['GET /api/usage/summary?days=367', 'days: must be at most 366'],
    ['GET /api/usage/summary?days=-1', 'days: must be a whole number'],
    ['GET /api/usage/summary?days=1.5', 'days: must be a whole number'],
    ['GET /api/usage/summary?days=', 'days: must be a whole number'],
    ['GET /api/usage/summary?days=1&days=2', 'days: given more than once'],
    ['GET /api/usage/summary?top=0', 'top: must be at least 1'],
    ['GET /api/usage/summary?tz=Mars%2FOlympus', 'tz: is not an IANA time zone'],
    ['GET /api/usage/summary?colour=red', 'colour: unknown field'],
    ['GET /api/usage/summary?__proto__=1', '__proto__: unknown field'],
    ['GET /api/usage/by-model?days=x', 'days: must be a whole number'],
    ['GET /api/usage/by-agent?tenant=', 'tenant: must not be empty'],
    ['GET /api/usage/records?limit=1001', 'limit: must be at most 1000'],
    ['GET /api/usage/records?order=sideways', 'order: must be "asc" or "desc"'],
    ['GET /api/usage/records?cursor=%2F%2F', 'cursor: is not a cursor this server returned'],
    ['GET /api/usage/records?userId=', 'userId: must not be empty'],
    ['GET /api/usage/users/%E0%A4%A?days=1', 'userId: malformed percent-encoding'],
    [`GET /api/usage/users/${'u'.repeat(300)}`, 'userId: must be at most 256 characters'],
    ['GET /api/usage/threads/t-a?limit=0', 'limit: must be at least 1'],
    ['GET /api/budgets?x=1', 'x: unknown field'],
  ])('%s', async (line, message) => {
    const { handler, keys } = await fixture();
    const res = await call(handler, line, { key: keys.admin });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'invalid_request', message: expect.any(String) } });
    expect(res.body.error.message.startsWith(message)).toBe(true);
  });

  it.each([
    [{ ...rule, limitUsd: -1 }, 'limitUsd: must be greater than 0'],
    [{ ...rule, limitUsd: '5' }, 'limitUsd: must be a number'],
    [{ ...rule, window: 'fortnight' }, 'window: '],
    [{ ...rule, mode: 'strict' }, 'mode: '],
    [{ ...rule, scope: { kind: 'planet' } }, 'scope.kind: '],
    [{ ...rule, scope: { kind: 'global', id: 'x' } }, 'scope.id: a global scope takes no id'],
    [{ ...rule, scope: { kind: 'user', extra: 1 } }, 'scope.extra: unknown field'],
    [{ ...rule, alertAt: [0.5, 2] }, 'alertAt.1: must be at most 1'],
    [{ ...rule, timeZone: 'Nowhere/Land' }, 'timeZone: is not an IANA time zone'],
    [{ ...rule, mode: 'adaptive' }, 'adaptive: adaptive mode needs'],
    [{ ...rule, id: 'other' }, 'id: "other" differs from the id in the path'],
    [{ ...rule, surprise: true }, 'surprise: unknown field'],
    [{ scope: rule.scope }, 'window: '],
    [[], 'body: '],
    [null, 'body: '],
    ['{not json', 'body: is not valid JSON'],
  ])('PUT /api/budgets/b1 %j', async (body, message) => {
    const { handler, keys } = await fixture();
    const res = await call(handler, 'PUT /api/budgets/b1', { key: keys.admin, body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.message.startsWith(message)).toBe(true);
  });

  it.each([
    [{ scope: { kind: 'user' } }, 'requestsPerMinute: give requestsPerMinute or tokensPerMinute'],
    [
      { scope: { kind: 'user' }, requestsPerMinute: 1.5 },
      'requestsPerMinute: must be a whole number',
    ],
    [{ scope: { kind: 'tenant' }, requestsPerMinute: 1 }, 'scope.kind: '],
    [{ scope: { kind: 'user' }, tokensPerMinute: 0 }, 'tokensPerMinute: must be greater than 0'],
    [
      { scope: { kind: 'user' }, requestsPerMinute: 5, id: 'reserved' },
      'body: id "reserved" is reserved',
    ],
  ])('PUT /api/rate-limits/reserved %j', async (body, message) => {
    const { handler, keys } = await fixture();
    const res = await call(handler, 'PUT /api/rate-limits/reserved', { key: keys.admin, body });
    expect(res.status).toBe(400);
    expect(res.body.error.message.startsWith(message)).toBe(true);
  });

  it('a body must be JSON and at most 64 KiB', async () => {
    const { handler, keys } = await fixture();
    const text = await call(handler, 'PUT /api/budgets/b1', {
      key: keys.admin,
      body: JSON.stringify(rule),
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    const big = await call(handler, 'PUT /api/budgets/b1', {
      key: keys.admin,
      body: { ...rule, padding: 'x'.repeat(70_000) },
    });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
  });
});

describe('time zones', () => {
  it('a zone in any letter case is one zone: answered and summarized under its canonical name', async () => {
    const store = new MemoryStore();
    await store.append(seedRecords());
    const zones = new Set<string | undefined>();
    const summarize = store.summarize.bind(store);
    store.summarize = (options) => {
      if (options.groupBy === 'day') zones.add(options.timeZone);
      return summarize(options);
    };
    const { handler, keys } = await fixture({ store });
    const answers = [];
    for (const tz of ['asia/tokyo', 'ASIA/TOKYO', 'Asia/Tokyo']) {
      answers.push(
        await call(handler, `GET /api/usage/summary?days=30&tz=${tz}`, { key: keys.admin }),
      );
    }
    expect(answers.map((res) => res.status)).toEqual([200, 200, 200]);
    expect(answers.map((res) => res.body.timeZone)).toEqual([
      'Asia/Tokyo',
      'Asia/Tokyo',
      'Asia/Tokyo',
    ]);
    expect(answers[0]?.body.daily).toEqual(answers[2]?.body.daily);
    // Caches keyed by the zone hold one entry, not one per spelling a caller tries (UTC: the
    // rollup asking which UTC days hold calls).
    expect([...zones].filter((zone) => zone !== 'UTC')).toEqual(['Asia/Tokyo']);
  });
});

describe('no input gives a 5xx', () => {
  const segment = fc.oneof(
    fc.constantFrom('api', 'usage', 'users', 'threads', 'records', 'by-model', 'by-agent'),
    fc.constantFrom('summary', 'budgets', 'rate-limits', 'health', 'metrics', '', '..', '%', '%zz'),
    fc.string({ maxLength: 12 }).map(encodeURIComponent),
    fc.string({ maxLength: 6 }),
  );
  const path = fc.oneof(
    fc.array(segment, { maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
    fc.constantFrom(
      '/api/usage/summary',
      '/api/usage/records',
      '/api/usage/users/alice',
      '/api/usage/threads/t-a',
      '/api/usage/by-model',
      '/api/usage/by-agent',
      '/api/budgets/b1',
      '/api/rate-limits/l1',
      '/api/budgets',
      '/api/rate-limits',
    ),
  );
  const value = fc.oneof(
    fc.constantFrom('0', '1', '7', '-1', '1e3', 'NaN', '9999999999999999', 'UTC', 'asc', ''),
    fc.string({ maxLength: 10 }),
    fc.integer().map(String),
  );
  const name = fc.oneof(
    fc.constantFrom('days', 'limit', 'cursor', 'order', 'tz', 'top', 'tenant', 'userId', 'agent'),
    fc.string({ maxLength: 5 }),
  );
  const query = fc
    .array(fc.tuple(name, value), { maxLength: 4 })
    .map((pairs) => new URLSearchParams(pairs).toString());
  const body = fc.oneof(
    fc.constant(undefined),
    fc.json({ maxDepth: 3 }),
    fc.string({ maxLength: 40 }),
    fc.record(
      {
        id: fc.string({ maxLength: 5 }),
        scope: fc.record(
          {
            kind: fc.constantFrom('user', 'tenant', 'global', 'model', 'provider', 'agent', 'x'),
            id: fc.oneof(fc.string({ maxLength: 5 }), fc.integer()),
          },
          { requiredKeys: ['kind'] },
        ),
        window: fc.constantFrom('request', 'hour', 'day', 'week', 'month', 'year'),
        limitUsd: fc.oneof(fc.double(), fc.integer(), fc.constant(1e308)),
        mode: fc.constantFrom('soft', 'hard', 'adaptive', 'x'),
        alertAt: fc.array(fc.double(), { maxLength: 3 }),
        timeZone: fc.constantFrom('UTC', 'Europe/Berlin', 'Nowhere', ''),
        adaptive: fc.record({ fallbackModel: fc.string(), minMaxOutputTokens: fc.integer() }),
        requestsPerMinute: fc.oneof(fc.integer(), fc.double()),
        tokensPerMinute: fc.integer(),
      },
      { requiredKeys: [] },
    ),
  );
  const method = fc.constantFrom('GET', 'PUT', 'DELETE', 'POST', 'PATCH', 'HEAD', 'OPTIONS');
  const key = fc.constantFrom('admin', 'viewer', 'acmeAdmin', 'acmeViewer', 'none', 'junk');

  it('random requests get a 2xx or a 4xx with the error shape', async () => {
    const f = await fixture({ metrics: createMetrics() });
    f.budgets.setUserLimit('alice', 5);
    await fc.assert(
      fc.asyncProperty(method, path, query, body, key, async (m, p, q, b, k) => {
        const headers: Record<string, string> = {};
        if (k !== 'none') headers.authorization = `Bearer ${k === 'junk' ? 'x.y.z' : f.keys[k]}`;
        let payload: string | undefined;
        if (b !== undefined && m !== 'GET' && m !== 'HEAD') {
          payload = typeof b === 'string' ? b : JSON.stringify(b);
          headers['content-type'] = 'application/json';
        }
        const response = await f.handler(
          new Request(`http://tollgate.test${p}${q ? `?${q}` : ''}`, {
            method: m,
            headers,
            body: payload,
          }),
        );
        const text = await response.text();
        expect(response.status, `${m} ${p}?${q} ${payload}`).toBeLessThan(500);
        if (response.status >= 400 && m !== 'HEAD') {
          const parsed = JSON.parse(text);
          expect(Object.keys(parsed.error).sort()).toEqual(['code', 'message']);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
