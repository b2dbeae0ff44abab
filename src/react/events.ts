import type { UsageRecord } from '../account/record.js';
import type { UsageRepair } from '../usage/types.js';

/** Payload of `budget_warning` and `budget_exceeded`. */
export interface BudgetEvent {
  type: 'budget_warning' | 'budget_exceeded';
  /** The fraction of the limit crossed (0.9 for the default warning; 1 when exceeded). */
  threshold: number;
  spentUsd: number;
  limitUsd: number;
  remainingUsd: number;
  utilizationPercent: number;
  /** The agent and model of the call that crossed the threshold. */
  agent: string;
  model: string;
  callId: string | undefined;
  recordId: string;
  timestamp: number;
}

/** Fired once per model the catalog does not price. */
export interface UnpricedModelEvent {
  type: 'unpriced_model';
  model: string;
  provider: string | undefined;
  agent: string;
}

/** Fired when usage had to be repaired, or a response carried no usage at all. */
export interface UsageAnomalyEvent {
  type: 'usage_anomaly';
  /** What was wrong, in a sentence. */
  message: string;
  /** Each repair made (empty when the call reported no usage at all). */
  repairs: UsageRepair[];
  agent: string;
  model: string;
  callId: string | undefined;
  /** The stored record, or undefined when nothing was recorded (no usage reported). */
  record: UsageRecord | undefined;
}

/**
 * Payload of `store_error`: the tracker's store failed to take a batch. Tracking goes on; the
 * batch stays buffered and is retried at the next flush.
 */
export interface StoreErrorEvent {
  type: 'store_error';
  /** The store's name (`sqlite`, `redis`, …). */
  store: string;
  operation: 'append';
  error: unknown;
  /** Records waiting for the next flush, the failed batch included. */
  pendingRecords: number;
  /** Records left out of the ledger so far because the buffer was full (`maxPendingRecords`). */
  droppedRecords: number;
}

/** The tracker's events and their listener signatures. */
export interface TrackerEvents {
  /** Every recorded call. */
  usage: (record: UsageRecord) => void;
  /** A warning threshold of the session budget was crossed (once each). */
  budget_warning: (event: BudgetEvent) => void;
  /** The session budget is spent (once). */
  budget_exceeded: (event: BudgetEvent) => void;
  /** A model without a price (once per model). */
  unpriced_model: (event: UnpricedModelEvent) => void;
  /** Usage repaired or missing. */
  usage_anomaly: (event: UsageAnomalyEvent) => void;
  /** A ledger write failed; the batch stays buffered and is retried. */
  store_error: (event: StoreErrorEvent) => void;
}

/** The names of a TokenTracker's events. */
export type TrackerEventName = keyof TrackerEvents;
