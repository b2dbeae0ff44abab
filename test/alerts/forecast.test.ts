/** `budget_forecast` alerts: once per window, through a real webhook channel on loopback. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createAlertDispatcher,
  createForecastAlerts,
  webhookChannel,
} from '../../src/alerts/index.js';
import { ConfigurationError } from '../../src/errors.js';
import type { BudgetRule } from '../../src/react/budgets/index.js';
import { createSqliteStore } from '../../src/sqlite/index.js';
import { ledgerRow } from '../support/ledger-rows.js';
import { startWebhookSink, waitFor } from './support.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 15, 12);
const TODAY = Date.UTC(2026, 10, 15);
const dir = mkdtempSync(join(tmpdir(), 'tollgate-forecast-alerts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const row = (d: number) => ledgerRow(`r${d}`, 'alice', TODAY - d * DAY + 6 * 3_600_000, 10n ** 15n);

describe('createForecastAlerts', () => {
  it('alerts a rule projected past its limit once per window, not one within it', async () => {
    const store = createSqliteStore({ path: join(dir, 'ledger.db') });
    await store.append(Array.from({ length: 21 }, (_, d) => row(d)));
    const sink = await startWebhookSink();
    const dispatcher = createAlertDispatcher({
      channels: [webhookChannel({ url: sink.url, secret: 'a-webhook-secret-of-enough-length' })],
    });
    const rules: BudgetRule[] = [
      // $1 a day: $30.50 projected for November against $20
      {
        id: 'alice-month',
        scope: { kind: 'user', id: 'alice' },
        window: 'month',
        limitUsd: 20,
        mode: 'soft',
      },
      { id: 'roomy', scope: { kind: 'global' }, window: 'month', limitUsd: 100, mode: 'soft' },
    ];
    const watch = createForecastAlerts({ dispatcher, store, rules: () => rules });
    const first = await watch.check(NOW);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({
      kind: 'budget_forecast',
      ruleId: 'alice-month',
      scope: 'user:alice',
      window: 'month',
      spentUsd: 15,
      limitUsd: 20,
      threshold: 1.525,
    });
    expect(first[0]?.text).toBe(
      'Budget forecast: $15.00 / $20.00 spent, projected $30.50 ($30.50–$30.50) by 2026-12-01T00:00:00.000Z for user:alice (month); runs out 2026-11-20T12:00:00.000Z',
    );
    // Later the same month: no second alert.
    expect(await watch.check(NOW + 3_600_000)).toEqual([]);
    await dispatcher.flush();
    await waitFor(() => sink.requests.length === 1);
    const body = JSON.parse(sink.requests[0]?.body ?? '{}');
    expect(body).toMatchObject({ kind: 'budget_forecast', ruleId: 'alice-month' });
    expect(sink.requests[0]?.headers['idempotency-key']).toBe(first[0]?.id);
    // December is a new window: with the same pace it alerts again, with a new id.
    await store.append(
      Array.from({ length: 20 }, (_, d) => ({
        ...row(d),
        id: `dec${d}`,
        callId: `dec${d}`,
        timestamp: Date.UTC(2026, 11, 1) + d * DAY + 3_600_000,
      })),
    );
    const december = await watch.check(Date.UTC(2026, 11, 20, 12));
    expect(december).toHaveLength(1);
    expect(december[0]?.id).not.toBe(first[0]?.id);
    await dispatcher.close();
    await sink.close();
    await store.close();
  });

  it('a rule for every user alerts each user projected past it, once per window', async () => {
    const store = createSqliteStore({ path: join(dir, 'every-user.db') });
    // alice $1 a day (projected $30.50), bob $0.50 (projected $15.25), carol $2 with her own rule.
    await store.append(
      Array.from({ length: 21 }, (_, d) => [
        row(d),
        { ...row(d), id: `b${d}`, callId: `b${d}`, userId: 'bob', costFemto: 10n ** 15n / 2n },
        { ...row(d), id: `c${d}`, callId: `c${d}`, userId: 'carol', costFemto: 2n * 10n ** 15n },
      ]).flat(),
    );
    const sink = await startWebhookSink();
    const dispatcher = createAlertDispatcher({
      channels: [webhookChannel({ url: sink.url, secret: 'a-webhook-secret-of-enough-length' })],
    });
    const rules: BudgetRule[] = [
      { id: 'each', scope: { kind: 'user' }, window: 'month', limitUsd: 20, mode: 'soft' },
      {
        id: 'carol',
        scope: { kind: 'user', id: 'carol' },
        window: 'month',
        limitUsd: 100,
        mode: 'soft',
      },
    ];
    const watch = createForecastAlerts({ dispatcher, store, rules: () => rules });
    const first = await watch.check(NOW);
    expect(first.map((a) => [a.ruleId, a.scope])).toEqual([['each', 'user:alice']]);
    expect(first[0]?.text).toContain('projected $30.50');
    // bob spends $5 more today ($12.50 so far, projected $20.23): he is alerted once, alice not again.
    await store.append([
      { ...row(0), id: 'burst', callId: 'burst', userId: 'bob', costFemto: 5n * 10n ** 15n },
    ]);
    const second = await watch.check(NOW + 3_600_000);
    expect(second.map((a) => a.scope)).toEqual(['user:bob']);
    expect(second[0]?.id).not.toBe(first[0]?.id);
    expect(await watch.check(NOW + 7_200_000)).toEqual([]);
    await dispatcher.flush();
    await waitFor(() => sink.requests.length === 2);
    expect(sink.requests.map((r) => JSON.parse(r.body).scope)).toEqual(['user:alice', 'user:bob']);
    await dispatcher.close();
    await sink.close();
    await store.close();
  });

  it('sentPath: a broken file is a ConfigurationError naming it; a missing one starts afresh', () => {
    const bad = join(dir, 'sent-bad.json');
    writeFileSync(bad, '["not", "an object"]');
    const options = { dispatcher: { send: async () => {} }, store: { summarize: async () => [] } };
    expect(() => createForecastAlerts({ ...options, rules: () => [], sentPath: bad })).toThrow(
      ConfigurationError,
    );
    writeFileSync(bad, '{"x": "soon"}');
    expect(() => createForecastAlerts({ ...options, rules: () => [], sentPath: bad })).toThrow(
      /sent-bad\.json must be a JSON object/,
    );
    const fresh = join(dir, 'sent-none.json');
    expect(() =>
      createForecastAlerts({ ...options, rules: () => [], sentPath: fresh }),
    ).not.toThrow();
  });
});
