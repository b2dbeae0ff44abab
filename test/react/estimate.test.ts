import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { Pricer } from '../../src/price/pricer.js';
import { estimateCallCost, estimatePromptTokens } from '../../src/react/budgets/index.js';

describe('estimateCallCost: an upper bound before the call', () => {
  it.each([
    // gemini-2.5-pro, $1.25 / $10 per Mtok up to 200k prompt tokens, $2.50 / $15 above
    ['gemini-2.5-pro', 199_999, 1_000, 0.25999875],
    ['gemini-2.5-pro', 200_001, 1_000, 0.5150025],
    // gemini-2.5-flash, $0.30 / $2.50 per Mtok: the whole output cap priced as output
    ['gemini-2.5-flash', 1_000, 1_000, 0.0028],
  ])('%s, %i prompt + %i max output tokens: $%d', (model, promptTokens, maxOutputTokens, usd) => {
    const estimate = estimateCallCost({ model, promptTokens, maxOutputTokens });
    expect(estimate).toMatchObject({ estimateUsd: usd, priced: true });
    expect(estimate.estimateFemto).toBe(BigInt(Math.round(usd * 1e9)) * 1_000_000n);
  });

  it('uses the given pricer (overrides), and says when a model has no price', () => {
    const pricer = new Pricer({ overrides: { 'my-model': { input_mtok: 1, output_mtok: 2 } } });
    expect(
      estimateCallCost({
        model: 'my-model',
        promptTokens: 1_000_000,
        maxOutputTokens: 500_000,
        pricer,
      }),
    ).toMatchObject({ estimateUsd: 2, priced: true });
    expect(
      estimateCallCost({ model: 'no-such-model-x', promptTokens: 10, maxOutputTokens: 10 }),
    ).toEqual({
      estimateFemto: 0n,
      estimateUsd: 0,
      priced: false,
    });
  });

  it('rejects counts that are not token counts', () => {
    expect(() =>
      estimateCallCost({ model: 'gemini-2.5-flash', promptTokens: -1, maxOutputTokens: 1 }),
    ).toThrow(ConfigurationError);
    expect(() =>
      estimateCallCost({ model: 'gemini-2.5-flash', promptTokens: 1, maxOutputTokens: 1.5 }),
    ).toThrow(/maxOutputTokens/);
  });

  it('rejects a missing model with ConfigurationError, not a TypeError', () => {
    for (const model of [undefined, '', 42]) {
      expect(() =>
        estimateCallCost({ model: model as never, promptTokens: 1, maxOutputTokens: 1 }),
      ).toThrow(ConfigurationError);
    }
  });
});

describe('estimatePromptTokens: about 4 characters per token', () => {
  it.each<[string, unknown, number]>([
    ['text', 'Summarize the attached report in three bullet points.', 14],
    ['empty text', '', 0],
    [
      'Gemini contents',
      [
        { role: 'user', parts: [{ text: 'abcd' }, { text: 'efgh' }] },
        { role: 'model', parts: [{ text: 'ij' }] },
      ],
      3,
    ],
    ['a Gemini request', { contents: [{ parts: [{ text: '12345678' }] }] }, 2],
    [
      'OpenAI messages',
      [
        { role: 'system', content: 'abcd' },
        { role: 'user', content: 'abcdefgh' },
      ],
      3,
    ],
    [
      'content parts',
      [{ role: 'user', content: [{ type: 'text', text: 'abcdefgh' }, { type: 'image_url' }] }],
      2,
    ],
    ['strings', ['abcd', 'e'], 2],
    ['nothing countable', { inlineData: { data: 'AAAA' } }, 0],
  ])('%s', (_, input, tokens) => {
    expect(estimatePromptTokens(input)).toBe(tokens);
  });
});
