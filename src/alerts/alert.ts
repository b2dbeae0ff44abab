/**
 * The one alert shape every channel receives, and how tracker and budget-manager events become
 * it. Pure functions: no I/O here, so the listener path that calls them stays cheap.
 */
import { createHash } from 'node:crypto';
import type { BudgetEvent } from '../react/events.js';

/** A budget crossed a threshold: what a webhook or an email says. */
export interface BudgetAlert {
  /**
   * Stable id of this (budget, window, threshold): the same crossing always has the same id, so
   * receivers drop repeats by it (sent as the `Idempotency-Key` header and the email Message-ID).
   */
  id: string;
  /** `budget_forecast`: the window's projected spend passes the limit (see `createForecastAlerts`). */
  kind: 'warning' | 'exceeded' | 'budget_forecast';
  /** The fraction of the limit crossed (0.9 = 90%; 1 when exceeded; projected ÷ limit for a forecast). */
  threshold: number;
  spentUsd: number;
  limitUsd: number;
  utilizationPercent: number;
  /** `session` for a tracker's own budget; `user:alice`, `tenant:acme`, `global`… for rules. */
  scope: string;
  /** The budget window (`hour`, `day`, `week`, `month`, `request`); absent for a session budget. */
  window?: string | undefined;
  /** The agent and model of the call that crossed the threshold, when known. */
  agent?: string | undefined;
  model?: string | undefined;
  /** The budget rule (BudgetManager alerts). */
  ruleId?: string | undefined;
  /** The tracker's session (TokenTracker alerts). */
  sessionId?: string | undefined;
  /** When the window's spend starts again from zero (epoch ms), when known. */
  resetsAt?: number | undefined;
  /** When the threshold was crossed (epoch ms). */
  timestamp: number;
  /** One human sentence, e.g. `Budget warning: $0.47 / $0.50 (94.0%) for user:alice (day)`. */
  text: string;
}

/** What `dispatcher.send` takes: an alert whose derived fields may be left out. */
export type BudgetAlertInput = Omit<
  BudgetAlert,
  'id' | 'kind' | 'utilizationPercent' | 'timestamp' | 'text'
> &
  Partial<Pick<BudgetAlert, 'id' | 'kind' | 'utilizationPercent' | 'timestamp' | 'text'>>;

/**
 * The documented payload of BudgetManager's `budget_alert` event (the fields read here). Any
 * emitter of this shape can feed a dispatcher.
 */
export interface BudgetAlertEventLike {
  ruleId: string;
  /** The counter key, e.g. `user:alice:day:2026-11-23@UTC`: names the window instance. */
  key: string;
  threshold: number;
  spentUsd: number;
  limitUsd: number;
  window: string;
  scope: { kind: string; id?: string | undefined };
  callId?: string | undefined;
  resetsAt?: number | undefined;
}

/**
 * Fills in an alert's derived fields: `kind` (exceeded at threshold ≥ 1), `utilizationPercent`,
 * `timestamp` (now), a stable `id` and the `text` sentence.
 *
 * @example
 * createBudgetAlert({ threshold: 0.9, spentUsd: 0.47, limitUsd: 0.5, scope: 'user:alice', window: 'day' }).text
 * // 'Budget warning: $0.47 / $0.50 (94.0%) for user:alice (day)'
 */
export function createBudgetAlert(input: BudgetAlertInput): BudgetAlert {
  const kind = input.kind ?? (input.threshold >= 1 ? 'exceeded' : 'warning');
  const utilizationPercent =
    input.utilizationPercent ??
    (input.limitUsd > 0 ? Math.round((input.spentUsd / input.limitUsd) * 1e8) / 1e6 : 0);
  const alert: BudgetAlert = {
    ...input,
    kind,
    utilizationPercent,
    timestamp: input.timestamp ?? Date.now(),
    id:
      input.id ??
      alertId(
        'alert',
        input.scope,
        input.window,
        input.ruleId,
        input.sessionId,
        input.limitUsd,
        kind,
        input.threshold,
      ),
    text: '',
  };
  alert.text = input.text ?? alertText(alert);
  return alert;
}

