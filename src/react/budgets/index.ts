/**
 * Budgets beyond one session: per user, tenant, model, provider, agent and global, over
 * request, hour, day, week and month windows, enforced atomically in a shared store.
 */

export { DEFAULT_LOW_FRACTION } from './adaptive.js';
export { assertTimeZone, type CalendarWindow, type WindowSpan, windowAt } from './calendar.js';
export {
  type CallEstimate,
  type CallEstimateInput,
  CHARS_PER_TOKEN,
  countWordTokens,
  estimateCallCost,
  estimatePromptTokens,
} from './estimate.js';
export type {
  Adaptation,
  AdaptiveEvent,
  BudgetAlertEvent,
  BudgetManagerEvents,
  BudgetRefusedEvent,
  ChargedScope,
  StoreErrorEvent,
} from './events.js';
export { BudgetManager } from './manager.js';
export {
  type BudgetMode,
  type BudgetRule,
  type BudgetWindow,
  type CallSubject,
  DEFAULT_ALERT_AT,
  type ScopeKind,
  validateRule,
  windowKey,
} from './rules.js';
export type {
  BudgetManagerOptions,
  Charge,
  Reservation,
  ReserveInput,
  ReserveOutcome,
  UserStats,
  WindowStats,
} from './types.js';
