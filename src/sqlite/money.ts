/**
 * Femto-dollar amounts as two SQLite integers (see schema.ts): `micro` = femto / 10^9 and
 * `rem` = femto % 10^9, so SQL can sum each column without passing int64.
 */

const BILLION = 1_000_000_000n;

/** `[micro, rem]` of a non-negative amount; plain numbers in the common case (below 2^53). */
export function splitFemto(femto: bigint): [number | bigint, number] {
  if (femto <= 9_007_199_254_740_991n && femto >= 0n) {
    const value = Number(femto);
    const rem = value % 1e9;
    return [(value - rem) / 1e9, rem];
  }
  if (femto < 0n) throw new RangeError(`a ledger amount cannot be negative: ${femto}`);
  return [femto / BILLION, Number(femto % BILLION)];
}

/** Recombines summed columns, read as bigints (safeIntegers) or numbers, or null for no rows. */
export function joinFemto(
  micro: bigint | number | null | undefined,
  rem: bigint | number | null | undefined,
): bigint {
  return BigInt(micro ?? 0) * BILLION + BigInt(rem ?? 0);
}
