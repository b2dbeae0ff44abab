import { describe, expect, it } from 'vitest';
import { formatInsights } from '../../src/show/insights-text.js';
import { plural } from '../../src/show/plural.js';

describe('counts in text', () => {
  it.each([
    [0, 'call', '0 calls'],
    [1, 'call', '1 call'],
    [2, 'call', '2 calls'],
    [1204, 'token', '1,204 tokens'],
  ])('plural(%d, %s) is "%s"', (count, noun, text) => {
    expect(plural(count, noun)).toBe(text);
  });

  it('the insights text says "1 call"', () => {
    const text = formatInsights({
      calls: 1,
      costUsd: 0.00003,
      costUsdExact: '0.00003',
      insights: [],
    } as unknown as Parameters<typeof formatInsights>[0]);
    expect(text.split('\n')[0]).toBe('1 call, $0.000030 ($0.00003 exact)');
  });
});
