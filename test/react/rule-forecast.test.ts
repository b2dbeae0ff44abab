/** Rule forecasts for every scope kind, on a seeded SQLite ledger with known answers. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/keep/types.js';
import type { BudgetRule } from '../../src/react/budgets/index.js';
import { entityForecasts, ruleForecast } from '../../src/react/rule-forecast.js';
import { createSqliteStore } from '../../src/sqlite/index.js';
import { ledgerRow } from '../support/ledger-rows.js';

const DAY = 86_400_000;
const USD = 10n ** 15n;
/** 2026-11-15T12:00Z: 15 days of November spent (the 1st to the 15th), 15.5 days left. */
const NOW = Date.UTC(2026, 10, 15, 12);
const TODAY = Date.UTC(2026, 10, 15);

const dir = mkdtempSync(join(tmpdir(), 'tollgate-rule-forecast-'));
let store: Store;
beforeAll(async () => {
  store = createSqliteStore({ path: join(dir, 'ledger.db') });
  // Every day for 21 days at 06:00: alice $1 on gemini-2.5-flash, bob $2 on the same model as
  // Gemini names it (models/…), carol $0.50 on OpenAI's gpt-4o.
  const rows = [];
  for (let d = 0; d <= 20; d++) {
    const at = TODAY - d * DAY + 6 * 3_600_000;
    rows.push(ledgerRow(`a${d}`, 'alice', at, USD));
    rows.push({ ...ledgerRow(`b${d}`, 'bob', at, 2n * USD), model: 'models/gemini-2.5-flash' });
    rows.push({ ...ledgerRow(`c${d}`, 'carol', at, USD / 2n), model: 'gpt-4o' });
  }
  await store.append(rows);
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const rule = (scope: BudgetRule['scope'], limitUsd = 20, id = 'r'): BudgetRule => ({
  id,
  scope,
  window: 'month',
  limitUsd,
  mode: 'soft',
});

describe('ruleForecast for every scope', () => {
  // A steady $x a day projects x × 15 spent + x × 15.5 left.
  it.each([
    ['one user', { kind: 'user', id: 'alice' }, 'alice', 15, 30.5],
    [
      'one model, however the ledger spells it',
      { kind: 'model', id: 'gemini-2.5-flash' },
      'gemini-2.5-flash',
      45,
      91.5,
    ],
    [
      'one model by its Gemini name',
      { kind: 'model', id: 'models/gemini-2.5-flash' },
      'gemini-2.5-flash',
      45,
      91.5,
    ],
    ['a provider (by the catalog)', { kind: 'provider', id: 'Google' }, 'google', 45, 91.5],
    ['another provider', { kind: 'provider', id: 'openai' }, 'openai', 7.5, 15.25],
    ['everything', { kind: 'global' }, '', 52.5, 106.75],
  ] as const)('%s', async (_name, scope, entity, spent, projected) => {
    const f = await ruleForecast(store, rule({ ...scope }), NOW);
    expect(f?.entity).toBe(entity);
    expect(f?.spentUsd).toBeCloseTo(spent, 9);
    expect(f?.projectedUsd).toBeCloseTo(projected, 9);
    expect(f?.projectedLowUsd).toBeCloseTo(projected, 9); // a steady series has no spread
    expect(f?.entities).toBe(1);
    expect(f?.overLimit).toBe(projected > 20);
  });

  it('a rule for every user reports the highest projection, how many, and how many pass', async () => {
    const f = await ruleForecast(store, rule({ kind: 'user' }), NOW);
    expect(f).toMatchObject({ entity: 'bob', entities: 3, entitiesOverLimit: 2, overLimit: true });
    expect(f?.projectedUsd).toBeCloseTo(61, 9);
    // bob has spent $30 of $20 this month: the limit is gone already.
    expect(f?.runOutAt).toBe('2026-11-15T12:00:00.000Z'); // already past it: runs out now
    const each = await entityForecasts(store, rule({ kind: 'user' }), NOW);
    expect(each.map((e) => [e.entity, e.overLimit])).toEqual([
      ['bob', true],
      ['alice', true],
      ['carol', false],
    ]);
  });

  it('a user with a rule of their own for the window is left out of the rule for every user', async () => {
    const every = rule({ kind: 'user' }, 20, 'every');
    const bobs = rule({ kind: 'user', id: 'bob' }, 100, 'bob');
    const f = await ruleForecast(store, every, NOW, [every, bobs]);
    expect(f).toMatchObject({ entity: 'alice', entities: 2, entitiesOverLimit: 1 });
    expect(f?.runOutAt).toBe('2026-11-20T12:00:00.000Z');
    // A rule of another window does not replace it.
    const daily: BudgetRule = { ...bobs, window: 'day' };
    expect((await ruleForecast(store, every, NOW, [every, daily]))?.entity).toBe('bob');
  });

  it('every model and every provider, each by the same names budgets charge', async () => {
    const models = await entityForecasts(store, rule({ kind: 'model' }, 50), NOW);
    expect(models.map((m) => m.entity)).toEqual(['gemini-2.5-flash', 'gpt-4o']);
    const providers = await entityForecasts(store, rule({ kind: 'provider' }, 50), NOW);
    expect(providers.map((p) => [p.entity, p.overLimit])).toEqual([
      ['google', true],
      ['openai', false],
    ]);
  });

  it('a rule nobody spends under yet projects $0; a per-request rule has no forecast', async () => {
    const f = await ruleForecast(store, rule({ kind: 'tenant' }), NOW);
    expect(f).toMatchObject({ entity: '', entities: 0, projectedUsd: 0, overLimit: false });
    const named = await ruleForecast(store, rule({ kind: 'agent', id: 'nobody' }), NOW);
    expect(named).toMatchObject({ entity: 'nobody', spentUsd: 0, projectedUsd: 0 });
    expect(
      await ruleForecast(store, { ...rule({ kind: 'global' }), window: 'request' }, NOW),
    ).toBeNull();
  });
});
