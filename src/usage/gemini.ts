import { type CountReader, isRecord } from './counts.js';
import { type FieldNames, finish } from './finish.js';
import { readServiceTier } from './tier.js';
import type { Modality, ModalityCounts, TokenUsage } from './types.js';

const NAMES: FieldNames = {
  input: 'promptTokenCount',
  output: 'candidatesTokenCount',
  total: 'totalTokenCount',
  cacheRead: 'cachedContentTokenCount',
  cacheWrite: 'cachedContentTokenCount',
  reasoning: 'thoughtsTokenCount',
  toolUse: 'toolUsePromptTokenCount',
};

/**
 * True when a Gemini `usageMetadata` carries at least one count. A Vertex stream's middle
 * chunks carry only `{trafficType}` (the first also `billablePromptUsage`): that is "no usage
 * yet", not a zero-cost call.
 */
export function hasGeminiCounts(raw: Record<string, unknown>): boolean {
  return (
    raw.promptTokenCount != null ||
    raw.candidatesTokenCount != null ||
    raw.totalTokenCount != null ||
    raw.thoughtsTokenCount != null ||
    raw.cachedContentTokenCount != null ||
    raw.toolUsePromptTokenCount != null
  );
}

/**
 * Normalizes a Gemini `usageMetadata` (both @google/generative-ai and @google/genai, Developer
 * API and Vertex; camelCase wire JSON). Returns `null` when it carries no count (see
 * `hasGeminiCounts`).
 *
 * - `inputTokens = promptTokenCount + toolUsePromptTokenCount` (the prompt already includes
 *   the cached tokens; tool-use prompt tokens are billed as input);
 * - `cacheReadTokens = cachedContentTokenCount`; `cacheWriteTokens = 0`;
 * - `toolUsePromptTokens = toolUsePromptTokenCount`;
 * - `reasoningTokens = thoughtsTokenCount`;
 * - `outputTokens = candidatesTokenCount + thoughtsTokenCount` (thinking is billed as output).
 *
 * The API's identity is `total = prompt + candidates + toolUsePrompt + thoughts`:
 * - `candidatesTokenCount` absent (a thinking-only reply): derived as
 *   `total − prompt − toolUse − thoughts`; not a repair.
 * - `total` above the sum of the parts: the difference is added to `outputTokens` (never
 *   under-charge) with a repair on `candidatesTokenCount`.
 * - `total` below the sum: the sum is used, with a repair on `totalTokenCount`.
 *
 * Modality lists (`promptTokensDetails`, `toolUsePromptTokensDetails` → `inputByModality`,
 * summed per modality; `candidatesTokensDetails` → `outputByModality`; `cacheTokensDetails` →
 * `cacheReadByModality`) are lists of `{modality, tokenCount}` with lowercase keys in the
 * result. Unknown modalities (and `MODALITY_UNSPECIFIED`) are ignored. They need not add up to
 * their parent count; one larger than its parent is clamped to the parent with a repair
 * (field `promptTokensDetails[0].tokenCount`). `trafficType` is copied when it is a string.
 *
 * Service tier: `serviceTier` (Gemini API: `standard`, `flex`, `priority`, in any case, with or
 * without a `SERVICE_TIER_` prefix) and `trafficType` (Vertex: `ON_DEMAND`, `ON_DEMAND_FLEX`,
 * `ON_DEMAND_PRIORITY`, `PROVISIONED_THROUGHPUT`) set `usage.serviceTier`; an unknown or
 * non-string value is priced as standard with a repair (see `readServiceTier`).
 *
 * snake_case: the `usage_metadata` Google's Python SDK writes (`prompt_token_count`,
 * `candidates_token_count`, `thoughts_token_count`, `cached_content_token_count`,
 * `tool_use_prompt_token_count`, `total_token_count`, `*_tokens_details` lists of
 * `{modality, token_count}`, `traffic_type`, `service_tier`) is read by the same rules, with
 * repairs naming the snake_case field.
 *
 * @example
 * // MCP stream, final chunk (js-genai recording):
 * normalizeGemini({ promptTokenCount: 1844, cachedContentTokenCount: 901,
 *   candidatesTokenCount: 432, thoughtsTokenCount: 91, toolUsePromptTokenCount: 1934,
 *   totalTokenCount: 4301 }, reader);
 * // → inputTokens 3778 (1844 + 1934), cacheReadTokens 901, toolUsePromptTokens 1934,
 * //   outputTokens 523 (432 + 91), reasoningTokens 91, totalTokens 4301
 *
 * @example
 * // Thinking-only reply (no candidatesTokenCount):
 * normalizeGemini({ promptTokenCount: 7, thoughtsTokenCount: 19, totalTokenCount: 26 }, reader);
 * // → inputTokens 7, outputTokens 19 (candidates derived as 26 − 7 − 0 − 19 = 0),
 * //   reasoningTokens 19, totalTokens 26, no repair
 *
 * @example
 * // total above the parts (lenient): 10 + 5 = 15 but total 18
 * normalizeGemini({ promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 18 }, reader);
 * // → inputTokens 10, outputTokens 8, totalTokens 18,
 * //   repairs [{ field: 'candidatesTokenCount', received: 5, used: 8, ... }]
 */
