/**
 * Budget rules: what they say, how they are validated, which calls they apply to, and the key of
 * the counter a call is charged to.
 */
import { z } from 'zod';
import { ConfigurationError, describe, formatIssues } from '../../errors.js';
import { parseModelName } from '../../price/catalog.js';
import { usdToFemto } from '../../price/money.js';
import { assertTimeZone, type CalendarWindow, windowAt } from './calendar.js';

/** What a budget rule counts: per user, tenant, model, provider, agent, or everything (`global`). */
export type ScopeKind = 'user' | 'tenant' | 'model' | 'provider' | 'agent' | 'global';
/** A rule's window: each call on its own (`request`), or a calendar hour, day, ISO week or month in the rule's time zone. */
export type BudgetWindow = 'request' | CalendarWindow;
/** `soft` counts and alerts; `hard` refuses; `adaptive` switches to a fallback model or a lower output cap when low. */
export type BudgetMode = 'soft' | 'hard' | 'adaptive';

/** Alert thresholds used when a rule names none: half, 80% and 95% of the limit. */
export const DEFAULT_ALERT_AT: readonly number[] = Object.freeze([0.5, 0.8, 0.95]);

/**
 * One budget.
 *
 * - `scope.id` names one user, tenant, model, provider (catalog id, e.g. `google`) or agent.
 *   Without it the rule applies to each one separately: `{ kind: 'user' }` with a $5 daily limit
 *   gives every user their own $5 a day. A rule with an id replaces the id-less rules of the
 *   same kind and window for that id (a user's own limit wins over the default for users).
 * - `window`: `request` caps each single call (no counter); the others are calendar windows in
 *   `timeZone` (default UTC) that reset at their boundaries.
 * - `mode`: `hard` refuses a call whose estimate does not fit; `soft` only alerts; `adaptive`
 *   never refuses but, when the budget runs low, tells the caller to use `adaptive.fallbackModel`
 *   or fewer output tokens.
 * - `alertAt`: fractions of the limit (0 < t ≤ 1), each alerted once per window; default
 *   `[0.5, 0.8, 0.95]`, `[]` for none.
 *
 * @example
 * { id: 'acme-monthly', scope: { kind: 'tenant', id: 'acme' }, window: 'month', limitUsd: 500,
 *   mode: 'hard', alertAt: [0.8], timeZone: 'Europe/Berlin' }
 */
export interface BudgetRule {
  id: string;
  scope: { kind: ScopeKind; id?: string | undefined };
  window: BudgetWindow;
  limitUsd: number;
  mode: BudgetMode;
  alertAt?: number[] | undefined;
  timeZone?: string | undefined;
  adaptive?:
    | {
        /** The model to switch to when the budget runs low. */
        fallbackModel?: string | undefined;
        /** Adapt when less than this fraction of the limit remains after the call (default 0.2). */
        lowBudgetFraction?: number | undefined;
        /** Lower `maxOutputTokens`, down to this floor, when the budget runs low. */
        minMaxOutputTokens?: number | undefined;
      }
    | undefined;
}

