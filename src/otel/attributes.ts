/**
 * A tracked call as OpenTelemetry GenAI semantic-convention attributes (the registry in
 * open-telemetry/semantic-conventions-genai, `model/gen-ai/registry.yaml`), plus tollgate's cost.
 * Pure: no OpenTelemetry import, so it is usable (and testable) without the API installed.
 */
import type { UsageRecord } from '../account/record.js';

/** Attribute names, in one place: a spec rename is one diff here. */
export const ATTR = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  /** Deprecated by `gen_ai.provider.name`; still what several backends' GenAI views read. */
  system: 'gen_ai.system',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  cacheReadTokens: 'gen_ai.usage.cache_read.input_tokens',
  cacheCreationTokens: 'gen_ai.usage.cache_creation.input_tokens',
  reasoningTokens: 'gen_ai.usage.reasoning.output_tokens',
  agentName: 'gen_ai.agent.name',
  conversationId: 'gen_ai.conversation.id',
  endUserId: 'enduser.id',
  costUsd: 'tollgate.cost.usd',
  costPriced: 'tollgate.cost.priced',
  /**
   * The GenAI registry names a service tier only for OpenAI (`openai.response.service_tier`),
   * so the Gemini tier gets tollgate's own name.
   */
  serviceTier: 'tollgate.service_tier',
  costPrepaid: 'tollgate.cost.prepaid',
  tenantId: 'tollgate.tenant.id',
  recordId: 'tollgate.record.id',
} as const;

/** The attribute values this module sets. */
export type GenAiAttributes = Record<string, string | number | boolean>;

export interface GenAiAttributeOptions {
  /**
   * `gen_ai.operation.name` (and the first word of the span name). Default: `generate_content`
   * for Google providers (the convention's value for Gemini's GenerateContent), `chat` otherwise.
   */
  operationName?: string | ((record: UsageRecord) => string);
  /**
   * Put the user id on spans as `enduser.id` (default true). It is personal data: turn it off
   * where traces must not carry it.
   */
  recordUserId?: boolean;
}

/**
 * tollgate's provider ids (the genai-prices catalog's, and common aliases) → the convention's
 * `gen_ai.provider.name` values. Unlisted providers pass through as they are.
 */
const PROVIDERS: Record<string, string> = {
  google: 'gcp.gemini',
  gemini: 'gcp.gemini',
  'google-gla': 'gcp.gemini',
  vertex: 'gcp.vertex_ai',
  vertexai: 'gcp.vertex_ai',
  vertex_ai: 'gcp.vertex_ai',
  'google-vertex': 'gcp.vertex_ai',
  openai: 'openai',
  anthropic: 'anthropic',
  aws: 'aws.bedrock',
  bedrock: 'aws.bedrock',
  azure: 'azure.ai.openai',
  mistral: 'mistral_ai',
  groq: 'groq',
  deepseek: 'deepseek',
  'x-ai': 'x_ai',
  xai: 'x_ai',
  cohere: 'cohere',
  perplexity: 'perplexity',
  ibm: 'ibm.watsonx.ai',
};

/**
 * The convention's provider name for a tollgate provider id. `google` maps to `gcp.gemini`
 * (the Gemini API, tollgate's default); pass `provider: 'vertex'` when recording to get
 * `gcp.vertex_ai`.
 *
 * @example
 * genAiProviderName('google'); // 'gcp.gemini'
 */
export function genAiProviderName(provider: string | undefined): string | undefined {
  if (provider === undefined || provider === '') return undefined;
  const id = provider.toLowerCase();
  return PROVIDERS[id] ?? id;
}

/** The operation name for a record (see `GenAiAttributeOptions.operationName`). */
export function genAiOperationName(record: UsageRecord, options: GenAiAttributeOptions = {}) {
  const given = options.operationName;
  if (typeof given === 'function') return given(record);
  if (given !== undefined) return given;
  return genAiProviderName(record.provider)?.startsWith('gcp.') ? 'generate_content' : 'chat';
}

/**
 * The span attributes of one recorded call. Token counts follow the convention: input includes
 * cache reads and writes, output includes reasoning. The cache and reasoning counts are set when
 * non-zero; `tollgate.cost.usd` only when the model has a price (`tollgate.cost.priced`), so an
 * unpriced call never reads as free. A call billed at another tier than standard carries
 * `tollgate.service_tier` (and `tollgate.cost.prepaid: true` for Provisioned Throughput).
 *
 * @example
 * genAiAttributes(record);
 * // { 'gen_ai.operation.name': 'generate_content', 'gen_ai.provider.name': 'gcp.gemini',
 * //   'gen_ai.request.model': 'gemini-2.5-flash', 'gen_ai.usage.input_tokens': 1200, …,
 * //   'tollgate.cost.usd': 0.00046, 'tollgate.cost.priced': true }
 */
export function genAiAttributes(
  record: UsageRecord,
  options: GenAiAttributeOptions = {},
): GenAiAttributes {
  const { usage, cost } = record;
  const provider = genAiProviderName(record.provider);
  const attributes: GenAiAttributes = {
    [ATTR.operationName]: genAiOperationName(record, options),
  };
  if (provider !== undefined) {
    attributes[ATTR.providerName] = provider;
    attributes[ATTR.system] = provider;
  }
  attributes[ATTR.requestModel] = record.model;
  // Gemini reports the exact version that answered (`modelVersion`); otherwise the model priced.
  attributes[ATTR.responseModel] = metadataString(record, 'modelVersion') ?? record.model;
  const responseId = metadataString(record, 'responseId');
  if (responseId !== undefined) attributes[ATTR.responseId] = responseId;
  attributes[ATTR.inputTokens] = usage.inputTokens;
  attributes[ATTR.outputTokens] = usage.outputTokens;
  if (usage.cacheReadTokens > 0) attributes[ATTR.cacheReadTokens] = usage.cacheReadTokens;
  if (usage.cacheWriteTokens > 0) attributes[ATTR.cacheCreationTokens] = usage.cacheWriteTokens;
  if (usage.reasoningTokens > 0) attributes[ATTR.reasoningTokens] = usage.reasoningTokens;
  if (record.agent !== 'unknown') attributes[ATTR.agentName] = record.agent;
  if (record.threadId !== undefined) attributes[ATTR.conversationId] = record.threadId;
  if (record.userId !== undefined && options.recordUserId !== false) {
    attributes[ATTR.endUserId] = record.userId;
  }
  if (record.tenantId !== undefined) attributes[ATTR.tenantId] = record.tenantId;
  if (cost.priced) attributes[ATTR.costUsd] = cost.totalUsd;
  attributes[ATTR.costPriced] = cost.priced;
  const tier = record.serviceTier ?? usage.serviceTier;
  if (tier !== undefined && tier !== 'standard') {
    attributes[ATTR.serviceTier] = tier;
    if (tier === 'provisioned') attributes[ATTR.costPrepaid] = true;
  }
  attributes[ATTR.recordId] = record.id;
  return attributes;
}

/** The span name the convention asks for: `{gen_ai.operation.name} {gen_ai.request.model}`. */
export function genAiSpanName(record: UsageRecord, options: GenAiAttributeOptions = {}): string {
  return `${genAiOperationName(record, options)} ${record.model}`;
}

function metadataString(record: UsageRecord, key: string): string | undefined {
  const value = record.metadata?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
