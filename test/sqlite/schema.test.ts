import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigurationError, StoreUnavailableError } from '../../src/errors.js';
import {
  MIGRATIONS,
  migrate,
  SCHEMA_VERSION,
  SqliteStore,
  schemaVersion,
} from '../../src/sqlite/index.js';
import { tempDir } from './support.js';

let folder: ReturnType<typeof tempDir>;
beforeEach(() => {
  folder = tempDir();
});
afterEach(() => {
  vi.unstubAllEnvs();
  folder.remove();
});

const migrations = (db: Database.Database) =>
  db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();

/** A ledger file left at schema `version`, holding one record (call c1, $0.000005000000007). */
function oldLedger(name: string, version: number): string {
  const path = join(folder.dir, name);
  const old = new Database(path);
  expect(migrate(old, version)).toEqual(MIGRATIONS.slice(0, version).map((m) => m.version));
  old
    .prepare(
      `INSERT INTO records (id, call_id, ts, session_id, agent, model, input_tokens,
        cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens,
        tool_use_prompt_tokens, total_tokens, priced, cost_micro, cost_rem)
       VALUES ('r1', 'c1', 1000, 's', 'a', 'm', 1, 0, 0, 2, 0, 0, 3, 1, 5, 7)`,
    )
    .run();
  old.close();
  return path;
}

