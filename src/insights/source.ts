import type { UsageRecord } from '../account/record.js';
import { ConfigurationError, describe } from '../errors.js';
import { RECORD_COUNTS } from '../keep/checks.js';
import type { LedgerRecord } from '../keep/types.js';
import { defaultPricer, type Pricer } from '../price/pricer.js';
import type { TokenUsage } from '../usage/types.js';
import type { InsightCall } from './types.js';

/** Something with a tracker's history: a `TokenTracker`. */
export interface HistorySource {
  /** The calls to analyse, oldest first (what `TokenTracker.getUsageHistory` returns). */
  getUsageHistory(): readonly UsageRecord[];
  readonly pricer?: Pricer;
}

/**
 * What `getInsights` reads: a tracker, its history (`UsageRecord[]`), ledger rows
 * (`LedgerRecord[]`) or a store query page (`{ records }`).
 */
export type InsightSource =
  | HistorySource
  | readonly UsageRecord[]
  | readonly LedgerRecord[]
  | { readonly records: readonly LedgerRecord[] };

/** The calls of a source, oldest first, and the pricer to reprice them with. @internal */
export function readSource(
  source: InsightSource,
  pricer?: Pricer,
): { calls: InsightCall[]; pricer: Pricer } {
  if (typeof source !== 'object' || source === null) {
    throw new ConfigurationError(
      `getInsights: source must be a tracker, records or a query page (got ${describe(source)})`,
    );
  }
  let rows: readonly unknown[];
  let chosen = pricer;
  if ('getUsageHistory' in source && typeof source.getUsageHistory === 'function') {
    rows = source.getUsageHistory();
    chosen ??= source.pricer;
  } else if (Array.isArray(source)) {
    rows = source;
  } else if ('records' in source && Array.isArray(source.records)) {
    rows = source.records;
  } else {
    throw new ConfigurationError(
      `getInsights: source must be a tracker, records or { records } (got ${describe(source)})`,
    );
  }
  const calls = rows.map((row, index) => toCall(row, index));
  calls.sort((a, b) => a.timestamp - b.timestamp);
  return { calls, pricer: chosen ?? defaultPricer() };
}

function toCall(row: unknown, index: number): InsightCall {
  const at = `source[${index}]`;
  if (typeof row !== 'object' || row === null) {
    throw new ConfigurationError(`getInsights: ${at} is not a record (got ${describe(row)})`);
  }
  const r = row as Record<string, unknown>;
  const model = r.model;
  if (typeof model !== 'string' || model.trim() === '') {
    throw new ConfigurationError(
      `getInsights: ${at}.model must be a model name (got ${describe(model)})`,
    );
  }
  const timestamp = r.timestamp;
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) {
    throw new ConfigurationError(
      `getInsights: ${at}.timestamp must be epoch ms (got ${describe(timestamp)})`,
    );
  }
  const ledger = 'costFemto' in r;
  const usage = ledger ? r : r.usage;
  if (typeof usage !== 'object' || usage === null) {
    throw new ConfigurationError(`getInsights: ${at}.usage is missing (got ${describe(usage)})`);
  }
  const u = usage as Record<string, unknown>;
  for (const field of RECORD_COUNTS) {
    const value = u[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new ConfigurationError(
        `getInsights: ${at}${ledger ? '' : '.usage'}.${field} must be a non-negative integer (got ${describe(value)})`,
      );
    }
  }
  const tokenUsage: TokenUsage = ledger
    ? {
        inputTokens: u.inputTokens as number,
        cacheReadTokens: u.cacheReadTokens as number,
        cacheWriteTokens: u.cacheWriteTokens as number,
        outputTokens: u.outputTokens as number,
        reasoningTokens: u.reasoningTokens as number,
        toolUsePromptTokens: u.toolUsePromptTokens as number,
        totalTokens: u.totalTokens as number,
        format: 'canonical',
      }
    : (usage as TokenUsage);
  const { priced, costFemto } = ledger ? ledgerCost(r, at) : recordCost(r, at);
  const agent = typeof r.agent === 'string' && r.agent !== '' ? r.agent : 'unknown';
  return {
    agent,
    node: typeof r.node === 'string' && r.node !== '' ? r.node : agent,
    model,
    provider: typeof r.provider === 'string' ? r.provider : undefined,
    threadId: typeof r.threadId === 'string' ? r.threadId : undefined,
    timestamp,
    usage: tokenUsage,
    priced,
    costFemto,
    repaired: Array.isArray(tokenUsage.repairs) ? tokenUsage.repairs.length : 0,
  };
}

function ledgerCost(
  r: Record<string, unknown>,
  at: string,
): { priced: boolean; costFemto: bigint } {
  const femto = r.costFemto;
  if (typeof femto !== 'bigint' || femto < 0n) {
    throw new ConfigurationError(
      `getInsights: ${at}.costFemto must be a non-negative bigint (got ${describe(femto)})`,
    );
  }
  return { priced: r.priced === true, costFemto: r.priced === true ? femto : 0n };
}

function recordCost(
  r: Record<string, unknown>,
  at: string,
): { priced: boolean; costFemto: bigint } {
  const cost = r.cost as { priced?: unknown; totalFemto?: unknown } | undefined;
  const total = cost?.totalFemto;
  const valid =
    (typeof total === 'bigint' && total >= 0n) ||
    (typeof total === 'number' && Number.isSafeInteger(total) && total >= 0);
  if (!cost || typeof cost.priced !== 'boolean' || !valid) {
    throw new ConfigurationError(
      `getInsights: ${at}.cost must be a CostBreakdown (got ${describe(cost)})`,
    );
  }
  return { priced: cost.priced, costFemto: cost.priced ? BigInt(total as number | bigint) : 0n };
}
