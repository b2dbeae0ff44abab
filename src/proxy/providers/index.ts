/** The wire formats the gateway serves, tried in order for each request path. */
import type { ProviderAdapter } from '../provider.js';
import { anthropicAdapter } from './anthropic.js';
import { geminiAdapter } from './gemini.js';
import { openaiAdapter } from './openai.js';

/**
 * Every provider adapter the gateway ships.
 *
 * @example
 * const route = PROVIDER_ADAPTERS.find((a) => a.match('POST', pathname));
 */
export const PROVIDER_ADAPTERS: readonly ProviderAdapter[] = [
  geminiAdapter,
  openaiAdapter,
  anthropicAdapter,
];
