/**
 * The research-graph overhead measurement itself, run by `bench/langgraph.ts` in a child
 * process whose `tollgate` imports resolve to the build (`dist/`, what the package publishes):
 * run through tsx's source transform, tollgate would carry tsx's per-function `__name` calls
 * that no user runs. Prints one JSON line: the times of every round, per variant.
 *
 * Variants, alternated round by round (the order rotates), so machine drift hits all alike:
 * - `plain`: the graph without tollgate (plain models, no feed calls), `graph.invoke`;
 * - `plainAgain`: the same graph again, a control: its ratio to `plain` is the noise floor;
 * - `tracked`: `trackGemini` models and `runWithTracking` as the research workflow uses them:
 *   a session budget, the feed's agent and call chunks delivered to a consumer (`onEvent`),
 *   the statistics on the final state.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { trackGemini } from 'tollgate/gemini';
import { runWithTracking, type TokenFeedChunk } from 'tollgate/langgraph';
import { AGENTS, type AgentName } from '../examples/research/agents.js';
import { fakeGenerativeModel } from '../examples/research/fake-model.js';
import { buildResearchGraph, type ResearchModel } from '../examples/research/graph.js';

const input = { topic: 'Transformer architectures', depth: 'standard' as const, maxIterations: 2 };
const rounds = Number(process.env.TOLLGATE_BENCH_ROUNDS ?? 300);
const warmup = 30;

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

const outputDir = mkdtempSync(`${tmpdir()}/tollgate-bench-`);
const plain = buildResearchGraph({ modelFor: models(false), outputDir, feed: false });
const tracked = buildResearchGraph({ modelFor: models(true), outputDir });
let calls = 0;
let chunks = 0;

const variants: Record<string, () => Promise<unknown>> = {
  plain: () => plain.invoke(input),
  plainAgain: () => plain.invoke(input),
  tracked: async () => {
    const seen: TokenFeedChunk[] = [];
    const result = await runWithTracking(tracked, input, {
      budgetLimitUsd: 0.5,
      onEvent: (chunk) => seen.push(chunk),
      reportPath: false,
      printReport: false,
      langchainCallbacks: false, // as in examples/research: every call goes through trackGemini
    });
    calls = result.tokenUsageStats.totalCalls;
    chunks = seen.length;
  },
};
const names = Object.keys(variants);
const times: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));

for (let round = 0; round < warmup + rounds; round++) {
  for (let i = 0; i < names.length; i++) {
    const name = names[(round + i) % names.length] as string;
    const start = process.hrtime.bigint();
    await (variants[name] as () => Promise<unknown>)();
    const ns = Number(process.hrtime.bigint() - start);
    if (round >= warmup) times[name]?.push(ns);
  }
}
console.log(JSON.stringify({ rounds, modelCallsPerRun: calls, feedChunksPerRun: chunks, times }));
