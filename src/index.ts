/**
 * tollgate: exact token and cost accounting for LLM calls.
 * The core: normalize → price → account → react → show. No SDK, store or server dependency.
 */
export type { AggregateStats } from './account/aggregate.js';
export type { RecordInput, UsageRecord } from './account/record.js';
export {
  currentTokenTracker,
  getTokenTracker,
  TokenTracker,
  type TokenTrackerOptions,
  type TokenUsageStats,
} from './account/tracker.js';
export {
  BudgetExceededError,
  ConfigurationError,
  InvalidPriceOverrideError,
  InvalidUsageError,
  MissingPeerError,
  RateLimitExceededError,
  StoreUnavailableError,
  TollgateError,
  UnknownModelError,
} from './errors.js';
export * from './keep/index.js';
export { parseModelName, type ResolvedModel } from './price/catalog.js';
export { femtoToDecimal, femtoToUsd, formatUsd, usdToFemto } from './price/money.js';
export { loadPriceOverrides, type PriceOverrides } from './price/overrides.js';
export {
  type CostBreakdown,
  type PriceOptions,
  Pricer,
  type PricerOptions,
  priceUsage,
} from './price/pricer.js';
export { toCatalogUsage } from './price/units.js';
export { SessionBudget } from './react/budget.js';
export * from './react/budgets/index.js';
export type {
  BudgetEvent,
  StoreErrorEvent,
  TrackerEventName,
  TrackerEvents,
  UnpricedModelEvent,
  UsageAnomalyEvent,
} from './react/events.js';
export {
  type RateCheckInput,
  type RateCheckResult,
  type RateLimit,
  type RateLimitedEvent,
  RateLimiter,
  type RateLimiterEvents,
  type RateLimiterOptions,
} from './react/rate-limit.js';
export { costBreakdownSvg } from './show/chart.js';
export {
  type ExportedCall,
  fileTimestamp,
  toCsv,
  toExportedCall,
  type UsageExport,
  writeFileAtomic,
} from './show/export.js';
export { formatCostReport } from './show/report.js';
export { detectUsageFormat, normalizeUsage } from './usage/normalize.js';
export type {
  CacheTtl,
  Modality,
  ModalityCounts,
  NormalizeOptions,
  TokenUsage,
  UsageFormat,
  UsageRepair,
} from './usage/types.js';
