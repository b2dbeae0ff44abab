/**
 * What one request and one caller may cost the server: the longest range, the store-time
 * budget, per-credential request limits, and caches bounded by entries and bytes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { MemoryStore } from '../../src/keep/memory.js';
import type { Store } from '../../src/keep/types.js';
import { RateLimiter } from '../../src/react/rate-limit.js';
import { TtlCache } from '../../src/server/cache.js';
import { createApiKey, createHandler, Rollup, serve } from '../../src/server/index.js';
import { createSqliteStore } from '../../src/sqlite/index.js';
import { call, DAY, fixture, HOUR, NOW, rec, seedRecords, watched } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the longest range (limits.maxDays)', () => {
  it('366 days by default: one day more is a 400 naming days and the bound, on every range route', async () => {
    const { handler, keys } = await fixture();
    for (const path of [
      '/api/usage/summary',
      '/api/usage/by-model',
      '/api/usage/by-agent',
      '/api/usage/users/alice',
      '/api/usage/records',
    ]) {
      expect((await call(handler, `GET ${path}?days=366`, { key: keys.viewer })).status).toBe(200);
      const refused = await call(handler, `GET ${path}?days=367`, { key: keys.viewer });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toEqual({
        code: 'invalid_request',
        message: 'days: must be at most 366 (the longest range this server answers)',
      });
    }
  });

  it('is configurable; a default range above it becomes the bound', async () => {
    const { handler, keys } = await fixture({ limits: { maxDays: 7, requestsPerMinute: false } });
    expect(
      (await call(handler, 'GET /api/usage/summary?days=8', { key: keys.viewer })).status,
    ).toBe(400);
    const fallback = await call(handler, 'GET /api/usage/summary', { key: keys.viewer });
    expect(fallback.status).toBe(200);
    expect(fallback.body.days).toBe(7);
  });

  it.each([
    [{ maxDays: 0 }, /limits\.maxDays/],
    [{ maxDays: 3651 }, /limits\.maxDays/],
    [{ storeTimeoutMs: -1 }, /limits\.storeTimeoutMs/],
    [{ requestsPerMinute: 0 }, /limits\.requestsPerMinute/],
    [{ requestsPerMinute: 1.5 }, /limits\.requestsPerMinute/],
    [{ burst: Number.NaN }, /limits\.burst/],
  ])('a wrong option is named when the handler is made: %o', async (limits, message) => {
    const { record } = createApiKey('viewer');
    expect(() =>
      createHandler({ store: new MemoryStore(), auth: { apiKeys: [record] }, limits }),
    ).toThrow(ConfigurationError);
    expect(() =>
      createHandler({ store: new MemoryStore(), auth: { apiKeys: [record] }, limits }),
    ).toThrow(message);
  });
});

describe('per-credential request limits', () => {
  it('on by default: a burst of 60, then 429 with Retry-After in the documented shape; other keys unaffected', async () => {
    const { handler, keys } = await fixture({ limits: undefined });
    const statuses: number[] = [];
    for (let i = 0; i < 61; i++) {
      statuses.push((await call(handler, 'GET /api/budgets', { key: keys.viewer })).status);
    }
    expect(statuses.slice(0, 60).every((status) => status === 200)).toBe(true);
    const refused = await call(handler, 'GET /api/budgets', { key: keys.viewer });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    expect(refused.body.error.message).toMatch(/300 a minute/);
    // 300 a minute: the next request passes within a fifth of a second, rounded up to 1 s.
    expect(refused.headers.get('retry-after')).toBe('1');
    expect((await call(handler, 'GET /api/budgets', { key: keys.admin })).status).toBe(200);
    // Open routes (health, the dashboard page) are not counted.
    expect((await call(handler, 'GET /api/health')).status).toBe(200);
    expect(handler.stats().callers).toBe(2);
  });

  it('configurable pace and burst; Retry-After is when the next request passes', async () => {
    const { handler, keys } = await fixture({ limits: { requestsPerMinute: 2, burst: 2 } });
    for (let i = 0; i < 2; i++) {
      expect((await call(handler, 'GET /api/budgets', { key: keys.viewer })).status).toBe(200);
    }
    const refused = await call(handler, 'GET /api/budgets', { key: keys.viewer });
    expect(refused.status).toBe(429);
    const seconds = Number(refused.headers.get('retry-after'));
    expect(seconds).toBeGreaterThan(25);
    expect(seconds).toBeLessThanOrEqual(30);
  });

  it('a JWT is counted by its sub', async () => {
    const { handler } = await fixture({ limits: { requestsPerMinute: 1, burst: 1 } });
    const { token } = await import('./support.js');
    const ann = await token({ role: 'viewer', sub: 'ann' });
    const ben = await token({ role: 'viewer', sub: 'ben' });
    expect((await call(handler, 'GET /api/budgets', { key: ann })).status).toBe(200);
    expect((await call(handler, 'GET /api/budgets', { key: ann })).status).toBe(429);
    expect((await call(handler, 'GET /api/budgets', { key: ben })).status).toBe(200);
  });

  it('false turns it off', async () => {
    const { handler, keys } = await fixture({ limits: { requestsPerMinute: false } });
    for (let i = 0; i < 100; i++) {
      expect((await call(handler, 'GET /api/budgets', { key: keys.viewer })).status).toBe(200);
    }
    expect(handler.stats().callers).toBe(0);
  });
});

describe('the store-time budget (limits.storeTimeoutMs)', () => {
  /** A real SQLite ledger behind a gate that holds summaries until opened. */
  function gated(store: Store) {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    // The real store underneath (budgets capability and all), its reads held at the gate.
    const slow = Object.create(store) as Store;
    slow.query = async (options) => {
      await gate;
      return store.query(options);
    };
    slow.summarize = async (options) => {
      await gate;
      return store.summarize(options);
    };
    return { slow, open };
  }

  it('a store answering too late is a 503 store_timeout with Retry-After, over the wire', async () => {
    const sqlite = createSqliteStore({ path: join(dir, 'slow.db') });
    await sqlite.append(seedRecords());
    const { slow, open } = gated(sqlite);
    const reported: unknown[] = [];
    const { handler, keys } = await fixture({
      store: slow,
      limits: { storeTimeoutMs: 50, requestsPerMinute: false },
      onError: (error) => reported.push(error),
    });
    const running = await serve(handler, { port: 0 });
    try {
      for (const path of ['/api/usage/summary?days=30', '/api/usage/records', '/api/budgets']) {
        const res = await fetch(`${running.url}${path}`, {
          headers: { authorization: `Bearer ${keys.viewer}` },
        });
        const body = (await res.json()) as { error: { code: string; message: string } };
        if (path === '/api/budgets') {
          // No budget rules: nothing to read from the store.
          expect(res.status).toBe(200);
          continue;
        }
        expect(res.status, path).toBe(503);
        expect(res.headers.get('retry-after')).toBe('1');
        expect(body.error.code).toBe('store_timeout');
        expect(body.error.message).toMatch(/50 ms/);
      }
      open();
      // The work each call did is kept: retries finish the cold fill, even at 50 ms a call.
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        const res = await fetch(`${running.url}/api/usage/summary?days=30`, {
          headers: { authorization: `Bearer ${keys.viewer}` },
        });
        status = res.status;
        await res.arrayBuffer();
      }
      expect(status).toBe(200);
      expect(reported).toEqual([]);
    } finally {
      await running.close();
      await sqlite.close();
    }
  });

  it('a rollup call stops between store reads once its signal is aborted, keeping what it read', async () => {
    const store = new MemoryStore();
    await store.append(Array.from({ length: 48 }, (_, i) => rec({ timestamp: NOW - i * HOUR })));
    let reads = 0;
    const controller = new AbortController();
    const counting = watched(store, {
      summarize: () => {
        reads += 1;
        if (reads === 5) controller.abort(new Error('budget spent'));
      },
    });
    const rollup = new Rollup(counting, {}, () => NOW);
    const options = { groupBy: 'model' as const, from: NOW - 2 * DAY, to: NOW };
    await expect(rollup.summarize(options, controller.signal)).rejects.toThrow('budget spent');
    const kept = rollup.stats().buckets;
    expect(kept).toBeGreaterThan(0);
    expect(reads).toBeLessThan(10);
    expect(await rollup.summarize(options)).toEqual(await store.summarize(options));
  });
});

