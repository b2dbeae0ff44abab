import type { Pricer } from '../price/pricer.js';
import { money, saving, savingOf, withCacheReads, withReasoning } from './money.js';
import type { Insight, InsightCall } from './types.js';
import { groupBy } from './what-if.js';

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const percent = (part: number, whole: number) =>
  whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0;

/**
 * The smallest prompt each model family caches, first match wins (Google: 1,024 for Flash,
 * 4,096 for Pro; Anthropic: 1,024, 2,048 for Haiku; OpenAI: 1,024).
 */
const MIN_CACHEABLE: readonly [RegExp, number][] = [
  [/gemini.*pro/, 4096],
  [/gemini/, 1024],
  [/claude.*haiku/, 2048],
  [/claude/, 1024],
  [/^(gpt|o\d)/, 1024],
];

/** The minimum cacheable prompt size of a model: the user's table first (by prefix). @internal */
export function minCacheableTokens(model: string, overrides?: Record<string, number>): number {
  const name = model.toLowerCase().replace(/^.*models\//, '');
  if (overrides) {
    let best: [string, number] | undefined;
    for (const [prefix, tokens] of Object.entries(overrides)) {
      if (name.startsWith(prefix.toLowerCase()) && (!best || prefix.length > best[0].length))
        best = [prefix, tokens];
    }
    if (best) return best[1];
  }
  for (const [pattern, tokens] of MIN_CACHEABLE) if (pattern.test(name)) return tokens;
  return 1024;
}

/**
 * Caching: per agent and model, calls repeating a cacheable prompt within a thread. Records keep
 * no prompt text, so the shared prefix is estimated as the smaller of two consecutive prompts
 * (state appended in a loop keeps the earlier prompt as prefix). With a cache-hit share below
 * `hitShare`, the saving prices that prefix as cache reads. Calls below the model's minimum
 * cacheable size are reported apart: no cache can serve them.
 * @internal
 */
export function cachingInsights(
  calls: readonly InsightCall[],
  pricer: Pricer,
  hitShare: number,
  overrides?: Record<string, number>,
): Insight[] {
  const insights: Insight[] = [];
  for (const group of groupBy(calls, (c) => `${c.agent}\u0000${c.model}`).values()) {
    const head = group[0] as InsightCall;
    const minimum = minCacheableTokens(head.model, overrides);
    const below = group.filter((call) => call.usage.inputTokens < minimum).length;
    if (below >= 2) {
      insights.push({
        kind: 'below_cache_minimum',
        severity: 'suggestion',
        agent: head.agent,
        model: head.model,
        evidence: { calls: group.length, belowMinimum: below, minimumTokens: minimum },
        ...saving(0n),
        confidence: 'high',
        text: `${head.agent} on ${head.model}: ${below} of ${group.length} prompts are below the ${int(minimum)}-token minimum for caching, so no cache can serve them`,
      });
    }
    let input = 0;
    let cached = 0;
    let repeated = 0;
    let cut = 0n;
    for (const thread of groupBy(group, (c) => c.threadId ?? '').values()) {
      for (let i = 1; i < thread.length; i++) {
        const call = thread[i] as InsightCall;
        const prefix = Math.min(
          (thread[i - 1] as InsightCall).usage.inputTokens,
          call.usage.inputTokens,
        );
        if (prefix < minimum) continue;
        repeated++;
        input += call.usage.inputTokens;
        cached += call.usage.cacheReadTokens;
        cut += savingOf(pricer, call, withCacheReads(call.usage, prefix));
      }
    }
    if (repeated === 0 || cached >= input * hitShare || cut === 0n) continue;
    insights.push({
      kind: 'caching',
      severity: 'suggestion',
      agent: head.agent,
      model: head.model,
      evidence: {
        repeatedCalls: repeated,
        promptTokens: input,
        cachedTokens: cached,
        cacheHitPercent: percent(cached, input),
      },
      ...saving(cut),
      confidence: 'low',
      text:
        `${head.agent} on ${head.model}: ${repeated} ${repeated === 1 ? 'call repeats' : 'calls repeat'} a prompt of ${int(minimum)}+ tokens with ${percent(cached, input)}% read from cache; ` +
        `a stable prefix (instructions first, new state last) could save about ${money(cut)}`,
    });
  }
  return insights;
}

/**
 * Thinking: per agent, the share of output cost spent on thinking tokens. At `share` or more,
 * the saving prices the same calls with `factor` of their thinking tokens (a lower budget).
 * @internal
 */
export function thinkingInsights(
  calls: readonly InsightCall[],
  pricer: Pricer,
  share: number,
  factor: number,
): Insight[] {
  const insights: Insight[] = [];
  for (const [agent, group] of groupBy(calls, (c) => c.agent)) {
    let output = 0n;
    let thinking = 0n;
    let thinkingTokens = 0;
    let maxThinking = 0;
    let cut = 0n;
    for (const call of group) {
      if (!call.priced || call.usage.reasoningTokens === 0) continue;
      const exact = pricer.priceCall(call.usage, call.model, call.provider, call.timestamp).exact;
      output += exact.output + exact.reasoning;
      thinking += exact.reasoning;
      thinkingTokens += call.usage.reasoningTokens;
      maxThinking = Math.max(maxThinking, call.usage.reasoningTokens);
      cut += savingOf(
        pricer,
        call,
        withReasoning(call.usage, Math.floor(call.usage.reasoningTokens * factor)),
      );
    }
    if (output === 0n) continue;
    const sharePercent = Number((thinking * 1000n) / output) / 10;
    if (sharePercent < share * 100) continue;
    insights.push({
      kind: 'thinking',
      severity: 'suggestion',
      agent,
      evidence: {
        thinkingTokens,
        thinkingSharePercent: sharePercent,
        suggestedBudgetTokens: Math.floor(maxThinking * factor),
      },
      ...saving(cut),
      confidence: 'medium',
      text:
        `${agent}: thinking is ${sharePercent}% of output cost (${int(thinkingTokens)} thinking tokens); ` +
        `a thinking budget of ${int(Math.floor(maxThinking * factor))} tokens would save about ${money(cut)}`,
    });
  }
  return insights;
}

/** Warnings: calls no catalog prices, and usage the normalizer had to repair. @internal */
export function warningInsights(calls: readonly InsightCall[]): Insight[] {
  const insights: Insight[] = [];
  for (const [model, group] of groupBy(
    calls.filter((c) => !c.priced),
    (c) => c.model,
  )) {
    const tokens = group.reduce((sum, c) => sum + c.usage.totalTokens, 0);
    insights.push({
      kind: 'unpriced_calls',
      severity: 'warning',
      model,
      evidence: { calls: group.length, tokens },
      ...saving(0n),
      confidence: 'high',
      text: `${group.length} ${group.length === 1 ? 'call' : 'calls'} to ${model} (${int(tokens)} tokens) have no price: add a price override, or totals leave them out`,
    });
  }
  for (const [agent, group] of groupBy(
    calls.filter((c) => c.repaired > 0),
    (c) => c.agent,
  )) {
    insights.push({
      kind: 'repaired_usage',
      severity: 'warning',
      agent,
      evidence: { calls: group.length, repairs: group.reduce((sum, c) => sum + c.repaired, 0) },
      ...saving(0n),
      confidence: 'high',
      text: `${agent}: usage of ${group.length} ${group.length === 1 ? 'call was' : 'calls was'} repaired by the normalizer; check the provider's usage reporting`,
    });
  }
  return insights;
}
