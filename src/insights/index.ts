/** Cost insights: what-if repricing and suggestions from recorded traffic (core, no I/O). */
export { getInsights } from './analyze.js';
export { type LedgerInsightOptions, ledgerInsights } from './ledger.js';
export type { HistorySource, InsightSource } from './source.js';
export type * from './types.js';
export { repriceCalls } from './what-if.js';
