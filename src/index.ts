/**
 * tollgate: exact token and cost accounting for LLM calls.
 * The core: normalize → price → account → react → show. No SDK, store or server dependency.
 */
export type { AggregateStats } from './account/aggregate.js';
export type { RecordInput, UsageRecord } from './account/record.js';
export {
  currentTokenTracker,
  getTokenTracker,
  type ReportOptions,
  TokenTracker,
  type TokenTrackerOptions,
  type TokenUsageStats,
} from './account/tracker.js';
export {
  BudgetExceededError,
  ConfigurationError,
  CurrencyError,
  InvalidPriceOverrideError,
  InvalidUsageError,
  MissingPeerError,
  RateLimitExceededError,
  StoreUnavailableError,
  TollgateError,
  UnknownModelError,
} from './errors.js';
export {
  getInsights,
  type HistorySource,
  type Insight,
  type InsightConfidence,
  type InsightKind,
  type InsightOptions,
  type InsightReport,
  type InsightSource,
  type LedgerInsightOptions,
  type LoopIteration,
  ledgerInsights,
  repriceCalls,
  type WhatIfRow,
} from './insights/index.js';
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
export {
  SERVICE_TIER_FACTORS,
  type ServiceTierPricing,
  type TierFactors,
} from './price/tiers.js';
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
  type ForecastInput,
  forecastSpend,
  ledgerForecast,
  type SpendForecast,
} from './react/forecast.js';
export {
  type BudgetHold,
  DEFAULT_HOLD_MS,
  DEFAULT_HOLD_OUTPUT_TOKENS,
  type HoldRequest,
  NO_HOLD,
} from './react/holds.js';
export {
  type RateCheckInput,
  type RateCheckResult,
  type RateLimit,
  type RateLimitedEvent,
  RateLimiter,
  type RateLimiterEvents,
  type RateLimiterOptions,
} from './react/rate-limit.js';
export {
  type EntityForecast,
  entityForecasts,
  type RuleForecast,
  ruleForecast,
} from './react/rule-forecast.js';
export { costBreakdownSvg } from './show/chart.js';
export {
  type CurrencyConverter,
  currencyConverter,
  ECB_DAILY_URL,
  type EcbOptions,
  type FxRate,
  type FxRates,
  fetchEcbRates,
  loadRatesFile,
  parseEcbXml,
  parseRates,
  type RateInput,
  ratesFromEnv,
} from './show/currency/index.js';
export {
  type ExportedCall,
  fileTimestamp,
  toCsv,
  toExportedCall,
  type UsageExport,
  writeFileAtomic,
} from './show/export.js';
export { type CurrencyTotal, currencyJson } from './show/export-currency.js';
export { formatInsights } from './show/insights-text.js';
export { formatCostReport } from './show/report.js';
export { formatSuggestions, type SuggestionOptions } from './show/suggestions.js';
export { detectUsageFormat, normalizeUsage } from './usage/normalize.js';
export { parseServiceTier, trafficTypeTier } from './usage/tier.js';
export {
  type CacheTtl,
  type Modality,
  type ModalityCounts,
  type NormalizeOptions,
  SERVICE_TIERS,
  type ServiceTier,
  type TokenUsage,
  type UsageFormat,
  type UsageRepair,
} from './usage/types.js';
