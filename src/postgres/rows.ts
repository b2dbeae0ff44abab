/**
 * Ledger rows: a batch of records to the one JSON parameter of one `INSERT … SELECT` (one
 * statement whatever the batch size), and rows back to records. The parameter is read as
 * `jsonb`: `e->>i` on a `jsonb` array is a direct lookup, whereas on `json` it scans the
 * element's text again for every field (twice the statement's time for 10,000 records).
 */
import { ConfigurationError, describe } from '../errors.js';
import { storedTier } from '../keep/checks.js';
import { metadataJson } from '../keep/record.js';
import { type LedgerColumns, recordFromColumns } from '../keep/sql-rows.js';
import type { LedgerRecord } from '../keep/types.js';
import { monthOf } from './partitions.js';

/** Columns of `records` in the order of the append statement's arrays, with their types. */
const COLUMNS = [
  ['month', 'int4'],
  ['id', 'text'],
  ['call_id', 'text'],
  ['ts', 'int8'],
  ['session_id', 'text'],
  ['agent', 'text'],
  ['node', 'text'],
  ['model', 'text'],
  ['provider', 'text'],
  ['user_id', 'text'],
  ['tenant_id', 'text'],
  ['thread_id', 'text'],
  ['input_tokens', 'int8'],
  ['cache_read_tokens', 'int8'],
  ['cache_write_tokens', 'int8'],
  ['output_tokens', 'int8'],
  ['reasoning_tokens', 'int8'],
  ['tool_use_prompt_tokens', 'int8'],
  ['total_tokens', 'int8'],
  ['priced', 'bool'],
  ['cost_femto', 'numeric'],
  ['metadata', 'text'],
  ['service_tier', 'text'],
] as const;

const NAMES = COLUMNS.map(([name]) => name).join(', ');

/** The columns an `insertSql` source gives, in order. */
export const RECORD_INSERT_COLUMNS: readonly string[] = COLUMNS.map(([name]) => name);
const FIELDS = COLUMNS.map(([, type], i) => `(e->>${i})::${type}`).join(', ');

/** The sums a rollup row keeps, from the appended rows `ins`. */
const SUMS = `count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens),
  sum(reasoning_tokens), sum(total_tokens), count(*) FILTER (WHERE NOT priced),
  COALESCE(sum(cost_femto) FILTER (WHERE priced), 0)`;
const ADD = ['calls', 'input_tokens', 'output_tokens', 'cached_tokens', 'reasoning_tokens']
  .concat(['total_tokens', 'unpriced_calls', 'cost_femto'])
  .map((c) => `${c} = r.${c} + excluded.${c}`)
  .join(', ');
/** The UTC hour an epoch-ms `ts` falls in (floor, also before 1970). */
const HOUR_OF = 'ts - ((ts % 3600000) + 3600000) % 3600000';
const SUM_COLUMNS =
  'calls, input_tokens, output_tokens, cached_tokens, reasoning_tokens, total_tokens, unpriced_calls, cost_femto';

/**
 * One statement: inserts the new records (a call id already stored is skipped) and adds exactly
 * those to both rollups. It commits or fails as a whole, so a rollup never counts a record the
 * ledger lacks, and a retried batch adds nothing twice. Rollup rows are upserted in key order,
 * so concurrent batches lock them in one order (no deadlock).
 */
export function appendSql(s: string): string {
  return insertSql(s, `SELECT ${FIELDS} FROM jsonb_array_elements($1::jsonb) e`);
}

/**
 * `appendSql` for any `source` query giving the columns of `RECORD_INSERT_COLUMNS` in order:
 * tools that load a ledger server-side (a migration from another store, the benchmarks) keep
 * the rollups exact the same way.
 */
export function insertSql(s: string, source: string): string {
  return `WITH ins AS (
    INSERT INTO ${s}.records (${NAMES})
    ${source}
    ON CONFLICT (call_id, month) DO NOTHING
    RETURNING month, ts, tenant_id, user_id, thread_id, agent, model, input_tokens,
      output_tokens, cache_read_tokens, reasoning_tokens, total_tokens, priced, cost_femto
  ), hourly AS (
    ${rollupInsert(s, 'rollup_hourly', 'ins')}
    ON CONFLICT (${ROLLUP_KEYS.rollup_hourly}) DO UPDATE SET ${ADD}
  ), threads AS (
    ${rollupInsert(s, 'rollup_thread_hourly', 'ins')}
    ON CONFLICT (${ROLLUP_KEYS.rollup_thread_hourly}) DO UPDATE SET ${ADD}
  )
  SELECT count(*)::int AS added FROM ins`;
}

/** Each rollup's key columns (its unique index), `hour` being the UTC hour of `ts`. */
const ROLLUP_KEYS = {
  rollup_hourly: 'month, hour, tenant_id, user_id, agent, model',
  rollup_thread_hourly: 'month, hour, thread_id, tenant_id, user_id',
} as const;

