import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TokenTracker } from '../../src/account/tracker.js';
import { InvalidPriceOverrideError, UnknownModelError } from '../../src/errors.js';
import { usdToFemto } from '../../src/price/money.js';
import { Pricer, priceUsage } from '../../src/price/pricer.js';
import { usage } from '../support/usage-factory.js';

const at = { timestamp: new Date('2026-11-01T00:00:00Z') };

describe('priceUsage: worked examples', () => {
  it.each([
    // The seed's table is the catalog's ≤128k tier.
    ['gemini-1.5-flash', 1_000, 500, '0.000225'],
    ['gemini-1.5-pro', 1_000, 500, '0.00375'],
    // Long-context tier: chosen by the prompt size, prices the whole request.
    ['gemini-1.5-flash', 128_000, 0, '0.0096'],
    ['gemini-1.5-flash', 128_001, 0, '0.01920015'],
    ['gemini-2.5-pro', 199_999, 1_000, '0.25999875'],
    ['gemini-2.5-pro', 200_000, 1_000, '0.26'],
    ['gemini-2.5-pro', 200_001, 1_000, '0.5150025'],
    ['gemini-3-pro-preview', 200_001, 1_000, '0.818004'],
  ])('%s: %i input + %i output tokens = $%s', (model, input, output, expected) => {
    const cost = priceUsage(usage({ inputTokens: input, outputTokens: output }), model, at);
    expect(cost.priced).toBe(true);
    expect(cost.exact.total).toBe(usdToFemto(Number(expected)));
  });

  it('stays exact for a call above 2^53 femto-dollars (the bigint path)', () => {
    // 10M prompt tokens at the >200k tier ($2.50/M) + 1M output ($15/M) = $40: 4e16 femto-dollars.
    const big = usage({
      inputTokens: 10_000_000,
      outputTokens: 1_000_000,
      reasoningTokens: 400_000,
    });
    const cost = priceUsage(big, 'gemini-2.5-pro', at);
    expect(typeof cost.totalFemto).toBe('bigint');
    expect(cost.exact.total).toBe(40_000_000_000_000_000n);
    expect(cost.exact.reasoning).toBe(6_000_000_000_000_000n); // 400k × $15/M
    expect(cost.totalUsd).toBe(40);
    expect(cost.tierStart).toBe(200_000);
  });

  it('reports the tier applied', () => {
    expect(priceUsage(usage({ inputTokens: 200_000 }), 'gemini-2.5-pro', at).tierStart).toBe(0);
    expect(priceUsage(usage({ inputTokens: 200_001 }), 'gemini-2.5-pro', at).tierStart).toBe(
      200_000,
    );
  });

  it('prices cached input at the cache-read price: 10% of input for 2.5, 25% for 2.0', () => {
    const cached = usage({ inputTokens: 10_000, cacheReadTokens: 8_000 });
    const flash25 = priceUsage(cached, 'gemini-2.5-flash', at);
    expect(flash25.exact.input).toBe(usdToFemto(0.0006)); // 2,000 × $0.30/M
    expect(flash25.exact.cachedInput).toBe(usdToFemto(0.00024)); // 8,000 × $0.03/M
    const flash20 = priceUsage(cached, 'gemini-2.0-flash', at);
    expect(flash20.exact.cachedInput).toBe(usdToFemto(0.0002)); // 8,000 × $0.025/M
  });

  it('prices thinking tokens at the output price and reports them apart', () => {
    // The recorded thinking stream: prompt 10, candidates 48, thoughts 540.
    const thinking = usage({ inputTokens: 10, outputTokens: 588, reasoningTokens: 540 });
    const cost = priceUsage(thinking, 'gemini-2.5-flash', at);
    expect(cost.exact.reasoning).toBe(usdToFemto(0.00135));
    expect(cost.exact.output).toBe(usdToFemto(0.00012));
    expect(cost.exact.input).toBe(usdToFemto(0.000003));
    expect(cost.exact.total).toBe(usdToFemto(0.001473));
    expect(cost.totalUsd).toBe(0.001473);
  });

  it('prices audio input at its own price where the catalog has one', () => {
    const audio = usage({ inputTokens: 1_000, inputByModality: { audio: 400, text: 600 } });
    const cost = priceUsage(audio, 'gemini-2.5-flash', at);
    expect(cost.exact.input).toBe(usdToFemto(0.00058)); // 600 × $0.30/M + 400 × $1.00/M
  });

  it.each([
    'models/gemini-1.5-flash',
    'google/gemini-1.5-flash',
    'vertex_ai/gemini-1.5-flash',
    'projects/p/locations/us-central1/publishers/google/models/gemini-1.5-flash',
    'GEMINI-1.5-FLASH',
    'gemini-1.5-flash-002',
  ])('accepts the model name %s', (name) => {
    const cost = priceUsage(usage({ inputTokens: 1_000, outputTokens: 500 }), name, at);
    expect(cost.pricedAs).toBe('gemini-1.5-flash');
    expect(cost.totalUsd).toBe(0.000225);
  });

  it('prices other providers from the same catalog', () => {
    const openai = priceUsage(usage({ inputTokens: 1_000_000 }), 'gpt-4o', at);
    expect(openai.priced).toBe(true);
    expect(openai.provider).toBe('openai');
    const anthropic = priceUsage(usage({ outputTokens: 1_000_000 }), 'claude-sonnet-4-6', {
      ...at,
      provider: 'anthropic',
    });
    expect(anthropic.totalUsd).toBe(15);
  });

  it('prices an Anthropic response with 1-hour cache writes end to end (normalize, price, record)', () => {
    const tracker = new TokenTracker();
    const record = tracker.record({
      agent: 'writer',
      model: 'claude-sonnet-4-5',
      provider: 'anthropic',
      timestamp: at.timestamp,
      usage: {
        usage: {
          input_tokens: 10_000,
          cache_creation_input_tokens: 50_000,
          cache_read_input_tokens: 0,
          output_tokens: 1_000,
          cache_creation: { ephemeral_5m_input_tokens: 20_000, ephemeral_1h_input_tokens: 30_000 },
        },
      },
    });
    // $3 / Mtok input, $3.75 5-minute writes, $6 1-hour writes, $15 output:
    // 0.03 + 0.075 + 0.18 + 0.015
    expect(record?.usage.cacheWriteByTtl).toEqual({ '5m': 20_000, '1h': 30_000 });
    expect(record?.cost.totalUsd).toBe(0.3);
    expect(tracker.spentUsd).toBe(0.3);
  });
});

