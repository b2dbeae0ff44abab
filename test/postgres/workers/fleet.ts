/**
 * Fleet child: waits for a shared start time, then makes `count` calls against one hard budget
 * through the Postgres ledger alone: reserve the estimate, "call the model" (the actual cost is
 * at most the estimate), append the ledger record, settle; one call in seven fails and is
 * released. Prints `{"granted": n, "refused": n, "failed": n}`.
 * Usage: node --import tsx test/postgres/workers/fleet.ts <url> <schema> <worker> <count> <limit> <startAt>
 */
import type { BudgetCounter } from '../../../src/keep/types.js';
import { createPostgresStore } from '../../../src/postgres/index.js';
import { actualOf, estimateOf, failsAt, fleetRecord } from './fleet-call.js';

const [url, schema, worker, count, limit, startAt] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const store = await createPostgresStore({ connectionString: url, schema, maxConnections: 4 });
// Today's window (the test reads the counters back at its own now): a day from the start.
const day = new Date(Number(startAt)).toISOString().slice(0, 10);
const expiresAt = Number(startAt) + 86_400_000;
const counters: BudgetCounter[] = [
  { key: `user:alice:day:${day}`, limitFemto: BigInt(limit), hard: true, expiresAt },
  { key: `global:day:${day}`, limitFemto: 0n, hard: false, expiresAt },
];
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
let granted = 0;
let refused = 0;
let failed = 0;
for (let i = 0; i < Number(count); i++) {
  const callId = `${worker}-${i}`;
  const estimate = estimateOf(i);
  const now = Date.now();
  const answer = await store.reserve({
    callId,
    amountFemto: estimate,
    counters,
    holdUntil: now + 60_000,
    now,
  });
  if (!answer.ok) {
    refused++;
    continue;
  }
  if (failsAt(i)) {
    failed++;
    await store.release(callId, Date.now());
    continue;
  }
  const actual = actualOf(i);
  await store.append([fleetRecord(worker, callId, actual)]);
  await store.settle(callId, actual, counters, Date.now());
  granted++;
}
await store.close();
process.stdout.write(JSON.stringify({ granted, refused, failed }));