export function normalizeGemini(
  raw: Record<string, unknown>,
  reader: CountReader,
): TokenUsage | null {
  if (!hasGeminiCounts(raw)) {
    return hasSnakeCounts(raw) ? readGemini(fromSnake(raw), reader, SNAKE) : null;
  }
  return readGemini(raw, reader, CAMEL);
}

/** The wire names of a usage object's fields, to name them in repairs and errors. */
interface GeminiKeys {
  readonly counts: FieldNames;
  readonly promptDetails: string;
  readonly candidatesDetails: string;
  readonly cacheDetails: string;
  readonly toolUseDetails: string;
  readonly tokenCount: string;
  readonly trafficType: string;
  readonly serviceTier: string;
}

const CAMEL: GeminiKeys = {
  counts: NAMES,
  promptDetails: 'promptTokensDetails',
  candidatesDetails: 'candidatesTokensDetails',
  cacheDetails: 'cacheTokensDetails',
  toolUseDetails: 'toolUsePromptTokensDetails',
  tokenCount: 'tokenCount',
  trafficType: 'trafficType',
  serviceTier: 'serviceTier',
};

const SNAKE: GeminiKeys = {
  counts: {
    input: 'prompt_token_count',
    output: 'candidates_token_count',
    total: 'total_token_count',
    cacheRead: 'cached_content_token_count',
    cacheWrite: 'cached_content_token_count',
    reasoning: 'thoughts_token_count',
    toolUse: 'tool_use_prompt_token_count',
  },
  promptDetails: 'prompt_tokens_details',
  candidatesDetails: 'candidates_tokens_details',
  cacheDetails: 'cache_tokens_details',
  toolUseDetails: 'tool_use_prompt_tokens_details',
  tokenCount: 'token_count',
  trafficType: 'traffic_type',
  serviceTier: 'service_tier',
};

/**
 * True when a snake_case `usage_metadata` (Google's Python SDK, `model_dump()` or logs) carries
 * at least one count (see `hasGeminiCounts`).
 */
export function hasSnakeCounts(raw: Record<string, unknown>): boolean {
  return (
    raw.prompt_token_count != null ||
    raw.candidates_token_count != null ||
    raw.total_token_count != null ||
    raw.thoughts_token_count != null ||
    raw.cached_content_token_count != null ||
    raw.tool_use_prompt_token_count != null
  );
}

/** A snake_case usage object in the camelCase shape (the rare path: one small copy). */
function fromSnake(raw: Record<string, unknown>): Record<string, unknown> {
  return {
    promptTokenCount: raw.prompt_token_count,
    candidatesTokenCount: raw.candidates_token_count,
    totalTokenCount: raw.total_token_count,
    cachedContentTokenCount: raw.cached_content_token_count,
    thoughtsTokenCount: raw.thoughts_token_count,
    toolUsePromptTokenCount: raw.tool_use_prompt_token_count,
    promptTokensDetails: snakeList(raw.prompt_tokens_details),
    candidatesTokensDetails: snakeList(raw.candidates_tokens_details),
    cacheTokensDetails: snakeList(raw.cache_tokens_details),
    toolUsePromptTokensDetails: snakeList(raw.tool_use_prompt_tokens_details),
    trafficType: raw.traffic_type,
    serviceTier: raw.service_tier,
  };
}

/** `[{modality, token_count}]` as `[{modality, tokenCount}]`; anything else as it is. */
function snakeList(list: unknown): unknown {
  if (!Array.isArray(list)) return list;
  return list.map((entry: unknown) =>
    isRecord(entry) ? { modality: entry.modality, tokenCount: entry.token_count } : entry,
  );
}