/**
 * The alert for a TokenTracker `budget_warning` or `budget_exceeded` event. The id covers the
 * session, the limit and the threshold: raising the limit re-arms thresholds, and those later
 * crossings are new alerts.
 */
export function alertFromTrackerEvent(event: BudgetEvent, sessionId?: string): BudgetAlert {
  const kind = event.type === 'budget_exceeded' ? 'exceeded' : 'warning';
  return createBudgetAlert({
    id: alertId('session', sessionId, event.limitUsd, kind, event.threshold),
    kind,
    threshold: event.threshold,
    spentUsd: event.spentUsd,
    limitUsd: event.limitUsd,
    utilizationPercent: event.utilizationPercent,
    scope: 'session',
    agent: event.agent,
    model: event.model,
    sessionId,
    timestamp: event.timestamp,
  });
}

/**
 * The alert for a BudgetManager `budget_alert` event. The counter key names the window instance
 * (`…:day:2026-11-23@UTC`), so every process that sees the same crossing derives the same id;
 * a per-call (`request`) rule alerts per call, so its id includes the call.
 */
export function alertFromBudgetEvent(event: BudgetAlertEventLike): BudgetAlert {
  const scope =
    event.scope.id === undefined || event.scope.id === ''
      ? event.scope.kind
      : `${event.scope.kind}:${event.scope.id}`;
  return createBudgetAlert({
    id: alertId(
      'rule',
      event.ruleId,
      event.key,
      event.threshold,
      event.window === 'request' ? event.callId : undefined,
    ),
    threshold: event.threshold,
    spentUsd: event.spentUsd,
    limitUsd: event.limitUsd,
    scope,
    window: event.window,
    ruleId: event.ruleId,
    resetsAt: event.resetsAt,
  });
}

/** `Budget warning: $0.47 / $0.50 (94.0%) for user:alice (day)`, plus the last call if known. */
export function alertText(alert: Omit<BudgetAlert, 'text'>): string {
  const head = alertHeading(alert.kind);
  const who = scopeLabel(alert);
  const limit = alert.limitUsd;
  let text = `${head}: ${formatAlertUsd(alert.spentUsd, limit)} / ${formatAlertUsd(limit, limit)} (${alert.utilizationPercent.toFixed(1)}%) for ${who}`;
  if (alert.window) text += ` (${alert.window})`;
  if (alert.agent && alert.agent !== 'unknown') {
    text += `; last call by ${alert.agent}${alert.model ? ` on ${alert.model}` : ''}`;
  } else if (alert.model) {
    text += `; last call on ${alert.model}`;
  }
  return text;
}

/** `Budget exceeded`, `Budget forecast` or `Budget warning`: the head of texts and subjects. */
export function alertHeading(kind: BudgetAlert['kind']): string {
  if (kind === 'exceeded') return 'Budget exceeded';
  return kind === 'budget_forecast' ? 'Budget forecast' : 'Budget warning';
}

/** Who the budget is for, in words: `user:alice`, or `session a1b2c3d4` for a tracker. */
export function scopeLabel(alert: Pick<BudgetAlert, 'scope' | 'sessionId'>): string {
  return alert.scope === 'session' && alert.sessionId ? `session ${alert.sessionId}` : alert.scope;
}

/**
 * An amount in dollars at the precision its budget needs: cents for budgets of a dime or more,
 * more places below, so a $0.005 budget reads `$0.0047 / $0.0050`, not `$0.00 / $0.01`.
 */
export function formatAlertUsd(usd: number, limitUsd: number): string {
  const digits =
    !(limitUsd > 0) || limitUsd >= 0.1 ? 2 : Math.min(8, Math.ceil(-Math.log10(limitUsd)) + 1);
  return `$${usd.toFixed(digits)}`;
}

/** A short hex digest of the parts: ASCII-safe for a header, whatever ids users chose. */
/** A stable id from the parts that name one alert. @internal */
export function alertId(...parts: unknown[]): string {
  const joined = parts.map((part) => (part === undefined ? '' : String(part))).join('\u0000');
  return createHash('sha256').update(joined).digest('hex').slice(0, 32);
}
