import type { CountReader } from './counts.js';
import { type FieldNames, finish, readModalityCounts, totalExcess } from './finish.js';
import { readServiceTier } from './tier.js';
import { MODALITIES, type TokenUsage } from './types.js';

const NAMES: FieldNames = {
  input: 'inputTokens',
  output: 'outputTokens',
  total: 'totalTokens',
  cacheRead: 'cacheReadTokens',
  cacheWrite: 'cacheWriteTokens',
  reasoning: 'reasoningTokens',
  toolUse: 'toolUsePromptTokens',
};

/**
 * Normalizes (validates) an object already shaped like `TokenUsage` — one built by hand, or a
 * `TokenUsage` from elsewhere (its `format`, `repairs` and `raw` are not carried over; the result
 * has `format: 'canonical'`). Returns `null` when no count is present.
 *
 * Counts are read through the same `CountReader` as every provider format, so `"42"`, `-1`,
 * `1.5`, `NaN` are repaired (lenient) or rejected (strict) the same way, and the same
 * invariants are enforced: `inputTokens` includes cache and tool-use prompt tokens,
 * `outputTokens` includes reasoning.
 * - `outputTokens` absent: derived as `totalTokens − inputTokens` (not a repair);
 * - `totalTokens` above `input + output`: the difference is charged as output (repair); below:
 *   the sum is used (repair);
 * - modality maps: only the five known keys are read, each clamped to its parent count;
 * - `trafficType` copied when it is a string; `serviceTier` and `trafficType` give
 *   `serviceTier` as in `normalizeGemini` (an unknown value is standard, with a repair).
 *
 * @example
 * normalizeCanonical({ inputTokens: 1000, cacheReadTokens: 800, outputTokens: 50 }, reader);
 * // → { inputTokens: 1000, cacheReadTokens: 800, cacheWriteTokens: 0, outputTokens: 50,
 * //     reasoningTokens: 0, toolUsePromptTokens: 0, totalTokens: 1050, format: 'canonical' }
 */
export function normalizeCanonical(
  raw: Record<string, unknown>,
  reader: CountReader,
): TokenUsage | null {
  if (
    raw.inputTokens == null &&
    raw.outputTokens == null &&
    raw.totalTokens == null &&
    raw.cacheReadTokens == null &&
    raw.cacheWriteTokens == null &&
    raw.reasoningTokens == null &&
    raw.toolUsePromptTokens == null
  ) {
    return null;
  }
  const input = reader.read(raw.inputTokens, 'inputTokens') ?? 0;
  const reportedOutput = reader.read(raw.outputTokens, 'outputTokens');
  const total = reader.read(raw.totalTokens, 'totalTokens');
  let output = reportedOutput ?? (total !== undefined && total > input ? total - input : 0);
  const excess = totalExcess(reader, NAMES, input, output, total);
  if (excess > 0) {
    reader.repair(
      'outputTokens',
      output,
      output + excess,
      `totalTokens (${total}) exceeds inputTokens + outputTokens (${input + output}) by ` +
        `${excess}; the difference is charged as output`,
    );
    output += excess;
  }
  const cacheRead = reader.read(raw.cacheReadTokens, 'cacheReadTokens') ?? 0;

  const usage: TokenUsage = {
    inputTokens: input,
    cacheReadTokens: cacheRead,
    cacheWriteTokens: reader.read(raw.cacheWriteTokens, 'cacheWriteTokens') ?? 0,
    outputTokens: output,
    reasoningTokens: reader.read(raw.reasoningTokens, 'reasoningTokens') ?? 0,
    toolUsePromptTokens: reader.read(raw.toolUsePromptTokens, 'toolUsePromptTokens') ?? 0,
    totalTokens: 0,
    format: 'canonical',
  };

  const inputBy = reader.object(raw.inputByModality, 'inputByModality');
  if (inputBy !== undefined) {
    const by = readModalityCounts(
      reader,
      'inputByModality',
      MODALITIES,
      input,
      inputBy.text,
      inputBy.image,
      inputBy.audio,
      inputBy.video,
      inputBy.document,
    );
    if (by !== undefined) usage.inputByModality = by;
  }
  const outputBy = reader.object(raw.outputByModality, 'outputByModality');
  if (outputBy !== undefined) {
    const by = readModalityCounts(
      reader,
      'outputByModality',
      MODALITIES,
      output,
      outputBy.text,
      outputBy.image,
      outputBy.audio,
      outputBy.video,
      outputBy.document,
    );
    if (by !== undefined) usage.outputByModality = by;
  }
  const cacheBy = reader.object(raw.cacheReadByModality, 'cacheReadByModality');
  if (cacheBy !== undefined) {
    const by = readModalityCounts(
      reader,
      'cacheReadByModality',
      MODALITIES,
      cacheRead,
      cacheBy.text,
      cacheBy.image,
      cacheBy.audio,
      cacheBy.video,
      cacheBy.document,
    );
    if (by !== undefined) usage.cacheReadByModality = by;
  }
  const ttlBy = reader.object(raw.cacheWriteByTtl, 'cacheWriteByTtl');
  if (ttlBy !== undefined) {
    // Fitted into the cache writes, 1-hour first (the dearer: never under-charged).
    let left = usage.cacheWriteTokens;
    const byTtl: NonNullable<TokenUsage['cacheWriteByTtl']> = {};
    for (const ttl of ['1h', '5m'] as const) {
      let count = reader.read(ttlBy[ttl], ttl, 'cacheWriteByTtl');
      if (count === undefined) continue;
      if (count > left) {
        count = reader.repair(
          `cacheWriteByTtl.${ttl}`,
          count,
          left,
          `above the cache writes left for it (${left}); clamped`,
        );
      }
      left -= count;
      byTtl[ttl] = count;
    }
    if (byTtl['1h'] || byTtl['5m']) usage.cacheWriteByTtl = byTtl;
  }
  const trafficType = raw.trafficType;
  if (typeof trafficType === 'string') usage.trafficType = trafficType;
  if (raw.serviceTier !== undefined || trafficType !== undefined) {
    const tier = readServiceTier(
      reader,
      raw.serviceTier,
      'serviceTier',
      trafficType,
      'trafficType',
    );
    if (tier !== undefined) usage.serviceTier = tier;
  }

  return finish(usage, reader, NAMES);
}
