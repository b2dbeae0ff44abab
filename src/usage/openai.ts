import type { CountReader } from './counts.js';
import { type FieldNames, finish, readModalityCounts, totalExcess } from './finish.js';
import { readServiceTier } from './tier.js';
import type { ServiceTier, TokenUsage } from './types.js';

/**
 * OpenAI's `service_tier` names that are not tollgate's: `default` (and `auto`, when a
 * response echoes it) is the standard price; `scale` is prepaid Scale Tier capacity.
 */
const OPENAI_TIERS: ReadonlyMap<string, ServiceTier> = new Map([
  ['default', 'standard'],
  ['auto', 'standard'],
  ['scale', 'provisioned'],
]);

const CHAT: FieldNames = {
  input: 'prompt_tokens',
  output: 'completion_tokens',
  total: 'total_tokens',
  cacheRead: 'prompt_tokens_details.cached_tokens',
  cacheWrite: 'prompt_tokens_details.cache_write_tokens',
  reasoning: 'completion_tokens_details.reasoning_tokens',
  toolUse: 'prompt_tokens',
};

const RESPONSES: FieldNames = {
  input: 'input_tokens',
  output: 'output_tokens',
  total: 'total_tokens',
  cacheRead: 'input_tokens_details.cached_tokens',
  cacheWrite: 'input_tokens_details.cache_write_tokens',
  reasoning: 'output_tokens_details.reasoning_tokens',
  toolUse: 'input_tokens',
};

/** OpenAI's modality keys in the details objects, in the order of `MODALITIES`. */
const MODALITY_KEYS = ['text_tokens', 'image_tokens', 'audio_tokens', '', ''] as const;

/**
 * Normalizes an OpenAI usage object, from either API (chosen by its keys: `prompt_tokens` /
 * `completion_tokens` mean chat completions, anything else the responses API). Returns `null`
 * when no count is present.
 *
 * Chat completions `{prompt_tokens, completion_tokens, total_tokens, prompt_tokens_details:
 * {cached_tokens, audio_tokens}, completion_tokens_details: {reasoning_tokens, audio_tokens,
 * accepted_prediction_tokens, rejected_prediction_tokens}}`:
 * - `inputTokens = prompt_tokens` (includes the cached tokens), `cacheReadTokens = cached_tokens`;
 * - `outputTokens = completion_tokens` (includes reasoning), `reasoningTokens = reasoning_tokens`;
 * - `text_tokens` / `image_tokens` / `audio_tokens` of the details → `inputByModality` /
 *   `outputByModality`. Prediction token counts are already part of `completion_tokens` and
 *   are not read.
 *
 * Responses API `{input_tokens, input_tokens_details: {cached_tokens}, output_tokens,
 * output_tokens_details: {reasoning_tokens}, total_tokens}`: the same mapping.
 *
 * Cache writes: `cache_write_tokens` of the input details (part of the input, like
 * `cached_tokens`) → `cacheWriteTokens`.
 *
 * Service tier: `service_tier` beside the counts (OpenAI sends it on the response, not in
 * `usage`; tollgate's gateway copies it in) → `serviceTier`: `default` / `auto` standard,
 * `flex` flex, `priority` priority, `batch` batch, `scale` provisioned; anything else is priced
 * as standard with a repair.
 *
 * `total_tokens` is `input + output` by definition: output absent → derived from the total; a
 * total above the sum → the difference is charged as output (repair); below → the sum is used
 * (repair).
 *
 * @example
 * normalizeOpenAI({ prompt_tokens: 2006, completion_tokens: 300, total_tokens: 2306,
 *   prompt_tokens_details: { cached_tokens: 1920 },
 *   completion_tokens_details: { reasoning_tokens: 256 } }, reader);
 * // → inputTokens 2006, cacheReadTokens 1920, outputTokens 300, reasoningTokens 256,
 * //   totalTokens 2306
 *
 * @example
 * normalizeOpenAI({ input_tokens: 36, input_tokens_details: { cached_tokens: 0 },
 *   output_tokens: 87, output_tokens_details: { reasoning_tokens: 64 }, total_tokens: 123 }, reader);
 * // → inputTokens 36, outputTokens 87, reasoningTokens 64, totalTokens 123
 */
