/** `--currency CODE [--rates FILE|ecb]`, shared by the commands that show money. */
import { type CurrencyConverter, currencyConverter } from '../show/currency/convert.js';
import { fetchEcbRates } from '../show/currency/ecb.js';
import { type FxRates, loadRatesFile, ratesFromEnv } from '../show/currency/rates.js';

/** The option declarations to spread into a command's `parse`. */
export const CURRENCY_OPTIONS = {
  currency: { type: 'string' },
  rates: { type: 'string' },
} as const;

export const CURRENCY_HELP = `  --currency CODE     amounts in this ISO 4217 currency (USD stays the unit of account)
  --rates FILE|ecb    rates per USD: a JSON file, or the ECB's daily rates (network, 5 s timeout,
                      TOLLGATE_FX_RATES as offline fallback); default TOLLGATE_FX_RATES
`;

/**
 * The converter the flags ask for, or undefined without `--currency`. A missing rate or unknown
 * code throws `CurrencyError`.
 */
export async function converterFromFlags(
  currency: string | undefined,
  rates: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<CurrencyConverter | undefined> {
  if (currency === undefined) return undefined;
  const table = await ratesFromFlag(rates, env);
  return currencyConverter({ currency, ...(table ? { rates: table } : {}) });
}

/**
 * The rates `--rates FILE|ecb` names: a JSON file, the ECB's daily rates (TOLLGATE_FX_RATES as
 * the offline fallback), or without the flag TOLLGATE_FX_RATES (undefined when unset).
 */
export async function ratesFromFlag(
  rates: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<FxRates | undefined> {
  if (rates === 'ecb') {
    const fallback = ratesFromEnv(env);
    return fetchEcbRates({
      ...(env.TOLLGATE_ECB_URL ? { url: env.TOLLGATE_ECB_URL } : {}),
      ...(fallback ? { fallback } : {}),
    });
  }
  return rates === undefined ? ratesFromEnv(env) : loadRatesFile(rates);
}
