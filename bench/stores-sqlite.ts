/**
 * SQLite ledger benchmarks (issue 4): batched ingest, and a 30-day per-user summary over
 * 1,000,000 rows. The database lives in the OS temp dir and is removed afterwards. Figures are
 * medians of repeated rounds; the lead writes them to outputs/bench-stores.json.
 *
 * Standalone: `node --import tsx bench/stores-sqlite.ts`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LedgerRecord } from '../src/keep/types.js';
import { SqliteStore } from '../src/sqlite/index.js';
import { median } from './stats.js';

const DAY = 86_400_000;
const END = Date.UTC(2026, 10, 23);
const START = END - 30 * DAY;
const USERS = 200;
const MODELS = ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.0-flash', 'gemini-2.5-flash-lite'];
const AGENTS = ['planner', 'researcher', 'coder', 'tester', 'critic', 'synthesizer'];

/**
 * Records shaped as trackers write them, spread evenly over the 30 days before END: sessions of
 * 200 calls, each for one user and tenant, threads of 20 calls, and random UUID call ids (as the
 * Gemini wrapper makes), so the unique call-id index takes random inserts.
 */
export function makeRecords(
  from: number,
  count: number,
  total: number,
  prefix: string,
): LedgerRecord[] {
  const records: LedgerRecord[] = new Array(count);
  for (let j = 0; j < count; j++) {
    const i = from + j;
    const session = Math.floor(i / 200);
    const input = 500 + ((i * 37) % 5_000);
    const output = 50 + ((i * 11) % 900);
    records[j] = {
      id: `${prefix}-${i}`,
      callId: randomUUID(),
      timestamp: START + Math.floor((i / total) * 30 * DAY),
      sessionId: `${prefix}-session-${session}`,
      agent: AGENTS[i % AGENTS.length] as string,
      model: MODELS[i % MODELS.length] as string,
      provider: 'google',
      userId: `user-${(session * 7919) % USERS}`,
      tenantId: `tenant-${session % 20}`,
      threadId: `${prefix}-thread-${Math.floor(i / 20)}`,
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
  }
  return records;
}

/** Runs `fn` `rounds` times; each round's duration in ms (bench/stats.ts `timeRounds`, async). */
async function timeAsync(
  rounds: number,
  fn: (round: number) => Promise<unknown>,
): Promise<number[]> {
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    await fn(round);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times;
}

/**
 * Appends batches of 10,000 into a fresh file: records per second, median of rounds. Each batch
 * is built before its round starts (and, under --expose-gc, the heap collected), so a round
 * times `append` alone.
 */
export async function benchIngest(dir: string) {
  const store = new SqliteStore({ path: join(dir, 'ingest.db') });
  const batch = 10_000;
  const warmup = 2;
  const rounds = 20;
  const total = (warmup + rounds) * batch;
  const gc = (globalThis as { gc?: () => void }).gc;
  const times: number[] = [];
  for (let round = 0; round < warmup + rounds; round++) {
    const records = makeRecords(round * batch, batch, total, 'ingest');
    gc?.();
    const start = process.hrtime.bigint();
    await store.append(records);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  await store.close();
  const measured = times.slice(warmup); // warm-up: statement cache, file growth
  const perSecond = (batch * 1000) / median(measured);
  return {
    what: 'SqliteStore.append: batches of 10,000 tracker-shaped records with UUID call ids, one transaction each (WAL, synchronous=NORMAL, 16 KiB pages, 6 indexes)',
    medianRecordsPerSecond: Math.round(perSecond),
    targetRecordsPerSecond: 100_000,
    meetsTarget: perSecond >= 100_000,
    medianMsPerBatch: round2(median(measured)),
    rounds: measured.length,
    recordsPerBatch: batch,
    rowsAtEnd: total,
    gcBetweenRounds: Boolean(gc),
  };
}

/** 1,000,000 rows over 30 days for 200 users; then 30-day per-user summaries. */
async function benchSummary(dir: string) {
  const total = 1_000_000;
  const store = new SqliteStore({ path: join(dir, 'summary.db') });
  const loadStart = process.hrtime.bigint();
  for (let from = 0; from < total; from += 50_000) {
    await store.append(makeRecords(from, 50_000, total, 'sum'));
  }
  const loadSeconds = Number(process.hrtime.bigint() - loadStart) / 1e9;
  store.database.exec('ANALYZE');

  const queries = 60;
  const user = (round: number) => `user-${(round * 37) % USERS}`;
  const window = { from: START, to: END };
  const byDay = await timeAsync(queries, (round) =>
    store.summarize({ groupBy: 'day', userId: user(round), ...window }),
  );
  const byModel = await timeAsync(queries, (round) =>
    store.summarize({ groupBy: 'model', userId: user(round), ...window }),
  );
  const byDayZone = await timeAsync(queries, (round) =>
    store.summarize({
      groupBy: 'day',
      userId: user(round),
      timeZone: 'America/New_York',
      ...window,
    }),
  );
  const [one] = await store.summarize({ groupBy: 'none', userId: user(0), ...window });
  await store.close();
  const ms = median(byDay.slice(5));
  return {
    what: '30-day per-user summary (groupBy day, UTC) over 1,000,000 rows, 200 users',
    rows: total,
    rowsPerUser: one?.calls ?? 0,
    medianMs: round2(ms),
    targetMs: 50,
    meetsTarget: ms <= 50,
    medianMsByModel: round2(median(byModel.slice(5))),
    medianMsByDayNewYork: round2(median(byDayZone.slice(5))),
    queries: queries - 5,
    loadRecordsPerSecond: Math.round(total / loadSeconds),
  };
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** Runs both SQLite benchmarks in a temp folder and returns their figures. */
export async function runSqliteBenchmarks() {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-sqlite-'));
  try {
    return { sqliteIngest: await benchIngest(dir), sqliteSummary: await benchSummary(dir) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === 'ingest') {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-sqlite-'));
    console.log(JSON.stringify(await benchIngest(dir), null, 2));
    rmSync(dir, { recursive: true, force: true });
  } else {
    console.log(JSON.stringify(await runSqliteBenchmarks(), null, 2));
  }
}