describe('caches bounded by entries and bytes', () => {
  it('the rollup counts empty series: cycling through zones and tenants stays within maxBytes and maxSeries', async () => {
    const store = new MemoryStore();
    await store.append(seedRecords());
    const maxBytes = 2 * 1_048_576;
    const rollup = new Rollup(store, { maxBytes, maxSeries: 50 }, () => NOW);
    const zones = Intl.supportedValuesOf('timeZone');
    let most = 0;
    for (const [i, zone] of zones.entries()) {
      await rollup.summarize({
        groupBy: 'day',
        timeZone: zone,
        tenantId: `tenant-${i % 7}`,
        from: NOW - 366 * DAY,
        to: NOW,
      });
      const { bytes, series } = rollup.stats();
      expect(bytes).toBeLessThanOrEqual(maxBytes);
      expect(series).toBeLessThanOrEqual(50);
      most = Math.max(most, bytes);
    }
    // Empty series are not free: a year of empty buckets is counted (and so evicted).
    expect(most).toBeGreaterThan(maxBytes / 2);
  });

  it('a series larger than maxBytes alone goes to the store, exact', async () => {
    const store = new MemoryStore();
    await store.append(seedRecords());
    const rollup = new Rollup(store, { maxBytes: 10_000 }, () => NOW);
    const options = { groupBy: 'day' as const, from: NOW - 300 * DAY, to: NOW };
    expect(await rollup.summarize(options)).toEqual(await store.summarize(options));
    expect(rollup.stats()).toEqual({ series: 0, buckets: 0, rows: 0, bytes: 0 });
  });

  it.each([
    ['maxBytes', 0],
    ['maxSeries', 1.5],
    ['settleMs', -1],
  ])('a wrong rollup option is named: %s', (name, value) => {
    expect(() => new Rollup(new MemoryStore(), { [name]: value })).toThrow(
      `summaries.rollup.${name}`,
    );
  });

  it('the answer cache keeps at most maxEntries and maxBytes, least recently used out first', async () => {
    const cache = new TtlCache({ ttlMs: 60_000, maxEntries: 10, maxBytes: 20_000 });
    for (let i = 0; i < 50; i++) await cache.get(`k${i}`, async () => 'x'.repeat(100));
    expect(cache.stats().entries).toBe(10);
    for (let i = 0; i < 50; i++) await cache.get(`big${i}`, async () => 'x'.repeat(3_000));
    const { entries, bytes } = cache.stats();
    expect(bytes).toBeLessThanOrEqual(20_000);
    expect(entries).toBeLessThan(10);
    // Recently used survives: big49 is answered from the cache, not recomputed.
    let computed = false;
    await cache.get('big49', async () => {
      computed = true;
      return '';
    });
    expect(computed).toBe(false);
    // An answer larger than the bound is answered, not kept.
    expect(await cache.get('huge', async () => 'x'.repeat(20_000))).toHaveLength(20_000);
    expect(cache.stats().bytes).toBeLessThanOrEqual(20_000);
  });
});

