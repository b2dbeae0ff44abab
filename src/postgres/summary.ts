/**
 * Summaries from the hourly rollups. A summary is split by time: the whole UTC hours inside
 * [from, to) are read from a rollup (one row per hour and group, kept exact on every append),
 * and the partial hours at either end (under an hour each) from the records, through the time
 * index. Both parts are added up in ONE statement (`UNION ALL`), so they come from one snapshot.
 *
 * The rollup is the first whose dimensions hold every filter and the grouped field:
 * `rollup_hourly` (tenant, user, agent, model), then `rollup_thread_hourly` (thread, tenant,
 * user). A session filter, and hour or day buckets in a zone whose offset is not a whole number
 * of hours (India, Nepal: quarter-hour slots), are answered from the records alone.
 */
import { bucketKeys, checkTimeZone, slotMs } from '../keep/buckets.js';
import { checkBounds, checkGroupBy } from '../keep/checks.js';
import { summaryFromSums } from '../keep/sql-rows.js';
import { addRowToRow, orderSummaryRows } from '../keep/summary.js';
import type { GroupBy, RecordFilter, SummaryOptions, SummaryRow } from '../keep/types.js';
import type { Queryable } from './connect.js';
import { monthOf } from './partitions.js';

const HOUR = 3_600_000;

type Field = Exclude<keyof RecordFilter, 'from' | 'to'>;

/** Filter fields and their columns. */
export const FILTER_COLUMNS: Record<Field, string> = {
  userId: 'user_id',
  tenantId: 'tenant_id',
  threadId: 'thread_id',
  agent: 'agent',
  model: 'model',
  sessionId: 'session_id',
};

const GROUP_FIELDS: Partial<Record<GroupBy, Field>> = {
  user: 'userId',
  tenant: 'tenantId',
  thread: 'threadId',
  agent: 'agent',
  model: 'model',
};

/** Each rollup and the fields it keeps, in the order they are tried. */
const ROLLUPS: readonly { table: string; fields: ReadonlySet<Field> }[] = [
  { table: 'rollup_hourly', fields: new Set<Field>(['tenantId', 'userId', 'agent', 'model']) },
  { table: 'rollup_thread_hourly', fields: new Set<Field>(['threadId', 'tenantId', 'userId']) },
];

const RECORD_SUMS = `count(*) AS calls, sum(input_tokens) AS input, sum(output_tokens) AS output,
  sum(cache_read_tokens) AS cached, sum(reasoning_tokens) AS reasoning, sum(total_tokens) AS total,
  count(*) FILTER (WHERE NOT priced) AS unpriced,
  COALESCE(sum(cost_femto) FILTER (WHERE priced), 0) AS cost`;
const ROLLUP_SUMS = `sum(calls) AS calls, sum(input_tokens) AS input, sum(output_tokens) AS output,
  sum(cached_tokens) AS cached, sum(reasoning_tokens) AS reasoning, sum(total_tokens) AS total,
  sum(unpriced_calls) AS unpriced, sum(cost_femto) AS cost`;

interface SumRow {
  k: string;
  calls: string;
  input: string;
  output: string;
  cached: string;
  reasoning: string;
  total: string;
  unpriced: string;
  cost: string;
}

/** Numbered parameters for one statement. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** Where a summary reads from: a rollup for whole hours, the records for the rest. */
export interface SummaryPlan {
  rollup?: { table: string; from?: number; to?: number };
  records: { from?: number; to?: number }[];
  /** Width of the UTC slots time groupings use (ms), 0 for other groupings. */
  slot: number;
}

/** Chooses the sources of a summary (exported for the EXPLAIN tests). */
export function planSummary(options: SummaryOptions): SummaryPlan {
  const { groupBy, from, to } = options;
  const time = groupBy === 'hour' || groupBy === 'day';
  const slot = time ? slotMs(groupBy, options.timeZone ?? 'UTC', from, to) : 0;
  const needed = (Object.keys(FILTER_COLUMNS) as Field[]).filter((f) => options[f] !== undefined);
  const grouped = GROUP_FIELDS[groupBy];
  if (grouped) needed.push(grouped);
  const rollup = ROLLUPS.find(({ fields }) => needed.every((f) => fields.has(f)));
  const whole = { from: from === undefined ? undefined : Math.ceil(from / HOUR) * HOUR };
  const end = to === undefined ? undefined : Math.floor(to / HOUR) * HOUR;
  const usable =
    rollup &&
    (slot === 0 || slot % HOUR === 0) &&
    !(whole.from !== undefined && end !== undefined && whole.from >= end);
  if (!usable)
    return {
      records: [{ ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) }],
      slot,
    };
  const records: { from?: number; to?: number }[] = [];
  if (from !== undefined && whole.from !== undefined && from < whole.from) {
    records.push({ from, to: whole.from });
  }
  if (to !== undefined && end !== undefined && end < to) records.push({ from: end, to });
  return {
    rollup: {
      table: rollup.table,
      ...(whole.from === undefined ? {} : { from: whole.from }),
      ...(end === undefined ? {} : { to: end }),
    },
    records,
    slot,
  };
}

