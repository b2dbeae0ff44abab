import { findProvider } from '@pydantic/genai-prices';
import { ConfigurationError, describe, UnknownModelError } from '../errors.js';
import type { Pricer } from '../price/pricer.js';

/** Catalog models that are not chat models of the family, or not priced per token. */
const NOT_A_CHAT_MODEL =
  /embed|tts|image|live|vision|audio|realtime|transcribe|search|moderation|omni/;

/** The generation of a model id: `2.5` for gemini-2.5-flash, `1.5` for gemini-flash-1.5. */
function generationOf(modelId: string): number {
  const match = /(\d+(?:\.\d+)?)/.exec(modelId);
  return match ? Number(match[1]) : 0;
}

/** The family of a model id: `gemini`, `claude`, `gpt`, … */
function familyOf(modelId: string): string {
  return modelId.split(/[-.]/)[0] ?? modelId;
}

/**
 * The same provider's chat models of the same family and the same or a later generation in the
 * catalog, neither deprecated nor preview, other than `model` itself: the default candidates of
 * a what-if table (only cheaper ones are shown). An older generation is left out: the catalog
 * still prices models the provider has retired.
 * @internal
 */
export function catalogCandidates(pricer: Pricer, model: string, provider?: string): string[] {
  const resolved = pricer.resolve(model, provider);
  if (!resolved) return [];
  const catalogProvider = findProvider({ providerId: resolved.providerId });
  if (!catalogProvider) return [];
  const family = familyOf(resolved.modelId);
  const generation = generationOf(resolved.modelId);
  return catalogProvider.models
    .filter(
      (m) =>
        !m.deprecated &&
        m.id !== resolved.modelId &&
        familyOf(m.id) === family &&
        generationOf(m.id) >= generation &&
        !m.id.includes('preview') &&
        !NOT_A_CHAT_MODEL.test(m.id),
    )
    .map((m) => m.id);
}

/**
 * Checks the user's `candidates` option: names to lists of model names the pricer knows.
 * @internal
 */
export function checkCandidates(
  candidates: unknown,
  pricer: Pricer,
): Record<string, readonly string[]> | undefined {
  if (candidates === undefined) return undefined;
  if (typeof candidates !== 'object' || candidates === null || Array.isArray(candidates)) {
    throw new ConfigurationError(
      `getInsights: candidates must map agent or model names to model lists, e.g. { researcher: ['gemini-2.5-flash-lite'] } (got ${describe(candidates)})`,
    );
  }
  for (const [name, models] of Object.entries(candidates)) {
    if (!Array.isArray(models) || models.some((m) => typeof m !== 'string' || m.trim() === '')) {
      throw new ConfigurationError(
        `getInsights: candidates.${name} must be a list of model names (got ${describe(models)})`,
      );
    }
    for (const model of models as string[]) {
      if (!pricer.resolve(model)) throw new UnknownModelError(model);
    }
  }
  return candidates as Record<string, readonly string[]>;
}
