/**
 * The usage of one LangChain chat model call, settled from what the callback handler saw: the
 * final `LLMResult` and, for a streamed call, a tally of its chunks.
 *
 * Why a tally: @langchain/google-genai (since 1.0.3 reports `cache_read`; 2.3.2 still) turns
 * Gemini's running usage totals into per-chunk deltas for input, output and total, but copies
 * the running `input_token_details.cache_read` onto every chunk, and LangChain's chunk concat
 * sums them. A
 * stream of 1,000 prompt tokens, 300 of them cached, over 3 chunks ends with `cache_read` 900;
 * 600 cached ends with 1,800. The final usage alone cannot tell 900 (three chunks of 300) from
 * 900 (one chunk of 900), so the handler keeps a few numbers per chunk.
 *
 * What each integration hands the handler (read from their sources):
 * - @langchain/google-genai 2.3: `handleLLMNewToken(text)` once per yielded chunk, WITHOUT the
 *   chunk; no raw `usageMetadata` anywhere (not in `response_metadata`, `generationInfo` or
 *   `llmOutput`); `response_metadata.model_provider` is `'google-genai'`. Unary calls report
 *   one token call and exact usage. Its stream-events path (LangGraph's `version: 'v3'`
 *   messages stream) keeps the last running snapshot, so that final usage is exact too.
 * - @langchain/openai, @langchain/anthropic, LangChain's fakes: the chunk in
 *   `fields.chunk`, with usage on one chunk or as deltas that sum correctly (older
 *   @langchain/anthropic repeated its cache counts on `message_delta`: see `StreamTally`).
 * - @langchain/google-common (ChatVertexAI): usage on the last chunk only
 *   (`model_provider: 'google-vertexai'`).
 */
import { detectUsageFormat, type UsageFormat } from '../index.js';

/** The provider tag @langchain/google-genai puts on every message it builds. */
const GOOGLE_GENAI = 'google-genai';

type Loose = Record<string, unknown>;

