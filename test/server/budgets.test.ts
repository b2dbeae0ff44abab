/** Budgets and rate limits through the API: list, create or update, delete, persist hooks. */
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { MemoryStore } from '../../src/keep/memory.js';
import { createApiKey, createHandler } from '../../src/server/index.js';
import type { ConfigChange } from '../../src/server/types.js';
import { call, fixture, NOW } from './support.js';

const daily = { scope: { kind: 'user', id: 'alice' }, window: 'day', limitUsd: 2, mode: 'hard' };

describe('/api/budgets', () => {
  it('PUT creates (201) then replaces (200); GET lists; DELETE removes (204, then 404)', async () => {
    const changes: ConfigChange[] = [];
    const { handler, keys, budgets } = await fixture({ onChange: (c) => void changes.push(c) });
    const created = await call(handler, 'PUT /api/budgets/alice-day', {
      key: keys.admin,
      body: daily,
    });
    expect(created.status).toBe(201);
    expect(created.body.budget).toMatchObject({
      id: 'alice-day',
      limitUsd: 2,
      alertAt: [0.5, 0.8, 0.95],
    });
    const updated = await call(handler, 'PUT /api/budgets/alice-day', {
      key: keys.admin,
      body: { ...daily, id: 'alice-day', limitUsd: 3, alertAt: [0.9] },
    });
    expect(updated.status).toBe(200);
    expect(budgets.listRules()).toEqual([
      expect.objectContaining({ id: 'alice-day', limitUsd: 3 }),
    ]);
    const list = await call(handler, 'GET /api/budgets', { key: keys.viewer });
    expect(list.body.budgets).toEqual([
      expect.objectContaining({ id: 'alice-day', limitUsd: 3, status: expect.any(Object) }),
    ]);
    expect((await call(handler, 'DELETE /api/budgets/alice-day', { key: keys.admin })).status).toBe(
      204,
    );
    expect((await call(handler, 'DELETE /api/budgets/alice-day', { key: keys.admin })).status).toBe(
      404,
    );
    expect(budgets.listRules()).toEqual([]);
    expect(changes.map((c) => `${c.kind}:${c.action}`)).toEqual([
      'budget:set',
      'budget:set',
      'budget:remove',
    ]);
  });

  it("shows each concrete rule's spend in the current window, from the store's counters", async () => {
    const { handler, keys, budgets } = await fixture();
    budgets.setRule({
      id: 'all',
      scope: { kind: 'global' },
      window: 'month',
      limitUsd: 10,
      mode: 'hard',
    });
    budgets.setUserLimit('alice', 2);
    budgets.setRule({
      id: 'each-user',
      scope: { kind: 'user' },
      window: 'day',
      limitUsd: 1,
      mode: 'soft',
    });
    budgets.setRule({
      id: 'per-call',
      scope: { kind: 'global' },
      window: 'request',
      limitUsd: 1,
      mode: 'hard',
    });
    const { reservation } = await budgets.reserve({
      callId: 'call-1',
      userId: 'alice',
      model: 'gemini-2.5-flash',
      estimateUsd: 0.5,
      now: NOW,
    });
    await budgets.settle(reservation, 500_000_000_000_000n, NOW); // $0.50
    const list = await call(handler, 'GET /api/budgets', { key: keys.viewer });
    const byId = Object.fromEntries(
      list.body.budgets.map((b: { id: string; status: unknown }) => [b.id, b.status]),
    );
    expect(byId.all).toMatchObject({ spentUsd: 0.5, spentUsdExact: '0.5', utilization: 0.05 });
    expect(byId['user:alice:day']).toMatchObject({
      spentUsd: 0.5,
      utilization: 0.25,
      resetsAt: '2026-11-24T00:00:00.000Z',
    });
    expect(byId['each-user']).toBeNull(); // one rule, every user: no single spend
    expect(byId['per-call']).toBeNull();
  });

  it('a rule the budget manager refuses is a 400 naming it', async () => {
    const { handler, keys, budgets } = await fixture();
    const setRule = budgets.setRule.bind(budgets);
    budgets.setRule = (rule) => {
      if (rule.limitUsd > 100) {
        throw new ConfigurationError('limitUsd: above the house maximum');
      }
      return setRule(rule);
    };
    const res = await call(handler, 'PUT /api/budgets/big', {
      key: keys.admin,
      body: { ...daily, limitUsd: 1000 },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe('body: limitUsd: above the house maximum');
  });

  it('without a budget manager the endpoints say so (501)', async () => {
    const { key, record } = createApiKey('admin');
    const handler = createHandler({ store: new MemoryStore(), auth: { apiKeys: [record] } });
    const res = await call(handler, 'GET /api/budgets', { key });
    expect(res.status).toBe(501);
    expect(res.body.error.code).toBe('not_implemented');
    expect((await call(handler, 'GET /api/rate-limits', { key })).status).toBe(501);
  });
});

describe('/api/rate-limits', () => {
  it('PUT creates then replaces, GET lists, DELETE removes', async () => {
    const changes: ConfigChange[] = [];
    const { handler, keys, limits } = await fixture({ onChange: (c) => void changes.push(c) });
    const body = { scope: { kind: 'user' }, requestsPerMinute: 60 };
    expect(
      (await call(handler, 'PUT /api/rate-limits/per-user', { key: keys.admin, body })).status,
    ).toBe(201);
    const again = await call(handler, 'PUT /api/rate-limits/per-user', {
      key: keys.admin,
      body: { ...body, tokensPerMinute: 100_000 },
    });
    expect(again.status).toBe(200);
    expect(again.body.rateLimit).toEqual({
      id: 'per-user',
      scope: { kind: 'user' },
      requestsPerMinute: 60,
      tokensPerMinute: 100_000,
    });
    const list = await call(handler, 'GET /api/rate-limits', { key: keys.viewer });
    expect(list.body.rateLimits).toEqual(limits.listLimits());
    expect(
      (await call(handler, 'DELETE /api/rate-limits/per-user', { key: keys.admin })).status,
    ).toBe(204);
    expect(
      (await call(handler, 'DELETE /api/rate-limits/per-user', { key: keys.admin })).status,
    ).toBe(404);
    expect(changes.map((c) => `${c.kind}:${c.action}`)).toEqual([
      'rate-limit:set',
      'rate-limit:set',
      'rate-limit:remove',
    ]);
  });

  it('a rate limiter that cannot list or edit its limits is a 501, not a crash', async () => {
    const { handler, keys } = await fixture({ rateLimiter: {} });
    const res = await call(handler, 'GET /api/rate-limits', { key: keys.viewer });
    expect(res.status).toBe(501);
    expect(res.body.error.message).toMatch(/listLimits, setLimit, removeLimit/);
  });

  it('a failing onChange is logged and the change stands', async () => {
    const { handler, keys, budgets } = await fixture({
      onChange: () => {
        throw new Error('disk full');
      },
    });
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args);
    try {
      const res = await call(handler, 'PUT /api/budgets/a', { key: keys.admin, body: daily });
      expect(res.status).toBe(201);
    } finally {
      console.error = original;
    }
    expect(budgets.listRules()).toHaveLength(1);
    expect(String(errors[0])).toMatch(/onChange failed/);
  });
});
