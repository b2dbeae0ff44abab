import type { Pricer } from '../price/pricer.js';
import type { TokenUsage } from '../usage/types.js';

/** What an insight is about. */
export type InsightKind =
  | 'what_if'
  | 'heavy_calls'
  | 'prompt_growth'
  | 'revision_loop'
  | 'caching'
  | 'below_cache_minimum'
  | 'thinking'
  | 'unpriced_calls'
  | 'repaired_usage';

/**
 * How far to trust a saving: `high` is an exact repricing of recorded tokens; `medium` assumes
 * a change of behaviour (fewer tokens) priced exactly; `low` rests on a heuristic (prefixes
 * guessed from prompt sizes, since records do not keep prompt text).
 */
export type InsightConfidence = 'high' | 'medium' | 'low';

/** One candidate's line in a what-if table: the same tokens priced on another model. */
export interface WhatIfRow {
  model: string;
  costUsd: number;
  /** The exact cost as a decimal string of dollars. */
  costUsdExact: string;
  /** Current cost minus this cost (negative when the candidate is dearer). */
  savingUsd: number;
  savingUsdExact: string;
  /** Saving as a percentage of the current cost (0 when the current cost is 0). */
  savingPercent: number;
}

/** The cost of one iteration of a revision loop. */
export interface LoopIteration {
  iteration: number;
  calls: number;
  costUsd: number;
  costUsdExact: string;
}

/** One finding, as typed data with a one-line text. */
export interface Insight {
  kind: InsightKind;
  /** `warning` for data problems (unpriced, repaired usage); `suggestion` otherwise. */
  severity: 'suggestion' | 'warning';
  agent?: string;
  model?: string;
  threadId?: string;
  /** The numbers the insight rests on (calls, tokens, shares), named. */
  evidence: Record<string, number>;
  /** Estimated saving in dollars, the exact amount rounded once (0 for warnings). */
  savingUsd: number;
  /** The exact saving as a decimal string of dollars. */
  savingUsdExact: string;
  confidence: InsightConfidence;
  /** One line for people. */
  text: string;
  /** `what_if`: current cost first (`model: 'current'`), then each candidate. */
  table?: WhatIfRow[];
  /** `revision_loop`: the cost of each iteration. */
  iterations?: LoopIteration[];
}

/** The result of `getInsights`. */
export interface InsightReport {
  /** Calls analysed. */
  calls: number;
  costUsd: number;
  costUsdExact: string;
  /** Warnings first, then suggestions by saving, largest first. */
  insights: Insight[];
}

/** Options of `getInsights`. */
export interface InsightOptions {
  /**
   * Candidate models per agent or model name (`'*'` for every group), e.g.
   * `{ researcher: ['gemini-2.5-flash-lite'] }`. Without one, a group's candidates are the same
   * provider's cheaper models of the same family in the catalog.
   */
  candidates?: Record<string, readonly string[]>;
  /** Most default candidates per table (default 3). */
  maxCandidates?: number;
  /** Prompt tokens a call above which a call is heavy (default 5,000). */
  heavyPromptTokens?: number;
  /** Fraction of output cost spent on thinking that earns a suggestion (default 0.3). */
  thinkingShare?: number;
  /** The thinking budget to price, as a fraction of the tokens spent now (default 0.5). */
  thinkingBudgetFactor?: number;
  /** Cache-hit share below which repeated prompts earn a caching suggestion (default 0.1). */
  cacheHitShare?: number;
  /** Minimum cacheable prompt size per model name prefix, over the built-in table. */
  minCacheableTokens?: Record<string, number>;
  /** The pricer for repricing (default: the tracker's, else the catalog's). */
  pricer?: Pricer;
  /** Drop suggestions whose saving is below this many dollars (default 0: keep all). */
  minSavingUsd?: number;
  /** Kinds to leave out. */
  exclude?: readonly InsightKind[];
}

/** One call as the analyses see it. @internal */
export interface InsightCall {
  agent: string;
  node: string;
  model: string;
  provider: string | undefined;
  threadId: string | undefined;
  timestamp: number;
  usage: TokenUsage;
  priced: boolean;
  /** The recorded cost, exact (0 when unpriced). */
  costFemto: bigint;
  repaired: number;
}