function isObject(value: unknown): value is Loose {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A clean token count (what `CountReader` accepts without a repair). */
function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * The raw Gemini `usageMetadata` kept in a LangChain container (`response_metadata`,
 * `generationInfo`, `llmOutput`), when it holds counts: `usageMetadata` with a camelCase count,
 * or a snake_case `usage_metadata` with `prompt_token_count` / `total_token_count` (Google's
 * Python SDK shape). A LangChain-shaped `usage_metadata` (`input_tokens`, …) is not raw usage,
 * and a Vertex mid-stream `{ trafficType }` holds no counts: both are skipped.
 */
function rawGeminiUsage(container: unknown): Loose | undefined {
  if (!isObject(container)) return undefined;
  const camel = container.usageMetadata;
  if (
    isObject(camel) &&
    (camel.promptTokenCount != null ||
      camel.candidatesTokenCount != null ||
      camel.totalTokenCount != null)
  ) {
    return camel;
  }
  // Read as raw only once the normalizer reads that shape as Gemini's.
  const snake = container.usage_metadata;
  if (
    isObject(snake) &&
    (snake.prompt_token_count != null || snake.total_token_count != null) &&
    detectUsageFormat(snake) === 'gemini'
  ) {
    return snake;
  }
  return undefined;
}

/**
 * What the chunks of one streamed call said, kept by `TokenTrackingCallbackHandler` per run
 * (bounded with the runs in flight, freed when the call ends). `add` is O(1) and allocates
 * nothing.
 *
 * A chunk's cache counts are taken as a running total (its last value is the call's) when the
 * chunk comes from @langchain/google-genai, or when any chunk caches more than it inputs:
 * LangChain's `input_tokens` includes the cache, so a delta never does. Older
 * @langchain/anthropic repeats the cumulative cache counts of `message_start` on
 * `message_delta` (input 0) and is recognized that way. Otherwise the chunks are deltas and
 * LangChain's sum stands.
 *
 * @example
 * const tally = new StreamTally();
 * for (const cache of [300, 300, 300]) {
 *   tally.add({ chunk: { message: { usage_metadata: { input_token_details: { cache_read: cache } },
 *     response_metadata: { model_provider: 'google-genai' } } } });
 * }
 * tally.lastCacheRead; // 300 (the running value, not the sum 900)
 */
export class StreamTally {
  /** `handleLLMNewToken` calls: one per yielded chunk (one for a unary google-genai call). */
  chunks = 0;
  /** Chunks whose `fields.chunk` carried a `usage_metadata`. */
  usageChunks = 0;
  /** The last clean `cache_read` a chunk carried; -1 when none did. */
  lastCacheRead = -1;
  /** The last clean `cache_creation` a chunk carried; -1 when none did. */
  lastCacheWrite = -1;
  /** The chunks' cache counts are running totals, not deltas (see the class comment). */
  runningCache = false;
  /** The last raw Gemini usage (with counts) a chunk carried: the API's running totals. */
  raw: Loose | undefined = undefined;

  /** Takes one `handleLLMNewToken` call's `fields` (`{ chunk }`, or undefined). */
  add(fields: unknown): void {
    this.chunks++;
    const chunk = isObject(fields) ? fields.chunk : undefined;
    if (!isObject(chunk)) return;
    const message = isObject(chunk.message) ? chunk.message : undefined;
    const metadata = message?.response_metadata;
    const raw = rawGeminiUsage(chunk.generationInfo) ?? rawGeminiUsage(metadata);
    if (raw !== undefined) this.raw = raw;
    const usage = message?.usage_metadata;
    if (!isObject(usage)) return;
    this.usageChunks++;
    if (isObject(metadata) && metadata.model_provider === GOOGLE_GENAI) this.runningCache = true;
    const details = usage.input_token_details;
    if (!isObject(details)) return;
    const read = isCount(details.cache_read) ? details.cache_read : -1;
    const write = isCount(details.cache_creation) ? details.cache_creation : -1;
    if (read >= 0) this.lastCacheRead = read;
    if (write >= 0) this.lastCacheWrite = write;
    const input = usage.input_tokens;
    if (isCount(input) && Math.max(read, 0) + Math.max(write, 0) > input) this.runningCache = true;
  }
}

/** A call's usage as `TokenTracker.record` takes it. */
export interface SettledUsage {
  usage: unknown;
  format: UsageFormat;
}

/**
 * The cached count behind a @langchain/google-genai stream's summed `cache_read`, when no
 * chunk was seen: `sum` over `chunks` chunks, each carrying either nothing or the call's one
 * cached count C (the Gemini Developer API reports the cache, a property of the prompt, on every
 * chunk from the first; server-side tool rounds add chunks without it). So `sum = j × C` for
 * some j ≤ chunks, and C ≤ `input`. The largest such j is taken: exact when every chunk carried
 * the count (the usual stream), and otherwise never more cached tokens than the truth, so never
 * an under-charge. `undefined` when no j fits (the sum then goes to the upper-bound repair).
 *
 * @example
 * cacheReadFromSum(900, 3, 1000); // 300
 * cacheReadFromSum(9010, 12, 1844); // 901 (10 of 12 chunks carried it)
 */
export function cacheReadFromSum(sum: number, chunks: number, input: number): number | undefined {
  for (let j = Math.min(chunks, sum); j >= 1; j--) {
    if (sum % j === 0 && sum / j <= input) return sum / j;
  }
  return undefined;
}

/** LangChain's older `llmOutput.tokenUsage` (OpenAI style), as a `usage_metadata`. */
function usageFromLlmOutput(llmOutput: Loose | undefined): Loose | undefined {
  const usage = llmOutput?.tokenUsage ?? llmOutput?.estimatedTokenUsage;
  if (!isObject(usage)) return undefined;
  return {
    input_tokens: usage.promptTokens,
    output_tokens: usage.completionTokens,
    total_tokens: usage.totalTokens,
  };
}

/**
 * The exact `input_token_details` of a LangChain usage, or `undefined` to keep the reported one.
 * - Chunks seen with usage, their cache counts running totals (see `StreamTally`): the last
 *   ones are the call's (a decrease, never seen, leaves the last and lower value: never an
 *   under-charge for cache reads). Deltas: LangChain's sum is right.
 * - No chunk seen (google-genai 2.3 passes none), a google-genai message concatenated from two
 *   or more chunks: `cacheReadFromSum`.
 */
function exactDetails(
  details: Loose,
  usage: Loose,
  message: Loose | undefined,
  tally: StreamTally,
): Loose | undefined {
  if (tally.usageChunks > 0) {
    if (!tally.runningCache) return undefined;
    const read = tally.lastCacheRead;
    const write = tally.lastCacheWrite;
    if (
      (read < 0 || read === details.cache_read) &&
      (write < 0 || write === details.cache_creation)
    ) {
      return undefined;
    }
    const exact = { ...details };
    if (read >= 0) exact.cache_read = read;
    if (write >= 0) exact.cache_creation = write;
    return exact;
  }
  if (tally.chunks < 2) return undefined;
  const metadata = message?.response_metadata;
  if (!isObject(metadata) || metadata.model_provider !== GOOGLE_GENAI) return undefined;
  const sum = details.cache_read;
  if (!isCount(sum) || sum === 0 || !isCount(usage.input_tokens)) return undefined;
  const read = cacheReadFromSum(sum, tally.chunks, usage.input_tokens);
  return read === undefined || read === sum ? undefined : { ...details, cache_read: read };
}

/**
 * The usage to record for one call that ended with `output`, in order of trust:
 * 1. the raw Gemini usage, where LangChain kept it (a chunk's, the final `generationInfo`'s,
 *    or, unless the message was concatenated from chunks, whose numbers LangChain sums,
 *    `response_metadata`'s and `llmOutput`'s): exact in every field, thinking and tool-use
 *    prompt tokens included;
 * 2. the message's `usage_metadata` (else `llmOutput.tokenUsage`), with the exact cache counts
 *    of a stream whose chunks repeat them (see `exactDetails`). Tool-use prompt tokens, which
 *    google-genai leaves only in `total_tokens`, are then charged as output (an upper bound;
 *    see `normalizeLangChain`), and a `cache_read` above the input with nothing else to go on
 *    is repaired to 0 (the shared finish step).
 *
 * @example
 * // A 3-chunk google-genai stream of 1,000 prompt tokens, 300 cached: LangChain says 900.
 * const tally = new StreamTally();
 * for (let i = 0; i < 3; i++) tally.add(undefined);
 * settleUsage({ generations: [[{ text: '', message: { usage_metadata: { input_tokens: 1000,
 *   output_tokens: 40, total_tokens: 1040, input_token_details: { cache_read: 900 } },
 *   response_metadata: { model_provider: 'google-genai' } } }]] }, tally);
 * // → { format: 'langchain', usage: { …, input_token_details: { cache_read: 300 } } }
 */
export function settleUsage(
  output: { generations: unknown[][]; llmOutput?: Loose },
  tally: StreamTally | undefined,
): SettledUsage {
  const generation = output.generations[0]?.[0];
  const info = isObject(generation) ? generation.generationInfo : undefined;
  const message =
    isObject(generation) && isObject(generation.message) ? generation.message : undefined;
  const concatenated = tally !== undefined && tally.chunks > 1;
  const raw =
    tally?.raw ??
    rawGeminiUsage(info) ??
    (concatenated
      ? undefined
      : (rawGeminiUsage(message?.response_metadata) ?? rawGeminiUsage(output.llmOutput)));
  if (raw !== undefined) return { usage: raw, format: 'gemini' };

  const usage = message?.usage_metadata;
  if (!isObject(usage)) {
    // Anything else that is not absent goes to the normalizer, which rejects or repairs it.
    return { usage: usage ?? usageFromLlmOutput(output.llmOutput) ?? {}, format: 'langchain' };
  }
  const details = usage.input_token_details;
  const exact =
    tally !== undefined && isObject(details)
      ? exactDetails(details, usage, message, tally)
      : undefined;
  if (exact === undefined) return { usage, format: 'langchain' };
  return { usage: { ...usage, input_token_details: exact }, format: 'langchain' };
}
