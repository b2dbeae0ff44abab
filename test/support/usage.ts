import fc from 'fast-check';
import type { ModalityCounts, TokenUsage } from '../../src/usage/types.js';

const count = (max: number) => fc.integer({ min: 0, max });

function modalities(max: number): fc.Arbitrary<ModalityCounts | undefined> {
  return fc.option(
    fc.record(
      { text: count(max), image: count(max), audio: count(max), video: count(max) },
      { requiredKeys: [] },
    ),
    { nil: undefined },
  );
}

/** Random canonical usages that satisfy the TokenUsage invariants, long-context tiers included. */
export function arbitraryUsage(): fc.Arbitrary<TokenUsage> {
  return fc
    .record({
      inputTokens: fc.oneof(count(5_000), count(400_000)),
      cacheShare: fc.double({ min: 0, max: 1, noNaN: true }),
      writeShare: fc.double({ min: 0, max: 0.3, noNaN: true }),
      outputTokens: fc.oneof(count(2_000), count(65_000)),
      reasoningShare: fc.double({ min: 0, max: 1, noNaN: true }),
      inputByModality: modalities(50_000),
      outputByModality: modalities(5_000),
      cacheReadByModality: modalities(20_000),
    })
    .map((r) => {
      const cacheReadTokens = Math.floor(r.inputTokens * r.cacheShare);
      const cacheWriteTokens = Math.floor((r.inputTokens - cacheReadTokens) * r.writeShare);
      const reasoningTokens = Math.floor(r.outputTokens * r.reasoningShare);
      const usage: TokenUsage = {
        inputTokens: r.inputTokens,
        cacheReadTokens,
        cacheWriteTokens,
        outputTokens: r.outputTokens,
        reasoningTokens,
        toolUsePromptTokens: 0,
        totalTokens: r.inputTokens + r.outputTokens,
        format: 'canonical',
      };
      if (r.inputByModality) usage.inputByModality = r.inputByModality;
      if (r.outputByModality) usage.outputByModality = r.outputByModality;
      if (r.cacheReadByModality) usage.cacheReadByModality = r.cacheReadByModality;
      return usage;
    });
}
