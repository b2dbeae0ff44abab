import type { TokenUsage } from '../../src/usage/types.js';

/** A canonical usage with the invariants filled in: `usage({ inputTokens: 10 })`. */
export function usage(parts: Partial<TokenUsage> = {}): TokenUsage {
  const inputTokens = parts.inputTokens ?? 0;
  const outputTokens = parts.outputTokens ?? 0;
  return {
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    toolUsePromptTokens: 0,
    format: 'canonical',
    ...parts,
    inputTokens,
    outputTokens,
    totalTokens: inputTokens + outputTokens,
  };
}
