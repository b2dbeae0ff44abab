/**
 * Versioned schema of the Postgres ledger. All pending migrations run in ONE transaction that
 * first takes a transaction-level advisory lock on the schema's name: a second process migrating
 * at the same moment waits, then finds them applied and runs nothing. Each applied version is
 * recorded in `schema_migrations`. Never edit a published migration: add the next number (see
 * the README's upgrade notes).
 *
 * `{s}` stands for the quoted schema name.
 *
 * Layout (why each part exists):
 * - `records`: one row per call, range-partitioned by `month` (months since 1970-01, UTC), so
 *   retention drops whole partitions. The call id is unique per month partition (a unique index
 *   on a partitioned table must hold the partition key); a retry carries the same record, and
 *   so the same month, so it is always caught.
 * - `rollup_hourly` and `rollup_thread_hourly`: exact sums per hour × (tenant, user, agent,
 *   model) and per hour × (thread, tenant, user); `rollup_tenant_hourly`, `rollup_tenant_daily`,
 *   `rollup_user_hourly` and `rollup_user_daily`: per UTC hour and per UTC day × tenant and ×
 *   (tenant, user), so a month-long per-user summary reads about 30 + 24 rows a user, and a
 *   fleet's totals by day 30 + 24 rows a tenant. All are kept up to date by the same statement
 *   that appends the records, and partitioned like them. Summaries read these, not the records.
 * - Money is `numeric` femto-dollars: exact at any size, summed exactly by Postgres.
 */
import type { PoolClient, Queryable } from './connect.js';

/**
 * One versioned step of the ledger's schema: `sql` runs with `{s}` replaced by the quoted schema.
 *
 * @example
 * const latest: Migration | undefined = MIGRATIONS.at(-1); // { version, name, sql }
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const SUMS = `
  calls bigint NOT NULL,
  input_tokens bigint NOT NULL,
  output_tokens bigint NOT NULL,
  cached_tokens bigint NOT NULL,
  reasoning_tokens bigint NOT NULL,
  total_tokens bigint NOT NULL,
  unpriced_calls bigint NOT NULL,
  cost_femto numeric NOT NULL`;

/**
 * The rollups of migration 4, each a coarser cut of `rollup_hourly` (so it can be built from
 * it): per UTC hour and per UTC day × tenant, and × (tenant, user).
 */
const DERIVED_ROLLUPS = [
  { table: 'rollup_tenant_hourly', slot: 'hour', width: 3_600_000, keys: ['tenant_id'] },
  { table: 'rollup_tenant_daily', slot: 'day', width: 86_400_000, keys: ['tenant_id'] },
  { table: 'rollup_user_hourly', slot: 'hour', width: 3_600_000, keys: ['tenant_id', 'user_id'] },
  { table: 'rollup_user_daily', slot: 'day', width: 86_400_000, keys: ['tenant_id', 'user_id'] },
] as const;
type DerivedRollup = (typeof DERIVED_ROLLUPS)[number];

/** Fills an (empty) derived rollup from `rollup_hourly`: a UTC day is 24 whole UTC hours. */
function derivedFromHourly(s: string, { table, slot, width, keys }: DerivedRollup): string {
  return `INSERT INTO ${s}.${table} (month, ${slot}, ${keys.join(', ')}, calls, input_tokens,
      output_tokens, cached_tokens, reasoning_tokens, total_tokens, unpriced_calls, cost_femto)
    SELECT month, hour - ((hour % ${width}) + ${width}) % ${width}, ${keys.join(', ')},
      sum(calls), sum(input_tokens), sum(output_tokens), sum(cached_tokens),
      sum(reasoning_tokens), sum(total_tokens), sum(unpriced_calls), sum(cost_femto)
    FROM ${s}.rollup_hourly GROUP BY ${keys.map((_, i) => i + 3).join(', ')}, 1, 2`;
}

/** A derived rollup's table, its indexes, a partition for every month the records have, its rows. */
function derivedTable(rollup: DerivedRollup): string {
  const { table, slot, keys } = rollup;
  return `
      CREATE TABLE {s}.${table} (
        month integer NOT NULL,
        ${slot} bigint NOT NULL,
        ${keys.map((key) => `${key} text,`).join('\n        ')}${SUMS}
      ) PARTITION BY RANGE (month);
      CREATE UNIQUE INDEX ${table}_key ON {s}.${table}
        (month, ${slot}, ${keys.join(', ')}) NULLS NOT DISTINCT;
      ${keys.map((key) => `CREATE INDEX ${table}_${key.replace('_id', '')} ON {s}.${table} (${key}, ${slot});`).join('\n      ')}
      DO $$
      DECLARE part record;
      BEGIN
        FOR part IN
          SELECT n.nspname AS schema, c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE i.inhparent = '{s}.records'::regclass
        LOOP
          EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.${table} %s', part.schema,
            '${table}' || substr(part.name, 8), part.schema, part.bound);
        END LOOP;
      END $$;
      ${derivedFromHourly('{s}', rollup)};`;
}

