/**
 * `?currency=` on every money-returning route: the route answers in USD as always, and the
 * answer gains each amount in the currency beside it (`withCurrency`), with the rate and its date.
 */
import { CurrencyError } from '../errors.js';
import { type CurrencyConverter, currencyConverter } from '../show/currency/convert.js';
import { withCurrency } from '../show/currency/json.js';
import type { FxRates } from '../show/currency/rates.js';
import { badRequest, jsonResponse, jsonText } from './errors.js';

/** The converter `?currency=` asks for; an unknown code or a missing rate is a 400. */
export function converterOf(
  code: string | undefined,
  rates: FxRates | undefined,
): CurrencyConverter | undefined {
  if (code === undefined) return undefined;
  try {
    return currencyConverter({ currency: code, ...(rates ? { rates } : {}) });
  } catch (error) {
    if (CurrencyError.isInstance(error)) throw badRequest('currency', error.message, error);
    throw error;
  }
}

/**
 * Takes `currency` out of the URL (so the route's own parameters are checked as before) and
 * returns its converter; undefined without one. Given twice, a 400.
 */
export function takeCurrency(url: URL, rates: FxRates | undefined): CurrencyConverter | undefined {
  const codes = url.searchParams.getAll('currency');
  if (codes.length === 0) return undefined;
  if (codes.length > 1) throw badRequest('currency', 'give one currency, not several');
  url.searchParams.delete('currency');
  return converterOf(codes[0], rates);
}

/** A JSON answer with its amounts also in the currency; other answers pass unchanged. */
export async function inCurrency(
  response: Response,
  converter: CurrencyConverter,
): Promise<Response> {
  const type = response.headers.get('content-type') ?? '';
  if (!response.ok || !type.startsWith('application/json')) return response;
  const body = withCurrency(JSON.parse(await response.text()), converter);
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'content-length') headers[name] = value;
  });
  return jsonResponse(jsonText(body), response.status, headers);
}
