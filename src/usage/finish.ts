import type { CountReader } from './counts.js';
import type { Modality, ModalityCounts, TokenUsage } from './types.js';

/**
 * The provider's own names for the canonical fields, used to name the field in a repair or an
 * `InvalidUsageError` (the reader adds any container prefix, e.g. `usage_metadata.`).
 */
export interface FieldNames {
  readonly input: string;
  readonly output: string;
  readonly total: string;
  readonly cacheRead: string;
  readonly cacheWrite: string;
  readonly reasoning: string;
  readonly toolUse: string;
}

const MAX = Number.MAX_SAFE_INTEGER;

/**
 * The shared last step of every normalizer: enforces the `TokenUsage` invariants (see
 * `types.ts`), recording a repair for each fix (in strict mode, throwing `InvalidUsageError`
 * instead), sets `totalTokens`, and attaches `repairs` when there are any.
 *
 * Rules, in order:
 * 1. `inputTokens` / `outputTokens` above 2^53 − 1 (a sum of huge parts) are clamped.
 * 2. `cacheReadTokens + cacheWriteTokens > inputTokens`: the cache count cannot be trusted
 *    (e.g. @langchain/google-genai sums the running cache_read total across stream chunks:
 *    cache_read 9010 for input 1844; `TokenTrackingCallbackHandler` sees the chunks and passes
 *    the true 901, so this catches usage that comes with nothing else to go on).
 *    `cacheReadTokens` becomes 0, so the whole input is priced at the full input rate: an upper
 *    bound, never an under-count. `cacheReadByModality` is dropped with it.
 * 3. `cacheWriteTokens > inputTokens` (still): clamped to `inputTokens`; `cacheWriteByTtl` is
 *    then fitted into it, 1-hour writes first (the dearer ones: an upper bound).
 * 4. `toolUsePromptTokens > inputTokens`: clamped to `inputTokens`.
 * 5. `reasoningTokens > outputTokens`: clamped to `outputTokens`.
 * 6. `totalTokens = inputTokens + outputTokens` (output clamped if the sum passes 2^53 − 1).
 *
 * Modality maps are not re-checked here: each normalizer clamps them to their parent count.
 */
export function finish(usage: TokenUsage, reader: CountReader, names: FieldNames): TokenUsage {
  if (usage.inputTokens > MAX) {
    usage.inputTokens = reader.repair(
      names.input,
      usage.inputTokens,
      MAX,
      'input tokens exceed 2^53 - 1; clamped',
    );
    clampModalities(usage.inputByModality, MAX);
  }
  if (usage.outputTokens > MAX) {
    usage.outputTokens = reader.repair(
      names.output,
      usage.outputTokens,
      MAX,
      'output tokens exceed 2^53 - 1; clamped',
    );
    clampModalities(usage.outputByModality, MAX);
  }
  const input = usage.inputTokens;
  if (usage.cacheReadTokens + usage.cacheWriteTokens > input) {
    if (usage.cacheReadTokens > 0) {
      usage.cacheReadTokens = reader.repair(
        names.cacheRead,
        usage.cacheReadTokens,
        0,
        `cache read (${usage.cacheReadTokens}) + cache write (${usage.cacheWriteTokens}) exceeds ` +
          `the input tokens (${input}), so the cache count cannot be trusted; the whole input ` +
          'is priced at the full input rate',
      );
      if (usage.cacheReadByModality !== undefined) delete usage.cacheReadByModality;
    }
    if (usage.cacheWriteTokens > input) {
      usage.cacheWriteTokens = reader.repair(
        names.cacheWrite,
        usage.cacheWriteTokens,
        input,
        `cache write exceeds the input tokens (${input}); clamped to the input`,
      );
      fitTtls(usage);
    }
  }
  if (usage.toolUsePromptTokens > input) {
    usage.toolUsePromptTokens = reader.repair(
      names.toolUse,
      usage.toolUsePromptTokens,
      input,
      `tool-use prompt tokens exceed the input tokens (${input}); clamped to the input`,
    );
  }
  if (usage.reasoningTokens > usage.outputTokens) {
    usage.reasoningTokens = reader.repair(
      names.reasoning,
      usage.reasoningTokens,
      usage.outputTokens,
      `reasoning tokens exceed the output tokens (${usage.outputTokens}); clamped to the output`,
    );
  }
  let total = input + usage.outputTokens;
  if (total > MAX) {
    const output = MAX - input;
    usage.outputTokens = reader.repair(
      names.output,
      usage.outputTokens,
      output,
      'input + output exceeds 2^53 - 1; output clamped',
    );
    if (usage.reasoningTokens > output) usage.reasoningTokens = output;
    clampModalities(usage.outputByModality, output);
    total = MAX;
  }
  usage.totalTokens = total;
  const repairs = reader.repairList();
  if (repairs !== undefined) usage.repairs = repairs;
  return usage;
}