describe('per-request fees', () => {
  it('price a catalog model whose fee is above $1.10 per thousand requests (Perplexity sonar, $12)', () => {
    // perplexity sonar: $1 / $1 per Mtok plus $12 per thousand requests
    const cost = priceUsage(
      usage({ inputTokens: 1_000, outputTokens: 10 }),
      'perplexity/sonar',
      at,
    );
    expect(cost).toMatchObject({ priced: true, pricedAs: 'sonar', totalUsd: 0.01301 });
    const tracker = new TokenTracker();
    tracker.record({
      model: 'perplexity/sonar',
      usage: { prompt_tokens: 1_000, completion_tokens: 10 },
    });
    expect(tracker.getStatistics().totalCostUsd).toBe(0.01301);
  });
});

describe('unknown models', () => {
  it('are unpriced, never silently $0', () => {
    const cost = priceUsage(usage({ inputTokens: 5 }), 'my-private-model-9000', at);
    expect(cost.priced).toBe(false);
    expect(cost.pricedAs).toBeUndefined();
  });

  it('throw UnknownModelError under strict pricing', () => {
    const pricer = new Pricer({ strict: true });
    expect(() => pricer.price(usage({ inputTokens: 5 }), 'my-private-model-9000')).toThrow(
      UnknownModelError,
    );
    try {
      pricer.price(usage(), 'my-private-model-9000', { provider: 'acme' });
    } catch (error) {
      expect(UnknownModelError.isInstance(error)).toBe(true);
      expect((error as UnknownModelError).model).toBe('my-private-model-9000');
    }
  });
});

