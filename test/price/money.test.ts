import { describe, expect, it } from 'vitest';
import {
  decimalToScaled,
  femtoToDecimal,
  femtoToUsd,
  formatUsd,
  usdToFemto,
} from '../../src/price/money.js';

describe('money', () => {
  it.each([
    [0.075, 9, 75_000_000n],
    [0.01875, 9, 18_750_000n],
    [1.25, 9, 1_250_000_000n],
    [0.18000000000000002, 9, 180_000_000n],
    [1e-7, 9, 100n],
    [2.5e-10, 9, 0n],
    [5e-10, 9, 1n],
    ['12.3456', 2, 1235n],
    [1e21, 0, 1_000_000_000_000_000_000_000n],
  ])('decimalToScaled(%s, %s) = %s', (value, scale, expected) => {
    expect(decimalToScaled(value, scale)).toBe(expected);
  });

  it('rejects what is not a non-negative decimal', () => {
    expect(() => decimalToScaled(-1, 3)).toThrow(RangeError);
    expect(() => decimalToScaled(Number.NaN, 3)).toThrow(RangeError);
    expect(() => decimalToScaled('1e5', 3)).toThrow(RangeError);
    expect(() => decimalToScaled('.', 3)).toThrow(RangeError);
  });

  it.each([
    [0n, '0'],
    [1n, '0.000000000000001'],
    [225_000_000_000n, '0.000225'],
    [1_500_000_000_000_000n, '1.5'],
    [-42n, '-0.000000000000042'],
  ])('femtoToDecimal(%s) = %s', (femto, text) => {
    expect(femtoToDecimal(femto)).toBe(text);
  });

  it('rounds exactly once, also beyond 2^53 femto-dollars', () => {
    expect(femtoToUsd(225_000_000_000n)).toBe(0.000225);
    const huge = 123_456_789_012_345_678_901n; // $123,456.789012345678901
    expect(femtoToUsd(huge)).toBe(Number('123456.789012345678901'));
    expect(usdToFemto(0.1) + usdToFemto(0.2)).toBe(usdToFemto(0.3));
  });

  it('formats dollars for people', () => {
    expect(formatUsd(0.00214)).toBe('$0.0021');
    expect(formatUsd(12.5)).toBe('$12.50');
    expect(formatUsd(0.5, 2)).toBe('$0.50');
  });

  it.each([
    [0, '$0.0000'],
    [0.00005, '$0.0001'],
    [0.00003, '$0.000030'],
    [0.0000449, '$0.000045'],
    [0.000001234, '$0.0000012'],
    [1e-12, '$0.0000000000010'],
    [1e-20, '$0.000000000000000'],
  ])('never shows a non-zero amount as zero where it can: %s → %s', (usd, text) => {
    expect(formatUsd(usd)).toBe(text);
  });
});
