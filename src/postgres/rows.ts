/**
 * Ledger rows: a batch of records to the rows of one `INSERT … SELECT` (one statement whatever
 * the batch size), and rows back to records. The rows travel by `COPY … FROM STDIN` in text
 * format into a temporary staging table (pg-copy-streams), or, without that package, as one
 * JSON parameter read as `jsonb` (`e->>i` on a `jsonb` array is a direct lookup, whereas on
 * `json` it scans the element's text again for every field).
 */
import { ConfigurationError, describe } from '../errors.js';
import { RECORD_COUNTS, storedTier } from '../keep/checks.js';
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

/** The sums a rollup row keeps, from the appended rows, and their columns. */
const SUM_EXPRESSIONS = [
  'count(*)',
  'sum(input_tokens)',
  'sum(output_tokens)',
  'sum(cache_read_tokens)',
  'sum(reasoning_tokens)',
  'sum(total_tokens)',
  'count(*) FILTER (WHERE NOT priced)',
  'COALESCE(sum(cost_femto) FILTER (WHERE priced), 0)',
];
const SUM_COLUMNS = ['calls', 'input_tokens', 'output_tokens', 'cached_tokens'].concat([
  'reasoning_tokens',
  'total_tokens',
  'unpriced_calls',
  'cost_femto',
]);
const SUMS = SUM_EXPRESSIONS.join(', ');
const NAMED_SUMS = SUM_EXPRESSIONS.map((sum, i) => `${sum} AS ${SUM_COLUMNS[i]}`).join(', ');
const SUM_NAMES = SUM_COLUMNS.join(', ');
const ADD = SUM_COLUMNS.map((c) => `${c} = r.${c} + excluded.${c}`).join(', ');

/** The sums of rollup rows (the per-hour sums of a batch) into coarser ones. */
const SUMS_OF_SUMS = SUM_COLUMNS.map((c) => `sum(${c})`).join(', ');

const SLOT_MS = { hour: 3_600_000, day: 86_400_000 } as const;
/** The UTC hour or day the epoch-ms `column` falls in (floor, also before 1970). */
const slotOf = (slot: 'hour' | 'day', column: string) =>
  `${column} - ((${column} % ${SLOT_MS[slot]}) + ${SLOT_MS[slot]}) % ${SLOT_MS[slot]}`;

/** The batch's sums per `rollup_hourly` key, which the coarser rollups are summed from. */
const HOUR_KEYS = ['tenant_id', 'user_id', 'agent', 'model'];

/** Each rollup: its time slot and the dimensions of its key (after `month` and the slot). */
export const ROLLUPS = {
  rollup_hourly: { slot: 'hour', keys: ['tenant_id', 'user_id', 'agent', 'model'] },
  rollup_thread_hourly: { slot: 'hour', keys: ['thread_id', 'tenant_id', 'user_id'] },
  rollup_tenant_hourly: { slot: 'hour', keys: ['tenant_id'] },
  rollup_tenant_daily: { slot: 'day', keys: ['tenant_id'] },
  rollup_user_hourly: { slot: 'hour', keys: ['tenant_id', 'user_id'] },
  rollup_user_daily: { slot: 'day', keys: ['tenant_id', 'user_id'] },
} as const;
type Rollup = keyof typeof ROLLUPS;
const ROLLUP_TABLES = Object.keys(ROLLUPS) as Rollup[];

/**
 * One statement: inserts the new records (a call id already stored is skipped) and adds exactly
 * those to every rollup. It commits or fails as a whole, so a rollup never counts a record the
 * ledger lacks, and a retried batch adds nothing twice. Rollup rows are upserted in key order,
 * so concurrent batches lock them in one order (no deadlock).
 */
export function appendSql(s: string): string {
  return insertSql(
    s,
    `SELECT ${FIELDS} FROM jsonb_array_elements($1::jsonb) e
     ORDER BY (e->>0)::int4, (e->>2) COLLATE "C"`,
  );
}

/**
 * `appendSql` for any `source` query giving the columns of `RECORD_INSERT_COLUMNS` in order:
 * the COPY path (from its staging table) and tools that load a ledger server-side (a migration
 * from another store, the benchmarks) keep the rollups exact the same way.
 */
