import { calcPrice, findProvider } from '@pydantic/genai-prices';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Pricer } from '../../src/price/pricer.js';
import { toCatalogUsage } from '../../src/price/units.js';
import type { TokenUsage } from '../../src/usage/types.js';
import { arbitraryUsage } from '../support/usage.js';

const google = findProvider({ providerId: 'google' });
const googleModels = (google?.models ?? []).map((model) => model.id);

describe('priceUsage parity with @pydantic/genai-prices calcPrice', () => {
  it('covers every Google model in the catalog', () => {
    expect(googleModels.length).toBeGreaterThan(40);
  });

  it('gives identical totals (|Δ| ≤ 1e-12 USD) on random usages across every Google model', () => {
    const pricer = new Pricer();
    const timestamp = new Date('2026-06-01T12:00:00Z');
    fc.assert(
      fc.property(arbitraryUsage(), fc.constantFrom(...googleModels), (usage, model) => {
        const ours = pricer.price(usage, model, { provider: 'google', timestamp });
        const theirs = calcPrice(toCatalogUsage(usage), model, { providerId: 'google', timestamp });
        expect(theirs).not.toBeNull();
        expect(ours.priced).toBe(true);
        expect(Math.abs(ours.totalUsd - (theirs?.total_price ?? Number.NaN))).toBeLessThanOrEqual(
          1e-12,
        );
      }),
      { numRuns: 10_000, seed: 20261123 },
    );
  });

  it('agrees on dated prices either side of a catalog price change', () => {
    const usage: TokenUsage = {
      inputTokens: 10_000,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 1_000,
      reasoningTokens: 0,
      toolUsePromptTokens: 0,
      totalTokens: 11_000,
      format: 'canonical',
    };
    const pricer = new Pricer();
    for (const timestamp of [new Date('2026-12-31T23:59:59Z'), new Date('2027-01-01T00:00:00Z')]) {
      const ours = pricer.price(usage, 'gemini-3.6-flash', { timestamp });
      const theirs = calcPrice(toCatalogUsage(usage), 'gemini-3.6-flash', { timestamp });
      expect(ours.totalUsd).toBe(theirs?.total_price);
    }
  });
});
