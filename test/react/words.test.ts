import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countTextWordTokens, wordTokens } from '../../src/react/budgets/words.js';

/** The rule as first written: a regular expression and a code-point spread per word. */
const reference = (text: string) =>
  (text.match(/\S+/g) ?? []).reduce(
    (sum, word) => sum + Math.max(1, Math.ceil([...word].length / 4)),
    0,
  );

describe('the word rule', () => {
  it.each([
    ['', 0],
    ['Hello brave new world', 7],
    ['  a\tb\nc\u00a0d\u3000e\ufeff ', 5],
    ['😀😀😀😀😀', 2], // five code points in ten UTF-16 units
    ['\ud800x', 1], // a lone surrogate counts as one
  ])('%j is %i tokens', (text, tokens) => {
    expect(countTextWordTokens(text)).toBe(tokens);
  });

  it('agrees with /\\S+/ and code points on any text', () => {
    const chars = fc.oneof(
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: 'binary' }),
      fc.string({
        unit: fc.constantFrom(
          ' ',
          '\t',
          '\u00a0',
          '\u2028',
          '\u3000',
          '\ufeff',
          'a',
          '😀',
          '\ud800',
        ),
      }),
    );
    fc.assert(
      fc.property(chars, (text) => {
        expect(countTextWordTokens(text)).toBe(reference(text));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1 }), (word) => {
        expect(wordTokens(word)).toBe(Math.max(1, Math.ceil([...word].length / 4)));
      }),
    );
  });
});
