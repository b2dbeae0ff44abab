/**
 * Exact money. Amounts are `bigint` femto-dollars (1 fUSD = 10^-15 USD), so sums over any
 * number of calls are exact; a catalog price in $/Mtok becomes an integer number of
 * femto-dollars per token when it has at most 9 decimals (every catalog price does, once its
 * float noise such as 0.18000000000000002 is rounded away).
 *
 * Public numbers are the exact amount rounded once: `femtoToUsd` parses the exact decimal
 * string, and JavaScript's string-to-number conversion is correctly rounded.
 */

/** Femto-dollars per dollar. */
export const FEMTO_PER_USD = 1_000_000_000_000_000n;

const SCALE_DIGITS = 15;

/** Exact decimal string of an amount of femto-dollars, e.g. `1500n` → `"0.0000000000015"`. */
export function femtoToDecimal(femto: bigint): string {
  const negative = femto < 0n;
  const digits = (negative ? -femto : femto).toString().padStart(SCALE_DIGITS + 1, '0');
  const whole = digits.slice(0, -SCALE_DIGITS);
  const fraction = digits.slice(-SCALE_DIGITS).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** The exact amount as a number of dollars, rounded once. */
export function femtoToUsd(femto: bigint | number): number {
  // An integer below 2^53 converts exactly and the division rounds once: the hot path.
  if (typeof femto === 'number') return femto / 1e15;
  if (femto < 9_007_199_254_740_992n && femto > -9_007_199_254_740_992n) {
    return Number(femto) / 1e15;
  }
  return Number(femtoToDecimal(femto));
}

/**
 * Parses a non-negative decimal number into an integer at `scale` decimal places, rounding
 * half up beyond them. Takes the shortest round-trip form of a number (`String(0.1)` is `"0.1"`),
 * so `0.075` becomes exactly 75 at scale 3, never 74.99999.
 */
export function decimalToScaled(value: number | string, scale: number): bigint {
  const text = typeof value === 'number' ? numberToPlainDecimal(value) : value.trim();
  const match = /^(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match || (match[1] === '' && !match[2])) {
    throw new RangeError(`not a non-negative decimal: ${text}`);
  }
  const whole = match[1] || '0';
  const fraction = match[2] ?? '';
  const kept = fraction.slice(0, scale).padEnd(scale, '0');
  let scaled = BigInt(whole + kept);
  const next = fraction.charCodeAt(scale);
  if (next >= 53 /* '5' */ && next <= 57) scaled += 1n;
  return scaled;
}

/** Dollars (a finite non-negative number) to femto-dollars, exactly as written. */
export function usdToFemto(usd: number): bigint {
  return decimalToScaled(usd, SCALE_DIGITS);
}

/** A number's shortest round-trip decimal, without exponent notation. */
function numberToPlainDecimal(value: number): string {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`not a finite non-negative number: ${value}`);
  }
  const text = String(value);
  const exp = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!exp) return text;
  const digits = (exp[1] ?? '') + (exp[2] ?? '');
  const power = Number(exp[3]);
  if (power < 0) return `0.${'0'.repeat(-power - 1)}${digits}`;
  return digits.padEnd(power + 1, '0');
}

/**
 * Formats dollars for people: `$0.0021`, `$12.50`. Amounts below a dollar get 4 decimals, and a
 * non-zero amount that 4 decimals would show as `$0.0000` gets two significant digits instead
 * (`$0.000030`), so a cheap call never reads as free.
 *
 * @example
 * formatUsd(12.5); // '$12.50'
 * formatUsd(0.00213); // '$0.0021'
 * formatUsd(0.00003); // '$0.000030'
 */
export function formatUsd(usd: number, decimals?: number): string {
  const size = Math.abs(usd);
  const places =
    decimals ??
    (size >= 1
      ? 2
      : size === 0 || size >= 0.00005
        ? 4
        : Math.min(15, Math.ceil(-Math.log10(size)) + 1));
  return `$${usd.toFixed(places)}`;
}
