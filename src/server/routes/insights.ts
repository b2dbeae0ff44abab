/** GET /api/insights: what-if repricing and suggestions over the ledger's recent calls. */
import { ledgerInsights } from '../../insights/ledger.js';
import type { InsightReport } from '../../insights/types.js';
import { decimalToScaled } from '../../price/money.js';
import type { CurrencyConverter } from '../../show/currency/convert.js';
import { withCurrency } from '../../show/currency/json.js';
import { currencyJson } from '../../show/export-currency.js';
import { tenantOf } from '../auth.js';
import { converterOf } from '../currency.js';
import { jsonResponse, jsonText, upstream } from '../errors.js';
import { isoOf } from '../present.js';
import type { RouteHandler } from '../types.js';
import { parseQuery } from '../validate.js';

/** Most ledger rows one request analyses (the newest); `truncated` says when more matched. */
const MOST_RECORDS = 20_000;

/** The report with every amount also in the currency, and the total with the rate and its date. */
function inCurrency(converter: CurrencyConverter, body: InsightReport & object) {
  const total = currencyJson(converter, decimalToScaled(body.costUsdExact, 15));
  return withCurrency(
    { ...body, currency: { ...total, minorDigits: converter.minorDigits } },
    converter,
  );
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
    const body = {
      tenantId: tenant ?? null,
      from: isoOf(from),
      to: isoOf(ctx.now),
      days: query.days,
      ...report,
    };
    return jsonText(converter ? inCurrency(converter, body) : body);
  });
  return jsonResponse(text);
};