export function normalizeOpenAI(
  raw: Record<string, unknown>,
  reader: CountReader,
): TokenUsage | null {
  const named = raw.service_tier;
  const tier =
    named == null
      ? undefined
      : readServiceTier(
          reader,
          (typeof named === 'string' && OPENAI_TIERS.get(named)) || named,
          'service_tier',
          undefined,
          'service_tier',
        );
  return readCounts(raw, reader, tier);
}

function readCounts(
  raw: Record<string, unknown>,
  reader: CountReader,
  tier: ServiceTier | undefined,
): TokenUsage | null {
  if (raw.prompt_tokens != null || raw.completion_tokens != null) {
    return read(
      reader,
      tier,
      CHAT,
      'prompt_tokens_details',
      'completion_tokens_details',
      reader.read(raw.prompt_tokens, 'prompt_tokens'),
      reader.read(raw.completion_tokens, 'completion_tokens'),
      reader.read(raw.total_tokens, 'total_tokens'),
      reader.object(raw.prompt_tokens_details, 'prompt_tokens_details'),
      reader.object(raw.completion_tokens_details, 'completion_tokens_details'),
    );
  }
  if (
    raw.input_tokens == null &&
    raw.output_tokens == null &&
    raw.total_tokens == null &&
    raw.input_tokens_details == null &&
    raw.output_tokens_details == null
  ) {
    return null;
  }
  return read(
    reader,
    tier,
    RESPONSES,
    'input_tokens_details',
    'output_tokens_details',
    reader.read(raw.input_tokens, 'input_tokens'),
    reader.read(raw.output_tokens, 'output_tokens'),
    reader.read(raw.total_tokens, 'total_tokens'),
    reader.object(raw.input_tokens_details, 'input_tokens_details'),
    reader.object(raw.output_tokens_details, 'output_tokens_details'),
  );
}

function read(
  reader: CountReader,
  tier: ServiceTier | undefined,
  names: FieldNames,
  inKey: string,
  outKey: string,
  reportedInput: number | undefined,
  reportedOutput: number | undefined,
  total: number | undefined,
  inDetails: Record<string, unknown> | undefined,
  outDetails: Record<string, unknown> | undefined,
): TokenUsage {
  const input = reportedInput ?? 0;
  const cacheRead =
    inDetails === undefined
      ? 0
      : (reader.read(inDetails.cached_tokens, 'cached_tokens', inKey) ?? 0);
  const cacheWrite =
    inDetails === undefined
      ? 0
      : (reader.read(inDetails.cache_write_tokens, 'cache_write_tokens', inKey) ?? 0);
  const reasoning =
    outDetails === undefined
      ? 0
      : (reader.read(outDetails.reasoning_tokens, 'reasoning_tokens', outKey) ?? 0);

  let output = reportedOutput ?? (total !== undefined && total > input ? total - input : 0);
  const excess = totalExcess(reader, names, input, output, total);
  if (excess > 0) {
    reader.repair(
      names.output,
      output,
      output + excess,
      `total_tokens (${total}) exceeds ${names.input} + ${names.output} (${input + output}) ` +
        `by ${excess}; the difference is charged as output`,
    );
    output += excess;
  }

  const usage: TokenUsage = {
    inputTokens: input,
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    outputTokens: output,
    reasoningTokens: reasoning,
    toolUsePromptTokens: 0,
    totalTokens: 0,
    format: 'openai',
  };
  if (tier !== undefined) usage.serviceTier = tier;
  if (inDetails !== undefined) {
    const by = readModalityCounts(
      reader,
      inKey,
      MODALITY_KEYS,
      input,
      inDetails.text_tokens,
      inDetails.image_tokens,
      inDetails.audio_tokens,
      undefined,
      undefined,
    );
    if (by !== undefined) usage.inputByModality = by;
  }
  if (outDetails !== undefined) {
    const by = readModalityCounts(
      reader,
      outKey,
      MODALITY_KEYS,
      output,
      outDetails.text_tokens,
      outDetails.image_tokens,
      outDetails.audio_tokens,
      undefined,
      undefined,
    );
    if (by !== undefined) usage.outputByModality = by;
  }
  return finish(usage, reader, names);
}
