/**
 * Postgres ledger benchmarks (issue 14), beside the SQLite driver's ingest in the same run:
 * - batched ingest (records/s, batches of 10,000, durable commits: fsync on);
 * - 30-day per-user summaries (by day UTC, by model, by day in New York) and the fleet-wide
 *   30-day summaries the server's /api/usage/summary asks for, over a 12-month ledger of
 *   `TOLLGATE_BENCH_PG_ROWS` records generated server-side (default 1,000,000, about two
 *   minutes to load; the 10,000,000 is `TOLLGATE_BENCH_PG_ROWS=10000000`);
 * - retention: dropping one month out of twelve.
 * A real PostgreSQL server is started in the OS temp dir and removed afterwards.
 *
 * Standalone: `node --import tsx bench/stores-postgres.ts`.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createPostgresStore,
  PARTITIONED,
  type PostgresStore,
  type PostgresStoreOptions,
} from '../src/postgres/index.js';
import { fillLedger } from '../test/support/postgres-fill.js';
import { startPostgresServer } from '../test/support/postgres-server.js';
import { median } from './stats.js';
import { benchIngest as benchSqliteIngest, makeRecords } from './stores-sqlite.js';

const DAY = 86_400_000;
const round2 = (value: number) => Math.round(value * 100) / 100;

async function timeAsync(rounds: number, fn: (round: number) => Promise<unknown>) {
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    await fn(round);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times;
}

/** CPU time (ms) the Postgres server's processes have used so far (Linux /proc; 0 elsewhere). */
function serverCpuMs(postmaster: number | undefined): number {
  if (postmaster === undefined || !existsSync('/proc')) return 0;
  const tick = 1000 / 100; // USER_HZ
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      if (Number(entry) !== postmaster && Number(fields[1]) !== postmaster) continue;
      total += (Number(fields[11]) + Number(fields[12])) * tick;
    } catch {
      // The process ended meanwhile.
    }
  }
  return total;
}

const VARIANTS: [string, PostgresStoreOptions][] = [
  ['default', {}],
  ['oneConnection', { appendConnections: 1 }],
  ['jsonParameterOneConnection', { appendConnections: 1, copy: false }],
];

/**
 * One writer per variant, each appending 15 batches (after 2 warm-up batches) to its own schema,
 * the variants taking turns batch by batch (the first of a round rotating), so a neighbour's load
 * weighs on all alike. Per variant: the median wall time of a batch, and the Postgres server's
 * and this process's CPU time per batch (load-independent: what the batch costs).
 */
async function ingestRates(url: string, postmaster: number | undefined) {
  const batch = 10_000;
  const warmup = 2;
  const rounds = 15;
  const total = (warmup + rounds) * batch;
  const gc = (globalThis as { gc?: () => void }).gc;
  const runs = await Promise.all(
    VARIANTS.map(async ([name, options]) => ({
      name,
      store: await createPostgresStore({
        connectionString: url,
        schema: `ingest_${name}`,
        ...options,
      }),
      wall: [] as number[],
      server: [] as number[],
      client: [] as number[],
    })),
  );
  for (let round = 0; round < warmup + rounds; round++) {
    for (let turn = 0; turn < runs.length; turn++) {
      const run = runs[(round + turn) % runs.length] as (typeof runs)[number];
      const records = makeRecords(round * batch, batch, total, run.name);
      gc?.();
      const cpu = process.cpuUsage();
      const server = serverCpuMs(postmaster);
      const start = process.hrtime.bigint();
      await run.store.append(records);
      run.wall.push(Number(process.hrtime.bigint() - start) / 1e6);
      run.server.push(serverCpuMs(postmaster) - server);
      const used = process.cpuUsage(cpu);
      run.client.push((used.user + used.system) / 1000);
    }
  }
  const result: Record<
    string,
    {
      perSecond: number;
      msPerBatch: number;
      serverCpuMsPerBatch: number;
      clientCpuMsPerBatch: number;
    }
  > = {};
  for (const run of runs) {
    await run.store.close();
    const ms = median(run.wall.slice(warmup));
    result[run.name] = {
      perSecond: (batch * 1000) / ms,
      msPerBatch: ms,
      serverCpuMsPerBatch: median(run.server.slice(warmup)),
      clientCpuMsPerBatch: median(run.client.slice(warmup)),
    };
  }
  return { result, rounds, batch };
}

async function benchIngest(url: string, postmaster: number | undefined) {
  const { result, rounds, batch } = await ingestRates(url, postmaster);
  const main = result.default as NonNullable<(typeof result)['default']>;
  const figures = (name: string) => {
    const r = result[name] as NonNullable<(typeof result)[string]>;
    return {
      recordsPerSecond: Math.round(r.perSecond),
      msPerBatch: round2(r.msPerBatch),
      serverCpuMsPerBatch: round2(r.serverCpuMsPerBatch),
      clientCpuMsPerBatch: round2(r.clientCpuMsPerBatch),
    };
  };
  return {
    what: 'PostgresStore.append: batches of 10,000 tracker-shaped records with UUID call ids, by COPY into a staging table then one INSERT … SELECT … ON CONFLICT feeding the six rollups (8 indexes on the records, fsync on), each batch split over 2 connections (the default appendConnections); the variants take turns batch by batch',
    medianRecordsPerSecond: Math.round(main.perSecond),
    targetRecordsPerSecond: 50_000,
    meetsTarget: main.perSecond >= 50_000,
    medianMsPerBatch: round2(main.msPerBatch),
    rounds,
    recordsPerBatch: batch,
    variants: Object.fromEntries(VARIANTS.map(([name]) => [name, figures(name)])),
    concurrentWriters: await benchConcurrentIngest(url, batch),
  };
}

