import { ConfigurationError, InvalidUsageError } from '../errors.js';
import { normalizeAnthropic } from './anthropic.js';
import { normalizeCanonical } from './canonical.js';
import { CountReader, isRecord } from './counts.js';
import { normalizeGemini } from './gemini.js';
import { normalizeLangChain } from './langchain.js';
import { normalizeOpenAI } from './openai.js';
import type { NormalizeOptions, TokenUsage, UsageFormat } from './types.js';

/** The container path of the last `unwrap()` (set as a side value to avoid allocating). */
let unwrappedPath = '';

/**
 * Finds the usage object inside a known container, or returns `raw` itself:
 * - a Gemini response `{usageMetadata}` (either SDK, unary or a stream chunk);
 * - a LangChain `AIMessage` / `AIMessageChunk` `{usage_metadata}`, or a response dumped by
 *   Google's Python SDK `{usage_metadata}` (told apart by the inner keys, see `detect`);
 * - an OpenAI or Anthropic response `{usage}`;
 * - a @google/generative-ai result `{response: {usageMetadata}}`.
 * Sets `unwrappedPath` to the container path (`''` for none).
 */
function unwrap(raw: Record<string, unknown>): unknown {
  if (raw.usageMetadata !== undefined) {
    unwrappedPath = 'usageMetadata';
    return raw.usageMetadata;
  }
  if (raw.usage_metadata !== undefined) {
    unwrappedPath = 'usage_metadata';
    return raw.usage_metadata;
  }
  if (raw.usage !== undefined) {
    unwrappedPath = 'usage';
    return raw.usage;
  }
  const response = raw.response;
  if (isRecord(response) && response.usageMetadata !== undefined) {
    unwrappedPath = 'response.usageMetadata';
    return response.usageMetadata;
  }
  unwrappedPath = '';
  return raw;
}

/** Detects the format of an (unwrapped) usage object by its keys. */
function detect(u: Record<string, unknown>): UsageFormat | null {
  if (
    u.promptTokenCount !== undefined ||
    u.candidatesTokenCount !== undefined ||
    u.totalTokenCount !== undefined ||
    u.thoughtsTokenCount !== undefined ||
    u.cachedContentTokenCount !== undefined ||
    u.toolUsePromptTokenCount !== undefined
  ) {
    return 'gemini';
  }
  // Google's Python SDK (snake_case); LangChain's `usage_metadata` holds input_tokens instead.
  if (
    u.prompt_token_count !== undefined ||
    u.candidates_token_count !== undefined ||
    u.total_token_count !== undefined ||
    u.thoughts_token_count !== undefined ||
    u.cached_content_token_count !== undefined ||
    u.tool_use_prompt_token_count !== undefined
  ) {
    return 'gemini';
  }
  if (u.prompt_tokens !== undefined || u.completion_tokens !== undefined) return 'openai';
  if (u.cache_creation_input_tokens !== undefined || u.cache_read_input_tokens !== undefined) {
    return 'anthropic';
  }
  if (u.input_token_details !== undefined || u.output_token_details !== undefined) {
    return 'langchain';
  }
  if (u.input_tokens_details !== undefined || u.output_tokens_details !== undefined) {
    return 'openai';
  }
  if (u.inputTokens !== undefined || u.outputTokens !== undefined) return 'canonical';
  // A Vertex mid-stream {trafficType}; after canonical, which may carry a trafficType too.
  if (u.trafficType !== undefined || u.traffic_type !== undefined) return 'gemini';
  if (
    u.input_tokens !== undefined ||
    u.output_tokens !== undefined ||
    u.total_tokens !== undefined
  ) {
    // Bare {input_tokens, output_tokens[, total_tokens]}: without cache every format agrees.
    return 'langchain';
  }
  return null;
}

/**
 * Detects which provider format a usage object (or a container holding one, see
 * `normalizeUsage`) is in, by its keys. Returns `null` for anything that is not an object or
 * has none of the known keys.
 *
 * In order: any camelCase Gemini count key (`promptTokenCount`, `candidatesTokenCount`,
 * `totalTokenCount`, `thoughtsTokenCount`, `cachedContentTokenCount`,
 * `toolUsePromptTokenCount`) or its snake_case twin from Google's Python SDK
 * (`prompt_token_count`, `candidates_token_count`, …) → `gemini`; `prompt_tokens` / `completion_tokens`
 * → `openai` (chat completions); `cache_creation_input_tokens` / `cache_read_input_tokens` →
 * `anthropic`; `input_token_details` / `output_token_details` → `langchain`;
 * `input_tokens_details` / `output_tokens_details` → `openai` (responses API); `inputTokens` /
 * `outputTokens` → `canonical`; `trafficType` / `traffic_type` → `gemini` (checked after canonical, since a
 * normalized `TokenUsage` carries `trafficType` too); a bare `{input_tokens, output_tokens[, total_tokens]}` →
 * `langchain` (without cache, every format reads those the same).
 *
 * @example
 * detectUsageFormat({ usageMetadata: { promptTokenCount: 5 } }); // 'gemini'
 * detectUsageFormat({ prompt_tokens: 5, completion_tokens: 2 }); // 'openai'
 * detectUsageFormat({ totalTokens: 11 }); // null (a countTokens response)
 */
