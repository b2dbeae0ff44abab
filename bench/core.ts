/**
 * Core benchmarks (issue: core accounting). Figures are medians of repeated rounds, all
 * measured in this one run; see outputs/bench-core.json.
 */
import { calcPrice, findProvider } from '@pydantic/genai-prices';
import fc from 'fast-check';
import { TokenTracker } from '../src/account/tracker.js';
import { Pricer } from '../src/price/pricer.js';
import { toCatalogUsage } from '../src/price/units.js';
import type { TokenUsage } from '../src/usage/types.js';
import { arbitraryUsage } from '../test/support/usage.js';
import { median, timeRounds, writeResult } from './stats.js';

function benchRecord() {
  const usages = Array.from({ length: 1_000 }, (_, i) => ({
    promptTokenCount: 800 + ((i * 37) % 5_000),
    candidatesTokenCount: 100 + ((i * 11) % 900),
    thoughtsTokenCount: (i * 7) % 400,
    cachedContentTokenCount: (i * 3) % 500,
    totalTokenCount: 0,
  }));
  for (const u of usages) {
    u.totalTokenCount = u.promptTokenCount + u.candidatesTokenCount + u.thoughtsTokenCount;
  }
  const agents = ['planner', 'researcher', 'coder', 'tester', 'critic', 'synthesizer'];
  const models = ['gemini-2.5-flash', 'gemini-2.5-pro', 'models/gemini-2.0-flash'];
  const tracker = new TokenTracker({
    budgetLimitUsd: 1e9,
    warnAt: [0.5, 0.9],
    historyLimit: 10_000,
  });
  let seen = 0;
  tracker.on('usage', () => {
    seen++;
  });
  const batch = 10_000;
  const run = () => {
    for (let i = 0; i < batch; i++) {
      tracker.record({
        agent: agents[i % agents.length] as string,
        model: models[i % models.length] as string,
        usage: usages[i % usages.length],
        threadId: 'thread-1',
      });
    }
  };
  timeRounds(5, run); // warm up
  const rounds = timeRounds(60, run).map((ns) => ns / batch);
  return {
    what: 'TokenTracker.record(): normalize Gemini usageMetadata + price + aggregate (agent, model, thread) + usage and budget events',
    medianNsPerCall: Math.round(median(rounds)),
    targetNsPerCall: 2_000,
    meetsTarget: median(rounds) <= 2_000,
    rounds: rounds.length,
    callsPerRound: batch,
    listenerCalls: seen,
  };
}

function benchPricing() {
  const google = findProvider({ providerId: 'google' });
  const models = (google?.models ?? []).map((m) => m.id);
  const usages = fc.sample(arbitraryUsage(), { numRuns: 10_000, seed: 42 });
  const cases = usages.map((usage, i) => ({
    usage,
    catalogUsage: toCatalogUsage(usage),
    model: models[i % models.length] as string,
  }));
  const timestamp = new Date('2026-06-01T00:00:00Z');
  const pricer = new Pricer();
  let maxDifference = 0;
  let compared = 0;
  for (const c of cases) {
    const ours = pricer.price(c.usage as TokenUsage, c.model, { provider: 'google', timestamp });
    const theirs = calcPrice(c.catalogUsage, c.model, { providerId: 'google', timestamp });
    if (!theirs) throw new Error(`catalog has no price for ${c.model}`);
    maxDifference = Math.max(maxDifference, Math.abs(ours.totalUsd - theirs.total_price));
    compared++;
  }
  let sink = 0;
  const ours = timeRounds(15, () => {
    for (const c of cases)
      sink += pricer.price(c.usage, c.model, { provider: 'google', timestamp }).totalUsd;
  });
  const theirs = timeRounds(15, () => {
    for (const c of cases)
      sink +=
        calcPrice(c.catalogUsage, c.model, { providerId: 'google', timestamp })?.total_price ?? 0;
  });
  const oursNs = median(ours) / cases.length;
  const theirsNs = median(theirs) / cases.length;
  return {
    what: 'priceUsage (Pricer.price) vs @pydantic/genai-prices calcPrice on the same 10,000 random usages across every Google model in the catalog',
    models: models.length,
    usages: compared,
    maxAbsDifferenceUsd: maxDifference,
    identical: maxDifference <= 1e-12,
    medianNsPerCallOurs: Math.round(oursNs),
    medianNsPerCallCalcPrice: Math.round(theirsNs),
    speedup: Number((theirsNs / oursNs).toFixed(1)),
    targetSpeedup: 20,
    meetsTarget: theirsNs / oursNs >= 20 && maxDifference <= 1e-12,
    checksum: sink > 0,
  };
}

function benchMemory() {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const tracker = new TokenTracker({ historyLimit: 10_000 });
  for (let i = 0; i < 1_000_000; i++) {
    tracker.record({
      agent: `agent-${i % 8}`,
      model: 'gemini-2.5-flash',
      usage: {
        promptTokenCount: 1_000 + (i % 100),
        candidatesTokenCount: 200,
        totalTokenCount: 1_200 + (i % 100),
      },
    });
  }
  gc?.();
  const after = process.memoryUsage().heapUsed;
  return {
    what: 'heap growth after 1,000,000 records with historyLimit 10,000 (after GC)',
    gcExposed: Boolean(gc),
    records: tracker.getStatistics().totalCalls,
    retainedHistory: tracker.getUsageHistory().length,
    heapGrowthMiB: Number(((after - before) / 2 ** 20).toFixed(1)),
    bytesPerRetainedRecord: Math.round((after - before) / tracker.getUsageHistory().length),
  };
}

export function runCoreBenchmarks() {
  const result = { record: benchRecord(), pricing: benchPricing(), memory: benchMemory() };
  const path = writeResult('bench-core', result);
  return { path, result };
}
