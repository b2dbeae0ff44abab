import { CurrencyError } from '../../errors.js';
import { usdToFemto } from '../../price/money.js';
import { checkCode, type FxRate, type FxRates } from './rates.js';

/** Shows exact USD amounts in another currency, rounded once to its minor unit. */
export interface CurrencyConverter {
  /** ISO 4217 code. */
  readonly currency: string;
  /** Decimals of the minor unit (EUR 2, JPY 0, BHD 3), from Intl.NumberFormat. */
  readonly minorDigits: number;
  /** The rate used; undefined for USD. */
  readonly rate: FxRate | undefined;
  /** The exact amount converted and rounded once (half away from zero), as a decimal string. */
  amount(femtoUsd: bigint): string;
  /** `amount`, formatted for people: `€12.35`, `¥1,235`. */
  format(femtoUsd: bigint): string;
  /** `format` of a dollar number (as statistics carry), read as the decimal it prints as. */
  formatUsd(usd: number): string;
  /** One line naming the rate and its date, for reports. */
  readonly note: string;
}

const FEMTO = 10n ** 15n;

/**
 * A converter from exact USD (femto-dollars) to `currency`. USD is the unit of account: records
 * and the ledger stay in USD, and conversion happens when shown, exactly (rates are fractions),
 * rounded once to the currency's minor unit. An unknown code or a missing rate throws
 * `CurrencyError`.
 *
 * @example
 * const eur = currencyConverter({ currency: 'EUR', rates: parseRates({ EUR: '0.92' }) });
 * eur.format(usdToFemto(12.5)); // '€11.50'
 */
export function currencyConverter(options: {
  currency: string;
  rates?: FxRates;
}): CurrencyConverter {
  const currency = checkCode(options.currency);
  const rate = currency === 'USD' ? undefined : options.rates?.[currency];
  if (currency !== 'USD' && !rate) {
    throw new CurrencyError(
      currency,
      'missing_rate',
      `No exchange rate for ${currency}: give rates ({ ${currency}: '…' }), a rates file, TOLLGATE_FX_RATES or --rates ecb`,
    );
  }
  const formatter = new Intl.NumberFormat('en-US', { style: 'currency', currency });
  const minorDigits = formatter.resolvedOptions().maximumFractionDigits ?? 2;
  const exact = new Intl.NumberFormat('en-US', {
    style: 'currency',
    currency,
    minimumFractionDigits: minorDigits,
    maximumFractionDigits: minorDigits,
  });
  const numerator = rate?.numerator ?? 1n;
  const denominator = rate?.denominator ?? 1n;
  const minor = 10n ** BigInt(minorDigits);
  const amount = (femto: bigint): string => {
    const negative = femto < 0n;
    const scaled = (negative ? -femto : femto) * numerator * minor;
    const divisor = denominator * FEMTO;
    let units = scaled / divisor;
    if ((scaled % divisor) * 2n >= divisor) units += 1n;
    const digits = units.toString().padStart(minorDigits + 1, '0');
    const whole = minorDigits ? digits.slice(0, -minorDigits) : digits;
    const fraction = minorDigits ? `.${digits.slice(-minorDigits)}` : '';
    return `${negative && units > 0n ? '-' : ''}${whole}${fraction}`;
  };
  // Intl formats a decimal string exactly (no trip through a double).
  const format = (femto: bigint) => exact.format(amount(femto) as unknown as number);
  return {
    currency,
    minorDigits,
    rate,
    amount,
    format,
    formatUsd: (usd) => format(usd < 0 ? -usdToFemto(-usd) : usdToFemto(usd)),
    note: rate
      ? `${currency} at ${rate.text} per USD (${rate.date ? `rate of ${rate.date}` : 'undated rate'}, ${rate.source}); USD is the unit of account`
      : 'USD',
  };
}
