import { femtoToDecimal, femtoToUsd, formatUsd } from '../price/money.js';
import type { Pricer } from '../price/pricer.js';
import type { TokenUsage } from '../usage/types.js';
import type { InsightCall } from './types.js';

/** `savingUsd` and `savingUsdExact` of an exact amount. @internal */
export function saving(femto: bigint): { savingUsd: number; savingUsdExact: string } {
  return { savingUsd: femtoToUsd(femto), savingUsdExact: femtoToDecimal(femto) };
}

/** An exact amount for a one-line text. @internal */
export function money(femto: bigint): string {
  return formatUsd(femtoToUsd(femto));
}

/** Sum of the recorded costs of priced calls. @internal */
export function recordedCost(calls: readonly InsightCall[]): bigint {
  let sum = 0n;
  for (const call of calls) sum += call.costFemto;
  return sum;
}

/**
 * The exact cost of `usage` for a call at the call's date: on the call's own model, or on the
 * model `as` (then its provider is the catalog's). Null when the model has no price. @internal
 */
export function priceOf(
  pricer: Pricer,
  call: InsightCall,
  usage: TokenUsage,
  as?: string,
): bigint | null {
  const cost =
    as === undefined
      ? pricer.priceCall(usage, call.model, call.provider, call.timestamp)
      : pricer.priceCall(usage, as, undefined, call.timestamp);
  return cost.priced ? BigInt(cost.totalFemto) : null;
}

/**
 * The saving of a hypothetical usage: the call priced as recorded minus priced as changed, both
 * by the same pricer (and both as plain text: per-modality counts do not survive the change) so
 * neither a change of prices since the call nor a modality rate can pose as a saving. @internal
 */
export function savingOf(pricer: Pricer, call: InsightCall, changed: TokenUsage): bigint {
  if (!call.priced) return 0n;
  const now = priceOf(pricer, call, plain(call.usage));
  const then = priceOf(pricer, call, changed);
  if (now === null || then === null || then > now) return 0n;
  return now - then;
}

/**
 * `usage` with its input cut to `inputTokens`, cache reads, cache writes and tool-use prompt
 * shrunk in proportion, keeping every invariant of `TokenUsage`. @internal
 */
export function withInput(usage: TokenUsage, inputTokens: number): TokenUsage {
  if (inputTokens >= usage.inputTokens) return usage;
  const ratio = usage.inputTokens > 0 ? inputTokens / usage.inputTokens : 0;
  const scale = (n: number) => Math.floor(n * ratio);
  return plain({
    ...usage,
    inputTokens,
    cacheReadTokens: scale(usage.cacheReadTokens),
    cacheWriteTokens: scale(usage.cacheWriteTokens),
    toolUsePromptTokens: scale(usage.toolUsePromptTokens),
    totalTokens: inputTokens + usage.outputTokens,
  });
}

/** `usage` with `reasoningTokens` thinking tokens instead, output shrunk by the same. @internal */
export function withReasoning(usage: TokenUsage, reasoningTokens: number): TokenUsage {
  if (reasoningTokens >= usage.reasoningTokens) return usage;
  const cut = usage.reasoningTokens - reasoningTokens;
  return plain({
    ...usage,
    reasoningTokens,
    outputTokens: usage.outputTokens - cut,
    totalTokens: usage.totalTokens - cut,
  });
}

/** `usage` with `cached` of its input read from the cache (never fewer than it had). @internal */
export function withCacheReads(usage: TokenUsage, cached: number): TokenUsage {
  const reads = Math.min(
    Math.max(cached, usage.cacheReadTokens),
    usage.inputTokens - usage.cacheWriteTokens,
  );
  if (reads <= usage.cacheReadTokens) return usage;
  return plain({ ...usage, cacheReadTokens: reads });
}

/**
 * Per-modality counts no longer match a changed usage; dropping them prices the change as plain
 * text, so the saving is computed on the text rates. Kept when nothing changed.
 */
function plain(usage: TokenUsage): TokenUsage {
  const { inputByModality, outputByModality, cacheReadByModality, raw, repairs, ...rest } = usage;
  return rest;
}
