/**
 * Rate limits: list, create or update, delete. Limits are server-wide (per user, agent, model
 * or global, never per tenant), so a tenant-scoped credential sees none and changes none.
 */
import { ConfigurationError } from '../../errors.js';
import type { RateLimit } from '../../react/rate-limit.js';
import { requireAdmin } from '../auth.js';
import { badRequest, forbidden, HttpError, json, notFound } from '../errors.js';
import type { RateLimitControl, RouteContext, RouteHandler } from '../types.js';
import { noQuery, parseBody, parseParam, parseQuery, rateLimitBody, sameId } from '../validate.js';

type Editable = Required<Pick<RateLimitControl, 'listLimits' | 'setLimit' | 'removeLimit'>>;

function limiterOf(ctx: RouteContext): Editable {
  const limiter = ctx.app.rateLimiter;
  if (!limiter) throw new HttpError(501, 'not_implemented', 'this server has no rate limiter');
  if (!limiter.listLimits || !limiter.setLimit || !limiter.removeLimit) {
    throw new HttpError(
      501,
      'not_implemented',
      'this rate limiter cannot list or edit its limits (listLimits, setLimit, removeLimit)',
    );
  }
  return limiter as Editable;
}

function untenanted(ctx: RouteContext): void {
  if (ctx.credential.tenantId !== undefined) {
    throw forbidden('rate limits are server-wide: a tenant-scoped credential cannot change them');
  }
}

/** GET /api/rate-limits */
export const listRateLimits: RouteHandler = async (ctx) => {
  parseQuery(noQuery, ctx.url);
  const limiter = limiterOf(ctx);
  const limits = ctx.credential.tenantId === undefined ? limiter.listLimits() : [];
  return json({ rateLimits: limits });
};

/** PUT /api/rate-limits/:id: creates (201) or replaces (200) a limit. */
export const putRateLimit: RouteHandler = async (ctx) => {
  requireAdmin(ctx.credential);
  untenanted(ctx);
  const limiter = limiterOf(ctx);
  const id = parseParam('id', ctx.params.id ?? '');
  parseQuery(noQuery, ctx.url);
  const { id: bodyId, ...body } = await parseBody(rateLimitBody, ctx.request);
  sameId(id, bodyId);
  const existed = limiter.listLimits().some((limit) => limit.id === id);
  let limit: RateLimit;
  try {
    limit = limiter.setLimit({ id, ...body });
  } catch (error) {
    if (!ConfigurationError.isInstance(error)) throw error;
    throw badRequest('body', error.message, error);
  }
  await ctx.app.onChange({ kind: 'rate-limit', action: 'set', limit });
  return json({ rateLimit: limit }, existed ? 200 : 201);
};

/** DELETE /api/rate-limits/:id */
export const deleteRateLimit: RouteHandler = async (ctx) => {
  requireAdmin(ctx.credential);
  const id = parseParam('id', ctx.params.id ?? '');
  parseQuery(noQuery, ctx.url);
  if (ctx.credential.tenantId !== undefined)
    throw notFound(`id: no rate limit ${JSON.stringify(id)}`);
  const limiter = limiterOf(ctx);
  if (!limiter.removeLimit(id)) throw notFound(`id: no rate limit ${JSON.stringify(id)}`);
  await ctx.app.onChange({ kind: 'rate-limit', action: 'remove', id });
  return new Response(null, { status: 204 });
};
