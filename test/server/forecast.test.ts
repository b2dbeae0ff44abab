/** GET /api/budgets carries each rule's forecast and the ledger's monthly forecast. */
import { describe, expect, it } from 'vitest';
import { ledgerForecast } from '../../src/react/forecast.js';
import { call, fixture, NOW } from './support.js';

describe('GET /api/budgets forecasts', () => {
  it('projects each rule the ledger can filter, and the ledger overall', async () => {
    const { handler, keys, budgets, store } = await fixture();
    budgets.setRule({
      id: 'all-month',
      scope: { kind: 'global' },
      window: 'month',
      limitUsd: 0.2,
      mode: 'soft',
    });
    budgets.setRule({
      id: 'alice-day',
      scope: { kind: 'user', id: 'alice' },
      window: 'day',
      limitUsd: 1,
      mode: 'hard',
    });
    budgets.setRule({
      id: 'each-user',
      scope: { kind: 'user' },
      window: 'week',
      limitUsd: 5,
      mode: 'soft',
    });
    budgets.setRule({
      id: 'google',
      scope: { kind: 'provider', id: 'google' },
      window: 'month',
      limitUsd: 5,
      mode: 'soft',
    });
    budgets.setRule({
      id: 'per-call',
      scope: { kind: 'global' },
      window: 'request',
      limitUsd: 1,
      mode: 'hard',
    });
    const res = await call(handler, 'GET /api/budgets', { key: keys.viewer });
    expect(res.status).toBe(200);
    const byId = Object.fromEntries(
      res.body.budgets.map((b: { id: string; forecast: unknown }) => [b.id, b.forecast]),
    );
    const month = await ledgerForecast(store, { window: 'month', limitUsd: 0.2, now: NOW });
    const plain = (f: object) => JSON.parse(JSON.stringify(f));
    expect(byId['all-month']).toEqual({
      ...plain(month),
      entity: '',
      entities: 1,
      entitiesOverLimit: 1,
    });
    // November so far holds every seeded call: $0.116
    expect(byId['all-month']).toMatchObject({
      spentUsdExact: '0.116',
      limitUsd: 0.2,
      window: 'month',
    });
    expect(byId['all-month'].projectedUsd).toBeGreaterThan(0.116);
    expect(byId['alice-day']).toMatchObject({ window: 'day', limitUsd: 1 });
    // A rule for every user: the user projected highest (alice, $0.10 yesterday), the count of
    // users with spend, and how many pass the limit; alice's own day rule has another window.
    const alice = await ledgerForecast(store, {
      window: 'week',
      filter: { userId: 'alice' },
      limitUsd: 5,
      now: NOW,
    });
    expect(byId['each-user']).toEqual({
      ...plain(alice),
      entity: 'alice',
      entities: 3,
      entitiesOverLimit: 0,
    });
    // A provider: every model the catalog places at google (the unknown model is left out).
    const google = await ledgerForecast(store, { window: 'month', limitUsd: 5, now: NOW });
    expect(byId.google).toEqual({
      ...plain(google),
      entity: 'google',
      entities: 1,
      entitiesOverLimit: 0,
    });
    expect(byId['per-call']).toBeNull();
    expect(res.body.ledgerForecast).toMatchObject({
      window: 'month',
      spentUsdExact: '0.116',
      limitUsd: null,
    });
  });

  it('a tenant key sees no ledger-wide forecast', async () => {
    const { handler, keys } = await fixture();
    const res = await call(handler, 'GET /api/budgets', { key: keys.acmeViewer });
    expect(res.status).toBe(200);
    expect(res.body.ledgerForecast).toBeNull();
  });
});
