/** The usage endpoints: per user, per thread, records, by model, by agent, summary. */
import { ConfigurationError } from '../../errors.js';
import type { QueryOptions, RecordFilter, SummaryRow } from '../../keep/types.js';
import { femtoToUsd } from '../../price/money.js';
import { tenantOf } from '../auth.js';
import {
  badRequest,
  HttpError,
  json,
  jsonResponse,
  jsonText,
  notFound,
  upstream,
  within,
} from '../errors.js';
import { bucketJson, isoOf, recordJson, share, sumRows, totalsJson } from '../present.js';
import type { RouteContext, RouteHandler } from '../types.js';
import { parseParam, parseQuery, threadQuery } from '../validate.js';

const DAY = 86_400_000;

/** [now − days, now), as epoch ms and as ISO strings for the answer. */
function rangeOf(now: number, days: number) {
  const from = now - days * DAY;
  return { from, to: now, span: { from: isoOf(from), to: isoOf(now), days } };
}

const tenantFilter = (tenant: string | undefined): RecordFilter =>
  tenant === undefined ? {} : { tenantId: tenant };

/** A cache key: the route, the effective tenant and the validated parameters. */
const keyOf = (route: string, tenant: string | undefined, query: object) =>
  JSON.stringify([route, tenant ?? null, query]);

/** An aggregate answer through the response cache, kept as JSON text (serialized once). */
async function cachedJson(ctx: RouteContext, key: string, compute: () => Promise<object>) {
  return jsonResponse(await ctx.app.cache.get(key, async () => jsonText(await compute())));
}

/** Groups as `[{ <name>: key, share, ...totals }]`, largest cost first. */
function groups(name: string, rows: SummaryRow[], total: bigint) {
  return rows.map((row) => ({
    [name]: row.key,
    share: share(row.costFemto, total),
    ...totalsJson(row),
  }));
}

/** GET /api/usage/users/:userId?days=30&tz=UTC */
export const userUsage: RouteHandler = async (ctx) => {
  const userId = parseParam('userId', ctx.params.userId ?? '');
  const query = parseQuery(ctx.app.queries.range, ctx.url);
  const tenant = tenantOf(ctx.credential, query.tenant);
  const { app } = ctx;
  return cachedJson(ctx, keyOf('user', tenant, { userId, ...query }), async () => {
    const { from, to, span } = rangeOf(ctx.now, query.days);
    const filter = { userId, from, to, ...tenantFilter(tenant) };
    const [daily, models] = await Promise.all([
      app.summarize({ ...filter, groupBy: 'day', timeZone: query.tz }, ctx.signal),
      app.summarize({ ...filter, groupBy: 'model' }, ctx.signal),
    ]);
    const total = sumRows(daily);
    // Budget counters are not split by tenant: a tenant-scoped caller does not see them.
    const stats = app.budgets?.getUserStats;
    const budget =
      stats && tenant === undefined
        ? await upstream('budget stats', () => stats.call(app.budgets, userId, ctx.now), ctx.signal)
        : null;
    return {
      userId,
      tenantId: tenant ?? null,
      ...span,
      timeZone: query.tz,
      totals: totalsJson(total),
      daily: daily.map(bucketJson),
      byModel: groups('model', models, total.costFemto),
      budget,
    };
  });
};

/** GET /api/usage/threads/:threadId?limit=100&cursor=… (all time, records oldest first) */
export const threadUsage: RouteHandler = async (ctx) => {
  const threadId = parseParam('threadId', ctx.params.threadId ?? '');
  const query = parseQuery(threadQuery, ctx.url);
  const tenant = tenantOf(ctx.credential, query.tenant);
  const filter = { threadId, ...tenantFilter(tenant) };
  const [agents, page] = await Promise.all([
    ctx.app.summarize({ ...filter, groupBy: 'agent' }, ctx.signal),
    queryPage(ctx, { ...filter, limit: query.limit, order: 'asc', cursor: query.cursor }),
  ]);
  if (agents.length === 0) throw notFound(`threadId: no calls recorded for this thread`);
  const total = sumRows(agents);
  return json({
    threadId,
    tenantId: tenant ?? null,
    totals: totalsJson(total),
    byAgent: groups('agent', agents, total.costFemto),
    records: page.records.map(recordJson),
    nextCursor: page.nextCursor ?? null,
  });
};