export function insertSql(s: string, source: string): string {
  // Rollups whose key is within rollup_hourly's are summed from the batch's hourly sums (a
  // thousand rows for 10,000 records), not from every inserted record again.
  const rollups = ROLLUP_TABLES.map(
    (table) => `${table} AS (
    ${fromHours(table) ? rollupInsert(s, table, 'hours', 'hour') : rollupInsert(s, table, 'ins', 'ts')}
    ON CONFLICT (${rollupKey(table).join(', ')}) DO UPDATE SET ${ADD}
  )`,
  );
  return `WITH ins AS (
    INSERT INTO ${s}.records (${NAMES})
    ${source}
    ON CONFLICT (call_id, month) DO NOTHING
    RETURNING month, ts, tenant_id, user_id, thread_id, agent, model, input_tokens,
      output_tokens, cache_read_tokens, reasoning_tokens, total_tokens, priced, cost_femto
  ), hours AS (
    SELECT month, ${slotOf('hour', 'ts')} AS hour, ${HOUR_KEYS.join(', ')}, ${NAMED_SUMS}
    FROM ins GROUP BY 1, 2, 3, 4, 5, 6
  ), ${rollups.join(', ')}
  SELECT count(*)::int AS added FROM ins`;
}

const fromHours = (table: Rollup) => ROLLUPS[table].keys.every((key) => HOUR_KEYS.includes(key));

/** A rollup's key columns (its unique index): the month, the slot, the dimensions. */
function rollupKey(table: Rollup): string[] {
  const { slot, keys } = ROLLUPS[table];
  return ['month', slot, ...keys];
}

/**
 * `INSERT INTO` a rollup the sums per key, in key order, of `from`: records (their time in `ts`)
 * or rows of hourly sums (their time in `hour`).
 */
function rollupInsert(s: string, table: Rollup, from: string, time: 'ts' | 'hour'): string {
  const key = rollupKey(table);
  const positions = key.map((_, i) => i + 1).join(', ');
  const { slot, keys } = ROLLUPS[table];
  const select = ['month', slotOf(slot, time), ...keys];
  return `INSERT INTO ${s}.${table} AS r (${key.join(', ')}, ${SUM_NAMES})
    SELECT ${select.join(', ')}, ${time === 'ts' ? SUMS : SUMS_OF_SUMS} FROM ${from}
    GROUP BY ${positions} ORDER BY ${positions}`;
}

/**
 * Builds every rollup from the stored records, one `INSERT … SELECT … GROUP BY` each, for a
 * ledger loaded without them (a bulk load: one pass over the records instead of an upsert per
 * batch). The rollups must be empty before.
 *
 * @example
 * for (const statement of rollupsFromRecordsSql('"tollgate"')) await pool.query(statement);
 */
