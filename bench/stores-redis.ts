/**
 * Redis budget benchmark (issue 4): 8 worker processes share one hard budget on one
 * redis-server, 500 calls each of reserve(estimate) → actual ≤ estimate → settle. The limit
 * runs out about midway, so refusals happen under full contention. Per round it measures the
 * throughput of reserve + settle, the overspend (final settled − limit: at most one call's
 * estimate, and 0 here since an actual never exceeds its reservation), and whether the sum of
 * the workers' ledgers equals the Redis counter to the femto-dollar. Figures are medians over
 * 3 rounds, each on a fresh key prefix.
 *
 * Uses REDIS_URL when set, else starts its own redis-server (test/support/redis-server.ts).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRedisStore } from '../src/redis/index.js';
import {
  hasRedisServer,
  type RedisServer,
  startRedisServer,
} from '../test/support/redis-server.js';
import { median } from './stats.js';
import type { WorkerReport } from './stores-redis-worker.js';

const WORKERS = 8;
const CALLS = 500;
const ROUNDS = 3;
/** Mean estimate ≈ $0.0025 and mean actual ≈ 70 % of it: 4,000 calls would cost ≈ $7. */
const LIMIT_FEMTO = 3_500_000_000_000_000n; // $3.50: spent around the middle of the run
const BUDGET_KEY = 'global:day:2026-11-23@UTC';
const WORKER = fileURLToPath(new URL('./stores-redis-worker.ts', import.meta.url));

export interface RedisRound {
  wallMs: number;
  reserves: number;
  settles: number;
  /** (reserves + settles) per second over the wall time, all workers together. */
  opsPerSec: number;
  /** reserve → settle calls per second (refused reserves count as calls too). */
  callsPerSec: number;
  granted: number;
  refused: number;
  limitFemto: string;
  settledFemto: string;
  reservedFemto: string;
  ledgerSumFemto: string;
  /** max(0, settled − limit), femto-dollars. */
  overspendFemto: string;
  /** limit − settled when under the limit: what refusals left unspent. */
  headroomFemto: string;
  maxEstimateFemto: string;
  ledgerEqualsCounter: boolean;
}

export interface RedisBenchmarkResult {
  redis:
    | {
        workers: number;
        callsPerWorker: number;
        rounds: number;
        server: string;
        /** Medians over the rounds. */
        opsPerSec: number;
        callsPerSec: number;
        /** Worst round: the largest overspend, femto-dollars. */
        overspendFemto: string;
        overspendWithinOneEstimate: boolean;
        ledgerEqualsCounterEveryRound: boolean;
        roundsDetail: RedisRound[];
      }
    | { skipped: string };
}

/** Runs the rounds and returns the figures (the caller writes them to outputs/). */
export async function runRedisBenchmarks(): Promise<RedisBenchmarkResult> {
  let server: RedisServer | undefined;
  let url = process.env.REDIS_URL;
  if (!url) {
    if (!hasRedisServer)
      return { redis: { skipped: 'no REDIS_URL and no redis-server installed' } };
    server = await startRedisServer();
    url = server.url;
  }
  try {
    const rounds: RedisRound[] = [];
    for (let round = 0; round < ROUNDS; round++) rounds.push(await runRound(url, round));
    const worst = rounds.reduce((a, b) =>
      BigInt(a.overspendFemto) > BigInt(b.overspendFemto) ? a : b,
    );
    return {
      redis: {
        workers: WORKERS,
        callsPerWorker: CALLS,
        rounds: ROUNDS,
        server: server ? 'redis-server started by the benchmark (loopback)' : 'REDIS_URL',
        opsPerSec: Math.round(median(rounds.map((r) => r.opsPerSec))),
        callsPerSec: Math.round(median(rounds.map((r) => r.callsPerSec))),
        overspendFemto: worst.overspendFemto,
        overspendWithinOneEstimate: rounds.every(
          (r) => BigInt(r.overspendFemto) <= BigInt(r.maxEstimateFemto),
        ),
        ledgerEqualsCounterEveryRound: rounds.every((r) => r.ledgerEqualsCounter),
        roundsDetail: rounds,
      },
    };
  } finally {
    await server?.dispose();
  }
}

async function runRound(url: string, round: number): Promise<RedisRound> {
  const prefix = `bench:${process.pid}:${round}:`;
  const children = Array.from({ length: WORKERS }, (_, worker) =>
    fork(WORKER, [url, prefix, String(worker), String(CALLS), String(LIMIT_FEMTO), String(round)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const reports = children.map(
    (child) =>
      new Promise<WorkerReport>((resolve, reject) => {
        child.on('message', (message: { type: string; report?: WorkerReport }) => {
          if (message.type === 'done' && message.report) resolve(message.report);
        });
        child.once('exit', (code) => reject(new Error(`benchmark worker exited with ${code}`)));
      }),
  );
  // Every worker connected before the clock starts: process start-up is not measured.
  await Promise.all(
    children.map((child) => new Promise((resolve) => child.once('message', resolve))),
  );
  const started = performance.now();
  for (const child of children) child.send('go');
  const done = await Promise.all(reports);
  const wallMs = performance.now() - started;

  const store = await createRedisStore({ url, prefix });
  const [counter] = await store.counters([BUDGET_KEY], Date.UTC(2026, 10, 23, 12));
  await store.close();
  const settled = counter?.settledFemto ?? 0n;
  const ledgerSum = done.flatMap((r) => r.ledger).reduce((sum, amount) => sum + BigInt(amount), 0n);
  const granted = done.reduce((n, r) => n + r.granted, 0);
  const refused = done.reduce((n, r) => n + r.refused, 0);
  const reserves = granted + refused;
  return {
    wallMs: Math.round(wallMs),
    reserves,
    settles: granted,
    opsPerSec: Math.round(((reserves + granted) * 1000) / wallMs),
    callsPerSec: Math.round((reserves * 1000) / wallMs),
    granted,
    refused,
    limitFemto: LIMIT_FEMTO.toString(),
    settledFemto: settled.toString(),
    reservedFemto: (counter?.reservedFemto ?? 0n).toString(),
    ledgerSumFemto: ledgerSum.toString(),
    overspendFemto: (settled > LIMIT_FEMTO ? settled - LIMIT_FEMTO : 0n).toString(),
    headroomFemto: (settled < LIMIT_FEMTO ? LIMIT_FEMTO - settled : 0n).toString(),
    maxEstimateFemto: done
      .reduce((m, r) => (BigInt(r.maxEstimateFemto) > m ? BigInt(r.maxEstimateFemto) : m), 0n)
      .toString(),
    ledgerEqualsCounter: ledgerSum === settled,
  };
}

// `node --import tsx bench/stores-redis.ts` runs it alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await runRedisBenchmarks(), null, 2));
}
