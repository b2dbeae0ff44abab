/**
 * Wiring to the real BudgetManager (src/react/budgets, built alongside): two managers sharing a
 * store stand for two processes; each threshold reaches the webhook once. Skipped when that
 * module does not load, so these alert tests never hinge on it.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAlertDispatcher, webhookChannel } from '../../src/alerts/index.js';
import { startWebhookSink, type WebhookSink } from './support.js';

type Budgets = typeof import('../../src/react/budgets/index.js');
type Memory = typeof import('../../src/keep/memory.js');

let modules: { budgets: Budgets; memory: Memory } | undefined;
beforeAll(async () => {
  try {
    modules = {
      budgets: await import('../../src/react/budgets/index.js'),
      memory: await import('../../src/keep/memory.js'),
    };
  } catch {
    modules = undefined;
  }
});

let sink: WebhookSink | undefined;
afterEach(async () => {
  await sink?.close();
});

describe('alerts from a BudgetManager', () => {
  it('fires each threshold once per window across two managers sharing a store', async (context) => {
    if (!modules) return context.skip();
    const { BudgetManager } = modules.budgets;
    const store = new modules.memory.MemoryStore();
    const rule = {
      id: 'alice-daily',
      scope: { kind: 'user' as const, id: 'alice' },
      window: 'day' as const,
      limitUsd: 0.1,
      mode: 'soft' as const,
      alertAt: [0.5, 1],
    };
    const processes = [
      new BudgetManager({ store, rules: [rule], trackUserSpend: false }),
      new BudgetManager({ store, rules: [rule], trackUserSpend: false }),
    ];
    sink = await startWebhookSink();
    const errors: unknown[] = [];
    const alerts = createAlertDispatcher({
      channels: [webhookChannel({ url: sink.url, secret: 's' })],
      onError: (error) => errors.push(error),
    });
    for (const manager of processes) alerts.attach(manager);

    const now = Date.parse('2026-11-23T10:00:00Z');
    for (let i = 0; i < 6; i++) {
      const manager = processes[i % 2]!;
      const { reservation } = await manager.reserve({
        callId: `call-${i}`,
        userId: 'alice',
        model: 'gemini-2.5-flash',
        estimateUsd: 0.03,
        now: now + i,
      });
      await manager.settle(reservation, 30_000_000_000_000, now + i); // $0.03
    }
    await alerts.close();

    expect(errors).toEqual([]);
    expect(sink.requests.map((r) => JSON.parse(r.body).text)).toEqual([
      'Budget warning: $0.06 / $0.10 (60.0%) for user:alice (day)',
      'Budget exceeded: $0.12 / $0.10 (120.0%) for user:alice (day)',
    ]);
    expect(JSON.parse(sink.requests[0]!.body)).toMatchObject({
      ruleId: 'alice-daily',
      window: 'day',
      scope: 'user:alice',
      resetsAt: Date.parse('2026-11-24T00:00:00Z'),
    });
  });
});