export function rollupsFromRecordsSql(s: string): string[] {
  return ROLLUP_TABLES.map((table) => rollupInsert(s, table, `${s}.records`, 'ts'));
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

/** The error for a record's field the ledger cannot store. */
function badField(record: LedgerRecord, field: string, value: unknown, what: string) {
  return new ConfigurationError(
    `record ${describe(record?.callId)}: ${field} must be ${what}, got ${describe(value)}`,
  );
}

/** Refuses a record the ledger cannot store exactly, naming the field (before any write). */
function checkRecord(record: LedgerRecord): void {
  if (typeof record?.callId !== 'string')
    throw badField(record, 'callId', record?.callId, 'a string');
  for (const field of REQUIRED_TEXT) {
    if (typeof record[field] !== 'string') throw badField(record, field, record[field], 'a string');
  }
  for (const field of TEXT) {
    const value = record[field];
    // Postgres text cannot hold U+0000; refused here rather than failing the whole batch there.
    if (typeof value === 'string' && value.includes('\u0000')) {
      throw badField(record, field, value, 'text without U+0000');
    }
  }
  storedTier(record.serviceTier);
  if (typeof record.priced !== 'boolean')
    throw badField(record, 'priced', record.priced, 'a boolean');
  if (!Number.isSafeInteger(record.timestamp) || Math.abs(record.timestamp) > 8.64e15) {
    throw badField(record, 'timestamp', record.timestamp, 'whole epoch milliseconds');
  }
  for (const field of RECORD_COUNTS) {
    if (!isCount(record[field])) throw badField(record, field, record[field], 'a whole number ≥ 0');
  }
  if (typeof record.costFemto !== 'bigint' || record.costFemto < 0n) {
    throw badField(record, 'costFemto', record.costFemto, 'a bigint of femto-dollars ≥ 0');
  }
}

/** A checked record and the month partition it goes to. */
export interface BatchRow {
  record: LedgerRecord;
  month: number;
}

/**
 * Checks every record (nothing is sent when one is bad) and keeps the first of records that
 * share a call id and a month, as `ON CONFLICT DO NOTHING` would. The append statements insert
 * in (month, call id) order themselves: concurrent batches holding the same call ids then wait
 * for each other in one direction and never deadlock.
 */
export function batchRows(records: readonly LedgerRecord[]): BatchRow[] {
  for (const record of records) checkRecord(record);
  const seen = new Set<string>();
  const rows: BatchRow[] = [];
  for (const record of records) {
    const month = monthOf(record.timestamp);
    const key = `${month}|${record.callId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({ record, month });
  }
  return rows;
}

const DAY = 86_400_000;

/**
 * Splits rows into at most `parts` parts by tenant, user and UTC day. Every
 * rollup key holds those three, so two parts never touch the same rollup row: appended at once
 * on separate connections, they never wait for each other's locks.
 */
export function splitRows(rows: readonly BatchRow[], parts: number): BatchRow[][] {
  if (parts <= 1) return [rows.slice()];
  const split: BatchRow[][] = Array.from({ length: parts }, () => []);
  for (const row of rows) {
    const { tenantId, userId, timestamp } = row.record;
    const key = `${tenantId ?? ''}\u0000${userId ?? ''}\u0000${Math.floor(timestamp / DAY)}`;
    split[hash(key) % parts]?.push(row);
  }
  return split.filter((part) => part.length > 0);
}

/** FNV-1a over UTF-16 code units: a cheap, stable spread of keys over parts. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The values of a row in the order of `COLUMNS` (text as it is, money as a decimal string). */
function valuesOf({ record, month }: BatchRow): unknown[] {
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
}

/** `appendSql`'s parameter: the rows as one JSON array of arrays. */
export function jsonOf(rows: readonly BatchRow[]): string {
  return JSON.stringify(rows.map(valuesOf));
}

const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_ESCAPES = /[\\\n\r\t]/g;
const COPY_ESCAPE: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Text in COPY's text format: `\\N` for none, backslash, tab and line ends escaped. */
function copyText(value: string | null | undefined): string {
  if (value === undefined || value === null) return '\\N';
  return COPY_SPECIAL.test(value)
    ? value.replace(COPY_ESCAPES, (c) => COPY_ESCAPE[c] as string)
    : value;
}

/**
 * The rows in COPY's text format, one line each, columns in the order of `COLUMNS`. This runs
 * for every record of every batch: joined lines (flat strings) cost a third of what a string
 * built by concatenation costs to build and then to encode.
 */
export function copyTextOf(rows: readonly BatchRow[]): string {
  const t = copyText;
  const lines: string[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const { record: r, month } = rows[i] as BatchRow;
    const metadata = r.metadata === undefined ? undefined : metadataJson(r.metadata);
    lines[i] = [
      month,
      t(r.id),
      t(r.callId),
      r.timestamp,
      t(r.sessionId),
      t(r.agent),
      t(r.node),
      t(r.model),
      t(r.provider),
      t(r.userId),
      t(r.tenantId),
      t(r.threadId),
      r.inputTokens,
      r.cacheReadTokens,
      r.cacheWriteTokens,
      r.outputTokens,
      r.reasoningTokens,
      r.toolUsePromptTokens,
      r.totalTokens,
      r.priced ? 't' : 'f',
      r.costFemto,
      t(metadata),
      t(storedTier(r.serviceTier)),
    ].join('\t');
  }
  return `${lines.join('\n')}\n`;
}

/** The staging table COPY fills: one per connection, emptied when its transaction ends. */
export const STAGE_TABLE = 'tollgate_append_stage';

/** Creates the staging table on this connection when it has none yet. */
export const STAGE_SQL = `CREATE TEMP TABLE IF NOT EXISTS ${STAGE_TABLE} (${COLUMNS.map(
  ([name, type]) => `${name} ${type}${name === 'call_id' ? ' COLLATE "C"' : ''}`,
).join(', ')}) ON COMMIT DELETE ROWS`;

/**
 * The COPY path's statement: `insertSql` from the staging table, in (month, call id) order (the
 * lock order that prevents deadlocks, the same as `appendSql`'s).
 */
export function copyInsertSql(s: string): string {
  return insertSql(
    s,
    `SELECT ${NAMES} FROM pg_temp.${STAGE_TABLE} ORDER BY month, call_id COLLATE "C"`,
  );
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
