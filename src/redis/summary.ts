import { checkBounds, checkGroupBy } from '../keep/checks.js';
import { addRecordToRow, emptySummaryRow, orderSummaryRows } from '../keep/summary.js';
import type { SummaryOptions, SummaryRow } from '../keep/types.js';
import { assertTimeZone, windowAt } from '../react/budgets/calendar.js';
import type { RedisClient } from './connect.js';
import { type AggregateDim, DAY_MS, HOUR_MS, type KeyLayout, utcDay, utcHour } from './keys.js';
import type { RedisLedger } from './ledger.js';

/** Beyond this many buckets, the aggregates would take too many reads: scan records instead. */
const MAX_BUCKETS = 1_000;

export async function summarize(
  client: RedisClient,
  keys: KeyLayout,
  ledger: RedisLedger,
  options: SummaryOptions,
): Promise<SummaryRow[]> {
  const { groupBy } = options;
  checkGroupBy(groupBy);
  const timeZone = options.timeZone ?? 'UTC';
  if (groupBy === 'hour' || groupBy === 'day') assertTimeZone(timeZone);
  checkBounds(options); // a NaN bound skipped the aggregates and failed in ZRANGE, untyped
  const plan = aggregatePlan(options, timeZone);
  const groups = plan
    ? await fromAggregates(client, keys, plan, groupBy)
    : await fromRecords(ledger, options, timeZone);
  return finish(groups, groupBy, options.limit);
}

/** The row field each count metric of an aggregate hash adds to (see `METRICS` in ledger.ts). */
const COUNT_FIELDS = {
  calls: 'calls',
  in: 'inputTokens',
  out: 'outputTokens',
  cached: 'cachedTokens',
  reasoning: 'reasoningTokens',
  total: 'totalTokens',
  unpriced: 'unpricedCalls',
} as const satisfies Record<string, Exclude<keyof SummaryRow, 'key' | 'costFemto'>>;

/** Adds one metric of a daily or hourly aggregate hash to a row. */
function addMetric(row: SummaryRow, metric: string, value: string): void {
  // Cost is split into whole nano-dollars and the femto remainder, both exact integers.
  if (metric === 'cost_n') row.costFemto += BigInt(value) * 1_000_000n;
  else if (metric === 'cost_f') row.costFemto += BigInt(value);
  else if (Object.hasOwn(COUNT_FIELDS, metric)) {
    row[COUNT_FIELDS[metric as keyof typeof COUNT_FIELDS]] += Number(value);
  }
}

type Groups = Map<string, SummaryRow>;

function groupOf(groups: Groups, key: string): SummaryRow {
  let group = groups.get(key);
  if (!group) {
    group = emptySummaryRow(key);
    groups.set(key, group);
  }
  return group;
}

async function fromRecords(
  ledger: RedisLedger,
  options: SummaryOptions,
  timeZone: string,
): Promise<Groups> {
  const groups: Groups = new Map();
  const { groupBy } = options;
  for await (const record of ledger.scan(options)) {
    // Records without the grouped field form the '' group, as in MemoryStore (the reference).
    let key = '';
    if (groupBy === 'hour' || groupBy === 'day') {
      key = new Date(windowAt(groupBy, record.timestamp, timeZone).start).toISOString();
    } else if (groupBy === 'user') key = record.userId ?? '';
    else if (groupBy === 'tenant') key = record.tenantId ?? '';
    else if (groupBy === 'thread') key = record.threadId ?? '';
    else if (groupBy === 'agent' || groupBy === 'model') key = record[groupBy];
    addRecordToRow(groupOf(groups, key), record);
  }
  return groups;
}

interface AggregatePlan {
  unit: 'hour' | 'day';
  /** Bucket starts, epoch ms. */
  buckets: number[];
  /** Which aggregate hash to read. */
  dim: AggregateDim;
  /** Only this value of `dim` (a filter); every value when undefined. */
  value: string | undefined;
}

const FILTER_DIMS = [
  ['userId', 'user'],
  ['tenantId', 'tenant'],
  ['agent', 'agent'],
  ['model', 'model'],
] as const;

/** How to answer from aggregates, or undefined when only the records can answer exactly. */
function aggregatePlan(options: SummaryOptions, timeZone: string): AggregatePlan | undefined {
  const { from, to, groupBy } = options;
  if (timeZone !== 'UTC' || from === undefined || to === undefined || from >= to) return;
  if (options.threadId !== undefined || options.sessionId !== undefined) return;
  if (groupBy === 'thread') return;
  const filters = FILTER_DIMS.filter(([field]) => options[field] !== undefined);
  if (filters.length > 1) return;
  const filter = filters[0];
  const unit = groupBy !== 'hour' && from % DAY_MS === 0 && to % DAY_MS === 0 ? 'day' : 'hour';
  const width = unit === 'day' ? DAY_MS : HOUR_MS;
  if (from % width !== 0 || to % width !== 0 || (to - from) / width > MAX_BUCKETS) return;

  let dim: AggregateDim = filter ? filter[1] : 'all';
  if (groupBy !== 'none' && groupBy !== 'hour' && groupBy !== 'day') {
    if (filter && filter[1] !== groupBy) return;
    dim = groupBy;
  }
  if (unit === 'hour' && dim !== 'all' && dim !== 'model') return;
  const buckets: number[] = [];
  for (let start = from; start < to; start += width) buckets.push(start);
  return { unit, buckets, dim, value: filter ? (options[filter[0]] as string) : undefined };
}

async function fromAggregates(
  client: RedisClient,
  keys: KeyLayout,
  plan: AggregatePlan,
  groupBy: SummaryOptions['groupBy'],
): Promise<Groups> {
  const pipeline = client.pipeline();
  for (const start of plan.buckets) {
    pipeline.hgetall(
      plan.unit === 'day'
        ? keys.daily(utcDay(start), plan.dim)
        : keys.hourly(utcHour(start), plan.dim),
    );
  }
  const replies = (await pipeline.exec()) ?? [];
  const groups: Groups = new Map();
  for (const [i, [error, hash]] of replies.entries()) {
    if (error) throw error;
    const start = plan.buckets[i] as number;
    for (const [field, amount] of Object.entries(hash as Record<string, string>)) {
      const colon = field.indexOf(':');
      const metric = field.slice(0, colon);
      const value = field.slice(colon + 1);
      if (plan.value !== undefined && value !== plan.value) continue;
      let key = '';
      if (groupBy === 'day') key = new Date(start - (start % DAY_MS)).toISOString();
      else if (groupBy === 'hour') key = new Date(start).toISOString();
      else if (groupBy !== 'none') key = value;
      addMetric(groupOf(groups, key), metric, amount);
    }
  }
  return groups;
}

function finish(groups: Groups, groupBy: SummaryOptions['groupBy'], limit?: number): SummaryRow[] {
  return orderSummaryRows([...groups.values()], { groupBy, limit });
}
