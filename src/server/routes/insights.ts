/** GET /api/insights: what-if repricing and suggestions over the ledger's recent calls. */
import { z } from 'zod';
import { ledgerInsights } from '../../insights/ledger.js';
import { tenantOf } from '../auth.js';
import { jsonResponse, jsonText, upstream } from '../errors.js';
import { isoOf } from '../present.js';
import type { RouteHandler } from '../types.js';
import { days, idString, parseQuery } from '../validate.js';

/** Most ledger rows one request analyses (the newest); `truncated` says when more matched. */
const MOST_RECORDS = 20_000;

const insightsQuery = z.strictObject({
  days: days(30),
  tenant: idString.optional(),
  userId: idString.optional(),
  threadId: idString.optional(),
  agent: idString.optional(),
  model: idString.optional(),
});

/** GET /api/insights?days=30&userId=&threadId=&agent=&model= */
export const insights: RouteHandler = async (ctx) => {
  const query = parseQuery(insightsQuery, ctx.url);
  const tenant = tenantOf(ctx.credential, query.tenant);
  const key = JSON.stringify(['insights', tenant ?? null, query]);
  const text = await ctx.app.cache.get(key, async () => {
    const from = ctx.now - query.days * 86_400_000;
    const { days: _days, tenant: _tenant, ...filters } = query;
    const report = await upstream('insights', () =>
      ledgerInsights(
        ctx.app.store,
        { ...filters, from, to: ctx.now, ...(tenant === undefined ? {} : { tenantId: tenant }) },
        { maxRecords: MOST_RECORDS },
      ),
    );
    return jsonText({
      tenantId: tenant ?? null,
      from: isoOf(from),
      to: isoOf(ctx.now),
      days: query.days,
      ...report,
    });
  });
  return jsonResponse(text);
};
