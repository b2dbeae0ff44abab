/**
 * Forecasts of budget rules from the ledger, for every scope: one entity (a user, tenant, agent,
 * model or provider), everything (`global`), or a rule without an id that gives each entity its
 * own budget (each entity forecast, the highest projection reported).
 */
import type { GroupBy, Store, SummaryRow } from '../keep/types.js';
import { parseModelName } from '../price/catalog.js';
import { defaultPricer } from '../price/pricer.js';
import { type CalendarWindow, windowAt } from './budgets/calendar.js';
import type { BudgetRule, ScopeKind } from './budgets/rules.js';
import { forecastSpend, LOOKBACK_DAYS, ledgerForecast, type SpendForecast } from './forecast.js';

/** A forecast of one entity in a rule's scope. */
export interface EntityForecast extends SpendForecast {
  /** The user, tenant, agent, model or provider (lower case) the forecast is of; '' for global. */
  entity: string;
}

/**
 * A rule's forecast. For a rule without a scope id (every user, every tenant…), it is the forecast
 * of the entity projected highest, with how many entities have spend and how many are projected
 * past the limit.
 */
export interface RuleForecast extends EntityForecast {
  /** Entities with spend in the window or the recent days. */
  entities: number;
  /** Of those, how many are projected past the limit. */
  entitiesOverLimit: number;
}

const GROUP: Partial<Record<ScopeKind, GroupBy>> = {
  user: 'user',
  tenant: 'tenant',
  agent: 'agent',
  model: 'model',
  provider: 'model',
};

/** The catalog model id of a ledger model key, as model rules compare it. */
const modelOf = (key: string) => parseModelName(key).model;

/** The provider of a ledger model key, as `BudgetManager` resolves it for provider rules. */
function providerOf(key: string): string {
  const parsed = parseModelName(key);
  return (parsed.provider ?? defaultPricer().resolve(key)?.providerId ?? '').toLowerCase();
}

/** The entity a summary row belongs to under a rule's kind ('' when it has none). */
function entityOf(kind: ScopeKind, key: string): string {
  if (key === '') return '';
  if (kind === 'model') return modelOf(key);
  if (kind === 'provider') return providerOf(key);
  return key;
}

/** A rule's scope id as entities are spelled (model names cleaned up, providers lower case). */
function ruleEntity(rule: BudgetRule): string | undefined {
  const id = rule.scope.id;
  if (id === undefined) return undefined;
  if (rule.scope.kind === 'model') return modelOf(id);
  return rule.scope.kind === 'provider' ? id.toLowerCase() : id;
}

/**
 * Every entity's forecast in a rule's current window, highest projection first. A rule naming
 * one entity gives at most that one; a rule without an id gives each entity with spend, except
 * those with a rule of their own for the same kind and window in `rules` (theirs replaces it).
 * Reads two summaries for everything or one user, tenant or agent, else `2 + lookback` grouped
 * summaries (the window, today and each day of the lookback), however many entities there are.
 *
 * @example
 * const each = await entityForecasts(store, { id: 'u', scope: { kind: 'user' }, window: 'day', limitUsd: 5, mode: 'soft' });
 * const over = each.filter((f) => f.overLimit).map((f) => f.entity);
 */
