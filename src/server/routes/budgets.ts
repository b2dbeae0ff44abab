/**
 * Budget rules: list (with the current window's spend), create or update, delete. A
 * tenant-scoped credential sees and edits only the rules of its own tenant.
 */
import { ConfigurationError } from '../../errors.js';
import type { Store } from '../../keep/types.js';
import { parseModelName } from '../../price/catalog.js';
import { femtoToDecimal, femtoToUsd, usdToFemto } from '../../price/money.js';
import { type BudgetRule, windowKey } from '../../react/budgets/index.js';
import { ledgerForecast } from '../../react/forecast.js';
import { ruleForecast } from '../../react/rule-forecast.js';
import { type Credential, requireAdmin } from '../auth.js';
import { badRequest, forbidden, HttpError, json, notFound, upstream } from '../errors.js';
import { isoOf } from '../present.js';
import type { BudgetControl, RouteContext, RouteHandler } from '../types.js';
import { budgetBody, noQuery, parseBody, parseParam, parseQuery, sameId } from '../validate.js';

/** Spend in a rule's current window: only for rules about one entity (or global). */
export interface BudgetStatus {
  key: string;
  spentUsd: number;
  spentUsdExact: string;
  reservedUsd: number;
  /** Spent ÷ limit. */
  utilization: number;
  resetsAt: string | null;
}

function budgetsOf(ctx: RouteContext): BudgetControl {
  const budgets = ctx.app.budgets;
  if (!budgets) throw new HttpError(501, 'not_implemented', 'this server has no budget manager');
  return budgets;
}

/** Rules a credential may see: all, or its own tenant's. */
const visible = (credential: Credential) => (rule: BudgetRule) =>
  credential.tenantId === undefined ||
  (rule.scope.kind === 'tenant' && rule.scope.id === credential.tenantId);

/** GET /api/budgets */
export const listBudgets: RouteHandler = async (ctx) => {
  parseQuery(noQuery, ctx.url);
  const budgets = budgetsOf(ctx);
  const every = budgets.listRules();
  const rules = every.filter(visible(ctx.credential));
  const store = budgets.store ?? ctx.app.store;
  const statuses = await upstream(
    'budget counters',
    () => budgetStatuses(rules, store, ctx.now),
    ctx.signal,
  );
  // Forecasts read the ledger's daily series (a tenant key sees only its tenant's rules).
  const ledger = ctx.app.store;
  const [forecasts, overall] = await upstream(
    'forecasts',
    () =>
      Promise.all([
        Promise.all(rules.map((rule) => ruleForecast(ledger, rule, ctx.now, every))),
        ctx.credential.tenantId === undefined
          ? ledgerForecast(ledger, { window: 'month', now: ctx.now })
          : Promise.resolve(null),
      ]),
    ctx.signal,
  );
  return json({
    budgets: rules.map((rule, i) => ({
      ...rule,
      status: statuses.get(rule.id) ?? null,
      forecast: forecasts[i] ?? null,
    })),
    ledgerForecast: overall,
  });
};

/** PUT /api/budgets/:id: creates (201) or replaces (200) a rule. */
export const putBudget: RouteHandler = async (ctx) => {
  requireAdmin(ctx.credential);
  const budgets = budgetsOf(ctx);
  const id = parseParam('id', ctx.params.id ?? '');
  parseQuery(noQuery, ctx.url);
  const { id: bodyId, ...body } = await parseBody(budgetBody, ctx.request);
  sameId(id, bodyId);
  const tenant = ctx.credential.tenantId;
  if (tenant !== undefined && (body.scope.kind !== 'tenant' || body.scope.id !== tenant)) {
    throw forbidden(
      `scope: this credential may only set budgets of tenant ${JSON.stringify(tenant)}`,
    );
  }
  const existing = budgets.listRules().find((rule) => rule.id === id);
  if (existing && !visible(ctx.credential)(existing)) {
    throw forbidden('id: this budget belongs to another tenant');
  }
  let rule: BudgetRule;
  try {
    rule = budgets.setRule({ ...body, id });
  } catch (error) {
    if (!ConfigurationError.isInstance(error)) throw error;
    throw badRequest('body', error.message, error);
  }
  await ctx.app.onChange({ kind: 'budget', action: 'set', rule });
  return json({ budget: rule }, existing ? 200 : 201);
};

/** DELETE /api/budgets/:id */
export const deleteBudget: RouteHandler = async (ctx) => {
  requireAdmin(ctx.credential);
  const budgets = budgetsOf(ctx);
  const id = parseParam('id', ctx.params.id ?? '');
  parseQuery(noQuery, ctx.url);
  const existing = budgets.listRules().find((rule) => rule.id === id);
  // Another tenant's rule is answered like a missing one: its existence is not theirs to know.
  if (!existing || !visible(ctx.credential)(existing) || !budgets.removeRule(id)) {
    throw notFound(`id: no budget ${JSON.stringify(id)}`);
  }
  await ctx.app.onChange({ kind: 'budget', action: 'remove', id });
  return new Response(null, { status: 204 });
};

/**
 * Current-window spend of each rule that names one entity (or is global), from the store's
 * counters. Rules without a scope id apply to every user (agent…) separately: no single spend.
 */
export async function budgetStatuses(
  rules: readonly BudgetRule[],
  store: Store,
  now: number,
): Promise<Map<string, BudgetStatus>> {
  const plans: { rule: BudgetRule; key: string; expiresAt: number }[] = [];
  for (const rule of rules) {
    if (rule.window === 'request') continue;
    const entity = entityOf(rule);
    if (entity === undefined) continue;
    plans.push({ rule, ...windowKey(rule.scope.kind, entity, rule.window, now, rule.timeZone) });
  }
  const statuses = new Map<string, BudgetStatus>();
  if (plans.length === 0 || !store.counters) return statuses;
  const states = await store.counters(
    plans.map((plan) => plan.key),
    now,
  );
  const byKey = new Map(states.map((state) => [state.key, state]));
  for (const { rule, key, expiresAt } of plans) {
    const state = byKey.get(key);
    const settled = state?.settledFemto ?? 0n;
    const limit = usdToFemto(rule.limitUsd);
    statuses.set(rule.id, {
      key,
      spentUsd: femtoToUsd(settled),
      spentUsdExact: femtoToDecimal(settled),
      reservedUsd: femtoToUsd(state?.reservedFemto ?? 0n),
      utilization: limit > 0n ? Number((settled * 1_000_000n) / limit) / 1_000_000 : 0,
      resetsAt: isoOf(expiresAt),
    });
  }
  return statuses;
}

/** The entity a rule's counter is keyed by, as the budget manager spells it. */
function entityOf(rule: BudgetRule): string | undefined {
  const { kind, id } = rule.scope;
  if (kind === 'global') return '';
  if (id === undefined) return undefined;
  if (kind === 'model') return parseModelName(id).model;
  if (kind === 'provider') return id.toLowerCase();
  return id;
}
