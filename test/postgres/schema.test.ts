import pg from 'pg';
import { expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { MemoryStore } from '../../src/keep/memory.js';
import type { LedgerRecord } from '../../src/keep/types.js';
import {
  createPostgresStore,
  MIGRATIONS,
  migrate,
  SCHEMA_VERSION,
  schemaVersion,
} from '../../src/postgres/index.js';
import { monthLabel, monthOf } from '../../src/postgres/partitions.js';
import { rollupsFromRecordsSql } from '../../src/postgres/rows.js';
import { ledgerRecords } from '../keep/fixtures.js';
import { rejection } from '../support/rejection.js';
import { rollupDiffs } from './full-scan.js';
import { runWorker } from './processes.js';
import { describePostgres, dropStore, freshSchema, sql, usePostgresServer } from './support.js';

/** The partitions a process before schema 4 made: records and the two hourly rollups. */
async function oldPartitions(pool: pg.Pool, schema: string, months: number[]): Promise<void> {
  for (const month of new Set(months)) {
    for (const table of ['records', 'rollup_hourly', 'rollup_thread_hourly']) {
      await pool.query(
        `CREATE TABLE IF NOT EXISTS ${schema}.${table}_${monthLabel(month).replace('-', '_')}
         PARTITION OF ${schema}.${table} FOR VALUES FROM (${month}) TO (${month + 1})`,
      );
    }
  }
}

/** Inserts records with the columns every version before 3 knew (no service tier). */
async function insertOldRecords(
  db: Pick<pg.Pool, 'query'>,
  schema: string,
  records: LedgerRecord[],
) {
  for (const r of records) {
    await db.query(
      `INSERT INTO ${schema}.records (month, id, call_id, ts, session_id, agent, model, user_id,
         tenant_id, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens,
         reasoning_tokens, tool_use_prompt_tokens, total_tokens, priced, cost_femto)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
      [
        monthOf(r.timestamp),
        r.id,
        r.callId,
        r.timestamp,
        r.sessionId,
        r.agent,
        r.model,
        r.userId,
        r.tenantId,
        r.inputTokens,
        r.cacheReadTokens,
        r.cacheWriteTokens,
        r.outputTokens,
        r.reasoningTokens,
        r.toolUsePromptTokens,
        r.totalTokens,
        r.priced,
        r.costFemto.toString(),
      ],
    );
  }
}

/**
 * Appends as a process on schema 3 did: the records and the two rollups it knew, never the
 * per-user ones. `records` must hold nothing else (those rollups are rebuilt from all of them).
 */
async function appendAsVersion3(pool: pg.Pool, schema: string, records: LedgerRecord[]) {
  await oldPartitions(
    pool,
    schema,
    records.map((r) => monthOf(r.timestamp)),
  );
  await insertOldRecords(pool, schema, records);
  await pool.query(`TRUNCATE ${schema}.rollup_hourly, ${schema}.rollup_thread_hourly`);
  for (const statement of rollupsFromRecordsSql(schema)) {
    if (/rollup_(hourly|thread_hourly) AS/.test(statement)) await pool.query(statement);
  }
}

describePostgres('Postgres schema: versioned migrations under an advisory lock', () => {
  const server = usePostgresServer();

  it('migrates a fresh schema once; opening it again applies nothing', async () => {
    const schema = freshSchema();
    const pool = new pg.Pool({ connectionString: server().url });
    const client = await pool.connect();
    try {
      expect(await migrate(client, `"${schema}"`)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await migrate(client, `"${schema}"`)).toEqual([]);
      expect(await schemaVersion(client, `"${schema}"`)).toBe(SCHEMA_VERSION);
    } finally {
      client.release();
      await pool.end();
    }
    const rows = await sql(server(), `SELECT version, name FROM "${schema}".schema_migrations`);
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('two processes migrating one schema at the same moment apply each version once', async () => {
    const schema = freshSchema();
    const startAt = String(Date.now() + 1_500);
    const runs = await Promise.all(
      [0, 1].map(() => runWorker('migrate.ts', [server().url, schema, startAt])),
    );
    const applied = runs.map((out) => JSON.parse(out) as number[]);
    // One did all the work, the other waited on the lock and found nothing left to do.
    expect(applied.flat().sort()).toEqual(MIGRATIONS.map((m) => m.version));
    expect(applied.some((a) => a.length === 0)).toBe(true);
    const tables = await sql(
      server(),
      `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1 AND tablename = 'budget_counters'`,
      [schema],
    );
    expect(tables[0]?.n).toBe(1);
  });

  it('eight pools opening stores on one new schema at once all work on the same ledger', async () => {
    const schema = freshSchema();
    const stores = await Promise.all(
      Array.from({ length: 8 }, () =>
        createPostgresStore({ connectionString: server().url, schema }),
      ),
    );
    const added = await Promise.all(
      stores.map((s, i) => s.append(ledgerRecords(5, () => ({ userId: `u${i}` })))),
    );
    expect(added).toEqual(Array(8).fill(5));
    const [none] = await stores[0]!.summarize({ groupBy: 'none' });
    expect(none?.calls).toBe(40);
    for (const store of stores.slice(1)) await store.close();
    await dropStore(server(), stores[0]!);
  });

  it('upgrades a schema left at version 1 to the latest, keeping its records', async () => {
    const schema = freshSchema();
    const pool = new pg.Pool({ connectionString: server().url });
    const client = await pool.connect();
    try {
      expect(await migrate(client, `"${schema}"`, 1)).toEqual([1]);
    } finally {
      client.release();
      await pool.end();
    }
    const store = await createPostgresStore({ connectionString: server().url, schema });
    await store.append(ledgerRecords(3));
    expect((await store.query()).records).toHaveLength(3);
    expect(await schemaVersion(store.pool, store.schema)).toBe(SCHEMA_VERSION);
    await dropStore(server(), store);
  });

  it('upgrades a version-2 ledger with records to service tiers: old records read as standard', async () => {
    const schema = freshSchema();
    const pool = new pg.Pool({ connectionString: server().url });
    const client = await pool.connect();
    const old = ledgerRecords(3, () => ({ userId: 'before' }));
    try {
      expect(await migrate(client, `"${schema}"`, 2)).toEqual([1, 2]);
      // Records written by a version-2 process: the columns it knew, nothing of tiers.
      await oldPartitions(
        pool,
        `"${schema}"`,
        old.map((r) => monthOf(r.timestamp)),
      );
      await insertOldRecords(client, `"${schema}"`, old);
    } finally {
      client.release();
      await pool.end();
    }
    const store = await createPostgresStore({ connectionString: server().url, schema });
    expect(await schemaVersion(store.pool, store.schema)).toBe(SCHEMA_VERSION);
    const tiered = ledgerRecords(2, (i) => ({
      userId: 'after',
      serviceTier: i === 0 ? 'flex' : 'priority',
    }));
    expect(await store.append(tiered)).toBe(2);
    const before = (await store.query({ userId: 'before' })).records;
    expect(before.map((r) => r.callId).sort()).toEqual(old.map((r) => r.callId).sort());
    expect(before.every((r) => r.serviceTier === undefined)).toBe(true);
    const after = (await store.query({ userId: 'after' })).records;
    expect(after.map((r) => r.serviceTier).sort()).toEqual(['flex', 'priority']);
    await dropStore(server(), store);
  });

  it('upgrades a version-3 ledger: the derived rollups are built from the hourly one, exact', async () => {
    const schema = freshSchema();
    const quoted = `"${schema}"`;
    const pool = new pg.Pool({ connectionString: server().url });
    const day = 86_400_000;
    // Three months of records, several a day, users and tenants mixed, some unpriced.
    const old = ledgerRecords(
      400,
      (i) => ({
        timestamp: Date.UTC(2026, 7, 20) + i * 0.23 * day,
        userId: i % 5 === 0 ? undefined : `u${i % 7}`,
        tenantId: i % 3 === 0 ? undefined : `t${i % 2}`,
        priced: i % 11 !== 0,
        costFemto: i % 11 === 0 ? 0n : BigInt(i) * 10n ** 15n + 7n,
      }),
      0,
    );
    try {
      const client = await pool.connect();
      try {
        expect(await migrate(client, quoted, 3)).toEqual([1, 2, 3]);
      } finally {
        client.release();
      }
      await appendAsVersion3(pool, quoted, old);
    } finally {
      await pool.end();
    }
    const store = await createPostgresStore({ connectionString: server().url, schema });
    expect(await schemaVersion(store.pool, store.schema)).toBe(SCHEMA_VERSION);
    for (const table of [
      'rollup_tenant_hourly',
      'rollup_tenant_daily',
      'rollup_user_hourly',
      'rollup_user_daily',
    ]) {
      const [built] = await sql(server(), `SELECT count(*)::int AS n FROM ${quoted}.${table}`);
      expect(built?.n, table).toBeGreaterThan(50);
    }
    for (const [table, diff] of Object.entries(await rollupDiffs(server(), quoted))) {
      expect(diff, table).toEqual([]);
    }
    // Appends after the upgrade keep every rollup exact, in months old and new.
    await store.append(
      ledgerRecords(30, (i) => ({ userId: `u${i % 4}`, timestamp: old[i * 13]!.timestamp + 1 })),
    );
    for (const [table, diff] of Object.entries(await rollupDiffs(server(), quoted))) {
      expect(diff, table).toEqual([]);
    }
    const memory = new MemoryStore();
    await memory.append(old);
    await memory.append(
      (await store.query({ limit: 10_000 })).records.filter(
        (r) => !old.some((o) => o.callId === r.callId),
      ),
    );
    const range = { from: Date.UTC(2026, 7, 25, 5, 30), to: Date.UTC(2026, 9, 30, 17) };
    for (const groupBy of ['user', 'tenant', 'day', 'none'] as const) {
      expect(await store.summarize({ groupBy, ...range })).toEqual(
        await memory.summarize({ groupBy, ...range }),
      );
    }
    // A worker still on version 3 appends meanwhile: the derived rollups miss its records
    // until they are rebuilt.
    const late = ledgerRecords(20, (i) => ({
      userId: 'late',
      timestamp: old[i * 17]!.timestamp + 2,
    }));
    const versionThree = new pg.Pool({ connectionString: server().url });
    await appendAsVersion3(versionThree, quoted, late);
    await versionThree.end();
    const stale = await rollupDiffs(server(), quoted);
    for (const table of [
      'rollup_tenant_hourly',
      'rollup_tenant_daily',
      'rollup_user_hourly',
      'rollup_user_daily',
    ]) {
      expect(stale[table], table).not.toEqual([]);
    }
    await store.rebuildDerivedRollups();
    for (const [table, diff] of Object.entries(await rollupDiffs(server(), quoted))) {
      expect(diff, table).toEqual([]);
    }
    await dropStore(server(), store);
  });

  it.each([
    ['schema', { schema: 'bad name; DROP TABLE x' }, /schema must be a name/],
    ['schema', { schema: '1abc' }, /schema must be a name/],
    ['retention', { retention: '180 days' }, /retention must be like/],
    ['retention', { retention: 10 }, /retention must be like/],
    ['maxConnections', { maxConnections: 0 }, /maxConnections/],
    ['monthsAhead', { monthsAhead: -1 }, /monthsAhead/],
    ['appendConnections', { appendConnections: 0 }, /appendConnections must be a whole number/],
    ['appendConnections', { appendConnections: 2.5 }, /appendConnections must be a whole number/],
    ['copy', { copy: 'yes' as unknown as boolean }, /copy must be true or false/],
  ])('refuses a bad %s with a ConfigurationError', async (_, options, message) => {
    const error = await rejection(
      createPostgresStore({ connectionString: server().url, ...options }),
      ConfigurationError,
    );
    expect(error.message).toMatch(message);
  });

  it.each([
    ['timestamp', { timestamp: Number.NaN }],
    ['timestamp', { timestamp: 1.5 }],
    ['inputTokens', { inputTokens: -1 }],
    ['costFemto', { costFemto: 5 as unknown as bigint }],
    ['sessionId', { sessionId: undefined as unknown as string }],
    ['priced', { priced: 'yes' as unknown as boolean }],
    ['userId', { userId: 'a\u0000b' }],
    ['serviceTier', { serviceTier: 'turbo' as unknown as 'flex' }],
  ])(
    'a record with a bad %s is refused with a ConfigurationError; the batch stores nothing',
    async (field, bad) => {
      const store = await createPostgresStore({
        connectionString: server().url,
        schema: freshSchema(),
      });
      const [good, broken] = ledgerRecords(2, (i) => (i === 1 ? bad : {}));
      const error = await rejection(store.append([good!, broken!]), ConfigurationError);
      expect(error.message).toContain(field);
      expect((await store.query()).records).toEqual([]);
      await dropStore(server(), store);
    },
  );

  it('refuses to start without a connection string', async () => {
    const saved = process.env.TOLLGATE_DB;
    process.env.TOLLGATE_DB = 'outputs/tollgate.db';
    try {
      const error = await rejection(createPostgresStore(), ConfigurationError);
      expect(error.message).toMatch(/connectionString/);
    } finally {
      if (saved === undefined) delete process.env.TOLLGATE_DB;
      else process.env.TOLLGATE_DB = saved;
    }
  });
});
