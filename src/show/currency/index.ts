export { type CurrencyConverter, currencyConverter } from './convert.js';
export { ECB_DAILY_URL, type EcbOptions, fetchEcbRates, parseEcbXml } from './ecb.js';
export {
  type FxRate,
  type FxRates,
  loadRatesFile,
  parseRates,
  type RateInput,
  ratesFromEnv,
} from './rates.js';