export function detectUsageFormat(raw: unknown): UsageFormat | null {
  if (!isRecord(raw)) return null;
  const inner = unwrap(raw);
  return isRecord(inner) ? detect(inner) : null;
}

/**
 * Normalizes one LLM call's usage, in any supported provider format, into a `TokenUsage`.
 *
 * Input: a usage object, or a container holding one — a Gemini response `{usageMetadata}`
 * (unary or a stream chunk, either SDK), `{response: {usageMetadata}}`, a LangChain
 * `AIMessage` `{usage_metadata}`, a Python SDK response `{usage_metadata}` (snake_case Gemini
 * usage, normalized exactly as the camelCase form), an OpenAI or Anthropic response `{usage}`. The format is
 * `options.format` or detected (see `detectUsageFormat`). Each format's mapping is documented
 * on its normalizer: `normalizeGemini`, `normalizeLangChain`, `normalizeOpenAI`,
 * `normalizeAnthropic`, `normalizeCanonical`.
 *
 * Returns `null` for "no usage yet": `null` / `undefined`, a container whose usage is
 * `null` / `undefined`, an object with no count field, and a Vertex stream chunk whose
 * `usageMetadata` carries only `trafficType` (and maybe `billablePromptUsage`) — not a
 * zero-cost call. A non-object (a string, a number, an array) returns `null` in lenient mode
 * and throws `InvalidUsageError` in strict mode.
 *
 * Lenient mode (the default) repairs bad values (see `CountReader`: numeric strings parsed,
 * fractions rounded, negatives to 0, unusable values absent) and inconsistencies (see each
 * normalizer and the shared `finish` step), listing every repair in `usage.repairs` (absent
 * when the input was clean). Strict mode (`strict: true`) throws `InvalidUsageError` naming
 * the field path (e.g. `usageMetadata.promptTokensDetails[0].tokenCount`) and the value
 * instead of making any repair. Either way the result satisfies every `TokenUsage` invariant.
 *
 * `usage.raw` holds the usage object that was read — for a container, its usage field, not
 * the whole response (which may carry megabytes of generated content) — unless
 * `keepRaw: false`. It is the caller's object, not a copy.
 *
 * @example
 * normalizeUsage({ usageMetadata: { promptTokenCount: 1844, cachedContentTokenCount: 901,
 *   candidatesTokenCount: 432, thoughtsTokenCount: 91, toolUsePromptTokenCount: 1934,
 *   totalTokenCount: 4301 } });
 * // → { inputTokens: 3778, cacheReadTokens: 901, cacheWriteTokens: 0, outputTokens: 523,
 * //     reasoningTokens: 91, toolUsePromptTokens: 1934, totalTokens: 4301, format: 'gemini', ... }
 *
 * @example
 * normalizeUsage({ usageMetadata: { trafficType: 'ON_DEMAND' } }); // null (Vertex mid-stream)
 * normalizeUsage({ input_tokens: '12', output_tokens: 3 });
 * // → inputTokens 12, repairs [{ field: 'input_tokens', received: '12', used: 12, ... }]
 * normalizeUsage({ input_tokens: '12', output_tokens: 3 }, { strict: true });
 * // throws InvalidUsageError: Invalid usage: input_tokens = "12": numeric string parsed as a count
 */
export function normalizeUsage(raw: unknown, options?: NormalizeOptions): TokenUsage | null {
  if (raw === null || raw === undefined) return null;
  const strict = options?.strict === true;
  if (!isRecord(raw)) {
    if (strict) throw new InvalidUsageError('usage', raw, 'not a usage object');
    return null;
  }
  const inner = unwrap(raw);
  const path = unwrappedPath;
  if (inner === null || inner === undefined) return null;
  if (!isRecord(inner)) {
    if (strict) throw new InvalidUsageError(path, inner, 'not a usage object');
    return null;
  }
  const format = options?.format ?? detect(inner);
  if (format === null) return null;

  const reader = new CountReader(strict, path);
  let usage: TokenUsage | null;
  switch (format) {
    case 'gemini':
      usage = normalizeGemini(inner, reader);
      break;
    case 'langchain':
      usage = normalizeLangChain(inner, reader);
      break;
    case 'openai':
      usage = normalizeOpenAI(inner, reader);
      break;
    case 'anthropic':
      usage = normalizeAnthropic(inner, reader);
      break;
    case 'canonical':
      usage = normalizeCanonical(inner, reader);
      break;
    default:
      throw new ConfigurationError(
        `normalizeUsage: unknown format ${JSON.stringify(format)}; expected gemini, langchain, openai, anthropic or canonical`,
      );
  }
  if (usage !== null && options?.keepRaw !== false) usage.raw = inner;
  return usage;
}
