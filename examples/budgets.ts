/**
 * Budgets that hold across calls, users and processes: a per-user daily limit, a tenant monthly
 * limit, alerts, and a refused call. Run: npx tsx examples/budgets.ts
 *
 * Each call: estimate → reserve (atomic check-and-hold) → call the model → settle with the
 * actual cost (or release when the call fails). Swap the MemoryStore for the SQLite or Redis
 * store to share the same budgets between processes.
 */
// Relative imports until the budget engine is exported from the package root.

import {
  BudgetExceededError,
  BudgetManager,
  estimateCallCost,
  MemoryStore,
  normalizeUsage,
  Pricer,
} from 'tollgate';

const pricer = new Pricer();
const budgets = new BudgetManager({
  store: new MemoryStore(),
  defaultDailyUserLimitUsd: 0.05, // every user: $0.05 a day, resetting at midnight UTC
  rules: [
    {
      id: 'acme-monthly',
      scope: { kind: 'tenant', id: 'acme' },
      window: 'month',
      limitUsd: 0.08,
      mode: 'hard',
      alertAt: [0.5, 0.8, 0.95],
      timeZone: 'Europe/Berlin',
    },
  ],
});
budgets.setUserLimit('alice', 0.1); // alice's own limit replaces the default for her

budgets.on('budget_alert', (e) =>
  console.log(
    `alert: ${e.key} at ${e.threshold * 100}% ($${e.spentUsd.toFixed(4)} of $${e.limitUsd})`,
  ),
);
budgets.on('budget_refused', (e) => console.log(`refused: ${e.callId} by ${e.key}`));

let calls = 0;

/** One tracked model call, with a stand-in for the model: it answers with 800 tokens. */
async function ask(userId: string, tenantId: string, promptTokens: number): Promise<void> {
  const model = 'gemini-2.5-flash';
  const callId = `call-${++calls}`;
  const estimate = estimateCallCost({ model, promptTokens, maxOutputTokens: 2048, pricer });
  const { reservation } = await budgets.reserve({ callId, userId, tenantId, model, ...estimate });
  try {
    const usage = normalizeUsage({
      promptTokenCount: promptTokens,
      candidatesTokenCount: 800,
      totalTokenCount: promptTokens + 800,
    });
    if (!usage) throw new Error('the model reported no usage');
    const cost = pricer.price(usage, model);
    await budgets.settle(reservation, cost.totalFemto);
    console.log(
      `${callId} ${userId}@${tenantId}: held $${estimate.estimateUsd.toFixed(4)}, spent $${cost.totalUsd.toFixed(4)}`,
    );
  } catch (error) {
    await budgets.release(reservation);
    throw error;
  }
}

for (let i = 0; i < 4; i++) await ask('alice', 'acme', 20_000);
for (let i = 0; i < 6; i++) {
  try {
    await ask('bob', 'acme', 20_000);
  } catch (error) {
    if (!BudgetExceededError.isInstance(error)) throw error;
    console.log(`bob's call refused: ${error.message}`);
    break;
  }
}

for (const user of ['alice', 'bob']) {
  const { today, month } = await budgets.getUserStats(user);
  console.log(
    `${user}: today $${today.spentUsd.toFixed(4)} of $${today.limitUsd} ($${today.remainingUsd?.toFixed(4)} left); month $${month.spentUsd.toFixed(4)}`,
  );
}
