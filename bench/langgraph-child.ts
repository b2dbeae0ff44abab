/**
 * The per-model-call overhead measurement, run by `bench/langgraph.ts` in a child process whose
 * `tollgate` imports resolve to the build (`dist/`, what the package publishes): run through
 * tsx's source transform, tollgate would carry tsx's per-function `__name` calls that no user
 * runs. Prints one JSON line: the times of every round, per variant.
 *
 * One graph, the research workflow's (13 model calls, one of them streamed), run in eight
 * variants alternated round by round, so machine drift hits all alike. Each round runs them in a
 * fresh shuffled order (seeded, so runs repeat): a fixed cyclic order gives every variant the same
 * predecessor, whose garbage it then collects, which biases the paired differences; and each timed
 * run follows an untimed run of the same variant.
 * With Gemini SDK-shaped models (`generateContent`):
 * - `gemini.plain`: no tollgate (plain models, no feed calls); `gemini.plainAgain`: the same
 *   again, a control whose difference to `gemini.plain` is the noise of the method;
 * - `gemini.floor`: the yardstick, not tollgate: the least a tracker can do and still deliver
 *   the same 39 feed chunks (see `floorModels`);
 * - `gemini.tracked`: `trackGemini` models and `runWithTracking` as the research workflow uses
 *   them (a session budget, the feed's chunks delivered to `onEvent`, statistics at the end).
 * - `gemini.trackedInvoke`: the same `trackGemini` models recording into a long-lived tracker,
 *   the graph run with plain `invoke`, as the handler and `trackChatModel` variants run;
 * - `gemini.tasksSink`: a yardstick, not tollgate: the plain graph with a do-nothing parent-stream
 *   sink asking LangGraph for its "tasks" events, LangGraph's own cost of showing a run's node
 *   tasks, which `runWithTracking`'s automatic agent steps (part of `gemini.tracked`) rest on;
 * With a LangChain chat model (`InstantChatModel`, same answers and usage, through LangChain's
 * `invoke` / `stream`):
 * - `langchain.plain`: no tracking;
 * - `langchain.noopHandler`: the yardstick: a do-nothing `BaseCallbackHandler` with
 *   `awaitHandlers = true`, attached to the graph as a user attaches tollgate's handler;
 * - `langchain.handler`: tollgate's `TokenTrackingCallbackHandler`, attached the same way;
 * - `langchain.trackChatModel`: the models wrapped by `trackChatModel`, no handler.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import { AsyncLocalStorageProviderSingleton } from '@langchain/core/singletons';
import { TokenTracker } from 'tollgate';
import { trackGemini } from 'tollgate/gemini';
import {
  runWithTracking,
  type TokenFeedChunk,
  TokenTrackingCallbackHandler,
  trackChatModel,
} from 'tollgate/langgraph';
import { AGENTS, type AgentName } from '../examples/research/agents.js';
import { fakeGenerativeModel } from '../examples/research/fake-model.js';
import { buildResearchGraph, type ResearchModel } from '../examples/research/graph.js';
import { seededRandom } from '../src/testing/responder.js';
import { asResearchModel, InstantChatModel } from './instant-chat-model.js';

const input = { topic: 'Transformer architectures', depth: 'standard' as const, maxIterations: 2 };
const rounds = Number(process.env.TOLLGATE_BENCH_ROUNDS ?? 300);
const warmup = 30;

const modelName = (agent: AgentName) =>
  AGENTS[agent].tier === 'fast' ? 'gemini-2.5-flash-lite' : 'gemini-2.5-flash';

function models(tracked: boolean, tracker?: TokenTracker): (agent: AgentName) => ResearchModel {
  const cache = new Map<AgentName, ResearchModel>();
  return (agent) => {
    let model = cache.get(agent);
    if (!model) {
      const fake = fakeGenerativeModel(agent, modelName(agent));
      model = tracked
        ? (trackGemini(
            fake as Parameters<typeof trackGemini>[0],
            tracker ? { tracker } : {},
          ) as ResearchModel)
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

/** LangChain chat models per agent, optionally wrapped by `trackChatModel`. */
function chatModels(tracker?: TokenTracker): (agent: AgentName) => ResearchModel {
  const cache = new Map<AgentName, ResearchModel>();
  return (agent) => {
    let model = cache.get(agent);
    if (!model) {
      const chat = new InstantChatModel(agent, modelName(agent));
      model = asResearchModel(tracker ? trackChatModel(chat, { tracker }) : chat);
      cache.set(agent, model);
    }
    return model;
  };
}

