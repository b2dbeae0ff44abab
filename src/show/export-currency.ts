import type { CurrencyConverter } from './currency/convert.js';

/** The currency block of a JSON export: USD stays the unit of account beside it. */
export interface CurrencyTotal {
  code: string;
  /** The total cost converted exactly and rounded once to the minor unit, as a decimal string. */
  totalCost: string;
  /** The rate per USD as given, its date (null when undated) and where it came from. */
  rate: string;
  rateDate: string | null;
  rateSource: string;
}

/**
 * The export's `currency` block for an exact USD total.
 *
 * @example
 * currencyJson(currencyConverter({ currency: 'EUR', rates }), 12_500_000_000_000_000n).totalCost; // '11.50'
 */
export function currencyJson(converter: CurrencyConverter, totalFemto: bigint): CurrencyTotal {
  return {
    code: converter.currency,
    totalCost: converter.amount(totalFemto),
    rate: converter.rate?.text ?? '1',
    rateDate: converter.rate?.date ?? null,
    rateSource: converter.rate?.source ?? 'USD',
  };
}
