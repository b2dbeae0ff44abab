import { ConfigurationError, describe } from '../errors.js';

const UNITS: Record<string, number> = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * A retention period in ms: `'180d'`, `'26w'`, `'72h'`, or a number of milliseconds. At least
 * one hour; `undefined` keeps everything.
 *
 * @example
 * parseRetention('180d'); // 15552000000
 */
export function parseRetention(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  let ms: number | undefined;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string') {
    const match = /^\s*(\d+)\s*([hdw])\s*$/i.exec(value);
    if (match) ms = Number(match[1]) * (UNITS[(match[2] as string).toLowerCase()] as number);
  }
  if (ms === undefined || !Number.isSafeInteger(ms) || ms < 3_600_000) {
    throw new ConfigurationError(
      `retention must be like '180d', '26w' or '72h' (at least an hour), or milliseconds, got ${describe(value)}`,
    );
  }
  return ms;
}
