/**
 * Fleet child with Redis for the counters and Postgres for the records: `createResilientStore`
 * with a Redis primary and the shared Postgres ledger behind it. Once connected it writes
 * `<signals>/ready-<worker>` and waits for `<signals>/go`, then makes `count` calls, 50 ms apart, against one hard budget: reserve the estimate,
 * "call the model" (the actual cost is at most the estimate), append, settle; one call in seven
 * fails and is released. A reserve refused because Redis is down (fail-closed) is released, in
 * case Redis took the hold before its answer was lost. Before closing, it waits until everything
 * queued during an outage is replayed. Prints
 * `{"granted", "degraded", "degradedFemto", "refused", "unavailable", "failed", "pending", "recovered"}`.
 * Usage: node --import tsx test/postgres/workers/fleet-redis.ts <pg url> <schema> <redis url>
 *   <prefix> <worker> <count> <limit> <signals dir> <open|closed> <key>
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BudgetCounter } from '../../../src/keep/types.js';
import { createPostgresStore } from '../../../src/postgres/index.js';
import {
  createRedisStore,
  createResilientStore,
  StoreUnavailableError,
} from '../../../src/redis/index.js';
import { actualOf, estimateOf, failsAt, fleetRecord } from './fleet-call.js';

const [pgUrl, schema, redisUrl, prefix, worker, count, limit, signals, failMode, key] =
  process.argv.slice(2) as string[] as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    'open' | 'closed',
    string,
  ];
const redis = await createRedisStore({
  url: redisUrl,
  prefix,
  maxRetryDelayMs: 50,
  commandTimeoutMs: 500,
});
const ledger = await createPostgresStore({ connectionString: pgUrl, schema, maxConnections: 2 });
let recovered = 0;
const store = createResilientStore({
  primary: redis,
  local: ledger,
  failMode,
  retryIntervalMs: 50,
  onEvent: (event) => {
    if (event.type === 'recovered') recovered++;
  },
});
const expiresAt = Date.now() + 86_400_000;
const counters: BudgetCounter[] = [
  { key, limitFemto: BigInt(limit), hard: true, expiresAt },
  { key: `${key}:global`, limitFemto: 0n, hard: false, expiresAt },
];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
writeFileSync(join(signals, `ready-${worker}`), '');
while (!existsSync(join(signals, 'go'))) await sleep(10);

const tally = { granted: 0, degraded: 0, degradedFemto: 0n, refused: 0, unavailable: 0, failed: 0 };
for (let i = 0; i < Number(count); i++) {
  await sleep(50);
  const callId = `${worker}-${i}`;
  const estimate = estimateOf(i);
  const now = Date.now();
  let answer: Awaited<ReturnType<typeof store.reserve>>;
  try {
    answer = await store.reserve({
      callId,
      amountFemto: estimate,
      counters,
      holdUntil: now + 60_000,
      now,
    });
  } catch (error) {
    if (!StoreUnavailableError.isInstance(error)) throw error;
    tally.unavailable++;
    await store.release(callId, Date.now());
    continue;
  }
  if (!answer.ok) {
    tally.refused++;
    continue;
  }
  if (failsAt(i)) {
    tally.failed++;
    await store.release(callId, Date.now());
    continue;
  }
  const actual = actualOf(i);
  await store.append([fleetRecord(worker, callId, actual)]);
  await store.settle(callId, actual, counters, Date.now());
  tally.granted++;
  if ('degraded' in answer && answer.degraded) {
    tally.degraded++;
    tally.degradedFemto += actual;
  }
}
for (let waited = 0; store.pending > 0 && waited < 20_000; waited += 50) await sleep(50);
const pending = store.pending;
await store.close();
process.stdout.write(
  JSON.stringify({ ...tally, degradedFemto: String(tally.degradedFemto), pending, recovered }),
);
