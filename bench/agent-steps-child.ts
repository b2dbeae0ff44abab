/**
 * What the automatic agent chunks cost (issue 12, part 4), run by `bench/agent-steps.ts` in a
 * child process whose `tollgate` resolves to the build. The research graph with `trackGemini`
 * models, 13 calls a run, one node task per call. Each pair runs back to back in every round
 * (the order alternates) and the result is the median of the per-round differences, in CPU time
 * of this process: a neighbour's load shifts both sides of a pair alike.
 * - `runWithTracking` with `agentSteps` on vs off, on the graph whose nodes call
 *   `agentStarted` / `agentCompleted` (the steps replace nothing, the tasks are still observed),
 *   and on the same graph without those calls (tollgate writes every pair);
 * - the yardstick: a do-nothing parent-stream sink asking LangGraph for "tasks" events vs none,
 *   what LangGraph itself charges to show a run's tasks;
 * - a plain `graph.stream` with "custom" inside `tracker.run`, the automatic feed on vs off.
 * Prints one JSON line.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { TokenTracker } from 'tollgate';
import { trackGemini } from 'tollgate/gemini';
import { runWithTracking, setAutoFeed } from 'tollgate/langgraph';
import { AGENTS, type AgentName } from '../examples/research/agents.js';
import { fakeGenerativeModel } from '../examples/research/fake-model.js';
import { buildResearchGraph, type ResearchModel } from '../examples/research/graph.js';
import { median } from './stats.js';

const input = { topic: 'Transformer architectures', depth: 'standard' as const, maxIterations: 2 };
const rounds = Number(process.env.TOLLGATE_BENCH_ROUNDS ?? 300);
const warmup = 30;

const modelName = (agent: AgentName) =>
  AGENTS[agent].tier === 'fast' ? 'gemini-2.5-flash-lite' : 'gemini-2.5-flash';
const cache = new Map<AgentName, ResearchModel>();
const modelFor = (agent: AgentName) => {
  let model = cache.get(agent);
  if (!model) {
    const fake = fakeGenerativeModel(agent, modelName(agent));
    model = trackGemini(fake as Parameters<typeof trackGemini>[0]) as ResearchModel;
    cache.set(agent, model);
  }
  return model;
};
const outputDir = mkdtempSync(`${tmpdir()}/tollgate-bench-`);
const explicit = buildResearchGraph({ modelFor, outputDir });
const bare = buildResearchGraph({ modelFor, outputDir, feed: false });

let calls = 0;
type Graph = typeof explicit;
const tracked = async (graph: Graph, agentSteps: boolean, sink?: object) => {
  const result = await runWithTracking(graph, input, {
    budgetLimitUsd: 0.5,
    onEvent: () => undefined,
    reportPath: false,
    printReport: false,
    langchainCallbacks: false,
    agentSteps,
    ...(sink && { config: { configurable: { __pregel_stream: sink } } }),
  });
  calls = result.tokenUsageStats.totalCalls;
};
/** Asks for "tasks" and drops them: LangGraph's own cost of showing the tasks. */
const doNothingSink = { modes: new Set(['tasks']), push: () => undefined };
const plainStream = async (autoFeed: boolean) => {
  setAutoFeed(autoFeed);
  try {
    const tracker = new TokenTracker({ budgetLimitUsd: 0.5 });
    await tracker.run(async () => {
      for await (const _ of await bare.stream(input, { streamMode: ['values', 'custom'] })) {
        // drained, as a consumer would
      }
    });
  } finally {
    setAutoFeed(true);
  }
};

const pairs: Record<string, [() => Promise<unknown>, () => Promise<unknown>]> = {
  agentStepsExplicitGraph: [() => tracked(explicit, true), () => tracked(explicit, false)],
  agentStepsBareGraph: [() => tracked(bare, true), () => tracked(bare, false)],
  tasksSinkYardstick: [
    () => tracked(explicit, false, doNothingSink),
    () => tracked(explicit, false),
  ],
  autoFeedPlainStream: [() => plainStream(true), () => plainStream(false)],
};

async function cpu(fn: () => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

const differences: Record<string, number[]> = Object.fromEntries(
  Object.keys(pairs).map((name) => [name, []]),
);
for (let round = 0; round < warmup + rounds; round++) {
  for (const [name, [on, off]] of Object.entries(pairs)) {
    let difference: number;
    if (round % 2 === 0) {
      const a = await cpu(on);
      difference = a - (await cpu(off));
    } else {
      const b = await cpu(off);
      difference = (await cpu(on)) - b;
    }
    if (round >= warmup) differences[name]?.push(difference);
  }
}
console.log(
  JSON.stringify({
    rounds,
    modelCallsPerRun: calls,
    usPerModelCall: Object.fromEntries(
      Object.entries(differences).map(([name, values]) => [
        name,
        Number((median(values) / calls).toFixed(1)),
      ]),
    ),
  }),
);
