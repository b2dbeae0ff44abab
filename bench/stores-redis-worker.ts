/**
 * One benchmark worker process (forked by bench/stores-redis.ts): connects to the shared Redis,
 * waits for "go", then makes `calls` calls of reserve(estimate) → actual cost ≤ estimate →
 * settle, against the one hard budget every worker shares. Reports each settled amount (its
 * ledger) and its timings to the parent.
 *
 * argv: url prefix worker calls limitFemto seed
 */
import type { BudgetCounter } from '../src/keep/types.js';
import { createRedisStore } from '../src/redis/index.js';

export interface WorkerReport {
  worker: number;
  granted: number;
  refused: number;
  /** Settled femto-dollars per granted call, as decimal strings. */
  ledger: string[];
  maxEstimateFemto: string;
  elapsedMs: number;
}

const [url, prefix, workerArg, callsArg, limitArg, seedArg] = process.argv.slice(2);
const worker = Number(workerArg);
const calls = Number(callsArg);
const now = Date.UTC(2026, 10, 23, 12);
const budget: BudgetCounter = {
  key: 'global:day:2026-11-23@UTC',
  limitFemto: BigInt(limitArg ?? '0'),
  hard: true,
  expiresAt: Date.UTC(2026, 10, 24),
};

/** mulberry32: a small seeded PRNG, so every round is reproducible. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const store = await createRedisStore({ url, prefix, commandTimeoutMs: 10_000 });
const next = random(Number(seedArg) * 1_000 + worker);
process.send?.({ type: 'ready' });
await new Promise<void>((resolve) => process.once('message', () => resolve()));

const ledger: string[] = [];
let refused = 0;
let maxEstimate = 0n;
const started = performance.now();
for (let i = 0; i < calls; i++) {
  const callId = `w${worker}-c${i}`;
  // An estimate around $0.002 with odd femto digits, and an actual cost of 40–100 % of it.
  const estimate = 2_000_000_000_000n + BigInt(Math.floor(next() * 1_000_000_000_000));
  if (estimate > maxEstimate) maxEstimate = estimate;
  const answer = await store.reserve({
    callId,
    amountFemto: estimate,
    counters: [budget],
    holdUntil: now + 60_000,
    now,
  });
  if (!answer.ok) {
    refused++;
    continue;
  }
  const actual = (estimate * BigInt(Math.floor((0.4 + 0.6 * next()) * 1_000_000))) / 1_000_000n;
  await store.settle(callId, actual, [budget], now);
  ledger.push(actual.toString());
}
const report: WorkerReport = {
  worker,
  granted: ledger.length,
  refused,
  ledger,
  maxEstimateFemto: maxEstimate.toString(),
  elapsedMs: performance.now() - started,
};
process.send?.({ type: 'done', report });
await store.close();
process.disconnect?.();
