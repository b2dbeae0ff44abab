export { normalizeAnthropic } from './anthropic.js';
export { normalizeCanonical } from './canonical.js';
export { CountReader, isRecord } from './counts.js';
export { normalizeGemini } from './gemini.js';
export { normalizeLangChain } from './langchain.js';
export { detectUsageFormat, normalizeUsage } from './normalize.js';
export { normalizeOpenAI } from './openai.js';
export { parseServiceTier, trafficTypeTier } from './tier.js';
export {
  type CacheTtl,
  MODALITIES,
  type Modality,
  type ModalityCounts,
  type NormalizeOptions,
  SERVICE_TIERS,
  type ServiceTier,
  type TokenUsage,
  type UsageFormat,
  type UsageRepair,
} from './types.js';
