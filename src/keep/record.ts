import type { UsageRecord } from '../account/record.js';
import { CallCost, type Pricer, UNPRICED_COST } from '../price/pricer.js';
import type { TokenUsage } from '../usage/types.js';
import type { LedgerRecord } from './types.js';

/**
 * The ledger row of one recorded call. A call recorded without a call id is keyed by its record
 * id, so appending it twice (a retried flush) still stores it once.
 *
 * @example
 * const record = tracker.record({ model: 'gemini-2.5-flash', usage });
 * if (record) await store.append([toLedgerRecord(record, tracker.sessionId)]);
 */
export function toLedgerRecord(record: UsageRecord, sessionId: string): LedgerRecord {
  const usage = record.usage;
  const cost = record.cost;
  const ledger: LedgerRecord = {
    id: record.id,
    callId: record.callId ?? record.id,
    timestamp: record.timestamp,
    sessionId,
    agent: record.agent,
    node: record.node,
    model: record.model,
    provider: record.provider,
    userId: record.userId,
    tenantId: record.tenantId,
    threadId: record.threadId,
    inputTokens: usage.inputTokens,
    cacheReadTokens: usage.cacheReadTokens,
    cacheWriteTokens: usage.cacheWriteTokens,
    outputTokens: usage.outputTokens,
    reasoningTokens: usage.reasoningTokens,
    toolUsePromptTokens: usage.toolUsePromptTokens,
    totalTokens: usage.totalTokens,
    priced: cost.priced,
    costFemto: cost.priced ? BigInt(cost.totalFemto) : 0n,
    metadata: record.metadata,
  };
  const tier = record.serviceTier ?? usage.serviceTier;
  // Standard is the default: its rows carry no tier.
  if (tier !== undefined && tier !== 'standard') ledger.serviceTier = tier;
  return ledger;
}

/**
 * The tracker's record of a ledger row, for resuming a session. The ledger keeps only the total
 * cost: when `pricer` reprices the usage to that same total, its breakdown (input, output, …) is
 * kept; otherwise (prices changed since, or modalities the ledger does not keep) only the total.
 *
 * @example
 * const page = await store.query({ sessionId });
 * const records = page.records.map((r) => toUsageRecord(r, new Pricer()));
 */
export function toUsageRecord(record: LedgerRecord, pricer?: Pricer): UsageRecord {
  const usage: TokenUsage = {
    inputTokens: record.inputTokens,
    cacheReadTokens: record.cacheReadTokens,
    cacheWriteTokens: record.cacheWriteTokens,
    outputTokens: record.outputTokens,
    reasoningTokens: record.reasoningTokens,
    toolUsePromptTokens: record.toolUsePromptTokens,
    totalTokens: record.totalTokens,
    format: 'canonical',
  };
  const tier = record.serviceTier ?? 'standard';
  if (record.serviceTier !== undefined) usage.serviceTier = record.serviceTier;
  return {
    id: record.id,
    // A call id equal to the record id was filled in by toLedgerRecord: the call had none.
    callId: record.callId === record.id ? undefined : record.callId,
    agent: record.agent,
    node: record.node,
    model: record.model,
    provider: record.provider,
    userId: record.userId,
    tenantId: record.tenantId,
    threadId: record.threadId,
    metadata: record.metadata,
    timestamp: record.timestamp,
    usage,
    cost: ledgerCost(record, usage, pricer),
    serviceTier: tier,
    prepaid: tier === 'provisioned',
  };
}

function ledgerCost(record: LedgerRecord, usage: TokenUsage, pricer: Pricer | undefined): CallCost {
  if (!record.priced) return UNPRICED_COST;
  const femto = record.costFemto;
  if (pricer) {
    try {
      const repriced = pricer.priceCall(usage, record.model, record.provider, record.timestamp);
      if (repriced.priced && BigInt(repriced.totalFemto) === femto) return repriced;
    } catch {
      // A strict pricer that no longer knows the model: the ledger's total still stands.
    }
  }
  const total = femto <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(femto) : femto;
  return new CallCost(true, 0, 0, 0, 0, total, 0, undefined, record.provider);
}

/**
 * A record's metadata as the SQL ledgers store it: JSON, bigints as strings, and an
 * unserializable value (a cycle) as `{"unserializable":true}`, so it never fails a batch.
 *
 * @example
 * metadataJson({ step: 2, tokens: 10n }); // '{"step":2,"tokens":"10"}'
 */
export function metadataJson(metadata: Record<string, unknown>): string {
  try {
    return JSON.stringify(metadata, (_, value) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
  } catch {
    return JSON.stringify({ unserializable: true });
  }
}
