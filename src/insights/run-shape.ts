import { femtoToDecimal, femtoToUsd } from '../price/money.js';
import type { Pricer } from '../price/pricer.js';
import { money, saving, savingOf, withInput } from './money.js';
import type { Insight, InsightCall, LoopIteration } from './types.js';
import { groupBy } from './what-if.js';

const int = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * Agents whose prompts pass `threshold` tokens a call; the saving prices those calls with their
 * prompts trimmed to the threshold (cache reads and tool-use prompt shrunk in proportion).
 * @internal
 */
export function heavyCallInsights(
  calls: readonly InsightCall[],
  pricer: Pricer,
  threshold: number,
): Insight[] {
  const insights: Insight[] = [];
  for (const [agent, group] of groupBy(calls, (c) => c.agent)) {
    const heavy = group.filter((call) => call.usage.inputTokens > threshold);
    if (heavy.length === 0) continue;
    let prompt = 0;
    let max = 0;
    let cut = 0n;
    for (const call of heavy) {
      prompt += call.usage.inputTokens;
      max = Math.max(max, call.usage.inputTokens);
      cut += savingOf(pricer, call, withInput(call.usage, threshold));
    }
    const average = prompt / heavy.length;
    insights.push({
      kind: 'heavy_calls',
      severity: 'suggestion',
      agent,
      evidence: {
        calls: group.length,
        heavyCalls: heavy.length,
        averagePromptTokens: Math.round(average),
        maxPromptTokens: max,
        thresholdTokens: threshold,
      },
      ...saving(cut),
      confidence: 'medium',
      text:
        `${agent}: ${heavy.length} of ${group.length} calls send more than ${int(threshold)} prompt tokens ` +
        `(average ${int(average)}); trimming them to ${int(threshold)} would save about ${money(cut)}`,
    });
  }
  return insights;
}

/**
 * The same agent's prompt rising call after call within a thread (state accumulating in a
 * loop): at least 3 calls, the last at least 1.5 times the first, rising in 3 of 4 steps. The
 * saving prices every later call with the first call's prompt size.
 * @internal
 */
export function promptGrowthInsights(calls: readonly InsightCall[], pricer: Pricer): Insight[] {
  const insights: Insight[] = [];
  const runs = groupBy(calls, (c) => `${c.agent}\u0000${c.threadId ?? ''}`);
  for (const run of runs.values()) {
    if (run.length < 3) continue;
    const sizes = run.map((call) => call.usage.inputTokens);
    const first = sizes[0] as number;
    const last = sizes[sizes.length - 1] as number;
    let rises = 0;
    for (let i = 1; i < sizes.length; i++)
      if ((sizes[i] as number) > (sizes[i - 1] as number)) rises++;
    if (first === 0 || last < first * 1.5 || rises < (sizes.length - 1) * 0.75) continue;
    let cut = 0n;
    for (const call of run.slice(1)) cut += savingOf(pricer, call, withInput(call.usage, first));
    const head = run[0] as InsightCall;
    insights.push({
      kind: 'prompt_growth',
      severity: 'suggestion',
      agent: head.agent,
      ...(head.threadId ? { threadId: head.threadId } : {}),
      evidence: { calls: run.length, firstPromptTokens: first, lastPromptTokens: last },
      ...saving(cut),
      confidence: 'medium',
      text:
        `${head.agent}'s prompt grew from ${int(first)} to ${int(last)} tokens over ${run.length} calls; ` +
        `compressing state would save about ${money(cut)}`,
    });
  }
  return insights;
}

/**
 * Revision loops: within a thread, the nodes that run more than once. The iterations are the
 * runs of the least-repeated such node; each node's runs are spread over them in order. One
 * iteration fewer saves the last iteration's recorded cost. Threads with the same looping nodes
 * are summed into one insight.
 * @internal
 */
export function revisionLoopInsights(calls: readonly InsightCall[]): Insight[] {
  const loops = new Map<
    string,
    { nodes: string[]; threads: number; costs: bigint[]; counts: number[]; saved: bigint }
  >();
  for (const thread of groupBy(calls, (c) => c.threadId ?? '').values()) {
    const byNode = groupBy(thread, (c) => c.node);
    const looping = [...byNode].filter(([, runs]) => runs.length > 1);
    if (looping.length === 0) continue;
    const nodes = looping.map(([node]) => node);
    const key = nodes.join('\u0000');
    const loop = loops.get(key) ?? { nodes, threads: 0, costs: [], counts: [], saved: 0n };
    loop.threads++;
    // Parallel fan-out runs a node several times in one pass: the least-repeated looping node
    // counts the iterations, and a node's runs are spread over them in order.
    const iterations = Math.min(...looping.map(([, runs]) => runs.length));
    const costs: bigint[] = [];
    for (const [, runs] of looping) {
      runs.forEach((call, k) => {
        const at = Math.floor((k * iterations) / runs.length);
        costs[at] = (costs[at] ?? 0n) + call.costFemto;
        loop.counts[at] = (loop.counts[at] ?? 0) + 1;
      });
    }
    costs.forEach((cost, k) => {
      loop.costs[k] = (loop.costs[k] ?? 0n) + cost;
    });
    loop.saved += costs[iterations - 1] ?? 0n;
    loops.set(key, loop);
  }
  const insights: Insight[] = [];
  for (const loop of loops.values()) {
    const iterations: LoopIteration[] = loop.costs.map((cost, k) => ({
      iteration: k + 1,
      calls: loop.counts[k] ?? 0,
      costUsd: femtoToUsd(cost),
      costUsdExact: femtoToDecimal(cost),
    }));
    const total = loop.costs.reduce((a, b) => a + b, 0n);
    const perIteration = total / BigInt(loop.costs.length);
    const where = loop.threads === 1 ? '' : ` (summed over ${loop.threads} threads)`;
    insights.push({
      kind: 'revision_loop',
      severity: 'suggestion',
      agent: loop.nodes.join(' → '),
      evidence: { threads: loop.threads, iterations: loop.costs.length, nodes: loop.nodes.length },
      ...saving(loop.saved),
      confidence: 'medium',
      text:
        `${loop.nodes.join(' → ')} loop ran up to ${loop.costs.length} iterations${where}, about ${money(perIteration)} each; ` +
        `one iteration fewer would have saved ${money(loop.saved)}`,
      iterations,
    });
  }
  return insights;
}
