/**
 * Summaries from the rollups. A summary is split by time: the whole UTC days inside [from, to)
 * from the daily rollup (one row per day, tenant and user), the whole UTC hours left at either
 * end from an hourly rollup, and the partial hours at the ends (under an hour each) from the
 * records, through the time index. All parts are added up in ONE statement (`UNION ALL`), so
 * they come from one snapshot. Every rollup is kept exact on every append.
 *
 * The hourly rollup is the first (the narrowest) whose dimensions hold every filter and the
 * grouped field: `rollup_tenant_hourly` (tenant), `rollup_user_hourly` (tenant, user),
 * `rollup_hourly` (tenant, user, agent, model), then `rollup_thread_hourly` (thread, tenant,
 * user). The daily rollups `rollup_tenant_daily` (tenant) and `rollup_user_daily` (tenant, user)
 * serve summaries grouped by nothing, tenant, user or UTC day and filtered by tenant or user;
 * hour buckets, and day buckets in another zone (a New York day is not a UTC day), read whole
 * hours instead. A session filter,
 * and buckets in a zone whose offset is not a whole number of hours (India, Nepal: quarter-hour
 * slots), are answered from the records alone.
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

const DAY = 24 * HOUR;

/** Each hourly rollup and the fields it keeps, in the order they are tried. */
const HOURLY: readonly { table: string; fields: ReadonlySet<Field> }[] = [
  { table: 'rollup_tenant_hourly', fields: new Set<Field>(['tenantId']) },
  { table: 'rollup_user_hourly', fields: new Set<Field>(['tenantId', 'userId']) },
  { table: 'rollup_hourly', fields: new Set<Field>(['tenantId', 'userId', 'agent', 'model']) },
  { table: 'rollup_thread_hourly', fields: new Set<Field>(['threadId', 'tenantId', 'userId']) },
];
/** Each daily rollup and the fields it keeps, in the order they are tried. */
const DAILY: readonly { table: string; fields: ReadonlySet<Field> }[] = [
  { table: 'rollup_tenant_daily', fields: new Set<Field>(['tenantId']) },
  { table: 'rollup_user_daily', fields: new Set<Field>(['tenantId', 'userId']) },
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

/**
 * One source of a summary: a table and the range of its time column to read.
 *
 * @example
 * const part: SummaryPart = { table: 'rollup_user_daily', column: 'day', from: 1_790_000_000_000 };
 */
export interface SummaryPart {
  /** `records` or a rollup table. */
  table: string;
  /** Its time column: `ts` of the records, `hour` or `day` of a rollup. */
  column: 'ts' | 'hour' | 'day';
  /** Inclusive start (epoch ms); none reads from the beginning. */
  from?: number;
  /** Exclusive end (epoch ms); none reads to the end. */
  to?: number;
}

/**
 * Where a summary reads from: rollups for whole days and hours, the records for the rest.
 *
 * @example
 * const { parts } = planSummary({ groupBy: 'user', from: Date.now() - 30 * 86_400_000, to: Date.now() });
 * console.log(parts.map((p) => p.table)); // ['rollup_user_daily', 'rollup_user_hourly', …, 'records', …]
 */
export interface SummaryPlan {
  /** The sources, each a disjoint slice of [from, to). */
  parts: SummaryPart[];
  /** Width of the UTC slots time groupings use (ms), 0 for other groupings. */
  slot: number;
}

const ceilTo = (ms: number | undefined, unit: number) =>
  ms === undefined ? undefined : Math.ceil(ms / unit) * unit;
const floorTo = (ms: number | undefined, unit: number) =>
  ms === undefined ? undefined : Math.floor(ms / unit) * unit;
/** a < b, an undefined `a` being −∞ and an undefined `b` +∞. */
const before = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || a < b;

/**
 * Chooses the sources of a summary (exported for the EXPLAIN tests). From the outside in: the
 * partial hours at either end from the records; the whole hours from the first hourly rollup
 * that holds every filter and the grouped field; and, when the daily rollup holds them too and
 * the grouping is not by hour or by day in a zone other than UTC, the whole UTC days from it.
 */
export function planSummary(options: SummaryOptions): SummaryPlan {
  const { groupBy, from, to } = options;
  const time = groupBy === 'hour' || groupBy === 'day';
  const slot = time ? slotMs(groupBy, options.timeZone ?? 'UTC', from, to) : 0;
  const needed = (Object.keys(FILTER_COLUMNS) as Field[]).filter((f) => options[f] !== undefined);
  const grouped = GROUP_FIELDS[groupBy];
  if (grouped) needed.push(grouped);
  const holds = ({ fields }: { fields: ReadonlySet<Field> }) => needed.every((f) => fields.has(f));
  const hourly = slot % HOUR === 0 ? HOURLY.find(holds) : undefined;
  const hourFrom = ceilTo(from, HOUR);
  const hourTo = floorTo(to, HOUR);
  const range = (lo: number | undefined, hi: number | undefined) => ({
    ...(lo === undefined ? {} : { from: lo }),
    ...(hi === undefined ? {} : { to: hi }),
  });
  if (!hourly || !before(hourFrom, hourTo)) {
    return { parts: [{ table: 'records', column: 'ts', ...range(from, to) }], slot };
  }
  const parts: SummaryPart[] = [];
  const dayFrom = ceilTo(from, DAY);
  const dayTo = floorTo(to, DAY);
  const daily = slot % DAY === 0 ? DAILY.find(holds) : undefined;
  if (daily && before(dayFrom, dayTo)) {
    parts.push({ table: daily.table, column: 'day', ...range(dayFrom, dayTo) });
    if (hourFrom !== undefined && hourFrom < (dayFrom as number)) {
      parts.push({ table: hourly.table, column: 'hour', from: hourFrom, to: dayFrom as number });
    }
    if (hourTo !== undefined && (dayTo as number) < hourTo) {
      parts.push({ table: hourly.table, column: 'hour', from: dayTo as number, to: hourTo });
    }
  } else {
    parts.push({ table: hourly.table, column: 'hour', ...range(hourFrom, hourTo) });
  }
  if (from !== undefined && from < (hourFrom as number)) {
    parts.push({ table: 'records', column: 'ts', from, to: hourFrom as number });
  }
  if (to !== undefined && (hourTo as number) < to) {
    parts.push({ table: 'records', column: 'ts', from: hourTo as number, to });
  }
  return { parts, slot };
}

/** The SQL of one part: the filter, the time range on `column`, and month pruning. */
function part(
  s: string,
  { table, column, from, to }: SummaryPart,
  options: SummaryOptions,
  key: string,
  params: Params,
): string {
  const clauses: string[] = [];
  for (const field of Object.keys(FILTER_COLUMNS) as Field[]) {
    const value = options[field];
    if (value !== undefined) clauses.push(`${FILTER_COLUMNS[field]} = ${params.add(value)}`);
  }
  if (from !== undefined) clauses.push(`${column} >= ${params.add(from)}`);
  if (to !== undefined) clauses.push(`${column} < ${params.add(to)}`);
  const first = from === undefined ? undefined : monthOf(from);
  const last = to === undefined ? undefined : monthOf(to - 1);
  // One month as an equality: an index on (month, time, …) then stops at the range's end.
  if (first !== undefined && first === last) clauses.push(`month = ${params.add(first)}`);
  else {
    if (first !== undefined) clauses.push(`month >= ${params.add(first)}`);
    if (last !== undefined) clauses.push(`month <= ${params.add(last)}`);
  }
  const where = clauses.length ? ` WHERE ${clauses.join(' AND ')}` : '';
  const sums = table === 'records' ? RECORD_SUMS : ROLLUP_SUMS;
  return `SELECT ${key} AS k, ${sums} FROM ${s}.${table}${where} GROUP BY 1`;
}

/** The grouping key of a part: a slot start for time, the column ('' for none) otherwise. */
function keyOf(groupBy: GroupBy, column: SummaryPart['column'], slot: number): string {
  if (slot) return `(${column} - ((${column} % ${slot}) + ${slot}) % ${slot})::text`;
  const field = GROUP_FIELDS[groupBy];
  return field ? `COALESCE(${FILTER_COLUMNS[field]}, '')` : `''`;
}

/** The one statement of a summary and its parameters. */
export function summarySql(s: string, options: SummaryOptions, plan: SummaryPlan) {
  const params = new Params();
  const parts = plan.parts.map((source) =>
    part(s, source, options, keyOf(options.groupBy, source.column, plan.slot), params),
  );
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
