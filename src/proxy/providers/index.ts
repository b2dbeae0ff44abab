/** The wire formats the gateway serves, tried in order for each request path. */
import type { ProviderAdapter } from '../provider.js';
import { geminiAdapter } from './gemini.js';

/**
 * Every provider adapter the gateway ships.
 *
 * @example
 * const route = PROVIDER_ADAPTERS.find((a) => a.match('POST', pathname));
 */
export const PROVIDER_ADAPTERS: readonly ProviderAdapter[] = [geminiAdapter];
