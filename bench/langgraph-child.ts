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
 *   the statistics on the final state;
 * - `floor`: a yardstick, not tollgate: the least a tracker can do and still deliver the same
 *   39 chunks (see `floorModels`). Its ratio shows how much of the overhead any tracker pays.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { AsyncLocalStorageProviderSingleton } from '@langchain/core/singletons';
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

interface FloorUsage {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  totalTokenCount?: number;
}

interface FloorRun {
  spentFemto: number;
  calls: number;
  sink: (chunk: object) => void;
}
let floorRun: FloorRun = { spentFemto: 0, calls: 0, sink: () => undefined };
/** Femto-dollars per token (input, output) of the two models: the catalog's, hard-coded. */
const FLOOR_PRICES: Record<string, [number, number]> = {
  'models/gemini-2.5-flash': [300_000_000, 2_500_000_000],
  'models/gemini-2.5-flash-lite': [100_000_000, 400_000_000],
};

/**
 * The floor: models wrapped so that each call emits agent_started, llm_call and agent_completed
 * chunks with the running spend, priced by two constants, attributed to the node from
 * LangChain's config. No usage normalization, no exact-money types, no statistics, history,
 * dedupe, budget events or per-step accounting.
 */
function floorModels(): (agent: AgentName) => ResearchModel {
  const cache = new Map<AgentName, ResearchModel>();
  const wrap = (model: ResearchModel & { model: string }): ResearchModel => {
    const [inPrice, outPrice] = FLOOR_PRICES[model.model] as [number, number];
    const chunk = (type: string, agent: string, extra?: object) =>
      floorRun.sink({
        source: 'floor',
        type,
        agent,
        spentUsd: floorRun.spentFemto / 1e15,
        limitUsd: 0.5,
        utilizationPercent: floorRun.spentFemto / 5e12,
        ...extra,
        timestamp: Date.now(),
      });
    const record = (usage: FloorUsage | undefined, agent: string) => {
      const femto =
        (usage?.promptTokenCount ?? 0) * inPrice +
        ((usage?.candidatesTokenCount ?? 0) + (usage?.thoughtsTokenCount ?? 0)) * outPrice;
      floorRun.spentFemto += femto;
      floorRun.calls += 1;
      chunk('llm_call', agent, { costUsd: femto / 1e15, tokens: usage?.totalTokenCount });
      chunk('agent_completed', agent);
    };
    const node = () => {
      const config = AsyncLocalStorageProviderSingleton.getRunnableConfig() as
        | { metadata?: { langgraph_node?: string } }
        | undefined;
      return config?.metadata?.langgraph_node ?? 'unknown';
    };
    return {
      generateContent: (async (...args: Parameters<ResearchModel['generateContent']>) => {
        const agent = node();
        chunk('agent_started', agent);
        const result = await model.generateContent(...args);
        record(result.response.usageMetadata, agent);
        return result;
      }) as ResearchModel['generateContent'],
      generateContentStream: (async (
        ...args: Parameters<ResearchModel['generateContentStream']>
      ) => {
        const agent = node();
        chunk('agent_started', agent);
        const result = await model.generateContentStream(...args);
        result.response.then((response) => record(response.usageMetadata, agent));
        return result;
      }) as ResearchModel['generateContentStream'],
    };
  };
  return (agent) => {
    let model = cache.get(agent);
    if (!model) {
      model = wrap(
        fakeGenerativeModel(agent, modelName(agent)) as ResearchModel & { model: string },
      );
      cache.set(agent, model);
    }
    return model;
  };
}

const outputDir = mkdtempSync(`${tmpdir()}/tollgate-bench-`);
const plain = buildResearchGraph({ modelFor: models(false), outputDir, feed: false });
const tracked = buildResearchGraph({ modelFor: models(true), outputDir });
const floor = buildResearchGraph({ modelFor: floorModels(), outputDir, feed: false });
let calls = 0;
let chunks = 0;
let floorChunks = 0;

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
  floor: async () => {
    const seen: object[] = [];
    floorRun = { spentFemto: 0, calls: 0, sink: (chunk) => seen.push(chunk) };
    const state = await floor.invoke(input);
    floorChunks = seen.length;
    return { ...state, stats: { calls: floorRun.calls, spentUsd: floorRun.spentFemto / 1e15 } };
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
console.log(
  JSON.stringify({ rounds, modelCallsPerRun: calls, feedChunksPerRun: chunks, floorChunks, times }),
);
