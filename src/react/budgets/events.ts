import type { BudgetMode, BudgetWindow, ScopeKind } from './rules.js';

/** The entity a budget charge applies to: `{ kind: 'user', id: 'alice' }`; no id for global. */
export interface ChargedScope {
  kind: ScopeKind;
  id?: string | undefined;
}

/** Payload of `budget_alert`: spend in a window crossed one of its rule's thresholds. */
export interface BudgetAlertEvent {
  type: 'budget_alert';
  ruleId: string;
  /** The counter key, e.g. `user:alice:day:2026-11-23@UTC`. */
  key: string;
  /** The fraction of the limit crossed (0.8 = 80%). */
  threshold: number;
  spentUsd: number;
  limitUsd: number;
  window: BudgetWindow;
  mode: BudgetMode;
  scope: ChargedScope;
  /** The call whose settlement crossed the threshold. */
  callId: string;
  /** When the window ends and the counter starts again from zero (epoch ms). */
  resetsAt: number;
}

/** Payload of `budget_refused`: a hard budget refused a call before it was made. */
export interface BudgetRefusedEvent {
  type: 'budget_refused';
  ruleIds: string[];
  key: string;
  callId: string;
  /** Settled plus reserved in the window before this call (for `request` rules: the estimate). */
  spentUsd: number;
  limitUsd: number;
  estimateUsd: number;
  scope: ChargedScope;
  agent: string | undefined;
}

/** What an adaptive budget asks of the call. */
export interface Adaptation {
  /** Use this model instead. */
  model?: string;
  /** Cap the output at this many tokens. */
  maxOutputTokens?: number;
}

/** Payload of `adaptive`: an adaptive budget runs low, so the call is degraded. */
export interface AdaptiveEvent {
  type: 'adaptive';
  ruleId: string;
  key: string;
  callId: string;
  /** The model the call asked for, when known. */
  model: string | undefined;
  adapt: Adaptation;
  /** What remains of the limit with this call's estimate held. */
  remainingUsd: number;
  limitUsd: number;
  scope: ChargedScope;
}

/** Payload of `store_error`: the store threw, and `failOpen` says whether the call went on. */
export interface StoreErrorEvent {
  type: 'store_error';
  operation:
    | 'reserve'
    | 'settle'
    | 'release'
    | 'counters'
    | 'markAlert'
    | 'consumeRate'
    | 'consumeRates';
  error: unknown;
  failOpen: boolean;
  callId?: string | undefined;
}

/** The budget manager's events and their listener signatures. */
export interface BudgetManagerEvents {
  /** A rule crossed one of its `alertAt` thresholds (once per threshold per window). */
  budget_alert: (event: BudgetAlertEvent) => void;
  /** A hard rule refused a call. */
  budget_refused: (event: BudgetRefusedEvent) => void;
  /** An adaptive rule ran low: the call is switched to a cheaper model or a lower output cap. */
  adaptive: (event: AdaptiveEvent) => void;
  /** The store failed; the call went on (fail-open) or was refused (fail-closed). */
  store_error: (event: StoreErrorEvent) => void;
}
