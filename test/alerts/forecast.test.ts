/** `budget_forecast` alerts: once per window, through a real webhook channel on loopback. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createAlertDispatcher,
  createForecastAlerts,
  webhookChannel,
} from '../../src/alerts/index.js';
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
});