/**
 * The statements that build the derived rollups (per tenant, per tenant and user) again from
 * `rollup_hourly`, to run in one transaction (`TRUNCATE` holds them locked until it commits, so
 * appends wait, then add to the rebuilt rows): for a ledger that processes of an older version
 * kept appending to after version 4 was applied (they add to the first two rollups only).
 *
 * @example
 * await pool.query('BEGIN');
 * for (const statement of rebuildDerivedRollupsSql('"tollgate"')) await pool.query(statement);
 * await pool.query('COMMIT');
 */
export function rebuildDerivedRollupsSql(s: string): string[] {
  return [
    `TRUNCATE ${DERIVED_ROLLUPS.map(({ table }) => `${s}.${table}`).join(', ')}`,
    ...DERIVED_ROLLUPS.map((rollup) => derivedFromHourly(s, rollup)),
  ];
}

/**
 * Every migration of the ledger, oldest first; `migrate` applies the pending ones in one
 * transaction. Migrations only add.
 *
 * @example
 * console.log(MIGRATIONS.map((m) => `${m.version}: ${m.name}`));
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'ledger: records partitioned by month, hourly rollups',
    sql: `
      CREATE SEQUENCE {s}.records_seq AS bigint;
      CREATE TABLE {s}.records (
        seq bigint NOT NULL DEFAULT nextval('{s}.records_seq'),
        month integer NOT NULL,
        id text NOT NULL,
        call_id text NOT NULL,
        ts bigint NOT NULL,
        session_id text NOT NULL,
        agent text NOT NULL,
        node text,
        model text NOT NULL,
        provider text,
        user_id text,
        tenant_id text,
        thread_id text,
        input_tokens bigint NOT NULL,
        cache_read_tokens bigint NOT NULL,
        cache_write_tokens bigint NOT NULL,
        output_tokens bigint NOT NULL,
        reasoning_tokens bigint NOT NULL,
        tool_use_prompt_tokens bigint NOT NULL,
        total_tokens bigint NOT NULL,
        priced boolean NOT NULL,
        cost_femto numeric NOT NULL,
        metadata text
      ) PARTITION BY RANGE (month);
      ALTER SEQUENCE {s}.records_seq OWNED BY {s}.records.seq;
      CREATE UNIQUE INDEX records_call_id ON {s}.records (call_id, month);
      CREATE INDEX records_ts ON {s}.records (ts, seq);
      CREATE INDEX records_user_ts ON {s}.records (user_id, ts, seq);
      CREATE INDEX records_tenant_ts ON {s}.records (tenant_id, ts, seq);
      CREATE INDEX records_thread_ts ON {s}.records (thread_id, ts, seq);
      CREATE INDEX records_agent_ts ON {s}.records (agent, ts, seq);
      CREATE INDEX records_model_ts ON {s}.records (model, ts, seq);
      CREATE INDEX records_session_ts ON {s}.records (session_id, ts, seq);

      CREATE TABLE {s}.rollup_hourly (
        month integer NOT NULL,
        hour bigint NOT NULL,
        tenant_id text,
        user_id text,
        agent text NOT NULL,
        model text NOT NULL,${SUMS}
      ) PARTITION BY RANGE (month);
      CREATE UNIQUE INDEX rollup_hourly_key ON {s}.rollup_hourly
        (month, hour, tenant_id, user_id, agent, model) NULLS NOT DISTINCT;
      CREATE INDEX rollup_hourly_user ON {s}.rollup_hourly (user_id, hour);
      CREATE INDEX rollup_hourly_tenant ON {s}.rollup_hourly (tenant_id, hour);
      CREATE INDEX rollup_hourly_agent ON {s}.rollup_hourly (agent, hour);
      CREATE INDEX rollup_hourly_model ON {s}.rollup_hourly (model, hour);
      CREATE INDEX rollup_hourly_hour ON {s}.rollup_hourly (hour);

      CREATE TABLE {s}.rollup_thread_hourly (
        month integer NOT NULL,
        hour bigint NOT NULL,
        thread_id text,
        tenant_id text,
        user_id text,${SUMS}
      ) PARTITION BY RANGE (month);
      CREATE UNIQUE INDEX rollup_thread_hourly_key ON {s}.rollup_thread_hourly
        (month, hour, thread_id, tenant_id, user_id) NULLS NOT DISTINCT;
      CREATE INDEX rollup_thread_hourly_user ON {s}.rollup_thread_hourly (user_id, hour);
      CREATE INDEX rollup_thread_hourly_tenant ON {s}.rollup_thread_hourly (tenant_id, hour);
      CREATE INDEX rollup_thread_hourly_hour ON {s}.rollup_thread_hourly (hour);
    `,
  },
  {
    version: 2,
    name: 'budgets, rate limits, alerts',
    sql: `
      CREATE TABLE {s}.budget_counters (
        key text PRIMARY KEY,
        settled_femto numeric NOT NULL,
        expires_at double precision NOT NULL
      );
      CREATE TABLE {s}.reservations (
        call_id text NOT NULL,
        key text NOT NULL,
        amount_femto numeric NOT NULL,
        hold_until double precision NOT NULL,
        PRIMARY KEY (call_id, key)
      );
      CREATE INDEX reservations_key_hold ON {s}.reservations (key, hold_until);
      CREATE INDEX reservations_hold ON {s}.reservations (hold_until);
      CREATE TABLE {s}.settled_calls (
        call_id text PRIMARY KEY,
        expires_at double precision NOT NULL
      );
      CREATE INDEX settled_calls_expiry ON {s}.settled_calls (expires_at);
      CREATE TABLE {s}.rate_limits (
        key text PRIMARY KEY,
        tat_ms double precision NOT NULL,
        tat_frac double precision NOT NULL,
        rate_limit double precision NOT NULL,
        window_ms double precision NOT NULL
      );
      CREATE TABLE {s}.alerts (
        key text NOT NULL,
        threshold double precision NOT NULL,
        expires_at double precision NOT NULL,
        PRIMARY KEY (key, threshold)
      );
    `,
  },
  {
    version: 3,
    name: 'records: service tier',
    // NULL is standard (the default tier); existing records were all standard-priced. Adding a
    // nullable column without a default is a catalog change, instant at any ledger size.
    sql: `ALTER TABLE {s}.records ADD COLUMN service_tier text;`,
  },
  {
    version: 4,
    name: 'per-tenant and per-user rollups (hourly and daily), built from the hourly rollup',
    // Each gets a partition for every month the records have, then one GROUP BY pass over
    // rollup_hourly. Appends of a process still on version 3 do not add to them: see the
    // upgrade notes and `rebuildDerivedRollups`.
    sql: DERIVED_ROLLUPS.map(derivedTable).join('\n'),
  },
];

/**
 * The schema version this build of tollgate writes (the last migration's).
 *
 * @example
 * if ((await schemaVersion(pool, '"tollgate"')) < SCHEMA_VERSION) console.log('migration pending');
 */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The highest applied version in `schema` (0 when the schema or its table is missing). */
