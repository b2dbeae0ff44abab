/**
 * Tracker overhead on the research graph (issue: LangGraph integration): the same graph run
 * with tracking (trackGemini models + runWithTracking: feed, callbacks, statistics) against
 * the graph without it (plain models, graph.invoke), on an in-process fake model (no HTTP),
 * both measured in this one run, alternating, as a ratio of medians.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { trackGemini } from 'tollgate/gemini';
import { runWithTracking } from 'tollgate/langgraph';
import { AGENTS, type AgentName } from '../examples/research/agents.js';
import { fakeGenerativeModel } from '../examples/research/fake-model.js';
import { buildResearchGraph, type ResearchModel } from '../examples/research/graph.js';
import { median } from './stats.js';

const input = { topic: 'Transformer architectures', depth: 'standard' as const, maxIterations: 2 };
const modelName = (agent: AgentName) =>
  AGENTS[agent].tier === 'fast' ? 'gemini-2.5-flash-lite' : 'gemini-2.5-flash';

function models(tracked: boolean): (agent: AgentName) => ResearchModel {
  const cache = new Map<AgentName, ResearchModel>();
  return (agent) => {
    let model = cache.get(agent);
    if (!model) {
      const fake = fakeGenerativeModel(agent, modelName(agent));
      model = tracked
        ? (trackGemini(fake as Parameters<typeof trackGemini>[0]) as ResearchModel)
        : fake;
      cache.set(agent, model);
    }
    return model;
  };
}

export async function runLangGraphBenchmark() {
  const outputDir = mkdtempSync(`${tmpdir()}/tollgate-bench-`);
  const plain = buildResearchGraph({ modelFor: models(false), outputDir, feed: false });
  const tracked = buildResearchGraph({ modelFor: models(true), outputDir });
  const runPlain = () => plain.invoke(input);
  const runTracked = () =>
    runWithTracking(tracked, input, {
      budgetLimitUsd: 10,
      reportPath: false,
      printReport: false,
      langchainCallbacks: false, // as in examples/research: models go through trackGemini
    });
  for (let i = 0; i < 20; i++) {
    await runPlain();
    await runTracked();
  }
  const plainTimes: number[] = [];
  const trackedTimes: number[] = [];
  let calls = 0;
  for (let round = 0; round < 60; round++) {
    // Alternate which goes first, so drift in machine load hits both alike.
    const order = round % 2 === 0 ? ['plain', 'tracked'] : ['tracked', 'plain'];
    for (const which of order) {
      const start = process.hrtime.bigint();
      if (which === 'plain') await runPlain();
      else calls = (await runTracked()).tokenUsageStats.totalCalls;
      const ns = Number(process.hrtime.bigint() - start);
      (which === 'plain' ? plainTimes : trackedTimes).push(ns);
    }
  }
  const ratio = median(trackedTimes) / median(plainTimes);
  return {
    what: 'research graph (13 model calls) with tracking vs without, in-process fake model, no HTTP',
    rounds: plainTimes.length,
    modelCallsPerRun: calls,
    medianMsWithout: Number((median(plainTimes) / 1e6).toFixed(3)),
    medianMsWith: Number((median(trackedTimes) / 1e6).toFixed(3)),
    ratio: Number(ratio.toFixed(3)),
    targetRatio: 1.03,
    meetsTarget: ratio <= 1.03,
  };
}