/** GET /api/usage/records?days=7&limit=100&cursor=…&order=desc&userId=…&agent=… */
export const records: RouteHandler = async (ctx) => {
  const query = parseQuery(ctx.app.queries.records, ctx.url);
  const tenant = tenantOf(ctx.credential, query.tenant);
  const { from, to, span } = rangeOf(ctx.now, query.days);
  const { days: _days, tenant: _tenant, ...rest } = query;
  const page = await queryPage(ctx, { ...rest, from, to, ...tenantFilter(tenant) });
  return json({
    tenantId: tenant ?? null,
    ...span,
    records: page.records.map(recordJson),
    nextCursor: page.nextCursor ?? null,
  });
};

/** GET /api/usage/by-model?days=30 */
export const byModel: RouteHandler = (ctx) => grouped(ctx, 'model', 'models');

/** GET /api/usage/by-agent?days=30 */
export const byAgent: RouteHandler = (ctx) => grouped(ctx, 'agent', 'agents');

async function grouped(ctx: RouteContext, groupBy: 'model' | 'agent', list: string) {
  const query = parseQuery(ctx.app.queries.range, ctx.url);
  const tenant = tenantOf(ctx.credential, query.tenant);
  return cachedJson(ctx, keyOf(groupBy, tenant, query), async () => {
    const { from, to, span } = rangeOf(ctx.now, query.days);
    const rows = await ctx.app.summarize(
      { groupBy, from, to, ...tenantFilter(tenant) },
      ctx.signal,
    );
    const total = sumRows(rows);
    return {
      tenantId: tenant ?? null,
      ...span,
      totals: totalsJson(total),
      [list]: groups(groupBy, rows, total.costFemto),
    };
  });
}

/** GET /api/usage/summary?days=30&top=10&tz=UTC: totals, top users, daily trend. */
export const summary: RouteHandler = async (ctx) => {
  const query = parseQuery(ctx.app.queries.summary, ctx.url);
  const tenant = tenantOf(ctx.credential, query.tenant);
  return cachedJson(ctx, keyOf('summary', tenant, query), async () => {
    const { from, to, span } = rangeOf(ctx.now, query.days);
    const filter = { from, to, ...tenantFilter(tenant) };
    const [daily, users] = await Promise.all([
      ctx.app.summarize({ ...filter, groupBy: 'day', timeZone: query.tz }, ctx.signal),
      ctx.app.summarize({ ...filter, groupBy: 'user' }, ctx.signal),
    ]);
    // The daily rows cover every call, so their sum is the total: no third query.
    const total = sumRows(daily);
    const named = users.filter((row) => row.key !== '');
    return {
      tenantId: tenant ?? null,
      ...span,
      timeZone: query.tz,
      totals: totalsJson(total),
      averageCostPerCallUsd: total.calls ? femtoToUsd(total.costFemto / BigInt(total.calls)) : 0,
      users: named.length,
      // Calls recorded without a user id: not a user, but not to be lost beside "users".
      callsWithoutUser: users.find((row) => row.key === '')?.calls ?? 0,
      topUsers: groups('userId', named.slice(0, query.top), total.costFemto),
      daily: daily.map(bucketJson),
    };
  });
};

/** One page of records; a cursor the store does not recognize is the caller's error. */
async function queryPage(ctx: RouteContext, options: QueryOptions) {
  const { cursor, ...rest } = options;
  try {
    const options = cursor === undefined ? rest : { ...rest, cursor };
    return await within(ctx.signal, ctx.app.store.query(options));
  } catch (error) {
    if (cursor !== undefined && ConfigurationError.isInstance(error)) {
      throw badRequest('cursor', 'is not a cursor this server returned', error);
    }
    if (error instanceof HttpError) throw error;
    throw new HttpError(503, 'store_unavailable', 'query failed: the store did not answer', {
      cause: error,
    });
  }
}