describe('SQLite schema migrations', () => {
  it('creates a new database at the latest version, in WAL mode with synchronous=NORMAL', async () => {
    const store = new SqliteStore({ path: join(folder.dir, 'new.db') });
    expect(schemaVersion(store.database)).toBe(SCHEMA_VERSION);
    expect(migrations(store.database)).toHaveLength(MIGRATIONS.length);
    expect(store.database.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.database.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(store.database.pragma('busy_timeout', { simple: true })).toBe(5000);
    await store.close();
  });

  it('upgrades a v1 database to the latest version, keeping its records', async () => {
    const path = oldLedger('old.db', 1);

    const store = new SqliteStore({ path });
    expect(schemaVersion(store.database)).toBe(SCHEMA_VERSION);
    const { records } = await store.query();
    expect(records).toMatchObject([{ callId: 'c1', costFemto: 5_000_000_007n, totalTokens: 3 }]);
    const counter = { key: 'k', limitFemto: 10n, hard: true, expiresAt: 2000 };
    expect(
      await store.reserve({
        callId: 'x',
        amountFemto: 4n,
        counters: [counter],
        holdUntil: 1500,
        now: 1000,
      }),
    ).toEqual({ ok: true });
    await store.close();
  });

  it('upgrades a v2 ledger in place to hold service tiers: old rows read as standard', async () => {
    const path = oldLedger('v2.db', 2);

    const store = new SqliteStore({ path });
    expect(schemaVersion(store.database)).toBe(SCHEMA_VERSION);
    expect(migrations(store.database).map((m) => (m as { name: string }).name)).toContain(
      'service tier',
    );
    const flex = {
      id: 'r2',
      callId: 'c2',
      timestamp: 2000,
      sessionId: 's',
      agent: 'a',
      model: 'm',
      inputTokens: 1,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 2,
      reasoningTokens: 0,
      toolUsePromptTokens: 0,
      totalTokens: 3,
      priced: true,
      costFemto: 9n,
      serviceTier: 'flex' as const,
    };
    expect(await store.append([flex])).toBe(1);
    const { records } = await store.query();
    expect(records[0]).not.toHaveProperty('serviceTier');
    expect(records[1]).toEqual(flex);
    await store.close();
  });

  it('upgrades a v3 ledger to rowid-free budget tables, keeping live holds and settled calls', async () => {
    const path = oldLedger('v3.db', 3);
    const old = new Database(path);
    old.exec(`INSERT INTO budget_counters VALUES ('k', 0, 6, 9000);
      INSERT INTO reservations VALUES ('held', 'k', 0, 3, 5000), ('gone', 'k', 0, 50, 1500);
      INSERT INTO settled_calls VALUES ('paid', 9000);`);
    old.close();

    const store = new SqliteStore({ path });
    expect(schemaVersion(store.database)).toBe(SCHEMA_VERSION);
    const withoutRowid = (table: string) =>
      (
        store.database
          .prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?")
          .get(table) as { sql: string }
      ).sql;
    expect(withoutRowid('reservations')).toMatch(/WITHOUT ROWID/);
    expect(withoutRowid('settled_calls')).toMatch(/WITHOUT ROWID/);
    // The live hold still counts; the expired one does not.
    expect(await store.counters(['k'], 2000)).toEqual([
      { key: 'k', settledFemto: 6n, reservedFemto: 3n },
    ]);
    const counter = { key: 'k', limitFemto: 10n, hard: true, expiresAt: 9000 };
    // A settled call stays settled: settling it again counts nothing.
    await store.settle('paid', 100n, [counter], 2000);
    // Only 1 femto-dollar is left under the limit of 10.
    expect(
      await store.reserve({
        callId: 'x',
        amountFemto: 2n,
        counters: [counter],
        holdUntil: 5000,
        now: 2000,
      }),
    ).toEqual({ ok: false, key: 'k', limitFemto: 10n, usedFemto: 9n });
    await store.settle('held', 4n, [counter], 2000);
    expect(await store.counters(['k'], 2000)).toEqual([
      { key: 'k', settledFemto: 10n, reservedFemto: 0n },
    ]);
    await store.close();
  });

  it('re-opening an up-to-date database changes nothing', async () => {
    const path = join(folder.dir, 'same.db');
    await new SqliteStore({ path }).close();
    const db = new Database(path);
    const before = migrations(db);
    expect(migrate(db)).toEqual([]);
    expect(migrations(db)).toEqual(before);
    db.close();
    const again = new SqliteStore({ path });
    expect(migrations(again.database)).toEqual(before);
    await again.close();
  });

  it('numbers migrations 1, 2, … without gaps', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it('opens TOLLGATE_DB when no path is given, creating its folder', async () => {
    const path = join(folder.dir, 'nested', 'deeper', 'env.db');
    vi.stubEnv('TOLLGATE_DB', path);
    const store = new SqliteStore();
    expect(store.path).toBe(path);
    expect(store.capabilities.persistent).toBe(true);
    await store.close();
    await store.close(); // idempotent
  });

  it('an in-memory ledger is not persistent', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    expect(store.capabilities).toEqual({
      budgets: true,
      rateLimits: true,
      alerts: true,
      persistent: false,
    });
    await store.close();
  });
});

describe('opening and closing a SQLite ledger', () => {
  /** The error `fn` throws (fails the test if it throws none). */
  function thrown(fn: () => unknown): Error {
    try {
      fn();
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected an error');
  }

  it.each([
    ['a folder', () => mkdirSync(join(folder.dir, 'ledger.db')), 'ledger.db', /folder/],
    [
      'a file that is not a database',
      () => writeFileSync(join(folder.dir, 'ledger.db'), 'not a database\n'.repeat(512)),
      'ledger.db',
      /not a database/,
    ],
    [
      'under a file instead of a folder',
      () => writeFileSync(join(folder.dir, 'plain'), 'x'),
      join('plain', 'ledger.db'),
      /EEXIST/,
    ],
  ])('a path that names %s fails with a ConfigurationError naming it', (_, setUp, name, reason) => {
    setUp();
    const path = join(folder.dir, name);
    const error = thrown(() => new SqliteStore({ path }));
    expect(ConfigurationError.isInstance(error)).toBe(true);
    expect(error.message).toContain(path);
    expect(error.message).toMatch(reason);
  });

  it.each([
    [{ busyTimeoutMs: -1 }, /busyTimeoutMs/],
    [{ busyTimeoutMs: 1.5 }, /busyTimeoutMs/],
    [{ cacheSizeMb: Number.NaN }, /cacheSizeMb/],
    [{ cacheSizeMb: -1 }, /cacheSizeMb/],
    [{ cacheSizeMb: Number.POSITIVE_INFINITY }, /cacheSizeMb/],
  ])('refuses %o with a ConfigurationError', (options, message) => {
    const error = thrown(() => new SqliteStore({ path: ':memory:', ...options }));
    expect(ConfigurationError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(message);
  });

  it('a closed store refuses every operation with StoreUnavailableError', async () => {
    const store = new SqliteStore({ path: join(folder.dir, 'closed.db') });
    await store.close();
    await store.close(); // still idempotent
    const counter = { key: 'k', limitFemto: 10n, hard: true, expiresAt: 2000 };
    const rate = { key: 'r', limit: 1, windowMs: 1000, cost: 1, now: 1000 };
    const operations: [string, () => Promise<unknown>][] = [
      ['append', () => store.append([])],
      ['query', () => store.query()],
      ['summarize', () => store.summarize({ groupBy: 'none' })],
      [
        'reserve',
        () =>
          store.reserve({
            callId: 'c',
            amountFemto: 1n,
            counters: [counter],
            holdUntil: 2000,
            now: 1000,
          }),
      ],
      ['settle', () => store.settle('c', 1n, [counter], 1000)],
      ['release', () => store.release('c', 1000)],
      ['counters', () => store.counters(['k'], 1000)],
      ['consumeRate', () => store.consumeRate(rate)],
      ['consumeRates', () => store.consumeRates([rate])],
      ['markAlert', () => store.markAlert('k', 0.5, 2000)],
    ];
    for (const [operation, run] of operations) {
      const error = await run().then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(StoreUnavailableError.isInstance(error), operation).toBe(true);
      expect((error as StoreUnavailableError).operation).toBe(operation);
      expect((error as Error).message).toContain('closed');
    }
  });
});

describe('SQLite query plans use the indexes', () => {
  const plan = (db: Database.Database, sql: string, ...params: unknown[]) =>
    (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[])
      .map((row) => row.detail)
      .join('; ');

  it.each([
    [
      'a per-user summary',
      'SELECT COUNT(*) FROM records WHERE user_id = ? AND ts >= ? AND ts < ?',
      'records_user_ts',
    ],
    [
      'a per-tenant summary',
      'SELECT COUNT(*) FROM records WHERE tenant_id = ? AND ts >= ?',
      'records_tenant_ts',
    ],
    [
      'a thread history',
      'SELECT * FROM records WHERE thread_id = ? ORDER BY ts, seq',
      'records_thread_ts',
    ],
    [
      'a session resume',
      'SELECT * FROM records WHERE session_id = ? ORDER BY ts, seq',
      'records_session_ts',
    ],
    [
      'a time range page',
      'SELECT * FROM records WHERE ts >= ? AND (ts, seq) > (?, ?) ORDER BY ts, seq LIMIT 10',
      'records_ts',
    ],
  ])('%s', async (_, sql, index) => {
    const store = new SqliteStore({ path: ':memory:' });
    store.database.exec('ANALYZE');
    const detail = plan(
      store.database,
      sql,
      ...Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 1),
    );
    expect(detail).toContain(index);
    expect(detail).not.toContain('TEMP B-TREE');
    await store.close();
  });
});