/** `INSERT INTO` a rollup the sums of the records in `from`, per key, in key order. */
function rollupInsert(s: string, table: keyof typeof ROLLUP_KEYS, from: string): string {
  const keys = ROLLUP_KEYS[table];
  const count = keys.split(',').length;
  const positions = Array.from({ length: count }, (_, i) => i + 1).join(', ');
  return `INSERT INTO ${s}.${table} AS r (${keys}, ${SUM_COLUMNS})
    SELECT ${keys.replace('hour', `${HOUR_OF}`)}, ${SUMS} FROM ${from}
    GROUP BY ${positions} ORDER BY ${positions}`;
}

/**
 * Builds both rollups from the stored records in two `INSERT … SELECT … GROUP BY`, for a
 * ledger loaded without them (a bulk load: one pass over the records instead of an upsert per
 * batch). The rollups must be empty before.
 *
 * @example
 * for (const statement of rollupsFromRecordsSql('"tollgate"')) await pool.query(statement);
 */
export function rollupsFromRecordsSql(s: string): string[] {
  return [
    rollupInsert(s, 'rollup_hourly', `${s}.records`),
    rollupInsert(s, 'rollup_thread_hourly', `${s}.records`),
  ];
}

const REQUIRED_TEXT = ['id', 'sessionId', 'agent', 'model'] as const;
const TEXT = [
  ...REQUIRED_TEXT,
  'callId',
  'node',
  'provider',
  'userId',
  'tenantId',
  'threadId',
] as const;

const isCount = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;

/** Refuses a record the ledger cannot store exactly, naming the field (before any write). */
function checkRecord(record: LedgerRecord): void {
  const bad = (field: string, value: unknown, what: string) =>
    new ConfigurationError(
      `record ${describe(record?.callId)}: ${field} must be ${what}, got ${describe(value)}`,
    );
  if (typeof record?.callId !== 'string') throw bad('callId', record?.callId, 'a string');
  for (const field of REQUIRED_TEXT) {
    if (typeof record[field] !== 'string') throw bad(field, record[field], 'a string');
  }
  for (const field of TEXT) {
    const value = record[field];
    // Postgres text cannot hold U+0000; refused here rather than failing the whole batch there.
    if (typeof value === 'string' && value.includes('\u0000')) {
      throw bad(field, value, 'text without U+0000');
    }
  }
  storedTier(record.serviceTier);
  if (typeof record.priced !== 'boolean') throw bad('priced', record.priced, 'a boolean');
  if (!Number.isSafeInteger(record.timestamp) || Math.abs(record.timestamp) > 8.64e15) {
    throw bad('timestamp', record.timestamp, 'whole epoch milliseconds');
  }
  for (const field of [
    'inputTokens',
    'cacheReadTokens',
    'cacheWriteTokens',
    'outputTokens',
    'reasoningTokens',
    'toolUsePromptTokens',
    'totalTokens',
  ] as const) {
    if (!isCount(record[field])) throw bad(field, record[field], 'a whole number ≥ 0');
  }
  if (typeof record.costFemto !== 'bigint' || record.costFemto < 0n) {
    throw bad('costFemto', record.costFemto, 'a bigint of femto-dollars ≥ 0');
  }
}

/** The append statement's parameter (a JSON array of rows) and the months the batch touches. */
export function rowsOf(records: readonly LedgerRecord[]): { json: string; months: Set<number> } {
  for (const record of records) checkRecord(record);
  // In one global order (month, call id), so that concurrent batches holding the same call ids
  // wait for each other in one direction and never deadlock.
  const sorted = records
    .map((record) => ({ record, month: monthOf(record.timestamp) }))
    .sort(
      (a, b) =>
        a.month - b.month ||
        (a.record.callId < b.record.callId ? -1 : a.record.callId > b.record.callId ? 1 : 0),
    );
  const months = new Set<number>();
  const rows = sorted.map(({ record, month }) => {
    months.add(month);
    return [
      month,
      record.id,
      record.callId,
      record.timestamp,
      record.sessionId,
      record.agent,
      record.node ?? null,
      record.model,
      record.provider ?? null,
      record.userId ?? null,
      record.tenantId ?? null,
      record.threadId ?? null,
      record.inputTokens,
      record.cacheReadTokens,
      record.cacheWriteTokens,
      record.outputTokens,
      record.reasoningTokens,
      record.toolUsePromptTokens,
      record.totalTokens,
      record.priced,
      record.costFemto.toString(),
      record.metadata === undefined ? null : metadataJson(record.metadata),
      storedTier(record.serviceTier) ?? null,
    ];
  });
  return { json: JSON.stringify(rows), months };
}

/** A row of `records` as node-postgres returns it (int8 and numeric as strings). */
export interface RecordRow extends LedgerColumns<string> {
  seq: string;
  priced: boolean;
  cost_femto: string;
}

export const RECORD_COLUMNS = `seq, id, call_id, ts, session_id, agent, node, model, provider,
  user_id, tenant_id, thread_id, input_tokens, cache_read_tokens, cache_write_tokens,
  output_tokens, reasoning_tokens, tool_use_prompt_tokens, total_tokens, priced,
  cost_femto::text AS cost_femto, metadata, service_tier`;

export function fromRow(row: RecordRow): LedgerRecord {
  return recordFromColumns(row, row.priced, BigInt(row.cost_femto));
}
