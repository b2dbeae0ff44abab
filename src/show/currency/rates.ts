import { readFileSync } from 'node:fs';
import { CurrencyError, describe } from '../../errors.js';

/**
 * One exchange rate: units of `currency` per US dollar as an exact fraction (a decimal string
 * such as `'0.92'` is 92/100; an ECB cross rate is a quotient of two decimals), with its date.
 */
export interface FxRate {
  numerator: bigint;
  denominator: bigint;
  /** The rate as given (or as derived, to 6 decimals) for people. */
  text: string;
  /** The day the rate is from (`YYYY-MM-DD`), or `undefined` when the source gave none. */
  date: string | undefined;
  /** Where it came from: `user`, a file path, `TOLLGATE_FX_RATES`, `ecb`. */
  source: string;
}

/** Rates per currency code, to convert from USD. */
export type FxRates = Record<string, FxRate>;

/** A rate as users write it: `'0.92'`, or `{ rate: '0.92', date: '2026-11-20' }`. */
export type RateInput = string | { rate: string; date?: string };

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A positive decimal string as an exact fraction. @internal */
export function decimalFraction(
  code: string,
  text: string,
): { numerator: bigint; denominator: bigint } {
  const match = DECIMAL.exec(text.trim());
  const numerator = match ? BigInt((match[1] ?? '') + (match[2] ?? '')) : 0n;
  if (!match || numerator === 0n) {
    throw new CurrencyError(
      code,
      'invalid_rate',
      `The rate for ${code} must be a positive decimal string such as "0.92" (got ${describe(text)})`,
    );
  }
  return { numerator, denominator: 10n ** BigInt((match[2] ?? '').length) };
}

/** An upper-case three-letter code Intl knows. @internal */
export function checkCode(code: string): string {
  const upper = typeof code === 'string' ? code.trim().toUpperCase() : '';
  if (!/^[A-Z]{3}$/.test(upper) || !Intl.supportedValuesOf('currency').includes(upper)) {
    throw new CurrencyError(
      String(code),
      'unknown_currency',
      `Unknown currency ${describe(code)}: expected an ISO 4217 code such as EUR, GBP, JPY`,
    );
  }
  return upper;
}

/**
 * Rates from an object: `{ EUR: '0.92', JPY: { rate: '151.2', date: '2026-11-20' } }`, or the
 * file form `{ date: '2026-11-20', rates: { EUR: '0.92' } }` (the date applies to every rate).
 * Numbers are refused: a rate is a decimal string so that it stays exact.
 *
 * @example
 * const rates = parseRates({ date: '2026-11-20', rates: { EUR: '0.92' } });
 */
export function parseRates(input: unknown, source = 'user'): FxRates {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new CurrencyError(
      '',
      'invalid_rate',
      `Rates must be an object of decimal strings (got ${describe(input)})`,
    );
  }
  const wrapper = input as { date?: unknown; rates?: unknown };
  const fileForm = typeof wrapper.rates === 'object' && wrapper.rates !== null;
  const date = fileForm ? wrapper.date : undefined;
  if (date !== undefined && (typeof date !== 'string' || !DAY.test(date))) {
    throw new CurrencyError(
      '',
      'invalid_rate',
      `Rates' date must be YYYY-MM-DD (got ${describe(date)})`,
    );
  }
  const entries = Object.entries((fileForm ? wrapper.rates : input) as Record<string, unknown>);
  const rates: FxRates = {};
  for (const [key, value] of entries) {
    const code = checkCode(key);
    const given =
      typeof value === 'object' && value !== null
        ? (value as { rate?: unknown; date?: unknown })
        : { rate: value };
    if (typeof given.rate !== 'string') {
      throw new CurrencyError(
        code,
        'invalid_rate',
        `The rate for ${code} must be a decimal string such as "0.92" (got ${describe(given.rate)})`,
      );
    }
    const own = given.date ?? date;
    if (own !== undefined && (typeof own !== 'string' || !DAY.test(own))) {
      throw new CurrencyError(
        code,
        'invalid_rate',
        `The date of the ${code} rate must be YYYY-MM-DD (got ${describe(own)})`,
      );
    }
    rates[code] = {
      ...decimalFraction(code, given.rate),
      text: given.rate.trim(),
      date: own as string | undefined,
      source,
    };
  }
  return rates;
}

/** Rates from a JSON file (either form `parseRates` takes). */
export function loadRatesFile(path: string): FxRates {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CurrencyError('', 'rates_unavailable', `Cannot read the rates file ${path}`, {
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CurrencyError('', 'invalid_rate', `The rates file ${path} is not JSON`, {
      cause: error,
    });
  }
  return parseRates(json, path);
}

/**
 * Rates from `TOLLGATE_FX_RATES`: inline JSON (`{"EUR":"0.92"}`) or the path of a JSON file.
 * Undefined when the variable is unset or empty.
 */
export function ratesFromEnv(env: NodeJS.ProcessEnv = process.env): FxRates | undefined {
  const value = env.TOLLGATE_FX_RATES?.trim();
  if (!value) return undefined;
  if (!value.startsWith('{')) return loadRatesFile(value);
  try {
    return parseRates(JSON.parse(value), 'TOLLGATE_FX_RATES');
  } catch (error) {
    if (CurrencyError.isInstance(error)) throw error;
    throw new CurrencyError(
      '',
      'invalid_rate',
      'TOLLGATE_FX_RATES is neither JSON nor a file path',
      { cause: error },
    );
  }
}
