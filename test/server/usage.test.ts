/** The usage endpoints against a seeded MemoryStore, through `handler(new Request(...))`. */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/keep/memory.js';
import { call, DAY, fixture, HOUR, NOW, rec } from './support.js';

describe('GET /api/health', () => {
  it('answers without credentials', async () => {
    const { handler } = await fixture();
    const res = await call(handler, 'GET /api/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', store: { name: 'memory', persistent: false } });
  });
});

describe('GET /api/usage/summary', () => {
  it('concurrent identical requests share one computation: two store summaries, not two per request', async () => {
    const inner = new MemoryStore();
    await inner.append([rec({ userId: 'alice' }), rec({ userId: 'bob' })]);
    let summaries = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // A slow store: every summary waits until all requests have arrived.
    const store = Object.assign(Object.create(inner) as MemoryStore, {
      summarize: async (options: Parameters<MemoryStore['summarize']>[0]) => {
        summaries++;
        await gate;
        return inner.summarize(options);
      },
    });
    const { handler, keys } = await fixture({
      store,
      summaries: { rollup: false, cacheTtlMs: 1_000 },
    });
    const answers = Array.from({ length: 25 }, () =>
      call(handler, 'GET /api/usage/summary?days=30', { key: keys.viewer }),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    const results = await Promise.all(answers);
    expect(results.every((r) => r.status === 200 && r.body.totals.calls === 2)).toBe(true);
    expect(summaries).toBe(2); // by day and by user, once for all 25
    // Another tenant or range is another computation.
    await call(handler, 'GET /api/usage/summary?days=7', { key: keys.viewer });
    expect(summaries).toBe(4);
  });

  it('totals, top users and the daily trend over [now − days, now)', async () => {
    const { handler, keys } = await fixture();
    const res = await call(handler, 'GET /api/usage/summary?days=30', { key: keys.viewer });
    expect(res.status).toBe(200);
    expect(res.body.from).toBe(new Date(NOW - 30 * DAY).toISOString());
    expect(res.body.to).toBe(new Date(NOW).toISOString());
    expect(res.body.totals).toEqual({
      calls: 12,
      inputTokens: 12_000,
      outputTokens: 2_400,
      cachedTokens: 1_200,
      reasoningTokens: 600,
      totalTokens: 14_400,
      unpricedCalls: 1,
      costUsd: 0.116,
      costUsdExact: '0.116',
    });
    expect(res.body.users).toBe(3);
    expect(res.body.topUsers.map((u: { userId: string }) => u.userId)).toEqual([
      'alice',
      'carol',
      'bob',
    ]);
    expect(res.body.topUsers[0]).toMatchObject({ calls: 5, costUsdExact: '0.104', share: 0.8965 });
    expect(
      res.body.daily.map((d: { start: string; calls: number }) => [d.start.slice(0, 10), d.calls]),
    ).toEqual([
      ['2026-11-14', 1],
      ['2026-11-18', 1],
      ['2026-11-21', 1],
      ['2026-11-22', 2],
      ['2026-11-23', 7],
    ]);
    // Exact femto-dollars divided by the calls, then rounded once.
    expect(res.body.averageCostPerCallUsd).toBe(0.009666666666666);
  });

  it('days cuts the window; the start is inclusive', async () => {
    const { handler, keys } = await fixture();
    const week = await call(handler, 'GET /api/usage/summary?days=7', { key: keys.viewer });
    expect(week.body.totals).toMatchObject({ calls: 11, costUsdExact: '0.115' });
    const day = await call(handler, 'GET /api/usage/summary?days=1&top=1', { key: keys.viewer });
    expect(day.body.totals).toMatchObject({ calls: 8, costUsdExact: '0.013' });
    expect(day.body.topUsers).toHaveLength(1);
  });

  it('an empty ledger gives zeros, not an error', async () => {
    const { handler, keys } = await fixture({ store: new MemoryStore() });
    const res = await call(handler, 'GET /api/usage/summary', { key: keys.viewer });
    expect(res.status).toBe(200);
    expect(res.body.totals).toMatchObject({ calls: 0, costUsd: 0, costUsdExact: '0' });
    expect(res.body.daily).toEqual([]);
    expect(res.body.averageCostPerCallUsd).toBe(0);
  });

  it('days follow the asked time zone', async () => {
    const { handler, keys } = await fixture();
    const res = await call(handler, 'GET /api/usage/summary?days=2&tz=Asia%2FTokyo', {
      key: keys.viewer,
    });
    // Tokyo is UTC+9: 2026-11-21T12:00Z is the 21st at 21:00 there; 2026-11-22T11:00Z and 12:00Z
    // are the 22nd at 20:00 and 21:00; this morning's calls (UTC) are the 23rd in the afternoon.
    expect(res.body.timeZone).toBe('Asia/Tokyo');
    expect(res.body.daily.map((d: { start: string; calls: number }) => [d.start, d.calls])).toEqual(
      [
        ['2026-11-20T15:00:00.000Z', 1],
        ['2026-11-21T15:00:00.000Z', 2],
        ['2026-11-22T15:00:00.000Z', 7],
      ],
    );
  });
});

describe('GET /api/usage/users/:userId', () => {
  it('totals, per-day series, models and budget stats', async () => {
    const { handler, keys, budgets } = await fixture();
    budgets.setUserLimit('alice', 5);
    const res = await call(handler, 'GET /api/usage/users/alice?days=30', { key: keys.admin });
    expect(res.status).toBe(200);
    expect(res.body.userId).toBe('alice');
    expect(res.body.totals).toMatchObject({ calls: 5, costUsd: 0.104, costUsdExact: '0.104' });
    expect(res.body.daily.map((d: { calls: number }) => d.calls)).toEqual([2, 3]);
    expect(res.body.byModel.map((m: { model: string }) => m.model)).toEqual([
      'gemini-2.5-pro',
      'gemini-2.5-flash',
    ]);
    expect(res.body.budget.today).toMatchObject({ limitUsd: 5, spentUsd: 0 });
  });

  it('an unknown user has zero usage (200), and ids are percent-decoded', async () => {
    const { handler, store, keys } = await fixture();
    await store.append([rec({ userId: 'a b/c', timestamp: NOW - HOUR })]);
    const nobody = await call(handler, 'GET /api/usage/users/nobody', { key: keys.viewer });
    expect(nobody.status).toBe(200);
    expect(nobody.body.totals.calls).toBe(0);
    const odd = await call(handler, 'GET /api/usage/users/a%20b%2Fc', { key: keys.viewer });
    expect(odd.body.totals.calls).toBe(1);
  });
});

describe('GET /api/usage/threads/:threadId', () => {
  it('totals by agent and the calls, oldest first, paginated', async () => {
    const { handler, keys } = await fixture();
    const first = await call(handler, 'GET /api/usage/threads/t-a?limit=2', { key: keys.viewer });
    expect(first.status).toBe(200);
    expect(first.body.totals).toMatchObject({ calls: 5, costUsdExact: '0.104' });
    expect(first.body.byAgent.map((a: { agent: string }) => a.agent)).toEqual(['coder', 'planner']);
    expect(first.body.records.map((r: { timestamp: number }) => r.timestamp)).toEqual([
      NOW - DAY - HOUR,
      NOW - DAY,
    ]);
    const next = await call(
      handler,
      `GET /api/usage/threads/t-a?limit=2&cursor=${first.body.nextCursor}`,
      { key: keys.viewer },
    );
    expect(next.body.records).toHaveLength(2);
    expect(next.body.records[0].timestamp).toBe(NOW - 3 * HOUR);
  });

  it('an unknown thread is a 404', async () => {
    const { handler, keys } = await fixture();
    const res = await call(handler, 'GET /api/usage/threads/nope', { key: keys.viewer });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});

describe('GET /api/usage/records', () => {
  it('pages through every record of the window, newest first, exactly once', async () => {
    const { handler, keys } = await fixture();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: Awaited<ReturnType<typeof call>> = await call(
        handler,
        `GET /api/usage/records?days=7&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        { key: keys.viewer },
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.records.map((r: { callId: string }) => r.callId));
      cursor = res.body.nextCursor;
      pages += 1;
    } while (cursor);
    expect(seen).toHaveLength(11);
    expect(new Set(seen).size).toBe(11);
    expect(pages).toBe(4);
  });

  it('filters and record fields', async () => {
    const { handler, keys } = await fixture();
    const res = await call(handler, 'GET /api/usage/records?days=30&userId=bob&order=asc', {
      key: keys.viewer,
    });
    expect(res.body.records.map((r: { timestamp: number }) => r.timestamp)).toEqual([
      NOW - 9 * DAY,
      NOW - 5 * DAY,
      NOW - 2 * DAY,
      NOW - 3 * HOUR,
    ]);
    const unpriced = res.body.records[3];
    expect(unpriced).toMatchObject({ model: 'mystery-model', priced: false, costUsdExact: '0' });
    expect(res.body.records[0]).toMatchObject({
      costUsd: 0.001,
      costUsdExact: '0.001',
      time: new Date(NOW - 9 * DAY).toISOString(),
    });
  });

  it('a cursor the store never gave is a 400 naming cursor', async () => {
    const { handler, keys } = await fixture();
    const res = await call(handler, 'GET /api/usage/records?cursor=bm9wZQ', { key: keys.viewer });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/^cursor: /);
  });
});

describe('GET /api/usage/by-model and by-agent', () => {
  it('groups by cost, largest first, with shares', async () => {
    const { handler, keys } = await fixture();
    const models = await call(handler, 'GET /api/usage/by-model?days=30', { key: keys.viewer });
    expect(
      models.body.models.map((m: { model: string; calls: number; costUsdExact: string }) => [
        m.model,
        m.calls,
        m.costUsdExact,
      ]),
    ).toEqual([
      ['gemini-2.5-pro', 1, '0.1'],
      ['gemini-2.5-flash', 10, '0.016'],
      ['mystery-model', 1, '0'],
    ]);
    expect(models.body.models[2].unpricedCalls).toBe(1);
    const agents = await call(handler, 'GET /api/usage/by-agent?days=30', { key: keys.viewer });
    expect(agents.body.agents.map((a: { agent: string }) => a.agent)).toEqual([
      'coder',
      'researcher',
      'planner',
    ]);
    expect(agents.body.totals.costUsdExact).toBe('0.116');
  });
});

describe('routing', () => {
  it('unknown routes are 404, wrong methods 405 with Allow, one trailing slash is fine', async () => {
    const { handler, keys } = await fixture();
    expect((await call(handler, 'GET /api/nope', { key: keys.admin })).status).toBe(404);
    expect((await call(handler, 'GET /api', { key: keys.admin })).status).toBe(404);
    const wrong = await call(handler, 'POST /api/usage/summary', { key: keys.admin });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
    expect(wrong.body.error.code).toBe('method_not_allowed');
    expect((await call(handler, 'GET /api/usage/summary/', { key: keys.admin })).status).toBe(200);
  });

  it('/metrics is 404 when metrics are off', async () => {
    const { handler, keys } = await fixture();
    expect((await call(handler, 'GET /metrics', { key: keys.admin })).status).toBe(404);
  });

  it('a failing store is a 503, reported to onError', async () => {
    const errors: unknown[] = [];
    const store = new MemoryStore();
    store.summarize = async () => {
      throw new Error('disk on fire');
    };
    const { handler, keys } = await fixture({ store, onError: (e) => errors.push(e) });
    const res = await call(handler, 'GET /api/usage/summary', { key: keys.viewer });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('store_unavailable');
    expect(String(errors[0])).toMatch(/disk on fire/);
  });
});

describe('the response cache', () => {
  it('serves one answer per ttl for identical requests', async () => {
    const store = new MemoryStore();
    let summaries = 0;
    const summarize = store.summarize.bind(store);
    store.summarize = (options) => {
      summaries += 1;
      return summarize(options);
    };
    const { handler, keys } = await fixture({
      store,
      summaries: { cacheTtlMs: 60_000, rollup: false },
    });
    await store.append([rec({ userId: 'alice', timestamp: NOW - HOUR })]);
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        call(handler, 'GET /api/usage/summary', { key: keys.viewer }),
      ),
    );
    expect(results.every((r) => r.body.totals.calls === 1)).toBe(true);
    expect(summaries).toBe(2); // day + user, once
    await call(handler, 'GET /api/usage/summary?days=2', { key: keys.viewer });
    expect(summaries).toBe(4);
  });
});
