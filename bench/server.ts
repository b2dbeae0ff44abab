/**
 * Load test of the HTTP API (issue 5): autocannon on loopback at 500 requests/s for 30 s
 * against GET /api/usage/summary?days=30 over a 1,000,000-row SQLite ledger (the rows spread
 * over those 30 days). The server runs in a child process, so the load generator does not share
 * its event loop. Target: p99 ≤ 50 ms, no errors. Bounded: one ledger, fixed rate and duration,
 * 127.0.0.1 only; the ledger lives in the OS temp dir and is removed afterwards.
 *
 * Standalone: `node --import tsx bench/server.ts` (writes outputs/bench-server.json).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { LedgerRecord, Store } from '../src/keep/types.js';
import { createPostgresStore, PARTITIONED } from '../src/postgres/index.js';
import { createApiKey, createHandler, serve } from '../src/server/index.js';
import { createSqliteStore } from '../src/sqlite/index.js';
import { fillLedger } from '../test/support/postgres-fill.js';
import { type PostgresServer, startPostgresServer } from '../test/support/postgres-server.js';
import { writeResult } from './stats.js';

const ROWS = 1_000_000;
const DAY = 86_400_000;
const RATE = 500;
const DURATION_S = 30;
const WARMUP_S = 5;
const PATH = '/api/usage/summary?days=30';
const USERS = 2_000;
const MODELS = ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.0-flash', 'gemini-2.5-flash-lite'];
const AGENTS = ['planner', 'researcher', 'coder', 'tester', 'critic', 'synthesizer'];
const SELF = fileURLToPath(import.meta.url);

/** Deterministic rows spread evenly over the 30 days before `end`. */
function rows(from: number, count: number, end: number): LedgerRecord[] {
  const start = end - 30 * DAY;
  return Array.from({ length: count }, (_, j) => {
    const i = from + j;
    const input = 500 + ((i * 37) % 5_000);
    const output = 50 + ((i * 11) % 900);
    return {
      id: `b-${i}`,
      callId: `b-call-${i}`,
      timestamp: start + Math.floor((i / ROWS) * 30 * DAY),
      sessionId: `session-${i % 500}`,
      agent: AGENTS[i % AGENTS.length] as string,
      model: MODELS[i % MODELS.length] as string,
      provider: 'google',
      userId: `user-${(i * 7_919) % USERS}`,
      tenantId: `tenant-${i % 20}`,
      threadId: `thread-${i % 5_000}`,
      inputTokens: input,
      cacheReadTokens: (i * 3) % 400,
      cacheWriteTokens: 0,
      outputTokens: output,
      reasoningTokens: (i * 7) % 300,
      toolUsePromptTokens: 0,
      totalTokens: input + output,
      priced: i % 50 !== 0,
      costFemto: i % 50 === 0 ? 0n : BigInt(input * 300_000_000 + output * 2_500_000_000),
    };
  });
}

/** Seeds the ledger in bulk and times one summary straight from the store; prints JSON. */
async function seed(db: string): Promise<void> {
  const end = Date.now();
  const started = performance.now();
  const store = createSqliteStore({ path: db });
  for (let from = 0; from < ROWS; from += 50_000) await store.append(rows(from, 50_000, end));
  const seedSeconds = (performance.now() - started) / 1000;
  const directMs = await directSummaryMs(store, end);
  await store.close();
  process.stdout.write(JSON.stringify({ seedSeconds, directMs }));
}

/** What one API summary costs without the server's rollup: the store's own two summaries. */
async function directSummaryMs(store: Store, end: number): Promise<number> {
  const started = performance.now();
  await store.summarize({ groupBy: 'day', from: end - 30 * DAY, to: end });
  await store.summarize({ groupBy: 'user', from: end - 30 * DAY, to: end });
  return performance.now() - started;
}

/**
 * The Postgres ledger's size: `ROWS` in the 30 days asked about, or, with
 * `TOLLGATE_BENCH_PG_ROWS`, that many over 12 months (the Postgres benchmark's ledger: 10,000,000
 * over 12 months puts 833,333 in the 30 days).
 */
function postgresLedgerSize(): { count: number; days: number } {
  const asked = Number(process.env.TOLLGATE_BENCH_PG_ROWS ?? Number.NaN);
  return Number.isSafeInteger(asked) && asked > 0
    ? { count: asked, days: 365 }
    : { count: ROWS, days: 30 };
}

/**
 * Seeds a Postgres ledger server-side (the same spread: 30 days, `USERS` users) and times one
 * summary straight from the store.
 */
async function seedPostgres(url: string): Promise<{ seedSeconds: number; directMs: number }> {
  const end = Date.now();
  const started = performance.now();
  const store = await createPostgresStore({ connectionString: url, schema: 'ledger' });
  const { count, days } = postgresLedgerSize();
  await fillLedger(store.pool, store.schema, {
    count,
    from: end - days * DAY,
    to: end,
    users: USERS,
    bulk: true,
  });
  for (const table of PARTITIONED) {
    await store.pool.query(`VACUUM ANALYZE ${store.schema}.${table}`);
  }
  const seedSeconds = (performance.now() - started) / 1000;
  const directMs = await directSummaryMs(store, end);
  await store.close();
  return { seedSeconds, directMs };
}