/**
 * A fleet appends from many processes at once: the same batches from 1, 2 and 4 writers on one
 * pool (a connection each, batches not split), records/s over the whole run, median of 3 runs
 * per writer count.
 */
async function benchConcurrentIngest(url: string, batch: number) {
  const result: Record<string, number> = {};
  for (const writers of [1, 2, 4]) {
    const rates: number[] = [];
    for (let run = 0; run < 3; run++) {
      const schema = `ingest_w${writers}_${run}`;
      const store = await createPostgresStore({
        connectionString: url,
        schema,
        maxConnections: writers,
        appendConnections: 1,
      });
      const count = 4 * writers;
      const total = count * batch;
      // Partitions made, caches warm: one batch over the same 30 days first.
      await store.append(makeRecords(0, batch, batch, `${schema}-warm`));
      const batches = Array.from({ length: count }, (_, i) =>
        makeRecords(i * batch, batch, total, schema),
      );
      let next = 0;
      const start = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: writers }, async () => {
          for (let i = next++; i < count; i = next++) await store.append(batches[i] ?? []);
        }),
      );
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      rates.push(total / seconds);
      await store.close();
    }
    result[`writers${writers}RecordsPerSecond`] = Math.round(median(rates));
  }
  return result;
}

async function benchSummaries(store: PostgresStore, rows: number, end: number, users: number) {
  const window = { from: end - 30 * DAY, to: end };
  const user = (round: number) => `user-${(round * 37) % users}`;
  const queries = 60;
  const skip = 5;
  const perUser = async (options: object) =>
    median(
      (
        await timeAsync(queries, (r) =>
          store.summarize({ groupBy: 'day', userId: user(r), ...window, ...options }),
        )
      ).slice(skip),
    );
  const byDay = await perUser({});
  const byModel = await perUser({ groupBy: 'model' });
  const byDayNewYork = await perUser({ timeZone: 'America/New_York' });
  // Unaligned bounds (now − 30 days, to the millisecond), as the server asks.
  const unaligned = await perUser({ from: window.from + 1_234, to: window.to - 4_321 });
  const fleet = async (options: object) =>
    median(
      (await timeAsync(20, () => store.summarize({ ...window, groupBy: 'day', ...options }))).slice(
        3,
      ),
    );
  const [one] = await store.summarize({ groupBy: 'none', userId: user(0), ...window });
  return {
    what: `30-day per-user summaries over ${rows.toLocaleString('en-US')} records (12 months, ${users} users), from the rollups`,
    rows,
    rowsPerUserIn30Days: one?.calls ?? 0,
    medianMsByDayUtc: round2(byDay),
    medianMsByModel: round2(byModel),
    medianMsByDayNewYork: round2(byDayNewYork),
    medianMsByDayUnalignedBounds: round2(unaligned),
    targetMs: 20,
    meetsTarget: Math.max(byDay, byModel, byDayNewYork) <= 20,
    fleetWide30Days: {
      medianMsByDayNewYork: round2(await fleet({ timeZone: 'America/New_York' })),
      medianMsByModel: round2(await fleet({ groupBy: 'model' })),
      medianMsByUser: round2(await fleet({ groupBy: 'user' })),
    },
    queries: queries - skip,
  };
}

const DEFAULT_ROWS = 1_000_000;

/** The ledger size from `TOLLGATE_BENCH_PG_ROWS` (a whole number ≥ 1,000, `_` allowed). */
function benchRows(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_ROWS;
  const rows = Number(value.replaceAll('_', ''));
  if (!Number.isSafeInteger(rows) || rows < 1_000) {
    throw new Error(`TOLLGATE_BENCH_PG_ROWS must be a whole number ≥ 1000, got ${value}`);
  }
  return rows;
}

/** Runs the Postgres benchmarks (and SQLite's ingest beside them) and returns the figures. */
export async function runPostgresBenchmarks() {
  const rows = benchRows(process.env.TOLLGATE_BENCH_PG_ROWS);
  const users = 1_000;
  const server = await startPostgresServer({
    settings: {
      fsync: 'on',
      full_page_writes: 'on',
      shared_buffers: '512MB',
      max_wal_size: '8GB',
      maintenance_work_mem: '256MB',
      work_mem: '32MB',
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-sqlite-'));
  try {
    const sqliteIngest = await benchSqliteIngest(dir);
    const postgresIngest = await benchIngest(server.url, server.pid());
    const end = Date.UTC(2026, 11, 1);
    const start = end - 365 * DAY;
    const store = await createPostgresStore({ connectionString: server.url, schema: 'ledger' });
    const loadStart = process.hrtime.bigint();
    await fillLedger(store.pool, store.schema, {
      count: rows,
      from: start,
      to: end,
      users,
      chunk: 1_000_000,
      bulk: true,
    });
    for (const table of PARTITIONED) {
      await store.pool.query(`VACUUM ANALYZE ${store.schema}.${table}`);
    }
    const loadSeconds = Number(process.hrtime.bigint() - loadStart) / 1e9;
    const postgresSummary = {
      ...(await benchSummaries(store, rows, end, users)),
      loadSeconds: round2(loadSeconds),
    };
    const months = await store.months();
    const dropStart = process.hrtime.bigint();
    const dropped = await store.dropBefore(start + 31 * DAY);
    const dropMs = Number(process.hrtime.bigint() - dropStart) / 1e6;
    await store.close();
    return {
      sqliteIngest,
      postgresIngest,
      postgresSummary,
      postgresRetention: {
        what: 'dropBefore: one month out of twelve (records and every rollup), by DROP TABLE of its partitions',
        monthsBefore: months.length,
        dropped,
        seconds: round2(dropMs / 1000),
        rowsPerMonth: Math.round(rows / 12),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await server.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runPostgresBenchmarks(), null, 2));
}
