import type { TokenUsage } from '../usage/types.js';

/**
 * The usage units tollgate reports to a price, as @pydantic/genai-prices defines them: each unit
 * has dimensions, and a unit whose dimensions include all of another's is more specific
 * (`cache_audio_read_tokens` refines both `cache_read_tokens` and `input_audio_tokens`). A price
 * applies to the part of its unit that no more specific priced unit claims, which is how the
 * catalog prices cached audio at the cached-audio rate and the rest of the input at the input rate.
 *
 * Only units tollgate can measure are listed; catalog prices for other units (web searches,
 * audio hours, pages) never apply to a token usage, exactly as in the catalog's own calcPrice.
 */
export interface UnitDef {
  readonly usageKey: string;
  readonly priceKey: string;
  readonly per: bigint;
  readonly dimensions: Readonly<Record<string, string>>;
}

function tokens(usageKey: string, dimensions: Record<string, string>): UnitDef {
  return {
    usageKey,
    priceKey: usageKey.replace(/_tokens$/, '_mtok'),
    per: 1_000_000n,
    dimensions: { family: 'tokens', ...dimensions },
  };
}

const input = { direction: 'input' };
const output = { direction: 'output' };

/** Indexes into the usage vector built by `usageVector`. */
export const U = {
  input: 0,
  cacheRead: 1,
  cacheWrite: 2,
  inputAudio: 3,
  inputImage: 4,
  inputVideo: 5,
  cacheAudioRead: 6,
  cacheImageRead: 7,
  output: 8,
  outputReasoning: 9,
  outputAudio: 10,
  outputImage: 11,
  outputVideo: 12,
  requests: 13,
  cacheWrite5m: 14,
  cacheWrite1h: 15,
} as const;

export const UNITS: readonly UnitDef[] = [
  tokens('input_tokens', input),
  tokens('cache_read_tokens', { ...input, token_type: 'cache_read' }),
  tokens('cache_write_tokens', { ...input, token_type: 'cache_write' }),
  tokens('input_audio_tokens', { ...input, modality: 'audio' }),
  tokens('input_image_tokens', { ...input, modality: 'image' }),
  tokens('input_video_tokens', { ...input, modality: 'video' }),
  tokens('cache_audio_read_tokens', { ...input, modality: 'audio', token_type: 'cache_read' }),
  tokens('cache_image_read_tokens', { ...input, modality: 'image', token_type: 'cache_read' }),
  tokens('output_tokens', output),
  tokens('output_reasoning_tokens', { ...output, token_type: 'reasoning' }),
  tokens('output_audio_tokens', { ...output, modality: 'audio' }),
  tokens('output_image_tokens', { ...output, modality: 'image' }),
  tokens('output_video_tokens', { ...output, modality: 'video' }),
  {
    usageKey: 'requests',
    priceKey: 'requests_kcount',
    per: 1000n,
    dimensions: { family: 'requests' },
  },
  tokens('cache_write_5m_tokens', { ...input, token_type: 'cache_write', cache_ttl: '5m' }),
  tokens('cache_write_1h_tokens', { ...input, token_type: 'cache_write', cache_ttl: '1h' }),
];

export const UNIT_BY_PRICE_KEY: ReadonlyMap<string, number> = new Map(
  UNITS.map((unit, index) => [unit.priceKey, index]),
);

/** True when `specific` refines `general`: it has every dimension of `general`, with equal values. */
export function refines(specific: UnitDef, general: UnitDef): boolean {
  if (specific === general) return false;
  for (const [key, value] of Object.entries(general.dimensions)) {
    if (specific.dimensions[key] !== value) return false;
  }
  return true;
}

const scratch = new Array<number>(UNITS.length).fill(0);

/**
 * The usage as unit values, made consistent so that no more specific unit exceeds what its
 * general units leave for it. Modality counts need not add up in Gemini's reports (image 1806 +
 * text 76 against a prompt of 1837 is on record), so audio, image and video are fitted into the
 * input in that order; text is never priced on its own and is not itemised.
 *
 * Returns a shared scratch array: read it before the next call.
 */
export function usageVector(usage: TokenUsage): number[] {
  const v = scratch;
  const cacheRead = usage.cacheReadTokens;
  let cachedLeft = cacheRead;
  let uncachedLeft = usage.inputTokens - cacheRead - usage.cacheWriteTokens;
  v[U.input] = usage.inputTokens;
  v[U.cacheRead] = cacheRead;
  v[U.cacheWrite] = usage.cacheWriteTokens;

  const inputModalities = usage.inputByModality;
  const cachedModalities = usage.cacheReadByModality;
  // audio
  let cached = Math.min(cachedModalities?.audio ?? 0, cachedLeft);
  let uncached = Math.min(Math.max((inputModalities?.audio ?? 0) - cached, 0), uncachedLeft);
  cachedLeft -= cached;
  uncachedLeft -= uncached;
  v[U.cacheAudioRead] = cached;
  v[U.inputAudio] = cached + uncached;
  // image
  cached = Math.min(cachedModalities?.image ?? 0, cachedLeft);
  uncached = Math.min(Math.max((inputModalities?.image ?? 0) - cached, 0), uncachedLeft);
  uncachedLeft -= uncached;
  v[U.cacheImageRead] = cached;
  v[U.inputImage] = cached + uncached;
  // video: no cached-video unit is priced anywhere, so cached video stays in cache_read
  const uncachedVideo = (inputModalities?.video ?? 0) - (cachedModalities?.video ?? 0);
  v[U.inputVideo] = Math.min(Math.max(uncachedVideo, 0), uncachedLeft);

  const outputModalities = usage.outputByModality;
  let outputLeft = usage.outputTokens - usage.reasoningTokens;
  v[U.output] = usage.outputTokens;
  v[U.outputReasoning] = usage.reasoningTokens;
  const audioOut = Math.min(outputModalities?.audio ?? 0, outputLeft);
  outputLeft -= audioOut;
  const imageOut = Math.min(outputModalities?.image ?? 0, outputLeft);
  outputLeft -= imageOut;
  v[U.outputAudio] = audioOut;
  v[U.outputImage] = imageOut;
  v[U.outputVideo] = Math.min(outputModalities?.video ?? 0, outputLeft);
  v[U.requests] = 1;
  // Cache writes by lifetime, fitted into the cache writes (1-hour first, the dearer).
  const byTtl = usage.cacheWriteByTtl;
  let writeLeft = usage.cacheWriteTokens;
  const hour = Math.min(byTtl?.['1h'] ?? 0, writeLeft);
  writeLeft -= hour;
  v[U.cacheWrite1h] = hour;
  v[U.cacheWrite5m] = Math.min(byTtl?.['5m'] ?? 0, writeLeft);
  return v;
}

/** The same vector as the catalog's `Usage` object, for parity tests and tools. */
export function toCatalogUsage(usage: TokenUsage): Record<string, number> {
  const v = usageVector(usage);
  const result: Record<string, number> = {};
  UNITS.forEach((unit, index) => {
    if (unit.usageKey !== 'requests') result[unit.usageKey] = v[index] ?? 0;
  });
  return result;
}
