/**
 * Budgets, rate limits and alerts shared by every process, on Redis. Start a server, then run:
 *
 *   redis-server --port 6379 --save '' &
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/redis.ts
 *
 * On Redis Cluster, name some of its nodes instead (the prefix then carries a hash tag):
 *
 *   REDIS_CLUSTER_NODES=redis://10.0.0.1:6379,redis://10.0.0.2:6379 npx tsx examples/redis.ts
 *
 * Without either (or when nothing answers there) it says how to start a server and exits 0.
 * Keys go under a prefix of their own, removed at the end. BudgetManager builds the same
 * counters from rules (`setUserLimit`, windows, tenants); here the store is driven directly.
 */
import { femtoToUsd, TokenTracker, usdToFemto } from 'tollgate';
import { createRedisStore, StoreUnavailableError } from 'tollgate/redis';

const url = process.env.REDIS_URL || undefined;
const clusterNodes = process.env.REDIS_CLUSTER_NODES?.split(',').filter(Boolean);
const howTo = `Start one with:  redis-server --port 6379 --save '' &
Then run:        REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/redis.ts`;
if (!url && !clusterNodes?.length) {
  console.log(`REDIS_URL is not set: this example needs a Redis server.\n${howTo}`);
  process.exit(0);
}

let store: Awaited<ReturnType<typeof createRedisStore>>;
try {
  store = await createRedisStore(
    clusterNodes?.length
      ? // One hash tag: all of the store's keys in one slot, as a cluster's scripts need.
        { clusterNodes, prefix: `{tollgate-example-${process.pid}}:` }
      : { url, prefix: `tollgate-example:${process.pid}:` },
  );
} catch (error) {
  if (!StoreUnavailableError.isInstance(error)) throw error;
  console.log(`No Redis answers at ${url ?? clusterNodes?.join(', ')}.\n${howTo}`);
  process.exit(0);
}

// Alice may spend $0.004 today (UTC); the counter's key names its window, so it resets at
// midnight, never "24 h after first use".
const now = Date.now();
const day = new Date(now).toISOString().slice(0, 10);
const endOfDay = Date.parse(`${day}T00:00:00Z`) + 86_400_000;
const aliceToday = {
  key: `user:alice:day:${day}@UTC`,
  limitFemto: usdToFemto(0.004),
  hard: true,
  expiresAt: endOfDay,
};

const tracker = new TokenTracker();
const usage = { promptTokenCount: 2_000, candidatesTokenCount: 400, totalTokenCount: 2_400 };
for (let i = 1; i <= 5; i++) {
  const callId = `call-${i}`;
  // Reserve an estimate first: one atomic check-and-hold on every counter, across processes.
  // 2,000 prompt tokens + maxOutputTokens 500 at gemini-2.5-flash prices: never below the cost.
  const estimate = usdToFemto(0.00185);
  const answer = await store.reserve({
    callId,
    amountFemto: estimate,
    counters: [aliceToday],
    holdUntil: Date.now() + 60_000, // a crashed worker's hold frees itself after this
    now: Date.now(),
  });
  if (!answer.ok) {
    console.log(
      `${callId}: refused, $${femtoToUsd(answer.usedFemto)} of $${femtoToUsd(answer.limitFemto)} used`,
    );
    continue;
  }
  // …the model call happens here; then settle with its exact price.
  const record = tracker.record({ model: 'gemini-2.5-flash', usage, userId: 'alice', callId });
  const actual = BigInt(record?.cost.totalFemto ?? 0);
  await store.settle(callId, actual, [aliceToday], Date.now());
  console.log(`${callId}: allowed, cost $${femtoToUsd(actual)}`);

  // Each alert threshold fires once per window, in whichever process gets there first.
  const [state] = await store.counters([aliceToday.key], Date.now());
  if (state && state.settledFemto * 10n >= aliceToday.limitFemto * 8n) {
    if (await store.markAlert(aliceToday.key, 0.8, endOfDay)) console.log('alert: 80% spent');
  }
}

// Requests per second per user (GCRA): a burst of 3, then one every ~333 ms.
for (let i = 1; i <= 4; i++) {
  const rate = await store.consumeRate({
    key: 'user:alice:rps',
    limit: 3,
    windowMs: 1_000,
    cost: 1,
    now: Date.now(),
  });
  console.log(
    `request ${i}:`,
    rate.ok ? `ok, ${rate.remaining} left` : `wait ${rate.retryAfterMs} ms`,
  );
}

// Clean up this run's keys (on a cluster, on each master), then close the connection.
const client = store.client;
for (const node of 'nodes' in client ? client.nodes('master') : [client]) {
  const keys = await node.keys(`${store.keys.prefix}*`);
  if (keys.length > 0) await node.del(...keys);
}
await store.close();
