import type { CountReader } from './counts.js';
import { type FieldNames, finish, readModalityCounts, totalExcess } from './finish.js';
import type { TokenUsage } from './types.js';

const NAMES: FieldNames = {
  input: 'input_tokens',
  output: 'output_tokens',
  total: 'total_tokens',
  cacheRead: 'input_token_details.cache_read',
  cacheWrite: 'input_token_details.cache_creation',
  reasoning: 'output_token_details.reasoning',
  toolUse: 'input_tokens',
};

/** LangChain's modality keys, in the order of `MODALITIES`. */
const MODALITY_KEYS = ['text', 'image', 'audio', 'video', 'document'] as const;

/**
 * Normalizes a LangChain `usage_metadata` (`UsageMetadata` of @langchain/core):
 * `{input_tokens, output_tokens, total_tokens, input_token_details: {cache_read,
 * cache_creation, text, image, audio, video, document}, output_token_details: {reasoning,
 * text, image, audio, video, document}}`. Returns `null` when no count is present.
 *
 * - `input_tokens` includes the cache: `inputTokens = input_tokens`,
 *   `cacheReadTokens = cache_read`, `cacheWriteTokens = cache_creation`;
 * - `output_tokens` includes reasoning: `outputTokens = output_tokens`,
 *   `reasoningTokens = output_token_details.reasoning`;
 * - modality keys of the details → `inputByModality` / `outputByModality` (clamped to their
 *   parent with a repair);
 * - `output_tokens` absent: derived as `total_tokens − input_tokens` (not a repair).
 *
 * Known defects of @langchain/google-genai, repaired (lenient) or rejected (strict):
 * 1. Thinking tokens appear only in `total_tokens`, so `total > input + output`. The
 *    difference is added to `outputTokens` and, when `output_token_details.reasoning` is
 *    absent, to `reasoningTokens` ("thinking tokens recovered from total_tokens"). Tool-use
 *    prompt tokens, also dropped by that mapper, are then charged as output too: an upper
 *    bound, never an under-count (a raw Gemini `usageMetadata`, where LangChain keeps one, is
 *    exact: `TokenTrackingCallbackHandler` records that instead).
 * 2. Streaming sums the running `cache_read` across chunks. Above `input_tokens` the cache
 *    count cannot be trusted and `cacheReadTokens` becomes 0 (the shared finish step, applied
 *    to every format). A sum below the input (300 cached over 3 chunks reads 900) cannot be
 *    recognized from the usage alone: `TokenTrackingCallbackHandler` sees the chunks and hands
 *    over the exact count, so this repair is for usage that arrives with nothing else to go on.
 *
 * `total_tokens` below `input + output`: the sum is used, with a repair.
 *
 * @example
 * normalizeLangChain({ input_tokens: 1844, output_tokens: 523, total_tokens: 2367,
 *   input_token_details: { cache_read: 901 }, output_token_details: { reasoning: 91 } }, reader);
 * // → inputTokens 1844, cacheReadTokens 901, outputTokens 523, reasoningTokens 91
 *
 * @example
 * // Defect 1: thoughts only in the total (10 + 5 = 15, total 45 → 30 thinking tokens)
 * normalizeLangChain({ input_tokens: 10, output_tokens: 5, total_tokens: 45 }, reader);
 * // → outputTokens 35, reasoningTokens 30, totalTokens 45,
 * //   repairs [{ field: 'output_tokens', received: 5, used: 35, reason: 'thinking tokens
 * //   recovered from total_tokens: ...' }]
 *
 * @example
 * // Defect 2: a stream's summed cache_read (9010 for a true 901)
 * normalizeLangChain({ input_tokens: 1844, output_tokens: 523, total_tokens: 2367,
 *   input_token_details: { cache_read: 9010 } }, reader);
 * // → cacheReadTokens 0 (all 1844 input tokens at the full input rate),
 * //   repairs [{ field: 'input_token_details.cache_read', received: 9010, used: 0, ... }]
 */
export function normalizeLangChain(
  raw: Record<string, unknown>,
  reader: CountReader,
): TokenUsage | null {
  if (
    raw.input_tokens == null &&
    raw.output_tokens == null &&
    raw.total_tokens == null &&
    raw.input_token_details == null &&
    raw.output_token_details == null
  ) {
    return null;
  }
  const input = reader.read(raw.input_tokens, 'input_tokens') ?? 0;
  const reportedOutput = reader.read(raw.output_tokens, 'output_tokens');
  const total = reader.read(raw.total_tokens, 'total_tokens');
  const inDetails = reader.object(raw.input_token_details, 'input_token_details');
  const outDetails = reader.object(raw.output_token_details, 'output_token_details');
  const cacheRead =
    inDetails === undefined
      ? 0
      : (reader.read(inDetails.cache_read, 'cache_read', 'input_token_details') ?? 0);
  const cacheWrite =
    inDetails === undefined
      ? 0
      : (reader.read(inDetails.cache_creation, 'cache_creation', 'input_token_details') ?? 0);
  const reportedReasoning =
    outDetails === undefined
      ? undefined
      : reader.read(outDetails.reasoning, 'reasoning', 'output_token_details');

  let output: number;
  let reasoning = reportedReasoning ?? 0;
  if (reportedOutput === undefined) {
    output = total !== undefined && total > input ? total - input : 0;
    totalExcess(reader, NAMES, input, output, total);
  } else {
    output = reportedOutput;
    const excess = totalExcess(reader, NAMES, input, output, total);
    if (excess > 0) {
      const recovered = reportedReasoning === undefined;
      reader.repair(
        'output_tokens',
        output,
        output + excess,
        recovered
          ? `thinking tokens recovered from total_tokens: total_tokens (${total}) exceeds ` +
              `input_tokens + output_tokens (${input + output}) by ${excess}, added to the ` +
              'output and reasoning tokens'
          : `total_tokens (${total}) exceeds input_tokens + output_tokens ` +
              `(${input + output}) by ${excess}; the difference is charged as output`,
      );
      output += excess;
      if (recovered) reasoning = excess;
    }
  }

  const usage: TokenUsage = {
    inputTokens: input,
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    outputTokens: output,
    reasoningTokens: reasoning,
    toolUsePromptTokens: 0,
    totalTokens: 0,
    format: 'langchain',
  };
  if (inDetails !== undefined) {
    const by = readModalityCounts(
      reader,
      'input_token_details',
      MODALITY_KEYS,
      input,
      inDetails.text,
      inDetails.image,
      inDetails.audio,
      inDetails.video,
      inDetails.document,
    );
    if (by !== undefined) usage.inputByModality = by;
  }
  if (outDetails !== undefined) {
    const by = readModalityCounts(
      reader,
      'output_token_details',
      MODALITY_KEYS,
      output,
      outDetails.text,
      outDetails.image,
      outDetails.audio,
      outDetails.video,
      outDetails.document,
    );
    if (by !== undefined) usage.outputByModality = by;
  }
  return finish(usage, reader, NAMES);
}
