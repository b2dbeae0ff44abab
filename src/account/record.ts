import { InvalidUsageError } from '../errors.js';
import type { CostBreakdown } from '../price/pricer.js';
import { parseServiceTier } from '../usage/tier.js';
import type { ServiceTier, TokenUsage, UsageFormat } from '../usage/types.js';

/**
 * Marks a `RecordInput` whose `callId` was minted for this one record by a tollgate wrapper,
 * which records each request once by construction. The tracker then skips its dedupe window:
 * remembering an id costs a cold hash-table insert and delete on every LLM call, for an id
 * that can never come again. A record copied from such an input does not carry the mark, so
 * recording it again is still caught. @internal
 */
export const FRESH_CALL_ID: unique symbol = Symbol('tollgate.freshCallId');

/** What a capture (wrapper, callback handler, or your code) tells the tracker about one call. */
export interface RecordInput {
  /** Who made the call: an agent name, or the LangGraph node. Defaults to `"unknown"`. */
  agent?: string;
  /** The model as the provider names it (`gemini-2.5-flash`, `models/gemini-2.5-pro`, …). */
  model: string;
  /** Provider id or alias; inferred from the model when absent. */
  provider?: string;
  /** Raw usage in any supported format, or a `TokenUsage` from `normalizeUsage`. */
  usage: unknown;
  /** Read `usage` as this format instead of detecting it. */
  usageFormat?: UsageFormat;
  /** The call's id; recording the same id twice counts once. */
  callId?: string;
  /** The LangGraph node, when it differs from the agent. */
  node?: string;
  userId?: string;
  /** The tenant (organisation, workspace) the user belongs to, for tenant budgets and scoping. */
  tenantId?: string;
  threadId?: string;
  metadata?: Record<string, unknown>;
  /** When the call was made (Date, epoch ms or ISO string); defaults to now. */
  timestamp?: Date | number | string;
  /**
   * How the call was billed, when the usage cannot say: `batch` for results of the Batch API
   * (whose responses carry no tier). Wins over the tier the usage reports. Any case;
   * `InvalidUsageError` for anything that is not a tier name.
   */
  serviceTier?: ServiceTier;
}

/** One recorded call, as stored in history, exports and events. */
export interface UsageRecord {
  /** tollgate's id for the record (unique within the process). */
  readonly id: string;
  readonly callId: string | undefined;
  readonly agent: string;
  readonly node: string | undefined;
  readonly model: string;
  readonly provider: string | undefined;
  readonly userId: string | undefined;
  readonly tenantId: string | undefined;
  readonly threadId: string | undefined;
  readonly metadata: Record<string, unknown> | undefined;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly usage: TokenUsage;
  readonly cost: CostBreakdown;
  /** The tier the call was priced at (`standard` unless the usage or the caller said otherwise). */
  readonly serviceTier?: ServiceTier;
  /**
   * True for Provisioned Throughput (prepaid capacity): `cost` is its list price, or $0 with
   * the pricer's `provisioned: 'zero'`.
   */
  readonly prepaid?: boolean;
}

/**
 * The caller's `RecordInput.serviceTier`, validated: a tier name in any case, else
 * `InvalidUsageError`. @internal
 */
export function callerTier(value: unknown): ServiceTier {
  const tier = parseServiceTier(value);
  if (tier === undefined) {
    throw new InvalidUsageError(
      'serviceTier',
      value,
      'expected standard, flex, priority, batch or provisioned',
    );
  }
  return tier;
}
