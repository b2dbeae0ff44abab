import { calcPrice, findProvider } from '@pydantic/genai-prices';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Pricer } from '../../src/price/pricer.js';
import { toCatalogUsage } from '../../src/price/units.js';
import type { TokenUsage } from '../../src/usage/types.js';
import { arbitraryUsage } from '../support/usage.js';

const google = findProvider({ providerId: 'google' });
const googleModels = (google?.models ?? []).map((model) => model.id);
const anthropic = findProvider({ providerId: 'anthropic' });
/** Anthropic models with a 1-hour cache-write price in any of their dated prices. */
const oneHourModels = (anthropic?.models ?? [])
  .filter((model) => JSON.stringify(model.prices).includes('cache_write_1h_mtok'))
  .map((model) => model.id);

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

  it('prices Anthropic cache writes by lifetime as calcPrice does (1-hour, 5-minute, plain)', () => {
    expect(oneHourModels.length).toBeGreaterThan(5);
    const pricer = new Pricer();
    const timestamp = new Date('2026-06-01T12:00:00Z');
    fc.assert(
      fc.property(
        arbitraryUsage(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom(...oneHourModels),
        (base, hourShare, fiveShare, model) => {
          const hour = Math.floor(base.cacheWriteTokens * hourShare);
          const five = Math.floor((base.cacheWriteTokens - hour) * fiveShare);
          const usage: TokenUsage = { ...base, cacheWriteByTtl: { '1h': hour, '5m': five } };
          const ours = pricer.price(usage, model, { provider: 'anthropic', timestamp });
          const theirs = calcPrice(toCatalogUsage(usage), model, {
            providerId: 'anthropic',
            timestamp,
          });
          expect(ours.priced).toBe(true);
          expect(Math.abs(ours.totalUsd - (theirs?.total_price ?? Number.NaN))).toBeLessThanOrEqual(
            1e-12,
          );
        },
      ),
      { numRuns: 2_000, seed: 20261123 },
    );
  });

  it('charges a 1-hour cache write at its own price: claude-sonnet-4-5, 100,000 tokens', () => {
    const write = (byTtl?: TokenUsage['cacheWriteByTtl']): TokenUsage => ({
      // Under the 200,000-token long-context tier.
      inputTokens: 100_000,
      cacheReadTokens: 0,
      cacheWriteTokens: 100_000,
      outputTokens: 0,
      reasoningTokens: 0,
      toolUsePromptTokens: 0,
      totalTokens: 100_000,
      format: 'anthropic',
      ...(byTtl && { cacheWriteByTtl: byTtl }),
    });
    const pricer = new Pricer();
    const price = (usage: TokenUsage) =>
      pricer.price(usage, 'claude-sonnet-4-5', { provider: 'anthropic' }).totalUsd;
    // $3 / Mtok input: a 5-minute write costs 1.25× ($3.75 / Mtok), a 1-hour write 2× ($6).
    expect(price(write())).toBe(0.375);
    expect(price(write({ '5m': 100_000 }))).toBe(0.375);
    expect(price(write({ '1h': 100_000 }))).toBe(0.6);
    expect(price(write({ '1h': 40_000, '5m': 60_000 }))).toBe(0.465);
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
