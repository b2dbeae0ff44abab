/**
 * Money in a JSON answer shown in another currency: beside every USD figure (`costUsd`,
 * `costUsdExact`, `limitUsd`, `projectedHighUsd`…) its amount in the currency as a decimal
 * string rounded once to the minor unit (`costInCurrency`), read from the exact decimal when
 * there is one. The USD figures stay: USD is the unit of account.
 */
import { decimalToScaled, usdToFemto } from '../../price/money.js';
import type { CurrencyConverter } from './convert.js';

/** The `currency` block of an answer: the code, its minor unit, and the rate with its date. */
export interface CurrencyInfo {
  code: string;
  /** Decimals of the minor unit the amounts are rounded to (EUR 2, JPY 0, BHD 3). */
  minorDigits: number;
  /** Units of the currency per USD, as given. */
  rate: string;
  rateDate: string | null;
  rateSource: string;
}

/**
 * The currency block for answers and exports.
 *
 * @example
 * currencyInfo(currencyConverter({ currency: 'JPY', rates })).minorDigits; // 0
 */
export function currencyInfo(converter: CurrencyConverter): CurrencyInfo {
  return {
    code: converter.currency,
    minorDigits: converter.minorDigits,
    rate: converter.rate?.text ?? '1',
    rateDate: converter.rate?.date ?? null,
    rateSource: converter.rate?.source ?? 'USD',
  };
}

/** A signed decimal string or dollar number as femto-dollars; undefined when it is neither. */
function femtoOf(value: unknown): bigint | undefined {
  try {
    if (typeof value === 'string') {
      const negative = value.startsWith('-');
      const femto = decimalToScaled(negative ? value.slice(1) : value, 15);
      return negative ? -femto : femto;
    }
    if (typeof value === 'number') return value < 0 ? -usdToFemto(-value) : usdToFemto(value);
  } catch {
    // Not an amount (NaN, Infinity, text): nothing to convert.
  }
  return undefined;
}

/** `costUsd` / `costUsdExact` → `cost`; undefined for other keys. */
function moneyStem(key: string): string | undefined {
  const match = /^(.+)Usd(Exact)?$/.exec(key);
  return match ? match[1] : undefined;
}

/**
 * `value` with `<name>InCurrency` beside every `<name>Usd` / `<name>UsdExact` (null stays null),
 * at any depth, and a top-level `currency` block (unless the answer has one already).
 *
 * @example
 * withCurrency({ totals: { costUsd: 12.5, costUsdExact: '12.5' } }, eur);
 * // { totals: { costUsd: 12.5, costUsdExact: '12.5', costInCurrency: '11.50' }, currency: { code: 'EUR', … } }
 */
export function withCurrency(value: unknown, converter: CurrencyConverter): unknown {
  const converted = convertDeep(value, converter);
  if (!converted || typeof converted !== 'object' || Array.isArray(converted)) return converted;
  const answer = converted as Record<string, unknown>;
  return 'currency' in answer ? answer : { ...answer, currency: currencyInfo(converter) };
}

function convertDeep(value: unknown, converter: CurrencyConverter): unknown {
  if (Array.isArray(value)) return value.map((item) => convertDeep(item, converter));
  if (!value || typeof value !== 'object') return value;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(source)) {
    out[key] = convertDeep(item, converter);
    const stem = moneyStem(key);
    if (stem === undefined || `${stem}InCurrency` in source) continue;
    const exact = source[`${stem}UsdExact`];
    // The exact decimal decides when there is one; its number twin adds nothing.
    if (!key.endsWith('Exact') && typeof exact === 'string') continue;
    if (item === null) {
      out[`${stem}InCurrency`] = null;
      continue;
    }
    const femto = femtoOf(item);
    if (femto !== undefined) out[`${stem}InCurrency`] = converter.amount(femto);
  }
  return out;
}
