import { femtoToDecimal, femtoToUsd } from '../price/money.js';
import type { Pricer } from '../price/pricer.js';
import { catalogCandidates } from './candidates.js';
import { money, priceOf, recordedCost, saving } from './money.js';
import type { Insight, InsightCall, WhatIfRow } from './types.js';

/** What the what-if analysis needs from the options. @internal */
export interface WhatIfSettings {
  pricer: Pricer;
  candidates: Record<string, readonly string[]> | undefined;
  maxCandidates: number;
}

/**
 * The exact cost of `calls`, token for token (cache, thinking, tiers and modalities as
 * recorded), priced on `model` at each call's date; null when the model has no price.
 */
export function repriceCalls(
  pricer: Pricer,
  calls: readonly InsightCall[],
  model: string,
): bigint | null {
  let sum = 0n;
  for (const call of calls) {
    const cost = priceOf(pricer, call, call.usage, model);
    if (cost === null) return null;
    sum += cost;
  }
  return sum;
}

function row(model: string, cost: bigint, current: bigint): WhatIfRow {
  const diff = current - cost;
  return {
    model,
    costUsd: femtoToUsd(cost),
    costUsdExact: femtoToDecimal(cost),
    ...saving(diff),
    savingPercent: current > 0n ? Number((diff * 10_000n) / current) / 100 : 0,
  };
}

/** The costliest model of a group: its provider and family pick the default candidates. */
function mainModel(calls: readonly InsightCall[]): InsightCall {
  const byModel = new Map<string, { call: InsightCall; cost: bigint }>();
  for (const call of calls) {
    const entry = byModel.get(call.model) ?? { call, cost: 0n };
    entry.cost += call.costFemto;
    byModel.set(call.model, entry);
  }
  let best: { call: InsightCall; cost: bigint } | undefined;
  for (const entry of byModel.values()) if (!best || entry.cost > best.cost) best = entry;
  return (best as { call: InsightCall }).call;
}

/**
 * A what-if table for one group (an agent's or a model's priced calls): the current cost, then
 * each candidate's cost of the same tokens. User candidates are all shown; default candidates
 * only when cheaper, the cheapest `maxCandidates`.
 */
function tableFor(
  scope: 'agent' | 'model',
  name: string,
  calls: readonly InsightCall[],
  settings: WhatIfSettings,
): Insight | undefined {
  const priced = calls.filter((call) => call.priced);
  if (priced.length === 0) return undefined;
  const current = recordedCost(priced);
  const given = settings.candidates?.[name] ?? settings.candidates?.['*'];
  const main = mainModel(priced);
  const models = (given ?? catalogCandidates(settings.pricer, main.model, main.provider)).filter(
    (model) => !priced.every((call) => call.model === model),
  );
  const costs: { model: string; cost: bigint }[] = [];
  for (const model of new Set(models)) {
    const cost = repriceCalls(settings.pricer, priced, model);
    if (cost === null) continue;
    if (!given && cost >= current) continue;
    costs.push({ model, cost });
  }
  costs.sort((a, b) => (a.cost < b.cost ? -1 : a.cost > b.cost ? 1 : 0));
  const shown = given ? costs : costs.slice(0, settings.maxCandidates);
  const best = shown[0];
  if (!best) return undefined;
  const bestSaving = current - best.cost;
  const who = scope === 'agent' ? name : `calls to ${name}`;
  return {
    kind: 'what_if',
    severity: 'suggestion',
    ...(scope === 'agent' ? { agent: name } : { model: name }),
    evidence: { calls: priced.length, candidates: shown.length },
    ...saving(bestSaving > 0n ? bestSaving : 0n),
    confidence: 'high',
    text:
      `${who}: the same ${priced.length === 1 ? 'call' : `${priced.length} calls`} on ${best.model} would cost ` +
      `${money(best.cost)} instead of ${money(current)}` +
      ' (the same tokens repriced, not a prediction of quality or token counts)',
    table: [row('current', current, current), ...shown.map((c) => row(c.model, c.cost, current))],
  };
}

/** Calls grouped by a key, in order. @internal */
export function groupBy(calls: readonly InsightCall[], key: (call: InsightCall) => string) {
  const groups = new Map<string, InsightCall[]>();
  for (const call of calls) {
    const name = key(call);
    const group = groups.get(name);
    if (group) group.push(call);
    else groups.set(name, [call]);
  }
  return groups;
}

/** What-if repricing tables for every agent and every model. @internal */
export function whatIfInsights(calls: readonly InsightCall[], settings: WhatIfSettings): Insight[] {
  const insights: Insight[] = [];
  for (const [agent, group] of groupBy(calls, (c) => c.agent)) {
    const insight = tableFor('agent', agent, group, settings);
    if (insight) insights.push(insight);
  }
  for (const [model, group] of groupBy(calls, (c) => c.model)) {
    const insight = tableFor('model', model, group, settings);
    if (insight) insights.push(insight);
  }
  return insights;
}
