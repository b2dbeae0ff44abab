import { CurrencyError } from '../../errors.js';
import type { FxRates } from './rates.js';

/** The ECB's daily euro foreign exchange reference rates. */
export const ECB_DAILY_URL = 'https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml';

/** Options of `fetchEcbRates`. */
export interface EcbOptions {
  /** Default `ECB_DAILY_URL`. */
  url?: string;
  /** Give up after this long (default 5,000 ms). */
  timeoutMs?: number;
  /** Rates to use when the ECB cannot be reached or answers nonsense (offline use). */
  fallback?: FxRates;
}

const fraction = (text: string) => {
  const [whole = '', decimals = ''] = text.split('.');
  return { n: BigInt(whole + decimals), d: 10n ** BigInt(decimals.length) };
};

/**
 * Rates per USD from the ECB's euro reference XML: each is a cross rate through the euro, kept
 * as an exact fraction (X per EUR ÷ USD per EUR), dated by the file's `Cube time`.
 *
 * @example
 * const rates = parseEcbXml(xml); rates.EUR?.date; // '2026-11-20'
 */
export function parseEcbXml(xml: string): FxRates {
  const date = /<Cube\s+time=['"](\d{4}-\d{2}-\d{2})['"]/.exec(xml)?.[1];
  const perEuro = new Map<string, string>();
  for (const m of xml.matchAll(
    /<Cube\s+currency=['"]([A-Z]{3})['"]\s+rate=['"](\d+(?:\.\d+)?)['"]\s*\/>/g,
  )) {
    perEuro.set(m[1] as string, m[2] as string);
  }
  const usd = perEuro.get('USD');
  if (!date || !usd || Number(usd) === 0) {
    throw new CurrencyError('USD', 'rates_unavailable', 'The ECB answer has no dated USD rate');
  }
  const u = fraction(usd);
  const rates: FxRates = {};
  const add = (code: string, numerator: bigint, denominator: bigint) => {
    rates[code] = {
      numerator,
      denominator,
      text: (Number(numerator) / Number(denominator)).toFixed(6),
      date,
      source: 'ecb',
    };
  };
  add('EUR', u.d, u.n);
  for (const [code, rate] of perEuro) {
    if (code === 'USD') continue;
    const x = fraction(rate);
    if (x.n === 0n) continue;
    add(code, x.n * u.d, x.d * u.n);
  }
  return rates;
}

/**
 * Fetches today's ECB reference rates (opt-in: tollgate makes no network call otherwise), with a
 * timeout. On failure it returns `fallback` when given, else throws `CurrencyError`
 * (`rates_unavailable`).
 *
 * @example
 * const rates = await fetchEcbRates({ timeoutMs: 3000, fallback: loadRatesFile('rates.json') });
 */
export async function fetchEcbRates(options: EcbOptions = {}): Promise<FxRates> {
  const url = options.url ?? ECB_DAILY_URL;
  const timeoutMs = options.timeoutMs ?? 5_000;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return parseEcbXml(await response.text());
  } catch (error) {
    if (options.fallback) return options.fallback;
    const reason =
      error instanceof Error && error.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : error instanceof Error
          ? error.message
          : String(error);
    throw new CurrencyError(
      '',
      'rates_unavailable',
      `ECB rates unavailable from ${url}: ${reason}; offline, use rates of your own such as {"EUR":"0.92"} (the \`fallback\` option, TOLLGATE_FX_RATES, or --rates FILE in the CLI)`,
      { cause: error },
    );
  }
}
