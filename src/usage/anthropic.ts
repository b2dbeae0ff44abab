import type { CountReader } from './counts.js';
import { type FieldNames, finish } from './finish.js';
import { readServiceTier } from './tier.js';
import type { ServiceTier, TokenUsage } from './types.js';

/**
 * Anthropic's `service_tier` names: Priority Tier is capacity bought ahead (a commitment), so
 * it is tollgate's `provisioned` (list price unless `provisioned: 'zero'`), not a premium rate.
 */
const ANTHROPIC_TIERS: ReadonlyMap<string, ServiceTier> = new Map([
  ['standard', 'standard'],
  ['priority', 'provisioned'],
  ['batch', 'batch'],
]);

const NAMES: FieldNames = {
  input: 'input_tokens',
  output: 'output_tokens',
  total: 'input_tokens',
  cacheRead: 'cache_read_input_tokens',
  cacheWrite: 'cache_creation_input_tokens',
  reasoning: 'output_tokens_details.thinking_tokens',
  toolUse: 'input_tokens',
};

/**
 * Normalizes an Anthropic Messages API `usage`: `{input_tokens, cache_creation_input_tokens,
 * cache_read_input_tokens, output_tokens, cache_creation?: {ephemeral_5m_input_tokens,
 * ephemeral_1h_input_tokens}}`. Returns `null` when no count is present.
 *
 * Anthropic's `input_tokens` EXCLUDES the cache, so:
 * - `inputTokens = input_tokens + cache_creation_input_tokens + cache_read_input_tokens`;
 * - `cacheWriteTokens = cache_creation_input_tokens`, `cacheReadTokens = cache_read_input_tokens`;
 * - `outputTokens = output_tokens` (thinking included); `reasoningTokens =
 *   output_tokens_details.thinking_tokens` where reported, else 0.
 *
 * `service_tier` (`standard`, `priority`, `batch`) → `serviceTier`; Priority Tier is prepaid
 * capacity, so it is `provisioned`. Anything else is priced as standard with a repair.
 *
 * `cache_creation_input_tokens` absent: the sum of the `cache_creation` TTL buckets. A TTL sum
 * above `cache_creation_input_tokens` is used instead, with a repair (never under-charge).
 * The buckets become `cacheWriteByTtl` (`5m`, `1h`), so a 1-hour write is priced at the model's
 * 1-hour cache-write price (twice the input price for Claude, against 1.25× for 5 minutes).
 *
 * @example
 * normalizeAnthropic({ input_tokens: 50, cache_creation_input_tokens: 1000,
 *   cache_read_input_tokens: 3000, output_tokens: 200 }, reader);
 * // → inputTokens 4050, cacheWriteTokens 1000, cacheReadTokens 3000, outputTokens 200,
 * //   totalTokens 4250
 */
export function normalizeAnthropic(
  raw: Record<string, unknown>,
  reader: CountReader,
): TokenUsage | null {
  if (
    raw.input_tokens == null &&
    raw.output_tokens == null &&
    raw.cache_creation_input_tokens == null &&
    raw.cache_read_input_tokens == null &&
    raw.cache_creation == null
  ) {
    return null;
  }
  const uncached = reader.read(raw.input_tokens, 'input_tokens') ?? 0;
  const cacheRead = reader.read(raw.cache_read_input_tokens, 'cache_read_input_tokens') ?? 0;
  let cacheWrite = reader.read(raw.cache_creation_input_tokens, 'cache_creation_input_tokens');
  const output = reader.read(raw.output_tokens, 'output_tokens') ?? 0;

  const buckets = reader.object(raw.cache_creation, 'cache_creation');
  let byTtl: TokenUsage['cacheWriteByTtl'];
  if (buckets !== undefined) {
    const fiveMinutes = reader.read(
      buckets.ephemeral_5m_input_tokens,
      'ephemeral_5m_input_tokens',
      'cache_creation',
    );
    const oneHour = reader.read(
      buckets.ephemeral_1h_input_tokens,
      'ephemeral_1h_input_tokens',
      'cache_creation',
    );
    if (fiveMinutes !== undefined || oneHour !== undefined) {
      const sum = (fiveMinutes ?? 0) + (oneHour ?? 0);
      byTtl = {};
      if (fiveMinutes !== undefined) byTtl['5m'] = fiveMinutes;
      if (oneHour !== undefined) byTtl['1h'] = oneHour;
      if (cacheWrite === undefined) {
        cacheWrite = sum;
      } else if (sum > cacheWrite) {
        cacheWrite = reader.repair(
          'cache_creation_input_tokens',
          cacheWrite,
          sum,
          `less than the sum of the cache_creation TTL buckets (${sum}); the sum is used`,
        );
      }
    }
  }
  const write = cacheWrite ?? 0;
  const details = reader.object(raw.output_tokens_details, 'output_tokens_details');
  const thinking =
    details === undefined
      ? 0
      : (reader.read(details.thinking_tokens, 'thinking_tokens', 'output_tokens_details') ?? 0);

  const usage: TokenUsage = {
    inputTokens: uncached + write + cacheRead,
    cacheReadTokens: cacheRead,
    cacheWriteTokens: write,
    outputTokens: output,
    reasoningTokens: thinking,
    toolUsePromptTokens: 0,
    totalTokens: 0,
    format: 'anthropic',
  };
  if (raw.service_tier != null) {
    const named = raw.service_tier;
    const tier = readServiceTier(
      reader,
      (typeof named === 'string' && ANTHROPIC_TIERS.get(named)) || named,
      'service_tier',
      undefined,
      'service_tier',
    );
    if (tier !== undefined) usage.serviceTier = tier;
  }
  if (byTtl !== undefined && (byTtl['5m'] || byTtl['1h'])) usage.cacheWriteByTtl = byTtl;
  return finish(usage, reader, NAMES);
}
