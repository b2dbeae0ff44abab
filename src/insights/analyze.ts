import { ConfigurationError, describe } from '../errors.js';
import { decimalToScaled, femtoToDecimal, femtoToUsd, usdToFemto } from '../price/money.js';
import { cachingInsights, thinkingInsights, warningInsights } from './cache-thinking.js';
import { checkCandidates } from './candidates.js';
import { recordedCost } from './money.js';
import { heavyCallInsights, promptGrowthInsights, revisionLoopInsights } from './run-shape.js';
import { type InsightSource, readSource } from './source.js';
import type { Insight, InsightOptions, InsightReport } from './types.js';
import { whatIfInsights } from './what-if.js';

function positive(
  name: string,
  value: unknown,
  fallback: number,
  max = Number.POSITIVE_INFINITY,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    throw new ConfigurationError(
      `getInsights: ${name} must be a number from 0 to ${max} (got ${describe(value)})`,
    );
  }
  return value;
}

/**
 * Where the money goes and what to change, from recorded traffic: what-if repricing of each
 * agent's and model's exact tokens on cheaper models, heavy calls and prompt growth, revision
 * loops, caching, thinking share, and warnings for unpriced or repaired calls. Each insight is
 * typed data with its evidence, an exact estimated saving, a confidence and a one-line text.
 *
 * @example
 * const report = getInsights(tracker, { candidates: { researcher: ['gemini-2.5-flash-lite'] } });
 * for (const insight of report.insights) console.log(insight.text);
 */
export function getInsights(source: InsightSource, options: InsightOptions = {}): InsightReport {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError(
      `getInsights: options must be an object (got ${describe(options)})`,
    );
  }
  const { calls, pricer } = readSource(source, options.pricer);
  const candidates = checkCandidates(options.candidates, pricer);
  const maxCandidates = positive('maxCandidates', options.maxCandidates, 3, 100);
  const heavy = positive('heavyPromptTokens', options.heavyPromptTokens, 5000);
  const share = positive('thinkingShare', options.thinkingShare, 0.3, 1);
  const factor = positive('thinkingBudgetFactor', options.thinkingBudgetFactor, 0.5, 1);
  const hitShare = positive('cacheHitShare', options.cacheHitShare, 0.1, 1);
  const minSaving = usdToFemto(positive('minSavingUsd', options.minSavingUsd, 0));
  for (const [prefix, tokens] of Object.entries(options.minCacheableTokens ?? {})) {
    positive(`minCacheableTokens.${prefix}`, tokens, 0);
  }
  const excluded = new Set(options.exclude ?? []);
  const all: Insight[] = [
    ...warningInsights(calls),
    ...whatIfInsights(calls, { pricer, candidates, maxCandidates }),
    ...heavyCallInsights(calls, pricer, heavy),
    ...promptGrowthInsights(calls, pricer),
    ...revisionLoopInsights(calls),
    ...cachingInsights(calls, pricer, hitShare, options.minCacheableTokens),
    ...thinkingInsights(calls, pricer, share, factor),
  ];
  const insights = all.filter(
    (insight) =>
      !excluded.has(insight.kind) &&
      (insight.severity === 'warning' ||
        insight.kind === 'below_cache_minimum' ||
        decimalToScaled(insight.savingUsdExact, 15) >= minSaving),
  );
  insights.sort(
    (a, b) =>
      (a.severity === 'warning' ? 0 : 1) - (b.severity === 'warning' ? 0 : 1) ||
      b.savingUsd - a.savingUsd,
  );
  const cost = recordedCost(calls);
  return {
    calls: calls.length,
    costUsd: femtoToUsd(cost),
    costUsdExact: femtoToDecimal(cost),
    insights,
  };
}