function readGemini(
  raw: Record<string, unknown>,
  reader: CountReader,
  keys: GeminiKeys,
): TokenUsage | null {
  const names = keys.counts;
  const prompt = reader.read(raw.promptTokenCount, names.input) ?? 0;
  let candidates = reader.read(raw.candidatesTokenCount, names.output);
  const total = reader.read(raw.totalTokenCount, names.total);
  const cached = reader.read(raw.cachedContentTokenCount, names.cacheRead) ?? 0;
  const thoughts = reader.read(raw.thoughtsTokenCount, names.reasoning) ?? 0;
  const toolUse = reader.read(raw.toolUsePromptTokenCount, names.toolUse) ?? 0;

  const input = prompt + toolUse;
  if (candidates === undefined) {
    // Thinking-only reply: the API's identity gives the candidates (a total below the other
    // parts is repaired just below).
    candidates = total !== undefined && total > input + thoughts ? total - input - thoughts : 0;
  }
  let output = candidates + thoughts;
  if (total !== undefined) {
    const sum = input + output;
    if (total > sum) {
      const excess = total - sum;
      reader.repair(
        names.output,
        candidates,
        candidates + excess,
        `${names.total} (${total}) exceeds ${names.input} + ${names.output} + ` +
          `${names.toolUse} + ${names.reasoning} (${sum}) by ${excess}; ` +
          'the difference is charged as output',
      );
      output += excess;
    } else if (total < sum) {
      reader.repair(
        names.total,
        total,
        sum,
        `${names.total} is less than ${names.input} + ${names.output} + ` +
          `${names.toolUse} + ${names.reasoning} (${sum}); the sum is used`,
      );
    }
  }

  const usage: TokenUsage = {
    inputTokens: input,
    cacheReadTokens: cached,
    cacheWriteTokens: 0,
    outputTokens: output,
    reasoningTokens: thoughts,
    toolUsePromptTokens: toolUse,
    totalTokens: 0,
    format: 'gemini',
  };

  const tokenCount = keys.tokenCount;
  let inputBy = readModalityList(
    reader,
    raw.promptTokensDetails,
    keys.promptDetails,
    tokenCount,
    prompt,
  );
  const toolUseBy = readModalityList(
    reader,
    raw.toolUsePromptTokensDetails,
    keys.toolUseDetails,
    tokenCount,
    toolUse,
  );
  if (toolUseBy !== undefined) {
    inputBy = inputBy === undefined ? toolUseBy : add(inputBy, toolUseBy);
  }
  if (inputBy !== undefined) usage.inputByModality = inputBy;
  const outputBy = readModalityList(
    reader,
    raw.candidatesTokensDetails,
    keys.candidatesDetails,
    tokenCount,
    candidates,
  );
  if (outputBy !== undefined) usage.outputByModality = outputBy;
  const cacheBy = readModalityList(
    reader,
    raw.cacheTokensDetails,
    keys.cacheDetails,
    tokenCount,
    cached,
  );
  if (cacheBy !== undefined) usage.cacheReadByModality = cacheBy;

  const trafficType = raw.trafficType;
  if (typeof trafficType === 'string') usage.trafficType = trafficType;
  const serviceTier = raw.serviceTier;
  if (trafficType !== undefined || serviceTier !== undefined) {
    const tier = readServiceTier(
      reader,
      serviceTier,
      keys.serviceTier,
      trafficType,
      keys.trafficType,
    );
    if (tier !== undefined) usage.serviceTier = tier;
  }

  return finish(usage, reader, names);
}

/** Gemini's modality enum to tollgate's key; `undefined` for anything else. */
function modalityKey(modality: unknown): Modality | undefined {
  switch (modality) {
    case 'TEXT':
      return 'text';
    case 'IMAGE':
      return 'image';
    case 'AUDIO':
      return 'audio';
    case 'VIDEO':
      return 'video';
    case 'DOCUMENT':
      return 'document';
    default:
      return undefined;
  }
}

/**
 * Reads a `[{modality, tokenCount}]` list into per-modality counts, each modality's sum clamped
 * to `parentTotal` (with a repair naming the entry).
 */
function readModalityList(
  reader: CountReader,
  list: unknown,
  field: string,
  tokenCount: string,
  parentTotal: number,
): ModalityCounts | undefined {
  if (list === undefined || list === null) return undefined;
  if (!Array.isArray(list)) {
    reader.repair(field, list, 0, 'not a list of {modality, tokenCount}; ignored');
    return undefined;
  }
  let out: ModalityCounts | undefined;
  for (let i = 0; i < list.length; i++) {
    const entry: unknown = list[i];
    if (!isRecord(entry)) {
      reader.repair(`${field}[${i}]`, entry, 0, 'not a {modality, tokenCount} entry; ignored');
      continue;
    }
    const modality = modalityKey(entry.modality);
    if (modality === undefined) continue;
    let n = reader.read(entry.tokenCount, tokenCount, field, i);
    if (n === undefined) continue;
    const before = out?.[modality] ?? 0;
    if (before + n > parentTotal) {
      n = reader.repair(
        `${field}[${i}].${tokenCount}`,
        n,
        parentTotal - before,
        `modality count exceeds its parent total (${parentTotal}); clamped to it`,
      );
    }
    if (out === undefined) out = {};
    out[modality] = before + n;
  }
  return out;
}

/** Adds `b` into `a` per modality (returns `a`). */
function add(a: ModalityCounts, b: ModalityCounts): ModalityCounts {
  for (const key in b) {
    const k = key as Modality;
    a[k] = (a[k] ?? 0) + (b[k] ?? 0);
  }
  return a;
}