describe('price overrides', () => {
  it('win over the catalog and price unknown models', () => {
    const pricer = new Pricer({
      overrides: {
        'gemini-2.5-flash': { input_mtok: 1, output_mtok: 2 },
        'models/my-finetune': {
          input_mtok: { base: 1, tiers: [{ start: 1_000, price: 3 }] },
          output_mtok: 4,
          cache_read_mtok: 0.5,
        },
      },
    });
    const u = usage({ inputTokens: 1_000_000, outputTokens: 1_000_000 });
    expect(pricer.price(u, 'gemini-2.5-flash').totalUsd).toBe(3);
    expect(pricer.price(u, 'my-finetune').totalUsd).toBe(7);
    expect(pricer.price(u, 'my-finetune').tierStart).toBe(1_000);
    expect(pricer.price(usage({ inputTokens: 1_000 }), 'my-finetune').totalUsd).toBe(0.001);
  });

  it('load from a JSON file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-prices-'));
    const file = join(dir, 'prices.json');
    writeFileSync(file, JSON.stringify({ 'acme-1': { input_mtok: 2, output_mtok: 8 } }));
    const pricer = new Pricer({ overrides: file });
    expect(pricer.price(usage({ inputTokens: 500_000 }), 'acme-1').totalUsd).toBe(1);
  });

  it.each([
    [{ m: { input_mtok: -1 } }, /m\.input_mtok/],
    [{ m: { input_mtok: 'cheap' } }, /m\.input_mtok/],
    [{ m: { inptu_mtok: 1 } }, /inptu_mtok/],
    [{ m: {} }, /m: names no price/],
    [{ m: { input_mtok: { base: 1, tiers: [{ start: 1.5, price: 2 }] } } }, /m\.input_mtok/],
    [[1, 2], /root|expected record/i],
  ])('reject %j with a message naming the field', (overrides, message) => {
    expect(() => new Pricer({ overrides: overrides as never })).toThrow(InvalidPriceOverrideError);
    expect(() => new Pricer({ overrides: overrides as never })).toThrow(message);
  });

  it.each([
    [
      { m: { input_mtok: 1e12 } },
      /m\.input_mtok: too large to price exactly \(got 1000000000000\)/,
    ],
    [
      { m: { input_mtok: { base: 1, tiers: [{ start: 10, price: 1e13 }] } } },
      /m\.input_mtok\.tiers\.0\.price: too large/,
    ],
    [{ m: { requests_kcount: 1e5 } }, /m\.requests_kcount: too large/],
    [{ m: { input_mtok: 1e-12 } }, /m\.input_mtok: below one femto-dollar per unit.*\(got 1e-12\)/],
  ])('reject %j, which cannot be priced as written, naming the field', (overrides, message) => {
    expect(() => new Pricer({ overrides })).toThrow(InvalidPriceOverrideError);
    expect(() => new Pricer({ overrides })).toThrow(message);
  });

  it('take per-request fees above $1.10 per thousand requests', () => {
    const pricer = new Pricer({ overrides: { 'search-1': { input_mtok: 1, requests_kcount: 5 } } });
    expect(pricer.price(usage({ inputTokens: 1_000 }), 'search-1').totalUsd).toBe(0.006);
  });

  it('reject unreadable and malformed files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-prices-'));
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ not json');
    expect(() => new Pricer({ overrides: file })).toThrow(/not valid JSON/);
    expect(() => new Pricer({ overrides: join(dir, 'missing.json') })).toThrow(/Cannot read/);
  });
});
