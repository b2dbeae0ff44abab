/**
 * `budget_forecast` alerts: a budget rule whose window's projected spend passes its limit is
 * alerted once per window (a rule for every user, tenant… once per entity and window), through
 * the dispatcher's channels.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ConfigurationError } from '../errors.js';
import type { Store } from '../keep/types.js';
import type { BudgetRule } from '../react/budgets/rules.js';
import { type EntityForecast, entityForecasts } from '../react/rule-forecast.js';
import { alertId, type BudgetAlert, createBudgetAlert, formatAlertUsd } from './alert.js';
import type { AlertDispatcher } from './dispatcher.js';

/** Options of `createForecastAlerts`. */
export interface ForecastAlertOptions {
  dispatcher: Pick<AlertDispatcher, 'send'>;
  /** The ledger the forecasts read. */
  store: Pick<Store, 'summarize'>;
  /** The rules to watch, read at each check (e.g. `() => budgets.listRules()`). */
  rules: () => readonly BudgetRule[];
  /**
   * A JSON file remembering the alerts sent (id → window end), so a restarted process does not
   * alert the same window again. Absent or empty: start afresh; unreadable: ConfigurationError.
   */
  sentPath?: string;
}

/** Checks forecasts on demand or on an interval. */
export interface ForecastAlerts {
  /** Forecasts every rule now and sends the alerts not sent before in this window. */
  check(now?: number): Promise<BudgetAlert[]>;
  /** Checks every `intervalMs` (the timer does not keep the process alive); returns a stop. */
  start(intervalMs: number): () => void;
}

function forecastAlert(rule: BudgetRule, f: EntityForecast): BudgetAlert {
  const scope =
    rule.scope.kind === 'global'
      ? 'global'
      : `${rule.scope.kind}:${rule.scope.id === undefined ? f.entity : rule.scope.id}`;
  const limit = rule.limitUsd;
  const runOut = f.runOutAt ? `; runs out ${f.runOutAt}` : '';
  return createBudgetAlert({
    // One per rule, entity and window instance: every process derives the same id, receivers
    // dedupe. A rule naming its entity keeps the id it always had.
    id:
      rule.scope.id === undefined && rule.scope.kind !== 'global'
        ? alertId('forecast', rule.id, f.entity, f.windowStart, limit)
        : alertId('forecast', rule.id, f.windowStart, limit),
    kind: 'budget_forecast',
    threshold: Math.round((f.projectedUsd / limit) * 1e6) / 1e6,
    spentUsd: f.spentUsd,
    limitUsd: limit,
    scope,
    window: rule.window,
    ruleId: rule.id,
    resetsAt: Date.parse(f.windowEnd),
    text:
      `Budget forecast: ${formatAlertUsd(f.spentUsd, limit)} / ${formatAlertUsd(limit, limit)} spent, ` +
      `projected ${formatAlertUsd(f.projectedUsd, limit)} (${formatAlertUsd(f.projectedLowUsd, limit)}–${formatAlertUsd(f.projectedHighUsd, limit)}) ` +
      `by ${f.windowEnd} for ${scope} (${rule.window})${runOut}`,
  });
}

/**
 * Watches budget rules' forecasts (`entityForecasts`: every scope, each entity of a rule without
 * an id) and sends a `budget_forecast` alert once per rule, entity and window when the projection
 * passes the limit.
 *
 * @example
 * const watch = createForecastAlerts({ dispatcher, store, rules: () => budgets.listRules() });
 * const stop = watch.start(15 * 60_000);
 */
export function createForecastAlerts(options: ForecastAlertOptions): ForecastAlerts {
  /** Alert ids sent, with their window's end, forgotten once the window is over. */
  const sent = readSent(options.sentPath);
  const remember = () => {
    if (!options.sentPath) return;
    // Written whole and renamed into place: a crash mid-write leaves the previous file.
    const temp = `${options.sentPath}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(Object.fromEntries(sent))}\n`);
    renameSync(temp, options.sentPath);
  };
  const check = async (now = Date.now()): Promise<BudgetAlert[]> => {
    for (const [id, end] of sent) if (end <= now) sent.delete(id);
    const alerts: BudgetAlert[] = [];
    const rules = options.rules();
    for (const rule of rules) {
      for (const forecast of await entityForecasts(options.store, rule, now, rules)) {
        if (!forecast.overLimit) continue;
        const alert = forecastAlert(rule, forecast);
        if (sent.has(alert.id)) continue;
        sent.set(alert.id, Date.parse(forecast.windowEnd));
        remember();
        alerts.push(alert);
        await options.dispatcher.send(alert);
      }
    }
    return alerts;
  };
  return {
    check,
    start(intervalMs) {
      const timer = setInterval(() => {
        check().catch((error) => console.error('[tollgate] forecast alerts failed:', error));
      }, intervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}

/** The alerts sent before, from `sentPath`: an object of alert id → window end (epoch ms). */
function readSent(path: string | undefined): Map<string, number> {
  const sent = new Map<string, number>();
  if (!path) return sent;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return sent;
    throw new ConfigurationError(`forecast alerts: cannot read ${path}: ${String(error)}`);
  }
  if (text.trim() === '') return sent;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const entries =
    parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.entries(parsed) : null;
  if (!entries || entries.some(([, end]) => !Number.isFinite(end))) {
    throw new ConfigurationError(
      `forecast alerts: ${path} must be a JSON object of alert id → window end (epoch ms)`,
    );
  }
  for (const [id, end] of entries) sent.set(id, end as number);
  return sent;
}