export async function entityForecasts(
  store: Pick<Store, 'summarize'>,
  rule: BudgetRule,
  now = Date.now(),
  rules: readonly BudgetRule[] = [],
): Promise<EntityForecast[]> {
  if (rule.window === 'request') return [];
  const window: CalendarWindow = rule.window;
  const zone = rule.timeZone ?? 'UTC';
  const kind = rule.scope.kind;
  const groupBy = GROUP[kind];
  const named = ruleEntity(rule);
  // Everything, or one user, tenant or agent: the ledger filters by it, two summaries suffice.
  const filter = !groupBy
    ? {}
    : named === undefined
      ? undefined
      : kind === 'user'
        ? { userId: named }
        : kind === 'tenant'
          ? { tenantId: named }
          : kind === 'agent'
            ? { agent: named }
            : undefined;
  if (filter || !groupBy) {
    const f = await ledgerForecast(store, {
      window,
      filter,
      limitUsd: rule.limitUsd,
      now,
      timeZone: zone,
    });
    return [{ ...f, entity: named ?? '' }];
  }
  const own = new Set(
    rules
      .filter((r) => r.id !== rule.id && r.scope.kind === kind && r.window === rule.window)
      .map(ruleEntity)
      .filter((id): id is string => id !== undefined),
  );
  const wanted = (entity: string) =>
    entity !== '' && (named === undefined ? !own.has(entity) : entity === named);
  // The window so far, then each complete day of the lookback and today, each grouped by entity.
  const span = windowAt(window, now, zone);
  const days: { start: number; end: number }[] = [];
  let day = windowAt('day', now, zone);
  days.push({ start: day.start, end: now + 1 });
  for (let i = 0; i < LOOKBACK_DAYS; i++) {
    day = windowAt('day', day.start - 1, zone);
    days.push({ start: day.start, end: day.end });
  }
  // Each entity of the kind (models and providers matched by name after grouping: the ledger
  // keeps the model as the provider spelled it), from one grouped summary a day.
  const read = (from: number, to: number) => store.summarize({ groupBy, from, to });
  const [inWindow, ...daily] = await Promise.all([
    read(span.start, now + 1),
    ...days.map((d) => read(d.start, d.end)),
  ]);
  const spent = sumBy(kind, inWindow ?? [], wanted);
  const series = new Map<string, { start: number; costFemto: bigint }[]>();
  daily.forEach((rows, i) => {
    const start = days[i]?.start ?? 0;
    for (const [entity, costFemto] of sumBy(kind, rows, wanted)) {
      const list = series.get(entity) ?? [];
      list.push({ start, costFemto });
      series.set(entity, list);
    }
  });
  const entities = new Set([...spent.keys(), ...series.keys()]);
  if (named !== undefined) entities.add(named);
  return [...entities]
    .map((entity) => ({
      ...forecastSpend({
        window,
        now,
        spentFemto: spent.get(entity) ?? 0n,
        daily: series.get(entity) ?? [],
        limitUsd: rule.limitUsd,
        timeZone: zone,
      }),
      entity,
    }))
    .sort((a, b) => b.projectedUsd - a.projectedUsd || a.entity.localeCompare(b.entity));
}

/** Sums summary rows by the entity they belong to under `kind`, keeping the wanted ones. */
function sumBy(
  kind: ScopeKind,
  rows: readonly SummaryRow[],
  wanted: (entity: string) => boolean,
): Map<string, bigint> {
  const sums = new Map<string, bigint>();
  for (const row of rows) {
    const entity = entityOf(kind, row.key);
    if (!wanted(entity)) continue;
    sums.set(entity, (sums.get(entity) ?? 0n) + row.costFemto);
  }
  return sums;
}

/**
 * The forecast of a budget rule's current window from the ledger (null for `request` windows),
 * for every scope kind. A rule without a scope id reports the entity projected highest, with
 * `entities` and `entitiesOverLimit`; with none spending, a zero forecast and `entity: ''`.
 * Pass every rule as `rules` so entities with their own rule are left out of an id-less one.
 *
 * @example
 * const f = await ruleForecast(store, { id: 'm', scope: { kind: 'provider', id: 'google' }, window: 'month', limitUsd: 100, mode: 'soft' });
 */
export async function ruleForecast(
  store: Pick<Store, 'summarize'>,
  rule: BudgetRule,
  now = Date.now(),
  rules: readonly BudgetRule[] = [],
): Promise<RuleForecast | null> {
  if (rule.window === 'request') return null;
  const all = await entityForecasts(store, rule, now, rules);
  const top = all[0] ?? {
    ...forecastSpend({
      window: rule.window,
      now,
      spentFemto: 0n,
      daily: [],
      limitUsd: rule.limitUsd,
      timeZone: rule.timeZone ?? 'UTC',
    }),
    entity: ruleEntity(rule) ?? '',
  };
  return {
    ...top,
    entities: all.filter((f) => f.spentUsd > 0 || f.dailyRateUsd > 0).length,
    entitiesOverLimit: all.filter((f) => f.overLimit).length,
  };
}
