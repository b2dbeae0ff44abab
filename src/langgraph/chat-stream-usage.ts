/**
 * The usage of a streamed LangChain chat model call, from its chunks' `usage_metadata`.
 *
 * LangChain's convention: each chunk's counts are deltas, and `concat` sums them. That holds for
 * `input_tokens`, `output_tokens` and `total_tokens`. It does not hold for the detail objects of
 * @langchain/google-genai 2.x, which copies Gemini's running `cachedContentTokenCount` onto every
 * chunk as `input_token_details.cache_read` (a 3-chunk stream with 300 cached tokens sums to
 * 900). Other providers send each detail once (OpenAI on the final chunk, Anthropic on
 * `message_start`), so the largest value seen is exact for all of them: details keep the maximum.
 *
 * This is the seam for a provider-aware accumulator (raw Gemini usage where LangChain keeps it):
 * `trackChatModel` only calls `add` per chunk and `result` at the end.
 */

type Counts = Record<string, unknown>;

const TOP_LEVEL = ['input_tokens', 'output_tokens', 'total_tokens'] as const;

/** Accumulates one stream's usage. */
export class StreamUsage {
  private readonly totals: Record<string, number> = {};
  private readonly details: Record<string, Record<string, number>> = {};
  /** True until a chunk with a usage object arrives. */
  empty = true;

  /** Adds one chunk's `usage_metadata` (anything else is ignored). */
  add(usage: unknown): void {
    if (typeof usage !== 'object' || usage === null) return;
    const counts = usage as Counts;
    this.empty = false;
    for (const key of TOP_LEVEL) {
      const value = counts[key];
      if (typeof value === 'number' && Number.isFinite(value)) {
        this.totals[key] = (this.totals[key] ?? 0) + value;
      }
    }
    for (const group of ['input_token_details', 'output_token_details']) {
      const detail = counts[group];
      if (typeof detail !== 'object' || detail === null) continue;
      const kept = this.details[group] ?? {};
      this.details[group] = kept;
      for (const [key, value] of Object.entries(detail as Counts)) {
        if (typeof value === 'number' && Number.isFinite(value)) {
          kept[key] = Math.max(kept[key] ?? 0, value);
        }
      }
    }
  }

  /** The call's `usage_metadata`, or undefined when no chunk carried usage. */
  result(): Counts | undefined {
    if (this.empty) return undefined;
    return { ...this.totals, ...this.details };
  }
}
