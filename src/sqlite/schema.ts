import type BetterSqlite3 from 'better-sqlite3';

/**
 * Versioned schema. Each migration runs once, in its own transaction, and is recorded in
 * `schema_migrations`; opening an up-to-date database runs nothing. Never edit a published
 * migration: add the next number.
 *
 * Money columns come in pairs, `*_micro` (femto-dollars / 10^9, i.e. micro-dollars) and `*_rem`
 * (femto-dollars % 10^9): SQLite integers are int64 and `SUM` fails past 2^63 femto-dollars
 * (about $9,223), so a sum is taken per column and the two are combined in BigInt. That is exact
 * while the micro-dollar sum stays below 2^63 (about $9.2 trillion) and the remainder sum below
 * 2^63 (about 9 billion rows).
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'ledger',
    sql: `
      CREATE TABLE records (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        call_id TEXT NOT NULL,
        ts INTEGER NOT NULL,
        session_id TEXT NOT NULL,
        agent TEXT NOT NULL,
        node TEXT,
        model TEXT NOT NULL,
        provider TEXT,
        user_id TEXT,
        tenant_id TEXT,
        thread_id TEXT,
        input_tokens INTEGER NOT NULL,
        cache_read_tokens INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        reasoning_tokens INTEGER NOT NULL,
        tool_use_prompt_tokens INTEGER NOT NULL,
        total_tokens INTEGER NOT NULL,
        priced INTEGER NOT NULL,
        cost_micro INTEGER NOT NULL,
        cost_rem INTEGER NOT NULL,
        metadata TEXT
      );
      CREATE UNIQUE INDEX records_call_id ON records (call_id);
      CREATE INDEX records_ts ON records (ts);
      CREATE INDEX records_user_ts ON records (user_id, ts);
      CREATE INDEX records_tenant_ts ON records (tenant_id, ts);
      CREATE INDEX records_thread_ts ON records (thread_id, ts);
      CREATE INDEX records_session_ts ON records (session_id, ts);
    `,
  },
  {
    version: 2,
    name: 'budgets, rate limits, alerts',
    sql: `
      CREATE TABLE budget_counters (
        key TEXT PRIMARY KEY,
        settled_micro INTEGER NOT NULL,
        settled_rem INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE TABLE reservations (
        call_id TEXT NOT NULL,
        key TEXT NOT NULL,
        amount_micro INTEGER NOT NULL,
        amount_rem INTEGER NOT NULL,
        hold_until INTEGER NOT NULL,
        PRIMARY KEY (call_id, key)
      );
      CREATE INDEX reservations_key_hold ON reservations (key, hold_until);
      CREATE INDEX reservations_hold ON reservations (hold_until);
      CREATE TABLE settled_calls (
        call_id TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      );
      CREATE TABLE rate_limits (
        key TEXT PRIMARY KEY,
        tat_ms INTEGER NOT NULL,
        tat_frac REAL NOT NULL,
        rate_limit REAL NOT NULL,
        window_ms REAL NOT NULL
      );
      CREATE TABLE alerts (
        key TEXT NOT NULL,
        threshold REAL NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (key, threshold)
      );
    `,
  },
  {
    version: 3,
    name: 'service tier',
    // Existing rows were all priced at standard: NULL is standard.
    sql: 'ALTER TABLE records ADD COLUMN service_tier TEXT;',
  },
  {
    version: 4,
    name: 'budget tables without rowids',
    // Every reservation and settlement commits the pages it dirtied: one b-tree a table (no
    // separate rowid tree) and no hold_until index (only the once-a-minute sweep used it, and
    // it scans the few live holds) write 4 pages a call where 7 were written. The key index
    // covers the amounts: summing a key's live holds reads the index alone.
    sql: `
      CREATE TABLE reservations_v4 (
        call_id TEXT NOT NULL,
        key TEXT NOT NULL,
        amount_micro INTEGER NOT NULL,
        amount_rem INTEGER NOT NULL,
        hold_until INTEGER NOT NULL,
        PRIMARY KEY (call_id, key)
      ) WITHOUT ROWID;
      INSERT INTO reservations_v4 SELECT call_id, key, amount_micro, amount_rem, hold_until
        FROM reservations;
      DROP TABLE reservations;
      ALTER TABLE reservations_v4 RENAME TO reservations;
      CREATE INDEX reservations_key_hold
        ON reservations (key, hold_until, amount_micro, amount_rem);
      CREATE TABLE settled_calls_v4 (
        call_id TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO settled_calls_v4 SELECT call_id, expires_at FROM settled_calls;
      DROP TABLE settled_calls;
      ALTER TABLE settled_calls_v4 RENAME TO settled_calls;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database to `target` (default: the latest version) and returns the versions
 * applied now. Each migration and its bookkeeping row commit together, under an IMMEDIATE
 * transaction, so two processes opening a fresh file at once apply it once.
 */
export function migrate(db: BetterSqlite3.Database, target = SCHEMA_VERSION): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const has = db.prepare<[number]>('SELECT 1 FROM schema_migrations WHERE version = ?');
  const record = db.prepare<[number, string, number]>(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    if (migration.version > target) break;
    const apply = db.transaction(() => {
      // Checked inside the write lock: another process may have applied it meanwhile.
      if (has.get(migration.version)) return;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, Date.now());
      applied.push(migration.version);
    });
    apply.immediate();
  }
  return applied;
}

/** The highest applied schema version (0 for an empty database). */
export function schemaVersion(db: BetterSqlite3.Database): number {
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as
    | { version: number | null }
    | undefined;
  return row?.version ?? 0;
}