function runChild(args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (chunk) => {
    out += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${args[0]} exited with ${code}`)),
    );
  });
}

/**
 * The server side: opens the ledger (a SQLite path, or a `postgres://` URL served with the
 * server's in-memory rollup off) and serves it; prints `READY <url>` on stdout.
 */
async function child(db: string, keyHash: string): Promise<void> {
  const postgres = db.startsWith('postgres://');
  const store: Store = postgres
    ? await createPostgresStore({ connectionString: db, schema: 'ledger' })
    : createSqliteStore({ path: db });
  const handler = createHandler({
    store,
    auth: { apiKeys: [{ id: 'bench', hash: keyHash, role: 'viewer' }] },
    // 500 req/s from one key stands for many dashboards: the per-key limit would refuse most.
    // The cold rollup build is measured whole (coldFirstRequestMs), not cut at 5 s of store time.
    limits: { requestsPerMinute: false, storeTimeoutMs: 120_000 },
    ...(postgres ? { summaries: { rollup: false } } : {}),
  });
  const running = await serve(handler, { port: 0 });
  process.stdout.write(`READY ${running.url}\n`);
  process.once('SIGTERM', async () => {
    await running.close();
    await store.close();
    process.exit(0);
  });
}

function startChild(db: string, keyHash: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--child', db, keyHash], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const match = /READY (\S+)/.exec(out);
      if (match?.[1]) resolve({ child, url: match[1] });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

async function timed(url: string, key: string): Promise<{ ms: number; status: number }> {
  const started = performance.now();
  const response = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  await response.arrayBuffer();
  return { ms: performance.now() - started, status: response.status };
}

const round = (n: number) => Math.round(n * 100) / 100;

/**
 * Seeds the ledger, starts the server, loads it; returns the figures. `ledger: 'postgres'`
 * serves a Postgres ledger (a real server started in the OS temp dir) with the server's
 * in-memory rollup off, so every recompute is the database's own summary.
 */
export async function runServerBenchmark(ledger: 'sqlite' | 'postgres' = 'sqlite') {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-server-'));
  let db = join(dir, 'ledger.db');
  let server: ChildProcess | undefined;
  let postgres: PostgresServer | undefined;
  try {
    let seeded: { seedSeconds: number; directMs: number };
    if (ledger === 'postgres') {
      postgres = await startPostgresServer({
        settings: { fsync: 'on', shared_buffers: '512MB', max_wal_size: '8GB', work_mem: '32MB' },
      });
      db = postgres.url;
      seeded = await seedPostgres(db);
    } else {
      // Seeding in its own process keeps this one (the load generator) free of its garbage.
      seeded = JSON.parse(await runChild(['--seed', db]));
    }
    const { seedSeconds, directMs } = seeded;

    const { key, record } = createApiKey('viewer');
    const started = await startChild(db, record.hash);
    server = started.child;
    const target = `${started.url}${PATH}`;
    // The first request builds the hourly rollup (a full pass over the ledger); later ones reuse it.
    const cold = await timed(target, key);
    const warm = await timed(target, key);
    // A short warm-up at the same rate (JIT, connection setup), then the measured run.
    const load = (duration: number) =>
      autocannon({
        url: target,
        headers: { authorization: `Bearer ${key}` },
        connections: 20,
        overallRate: RATE,
        duration,
      });
    await load(WARMUP_S);
    const result = await load(DURATION_S);
    const sent = result.requests.total;
    const errors = result.errors + result.timeouts + result.non2xx;
    const p99 = result.latency.p99;
    const size = ledger === 'postgres' ? postgresLedgerSize() : { count: ROWS, days: 30 };
    return {
      what: `autocannon, ${RATE} req/s for ${DURATION_S} s, GET ${PATH}, ${size.count.toLocaleString('en-US')}-row ${ledger === 'postgres' ? 'Postgres ledger (server rollup off)' : 'SQLite ledger'} over ${size.days} days, ${USERS} users, loopback, server in its own process`,
      rows: size.count,
      ledgerDays: size.days,
      seedSeconds: round(seedSeconds),
      storeSummaryWithoutRollupMs: round(directMs),
      coldFirstRequestMs: round(cold.ms),
      warmRequestMs: round(warm.ms),
      warmupSeconds: WARMUP_S,
      targetRate: RATE,
      achievedRate: round(sent / DURATION_S),
      requests: sent,
      latencyMs: {
        p50: result.latency.p50,
        p90: result.latency.p90,
        p99,
        max: result.latency.max,
        average: result.latency.average,
      },
      errors,
      breakdown: { errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx },
      targetP99Ms: 50,
      meetsTarget: p99 <= 50 && errors === 0 && sent >= RATE * DURATION_S * 0.98,
      notes:
        ledger === 'postgres'
          ? "A summary is two store summaries (by UTC day, by user), each answered by Postgres from a daily rollup (29 whole days: per tenant for the trend, per tenant and user for the users), the matching hourly rollup (the hours at either end) and the records (the partial hours), both timed together in storeSummaryWithoutRollupMs, with the server's in-memory rollup off; the server shares one computation between concurrent identical requests and reuses an answer for 1 s (stale-while-revalidate), so Postgres computes one summary about once a second under load."
          : 'A summary is two store summaries (by day, by user); without the rollup each scans the 30 days (storeSummaryWithoutRollupMs). The server keeps settled 5-minute, hourly and daily buckets (built once: coldFirstRequestMs), reads only the first <5 and last ~10 minutes from the store, and reuses an answer for 1 s (stale-while-revalidate), so a recompute costs a few ms once a second.',
    };
  } finally {
    server?.kill('SIGTERM');
    if (server && server.exitCode === null) {
      await new Promise((resolve) => server?.once('exit', resolve));
    }
    rmSync(dir, { recursive: true, force: true });
    await postgres?.dispose();
  }
}

if (process.argv[1] === SELF) {
  if (process.argv[2] === '--child') {
    await child(process.argv[3] as string, process.argv[4] as string);
  } else if (process.argv[2] === '--seed') {
    await seed(process.argv[3] as string);
  } else {
    const result = await runServerBenchmark();
    console.log(JSON.stringify(result, null, 2));
    console.log(`written to ${writeResult('bench-server', { server: result })}`);
  }
}