export async function schemaVersion(db: Queryable, schema: string): Promise<number> {
  const { rows } = await db.query<{ version: number | null }>(
    `SELECT CASE WHEN to_regclass($1) IS NULL THEN 0 END AS version`,
    [`${schema}.schema_migrations`],
  );
  if (rows[0]?.version === 0) return 0;
  const applied = await db.query<{ version: number | null }>(
    `SELECT max(version) AS version FROM ${schema}.schema_migrations`,
  );
  return applied.rows[0]?.version ?? 0;
}

/**
 * Brings `schema` (a quoted identifier) to `target` (default: the latest version) and returns
 * the versions applied now, all in one transaction under `pg_advisory_xact_lock`.
 */
export async function migrate(
  client: PoolClient,
  schema: string,
  target = SCHEMA_VERSION,
): Promise<number[]> {
  if ((await schemaVersion(client, schema)) >= target) return [];
  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('tollgate:migrate'), hashtext($1))`, [
      schema,
    ]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    // Read under the lock: another process may have migrated while this one waited.
    const current = await schemaVersion(client, schema);
    for (const migration of MIGRATIONS) {
      if (migration.version <= current || migration.version > target) continue;
      await client.query(migration.sql.replaceAll('{s}', schema));
      await client.query(
        `INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, $2)`,
        [migration.version, migration.name],
      );
      applied.push(migration.version);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  return applied;
}
