/**
 * Concurrency-test child: waits for a shared start time, then reserves and settles `count`
 * calls against one hard counter. Prints `{"ok": n}`.
 * Usage: node --import tsx test/sqlite/workers/reserve.ts <db> <worker> <count> <amount> <limit> <startAt>
 */
import type { BudgetCounter } from '../../../src/keep/types.js';
import { SqliteStore } from '../../../src/sqlite/index.js';

const args = process.argv.slice(2);
if (args.length !== 6)
  throw new Error('usage: reserve.ts <db> <worker> <count> <amount> <limit> <startAt>');
const [path, worker, count, amount, limit, startAt] = args as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const store = new SqliteStore({ path });
const counters: BudgetCounter[] = [
  {
    key: 'user:alice:day',
    limitFemto: BigInt(limit),
    hard: true,
    expiresAt: Date.now() + 86_400_000,
  },
  { key: 'global:day', limitFemto: 0n, hard: false, expiresAt: Date.now() + 86_400_000 },
];
// Start together, so the reserves of every process really interleave.
while (Date.now() < Number(startAt)) await new Promise((resolve) => setTimeout(resolve, 1));

let ok = 0;
for (let i = 0; i < Number(count); i++) {
  const callId = `${worker}-${i}`;
  const now = Date.now();
  const estimate = BigInt(amount);
  const result = await store.reserve({
    callId,
    amountFemto: estimate,
    counters,
    holdUntil: now + 60_000,
    now,
  });
  if (!result.ok) continue;
  ok += 1;
  await store.settle(callId, estimate, counters, Date.now());
}
await store.close();
process.stdout.write(`${JSON.stringify({ ok })}\n`);
