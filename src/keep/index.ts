/**
 * The ledger contract and its helpers. Drivers live on their own subpaths
 * (`tollgate/sqlite`, `tollgate/redis`); the in-memory reference driver is here.
 */
export { MemoryStore } from './memory.js';
export { toLedgerRecord, toUsageRecord } from './record.js';
export type {
  BudgetCounter,
  CounterState,
  GroupBy,
  LedgerRecord,
  QueryOptions,
  QueryPage,
  RateRequest,
  RateResult,
  RatesResult,
  RecordFilter,
  ReserveRequest,
  ReserveResult,
  Store,
  StoreCapabilities,
  SummaryOptions,
  SummaryRow,
} from './types.js';