/** The SQL of one part: the filter, the time range on `column`, and month pruning. */
function part(
  s: string,
  table: string,
  column: 'ts' | 'hour',
  range: { from?: number; to?: number },
  options: SummaryOptions,
  key: string,
  params: Params,
): string {
  const clauses: string[] = [];
  for (const field of Object.keys(FILTER_COLUMNS) as Field[]) {
    const value = options[field];
    if (value !== undefined) clauses.push(`${FILTER_COLUMNS[field]} = ${params.add(value)}`);
  }
  if (range.from !== undefined) {
    clauses.push(`${column} >= ${params.add(range.from)}`);
    clauses.push(`month >= ${params.add(monthOf(range.from))}`);
  }
  if (range.to !== undefined) {
    clauses.push(`${column} < ${params.add(range.to)}`);
    clauses.push(`month <= ${params.add(monthOf(range.to - 1))}`);
  }
  const where = clauses.length ? ` WHERE ${clauses.join(' AND ')}` : '';
  const sums = table === 'records' ? RECORD_SUMS : ROLLUP_SUMS;
  return `SELECT ${key} AS k, ${sums} FROM ${s}.${table}${where} GROUP BY 1`;
}

/** The grouping key of a part: a slot start for time, the column ('' for none) otherwise. */
function keyOf(groupBy: GroupBy, column: 'ts' | 'hour', slot: number): string {
  if (slot) return `(${column} - ((${column} % ${slot}) + ${slot}) % ${slot})::text`;
  const field = GROUP_FIELDS[groupBy];
  return field ? `COALESCE(${FILTER_COLUMNS[field]}, '')` : `''`;
}

/** The one statement of a summary and its parameters. */
export function summarySql(s: string, options: SummaryOptions, plan: SummaryPlan) {
  const params = new Params();
  const parts: string[] = [];
  const { rollup, records, slot } = plan;
  if (rollup) {
    parts.push(
      part(s, rollup.table, 'hour', rollup, options, keyOf(options.groupBy, 'hour', slot), params),
    );
  }
  for (const range of records) {
    parts.push(
      part(s, 'records', 'ts', range, options, keyOf(options.groupBy, 'ts', slot), params),
    );
  }
  const sql =
    parts.length === 1
      ? parts[0]
      : `SELECT k, sum(calls) AS calls, sum(input) AS input, sum(output) AS output,
           sum(cached) AS cached, sum(reasoning) AS reasoning, sum(total) AS total,
           sum(unpriced) AS unpriced, sum(cost) AS cost
         FROM (${parts.join(' UNION ALL ')}) parts GROUP BY k`;
  return { sql: sql as string, params: params.values };
}

function toRow(key: string, sum: SumRow): SummaryRow {
  return summaryFromSums(key, sum, BigInt(sum.cost ?? 0));
}

/**
 * Totals per group, as every driver gives them (see `SummaryRow`): records without the grouped
 * field under `''`, hour and day keys the ISO start of the local window.
 */
export async function summarize(
  db: Queryable,
  s: string,
  options: SummaryOptions,
): Promise<SummaryRow[]> {
  const { groupBy } = options;
  checkGroupBy(groupBy);
  checkBounds(options);
  const time = groupBy === 'hour' || groupBy === 'day';
  const timeZone = options.timeZone ?? 'UTC';
  if (time) checkTimeZone(timeZone);
  const plan = planSummary(options);
  const { sql, params } = summarySql(s, options, plan);
  const { rows } = await db.query<SumRow>(sql, params);
  const sums = rows.filter((row) => Number(row.calls) > 0);
  if (!time)
    return orderSummaryRows(
      sums.map((sum) => toRow(sum.k, sum)),
      options,
    );
  const bucketOf = bucketKeys(groupBy, timeZone);
  const buckets = new Map<string, SummaryRow>();
  sums.sort((a, b) => Number(a.k) - Number(b.k));
  for (const sum of sums) {
    const row = toRow(bucketOf(Number(sum.k)), sum);
    const bucket = buckets.get(row.key);
    if (bucket) addRowToRow(bucket, row);
    else buckets.set(row.key, row);
  }
  return orderSummaryRows([...buckets.values()], options);
}