describe('RateLimiter behind the API', () => {
  it('lists, creates, replaces and removes its limits, and the next check applies them', async () => {
    const limiter = new RateLimiter({
      limits: [{ id: 'per-user', scope: { kind: 'user' }, requestsPerMinute: 60 }],
    });
    const { handler, keys } = await fixture({ rateLimiter: limiter });
    const listed = await call(handler, 'GET /api/rate-limits', { key: keys.viewer });
    expect(listed.status).toBe(200);
    expect(listed.body.rateLimits).toEqual([
      { id: 'per-user', scope: { kind: 'user' }, requestsPerMinute: 60 },
    ]);
    const created = await call(handler, 'PUT /api/rate-limits/bob', {
      key: keys.admin,
      body: { scope: { kind: 'user', id: 'bob' }, requestsPerMinute: 1 },
    });
    expect(created.status).toBe(201);
    await limiter.check({ userId: 'bob' });
    await expect(limiter.check({ userId: 'bob' })).rejects.toThrow(/rate limit/i);
    const replaced = await call(handler, 'PUT /api/rate-limits/per-user', {
      key: keys.admin,
      body: { scope: { kind: 'user' }, requestsPerMinute: 120 },
    });
    expect(replaced.status).toBe(200);
    expect(limiter.listLimits().map((l) => [l.id, l.requestsPerMinute])).toEqual([
      ['per-user', 120],
      ['bob', 1],
    ]);
    const invalid = await call(handler, 'PUT /api/rate-limits/bad', {
      key: keys.admin,
      body: { scope: { kind: 'user' }, requestsPerMinute: 0 },
    });
    expect(invalid.status).toBe(400);
    expect((await call(handler, 'DELETE /api/rate-limits/bob', { key: keys.admin })).status).toBe(
      204,
    );
    await limiter.check({ userId: 'bob' });
    expect(limiter.removeLimit('bob')).toBe(false);
  });
});