/** The yardstick handler: does nothing, awaited, on the same callbacks tollgate's handler uses. */
class DoNothingHandler extends BaseCallbackHandler {
  name = 'DoNothingHandler';
  override awaitHandlers = true;
  override async handleChatModelStart(): Promise<void> {}
  override async handleLLMStart(): Promise<void> {}
  override async handleLLMEnd(): Promise<void> {}
  override async handleLLMError(): Promise<void> {}
}

const outputDir = mkdtempSync(`${tmpdir()}/tollgate-bench-`);
const plain = buildResearchGraph({ modelFor: models(false), outputDir, feed: false });
const tracked = buildResearchGraph({ modelFor: models(true), outputDir });
const floor = buildResearchGraph({ modelFor: floorModels(), outputDir, feed: false });
const invokeTracker = new TokenTracker({ historyLimit: 1000 });
const trackedInvoke = buildResearchGraph({
  modelFor: models(true, invokeTracker),
  outputDir,
  feed: false,
});
const chatPlain = buildResearchGraph({ modelFor: chatModels(), outputDir, feed: false });
// One tracker per tracking variant for the whole run (a long-lived process's), never read.
const handlerTracker = new TokenTracker({ historyLimit: 1000 });
const wrapperTracker = new TokenTracker({ historyLimit: 1000 });
const chatTracked = buildResearchGraph({
  modelFor: chatModels(wrapperTracker),
  outputDir,
  feed: false,
});
const handler = new TokenTrackingCallbackHandler({ tracker: handlerTracker });
const doNothing = new DoNothingHandler();
/** Asks LangGraph for "tasks" events and drops them (see `gemini.tasksSink`). */
const tasksSink = { modes: new Set(['tasks']), push: () => undefined };
let calls = 0;
let chunks = 0;
let floorChunks = 0;

const variants: Record<string, () => Promise<unknown>> = {
  'gemini.plain': () => plain.invoke(input),
  'gemini.plainAgain': () => plain.invoke(input),
  'gemini.tracked': async () => {
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
  'gemini.floor': async () => {
    const seen: object[] = [];
    floorRun = { spentFemto: 0, calls: 0, sink: (chunk) => seen.push(chunk) };
    const state = await floor.invoke(input);
    floorChunks = seen.length;
    return { ...state, stats: { calls: floorRun.calls, spentUsd: floorRun.spentFemto / 1e15 } };
  },
  'gemini.trackedInvoke': () => trackedInvoke.invoke(input),
  'gemini.tasksSink': () => plain.invoke(input, { configurable: { __pregel_stream: tasksSink } }),
  'langchain.plain': () => chatPlain.invoke(input),
  'langchain.noopHandler': () => chatPlain.invoke(input, { callbacks: [doNothing] }),
  'langchain.handler': () => chatPlain.invoke(input, { callbacks: [handler] }),
  'langchain.trackChatModel': () => chatTracked.invoke(input),
};
// `TOLLGATE_BENCH_VARIANTS=a,b` runs only those (for profiling one path with --cpu-prof).
const only = process.env.TOLLGATE_BENCH_VARIANTS?.split(',');
const names = Object.keys(variants).filter((name) => !only || only.includes(name));
const times: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
/**
 * CPU time of the process (all its threads) per run, in ns. On a machine shared with other
 * busy processes, wall time also counts the time the process waits for a core; CPU time does not.
 */
const cpuTimes: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));

// Seeded: the order differs every round but repeats run to run.
const random = seededRandom(12);
const order = [...names];

for (let round = 0; round < warmup + rounds; round++) {
  // Fisher–Yates: every variant follows every other about equally often.
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as string, order[i] as string];
  }
  for (const name of order) {
    // An untimed run of the same variant first: the timed run then pays for collecting its own
    // kind of garbage (its steady state, as a process running it over and over does), not for
    // whatever the variant before it left.
    await (variants[name] as () => Promise<unknown>)();
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    await (variants[name] as () => Promise<unknown>)();
    const ns = Number(process.hrtime.bigint() - start);
    const used = process.cpuUsage(cpu);
    if (round >= warmup) {
      times[name]?.push(ns);
      cpuTimes[name]?.push((used.user + used.system) * 1e3);
    }
  }
}
const recorded = {
  handler: handlerTracker.getStatistics().totalCalls,
  trackChatModel: wrapperTracker.getStatistics().totalCalls,
  trackGemini: invokeTracker.getStatistics().totalCalls,
};
console.log(
  JSON.stringify({
    rounds,
    warmup,
    modelCallsPerRun: calls,
    feedChunksPerRun: chunks,
    floorChunks,
    recorded,
    times,
    cpuTimes,
  }),
);