const ruleSchema = z
  .object({
    id: z.string().min(1),
    scope: z
      .object({
        kind: z.enum(['user', 'tenant', 'model', 'provider', 'agent', 'global']),
        id: z.string().min(1).optional(),
      })
      .strict()
      .refine((scope) => !(scope.kind === 'global' && scope.id !== undefined), {
        message: 'a global scope takes no id',
      }),
    window: z.enum(['request', 'hour', 'day', 'week', 'month']),
    limitUsd: z.number().finite().positive(),
    mode: z.enum(['soft', 'hard', 'adaptive']),
    alertAt: z.array(z.number().gt(0).lte(1)).optional(),
    timeZone: z.string().min(1).optional(),
    adaptive: z
      .object({
        fallbackModel: z.string().min(1).optional(),
        lowBudgetFraction: z.number().gt(0).lt(1).optional(),
        minMaxOutputTokens: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * Validates a rule, throwing `ConfigurationError` that names each bad field and its value.
 * Returns a normalized copy (alert thresholds sorted and unique, time zone checked).
 */
export function validateRule(rule: unknown): BudgetRule {
  const parsed = ruleSchema.safeParse(rule);
  if (!parsed.success) {
    throw new ConfigurationError(
      `Invalid budget rule${idOf(rule)}: ${formatIssues(rule, parsed.error)}`,
    );
  }
  const data = parsed.data;
  if (usdToFemto(data.limitUsd) === 0n) {
    // A zero limit would refuse (hard) or alert on every call: refused instead of rounded.
    throw new ConfigurationError(
      `Invalid budget rule ${describe(data.id)}: limitUsd: below one femto-dollar (10^-15 USD), the smallest limit tollgate counts (got ${describe(data.limitUsd)})`,
    );
  }
  if (data.timeZone !== undefined) assertTimeZone(data.timeZone);
  if (
    data.mode === 'adaptive' &&
    !data.adaptive?.fallbackModel &&
    !data.adaptive?.minMaxOutputTokens
  ) {
    throw new ConfigurationError(
      `Invalid budget rule ${describe(data.id)}: adaptive mode needs adaptive.fallbackModel or adaptive.minMaxOutputTokens`,
    );
  }
  const alertAt = [...new Set(data.alertAt ?? DEFAULT_ALERT_AT)].sort((a, b) => a - b);
  return { ...data, alertAt };
}

/** ` "the-id"` of a config object that has one, for error messages. */
export function idOf(value: unknown): string {
  return typeof value === 'object' && value !== null && 'id' in value
    ? ` ${describe(value.id)}`
    : '';
}

/** Who is making a call, as far as rules care. */
export interface CallSubject {
  userId?: string | undefined;
  tenantId?: string | undefined;
  /** Needed by model and provider rules; a call without one is not charged to them. */
  model?: string | undefined;
  provider?: string | undefined;
  agent?: string | undefined;
}

/** The entity id a scope kind refers to for this call (undefined: the call has none). */
export function subjectId(kind: ScopeKind, subject: CallSubject): string | undefined {
  switch (kind) {
    case 'user':
      return subject.userId;
    case 'tenant':
      return subject.tenantId;
    case 'agent':
      return subject.agent;
    case 'model':
      return subject.model === undefined ? undefined : parseModelName(subject.model).model;
    case 'provider':
      return subject.provider?.toLowerCase();
    case 'global':
      return '';
  }
}

/** A rule's id compared the way `subjectId` reports it (model names cleaned up, lower case). */
function ruleScopeId(rule: BudgetRule): string | undefined {
  const id = rule.scope.id;
  if (id === undefined) return undefined;
  if (rule.scope.kind === 'model') return parseModelName(id).model;
  if (rule.scope.kind === 'provider') return id.toLowerCase();
  return id;
}

/** A rule that applies to a call, with the entity it applies to. */
export interface RuleMatch {
  rule: BudgetRule;
  /** The entity charged: a user id, model…; '' for global. */
  entity: string;
}

/**
 * The rules that apply to a call. Rules with a scope id beat id-less rules of the same kind and
 * window for that id.
 */
export function matchRules(rules: Iterable<BudgetRule>, subject: CallSubject): RuleMatch[] {
  const specific: RuleMatch[] = [];
  const generic: RuleMatch[] = [];
  for (const rule of rules) {
    const entity = subjectId(rule.scope.kind, subject);
    if (entity === undefined) continue;
    const id = ruleScopeId(rule);
    if (id === undefined) generic.push({ rule, entity });
    else if (id === entity) specific.push({ rule, entity });
  }
  if (specific.length === 0) return generic;
  const overridden = new Set(specific.map((m) => `${m.rule.scope.kind}|${m.rule.window}`));
  return [
    ...specific,
    ...generic.filter((m) => !overridden.has(`${m.rule.scope.kind}|${m.rule.window}`)),
  ];
}

// Ids go inside a colon-separated key: escape the separator (and the escape) so that user
// "a:b" and user "a" with something after can never share a key.
const escapeId = (id: string) => id.replace(/%/g, '%25').replace(/:/g, '%3A');

/** The scope part of a key: `user:alice`, `model:gemini-2.5-flash`, `global`. */
export function scopeKey(kind: ScopeKind, entity: string): string {
  return kind === 'global' ? 'global' : `${kind}:${escapeId(entity)}`;
}

/**
 * The counter key of a calendar window for an entity at `at`, and when the window ends.
 *
 * @example
 * windowKey('user', 'alice', 'day', Date.parse('2026-11-23T10:00:00Z'), 'Europe/Berlin')
 * // { key: 'user:alice:day:2026-11-23@Europe/Berlin', expiresAt: Date.parse('2026-11-23T23:00:00Z') }
 */
export function windowKey(
  kind: ScopeKind,
  entity: string,
  window: CalendarWindow,
  at: number,
  timeZone = 'UTC',
): { key: string; expiresAt: number } {
  const span = windowAt(window, at, timeZone);
  return {
    key: `${scopeKey(kind, entity)}:${window}:${span.label}@${timeZone}`,
    expiresAt: span.end,
  };
}
