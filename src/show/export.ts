import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { UsageRecord } from '../account/record.js';
import type { TokenUsageStats } from '../account/stats.js';
import type { InsightReport } from '../insights/types.js';
import type { CurrencyConverter } from './currency/convert.js';
import type { CurrencyTotal } from './export-currency.js';

/** One call as written to JSON and CSV exports: flat, with an ISO datetime. */
export interface ExportedCall {
  id: string;
  callId: string | null;
  datetime: string;
  agent: string;
  node: string | null;
  model: string;
  provider: string | null;
  userId: string | null;
  tenantId: string | null;
  threadId: string | null;
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  toolUsePromptTokens: number;
  totalTokens: number;
  priced: boolean;
  /** The tier the call was billed at: standard, flex, batch, priority or provisioned. */
  serviceTier: string;
  /** True for Provisioned Throughput (prepaid capacity). */
  prepaid: boolean;
  inputCostUsd: number;
  cachedInputCostUsd: number;
  outputCostUsd: number;
  reasoningCostUsd: number;
  costUsd: number;
  metadata: Record<string, unknown> | null;
}

/** What `exportToJson` writes: the session, when, its statistics and every call. */
export interface UsageExport {
  sessionId: string;
  exportedAt: string;
  statistics: TokenUsageStats;
  usageHistory: ExportedCall[];
  /** `getInsights` of the session: what-if tables, suggestions and warnings. */
  insights?: InsightReport;
  /** With a tracker `currency`: the total in it, and the rate with its date. */
  currency?: CurrencyTotal;
}

/**
 * One record as the JSON export writes it: flat token fields, USD costs, an ISO datetime.
 *
 * @example
 * tracker.getUsageHistory().map(toExportedCall);
 */
export function toExportedCall(record: UsageRecord): ExportedCall {
  const { usage, cost } = record;
  return {
    id: record.id,
    callId: record.callId ?? null,
    datetime: new Date(record.timestamp).toISOString(),
    agent: record.agent,
    node: record.node ?? null,
    model: record.model,
    provider: record.provider ?? null,
    userId: record.userId ?? null,
    tenantId: record.tenantId ?? null,
    threadId: record.threadId ?? null,
    inputTokens: usage.inputTokens,
    cacheReadTokens: usage.cacheReadTokens,
    cacheWriteTokens: usage.cacheWriteTokens,
    outputTokens: usage.outputTokens,
    reasoningTokens: usage.reasoningTokens,
    toolUsePromptTokens: usage.toolUsePromptTokens,
    totalTokens: usage.totalTokens,
    priced: cost.priced,
    serviceTier: record.serviceTier ?? usage.serviceTier ?? 'standard',
    prepaid: record.prepaid ?? usage.serviceTier === 'provisioned',
    inputCostUsd: cost.inputUsd,
    cachedInputCostUsd: cost.cachedInputUsd,
    outputCostUsd: cost.outputUsd,
    reasoningCostUsd: cost.reasoningUsd,
    costUsd: cost.totalUsd,
    metadata: record.metadata ?? null,
  };
}

export const CSV_COLUMNS: readonly (keyof ExportedCall)[] = [
  'id',
  'callId',
  'datetime',
  'agent',
  'node',
  'model',
  'provider',
  'userId',
  'tenantId',
  'threadId',
  'inputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'outputTokens',
  'reasoningTokens',
  'toolUsePromptTokens',
  'totalTokens',
  'priced',
  'serviceTier',
  'prepaid',
  'inputCostUsd',
  'cachedInputCostUsd',
  'outputCostUsd',
  'reasoningCostUsd',
  'costUsd',
  'metadata',
];

/**
 * One RFC 4180 field: quoted when it holds a comma, quote or line break; objects as JSON
 * (bigints as decimal strings); null and undefined as empty.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text =
    typeof value === 'object'
      ? JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v))
      : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The columns a CSV export adds in another currency, after the USD ones. */
export const CSV_CURRENCY_COLUMNS = ['currency', 'costInCurrency', 'fxRate', 'fxRateDate'] as const;

/**
 * The currency columns of one call: the code, its exact cost converted and rounded once to the
 * minor unit, and the rate with its date.
 *
 * @example
 * csvCurrencyFields(eur, 12_500_000_000_000_000n); // ['EUR', '11.50', '0.92', '2026-11-20']
 */
export function csvCurrencyFields(converter: CurrencyConverter, costFemto: bigint): string[] {
  return [
    converter.currency,
    converter.amount(costFemto),
    converter.rate?.text ?? '1',
    converter.rate?.date ?? '',
  ].map(csvField);
}

/**
 * Records as RFC 4180 CSV, one row per call with a header row. With `currency`, four more
 * columns: `currency`, `costInCurrency` (exact, rounded once to its minor unit), `fxRate` and
 * `fxRateDate`; the USD columns stay.
 *
 * @example
 * writeFileSync('usage.csv', toCsv(tracker.getUsageHistory()));
 */
export function toCsv(
  records: readonly UsageRecord[],
  options: { currency?: CurrencyConverter | undefined } = {},
): string {
  const { currency } = options;
  const lines = [[...CSV_COLUMNS, ...(currency ? CSV_CURRENCY_COLUMNS : [])].join(',')];
  for (const record of records) {
    const call = toExportedCall(record);
    const fields = CSV_COLUMNS.map((column) => csvField(call[column]));
    if (currency) fields.push(...csvCurrencyFields(currency, BigInt(record.cost.totalFemto)));
    lines.push(fields.join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** `20261123_114512_123`: sortable, safe in file names. */
export function fileTimestamp(date = new Date()): string {
  const iso = date.toISOString(); // 2026-11-23T11:45:12.123Z
  return `${iso.slice(0, 10).replace(/-/g, '')}_${iso.slice(11, 19).replace(/:/g, '')}_${iso.slice(20, 23)}`;
}

/** The default export path: `outputs/<prefix>_<timestamp>.<ext>` under the working directory. */
export function defaultExportPath(prefix: string, extension: string): string {
  return resolve('outputs', `${prefix}_${fileTimestamp()}.${extension}`);
}

/**
 * Writes a file atomically: to a temporary file beside it, then renamed over the target, so a
 * reader (or a crash) never sees half a report. Creates the folder. Returns the absolute path.
 */
export function writeFileAtomic(path: string, contents: string): string {
  const target = resolve(path);
  mkdirSync(dirname(target), { recursive: true });
  const temporary = join(dirname(target), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(temporary, contents, 'utf8');
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  return target;
}