/** Fits the TTL buckets into `cacheWriteTokens`, 1-hour first; drops the map when empty. */
function fitTtls(usage: TokenUsage): void {
  const byTtl = usage.cacheWriteByTtl;
  if (byTtl === undefined) return;
  let left = usage.cacheWriteTokens;
  for (const ttl of ['1h', '5m'] as const) {
    const count = byTtl[ttl];
    if (count === undefined) continue;
    byTtl[ttl] = Math.min(count, left);
    left -= byTtl[ttl];
  }
  if (!byTtl['1h'] && !byTtl['5m']) delete usage.cacheWriteByTtl;
}

/**
 * The part of a reported total that its parts do not explain, for formats where
 * `total = input + output` by definition. A total below the sum is recorded as a repair (the
 * sum is used); the returned excess (≥ 0) is for the caller to attribute.
 */
export function totalExcess(
  reader: CountReader,
  names: FieldNames,
  input: number,
  output: number,
  total: number | undefined,
): number {
  if (total === undefined) return 0;
  const sum = input + output;
  if (total > sum) return total - sum;
  if (total < sum) {
    reader.repair(
      names.total,
      total,
      sum,
      `${names.total} is less than ${names.input} + ${names.output} (${sum}); the sum is used`,
    );
  }
  return 0;
}

/** Clamps every count of a modality map to `max` (rare path; no repair: the parent has one). */
function clampModalities(counts: ModalityCounts | undefined, max: number): void {
  if (counts === undefined) return;
  for (const key in counts) {
    const k = key as keyof ModalityCounts;
    if ((counts[k] ?? 0) > max) counts[k] = max;
  }
}

/**
 * Reads per-modality counts from an object keyed by modality (`input_token_details`,
 * `prompt_tokens_details`, a canonical `inputByModality`). The caller loads the five values
 * (named loads stay fast, see `CountReader.read`); `keys` are the provider's key for each
 * modality in the order of `MODALITIES` (`''` when it has none), used to name the field. A count
 * above `max` (its parent total) is clamped to it with a repair. Returns `undefined` when no
 * modality was reported.
 */
export function readModalityCounts(
  reader: CountReader,
  parent: string,
  keys: readonly string[],
  max: number,
  text: unknown,
  image: unknown,
  audio: unknown,
  video: unknown,
  document: unknown,
): ModalityCounts | undefined {
  if (text == null && image == null && audio == null && video == null && document == null) {
    return undefined;
  }
  let out: ModalityCounts | undefined;
  out = put(reader, out, 'text', text, parent, keys[0], max);
  out = put(reader, out, 'image', image, parent, keys[1], max);
  out = put(reader, out, 'audio', audio, parent, keys[2], max);
  out = put(reader, out, 'video', video, parent, keys[3], max);
  return put(reader, out, 'document', document, parent, keys[4], max);
}

function put(
  reader: CountReader,
  out: ModalityCounts | undefined,
  modality: Modality,
  value: unknown,
  parent: string,
  key: string | undefined,
  max: number,
): ModalityCounts | undefined {
  if (!key) return out;
  let n = reader.read(value, key, parent);
  if (n === undefined) return out;
  if (n > max) {
    n = reader.repair(
      `${parent}.${key}`,
      n,
      max,
      `modality count exceeds its parent total (${max}); clamped to it`,
    );
  }
  if (out === undefined) out = {};
  out[modality] = n;
  return out;
}
