/** GET /api/insights: what-if repricing and suggestions over the ledger's recent calls. */
import { CurrencyError } from '../../errors.js';
import { ledgerInsights } from '../../insights/ledger.js';
import type { InsightReport } from '../../insights/types.js';
import { decimalToScaled } from '../../price/money.js';
import { type CurrencyConverter, currencyConverter } from '../../show/currency/convert.js';
import type { FxRates } from '../../show/currency/rates.js';
import { currencyJson } from '../../show/export-currency.js';
import { tenantOf } from '../auth.js';
import { badRequest, jsonResponse, jsonText, upstream } from '../errors.js';
import { isoOf } from '../present.js';
import type { RouteHandler } from '../types.js';
import { parseQuery } from '../validate.js';

/** Most ledger rows one request analyses (the newest); `truncated` says when more matched. */
const MOST_RECORDS = 20_000;

/** The converter `?currency=` asks for; an unknown code or a missing rate is a 400. */
function converterOf(code: string | undefined, rates: FxRates | undefined) {
  if (code === undefined) return undefined;
  try {
    return currencyConverter({ currency: code, ...(rates ? { rates } : {}) });
  } catch (error) {
    if (CurrencyError.isInstance(error)) throw badRequest('currency', error.message, error);
    throw error;
  }
}

/** The total and each saving in the currency, beside the exact USD. */
function currencyOf(converter: CurrencyConverter, report: InsightReport) {
  const femto = (text: string) => decimalToScaled(text, 15);
  return {
    currency: currencyJson(converter, femto(report.costUsdExact)),
    insights: report.insights.map((insight) => ({
      ...insight,
      savingInCurrency: converter.amount(femto(insight.savingUsdExact)),
    })),
  };
}

/** GET /api/insights?days=30&userId=&threadId=&agent=&model=&currency= */
export const insights: RouteHandler = async (ctx) => {
  const query = parseQuery(ctx.app.queries.insights, ctx.url);
  const tenant = tenantOf(ctx.credential, query.tenant);
  const converter = converterOf(query.currency, ctx.app.fxRates);
  const key = JSON.stringify(['insights', tenant ?? null, query]);
  const text = await ctx.app.cache.get(key, async () => {
    const from = ctx.now - query.days * 86_400_000;
    const { days: _days, tenant: _tenant, currency: _currency, ...filters } = query;
    const report = await upstream(
      'insights',
      () =>
        ledgerInsights(
          ctx.app.store,
          { ...filters, from, to: ctx.now, ...(tenant === undefined ? {} : { tenantId: tenant }) },
          { maxRecords: MOST_RECORDS },
        ),
      ctx.signal,
    );
    return jsonText({
      tenantId: tenant ?? null,
      from: isoOf(from),
      to: isoOf(ctx.now),
      days: query.days,
      ...report,
      ...(converter ? currencyOf(converter, report) : {}),
    });
  });
  return jsonResponse(text);
};
