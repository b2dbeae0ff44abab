/** The content kinds providers itemise usage by. */
export type Modality = 'text' | 'image' | 'audio' | 'video' | 'document';

export const MODALITIES: readonly Modality[] = ['text', 'image', 'audio', 'video', 'document'];

/** Token counts per modality; only the modalities a provider reported are present. */
export type ModalityCounts = Partial<Record<Modality, number>>;

/** How long a cache write lives (Anthropic prices a 1-hour write above a 5-minute one). */
export type CacheTtl = '5m' | '1h';

/** Which provider format a raw usage object was read as. */
export type UsageFormat = 'gemini' | 'langchain' | 'openai' | 'anthropic' | 'canonical';

/**
 * How the provider billed the call (Gemini: the API's `serviceTier`, Vertex's `trafficType`, or
 * a Batch API job): `standard` (list price), `flex` and `batch` (discounted), `priority`
 * (premium), `provisioned` (Vertex Provisioned Throughput: prepaid capacity). See
 * `SERVICE_TIER_FACTORS` for how each is priced.
 *
 * @example
 * tracker.record({ model: 'gemini-2.5-flash', usage, serviceTier: 'batch' });
 */
export type ServiceTier = 'standard' | 'flex' | 'priority' | 'batch' | 'provisioned';

/**
 * Every service tier.
 *
 * @example
 * SERVICE_TIERS.includes('flex'); // true
 */
export const SERVICE_TIERS: readonly ServiceTier[] = [
  'standard',
  'flex',
  'batch',
  'priority',
  'provisioned',
];

/** One repair the lenient normalizer made to a raw usage object. */
export interface UsageRepair {
  /** Dotted path of the field, e.g. `candidatesTokenCount`. */
  field: string;
  /** The value as received. */
  received: unknown;
  /** The value used instead: a count, or a service tier for a tier field. */
  used: number | string;
  /** Why, in a sentence. */
  reason: string;
}

/**
 * The one canonical usage shape every provider's usage is normalized into.
 *
 * Invariants (hold for every value `normalizeUsage` returns):
 * - every count is a non-negative safe integer;
 * - `inputTokens` is all billed input: cached and tool-use prompt tokens included;
 * - `outputTokens` is all billed output: reasoning (thinking) tokens included;
 * - `cacheReadTokens + cacheWriteTokens <= inputTokens`, `toolUsePromptTokens <= inputTokens`,
 *   `reasoningTokens <= outputTokens`;
 * - the `cacheWriteByTtl` counts add up to at most `cacheWriteTokens`;
 * - `totalTokens === inputTokens + outputTokens`.
 */
export interface TokenUsage {
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  toolUsePromptTokens: number;
  totalTokens: number;
  /** Input tokens per modality, where the provider itemised them (need not add up). */
  inputByModality?: ModalityCounts;
  /** Output tokens per modality, where the provider itemised them (need not add up). */
  outputByModality?: ModalityCounts;
  /** Cache-read tokens per modality, where reported. */
  cacheReadByModality?: ModalityCounts;
  /**
   * Cache-write tokens per lifetime, where reported (Anthropic's `cache_creation` buckets):
   * priced at the model's 5-minute and 1-hour cache-write prices; the rest of
   * `cacheWriteTokens` at its plain cache-write price.
   */
  cacheWriteByTtl?: Partial<Record<CacheTtl, number>>;
  /** Gemini `trafficType` (ON_DEMAND, ON_DEMAND_FLEX, PROVISIONED_THROUGHPUT, ...) as reported. */
  trafficType?: string;
  /**
   * The billing tier, where the usage says (Gemini API `serviceTier`, Vertex `trafficType`) or
   * the caller set it (`RecordInput.serviceTier`). Absent means standard.
   */
  serviceTier?: ServiceTier;
  /** The format the raw object was read as. */
  format: UsageFormat;
  /** Repairs the lenient normalizer made; absent when the input was clean. */
  repairs?: UsageRepair[];
  /** The raw object as received. */
  raw?: unknown;
}

/** Options of `normalizeUsage`. */
export interface NormalizeOptions {
  /** Read the object as this format instead of detecting it. */
  format?: UsageFormat;
  /**
   * Strict mode throws `InvalidUsageError` for any value that needs repair.
   * The default (lenient) mode repairs what is unambiguous and lists each repair in `usage.repairs`.
   */
  strict?: boolean;
  /** Keep the raw object on `usage.raw` (default true). */
  keepRaw?: boolean;
}
