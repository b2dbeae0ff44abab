import { GoogleGenAI } from '@google/genai';
import type { UsageMetadata } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import {
  Annotation,
  Command,
  END,
  interrupt,
  MemorySaver,
  MessagesAnnotation,
  Send,
  START,
  StateGraph,
} from '@langchain/langgraph';
import { createReactAgent } from '@langchain/langgraph/prebuilt';
import { createSupervisor } from '@langchain/langgraph-supervisor';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { trackGemini } from '../../src/gemini/index.js';
import { ConfigurationError, getTokenTracker, TokenTracker } from '../../src/index.js';
import {
  agentCompleted,
  agentStarted,
  attachStreamFeed,
  runWithTracking,
  setAutoFeed,
  type TokenFeedChunk,
  TokenTrackingCallbackHandler,
} from '../../src/langgraph/index.js';
import { type GeminiStandIn, startGeminiStandIn } from '../../src/testing/index.js';
import { ScriptedChatModel } from './fake-model.js';
import { collect } from './support.js';

const FLASH = 'gemini-2.5-flash';
const quiet = { reportPath: false, printReport: false } as const;

/** One model call's usage, by the size of the step, so every step's numbers are distinct. */
const usageOf = (input: number): UsageMetadata => ({
  input_tokens: input,
  output_tokens: 10,
  total_tokens: input + 10,
});

const State = Annotation.Root({
  topic: Annotation<string>(),
  item: Annotation<number>(),
  notes: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

/** A model whose every call reports `usageOf(size)`, the size read from the prompt. */
function sizedModel() {
  return new ScriptedChatModel({
    model: FLASH,
    script: (messages) => {
      const size = Number(/size=(\d+)/.exec(String(messages.at(-1)?.content))?.[1] ?? 100);
      return { content: 'ok', usage: usageOf(size) };
    },
  });
}

/**
 * plan (one call, size 1000) → three `Send` tasks `work` (size 200 + item) → team (a subgraph:
 * inner nodes a and b, one call each, sizes 300 and 400) → tally (no call).
 */
function userGraph(model = sizedModel()) {
  const ask = (size: number) => model.invoke([['user', `size=${size}`]]);
  const team = new StateGraph(State)
    .addNode('a', async () => {
      await ask(300);
      return { notes: ['a'] };
    })
    .addNode('b', async () => {
      await ask(400);
      return { notes: ['b'] };
    })
    .addEdge(START, 'a')
    .addEdge('a', 'b')
    .compile();
  return new StateGraph(State)
    .addNode('plan', async () => {
      await ask(1000);
      return { notes: ['plan'] };
    })
    .addNode('work', async ({ item }) => {
      await ask(200 + item);
      return { notes: [`work ${item}`] };
    })
    .addNode('team', team)
    .addNode('tally', async () => ({ notes: ['tally'] }))
    .addEdge(START, 'plan')
    .addConditionalEdges('plan', () => [1, 2, 3].map((item) => new Send('work', { item })), [
      'work',
    ])
    .addEdge('work', 'team')
    .addEdge('team', 'tally')
    .addEdge('tally', END)
    .compile();
}

/** The exact cost of calls of these sizes, summed in femto-dollars as tollgate sums them. */
function cost(...sizes: number[]): number {
  const scratch = new TokenTracker();
  for (const size of sizes)
    scratch.record({ model: FLASH, usage: usageOf(size), usageFormat: 'langchain' });
  return scratch.spentUsd;
}
const tokens = (...sizes: number[]) => sizes.reduce((sum, size) => sum + size + 10, 0);

/** The agent chunks, as `type:agent` plus their numbers. */
function steps(chunks: TokenFeedChunk[]) {
  return chunks
    .filter((c) => c.type === 'agent_started' || c.type === 'agent_completed')
    .map((c) => ({
      type: c.type,
      agent: c.agent,
      message: c.message,
      taskId: c.taskId,
      ...(c.type === 'agent_completed' && { costUsd: c.costUsd, tokens: c.tokens }),
      ...(c.failed && { failed: c.failed }),
    }));
}

/** Each task's chunks in feed order, by task id. */
function byTask(chunks: ReturnType<typeof steps>) {
  const tasks = new Map<string, ReturnType<typeof steps>>();
  for (const chunk of chunks) {
    const id = chunk.taskId ?? 'explicit';
    tasks.set(id, [...(tasks.get(id) ?? []), chunk]);
  }
  return [...tasks.values()];
}

afterEach(() => {
  vi.restoreAllMocks();
  setAutoFeed(true);
});

describe('runWithTracking writes a step for every node task', () => {
  it('plain nodes, Send tasks each on their own, a subgraph as one step, with exact numbers', async () => {
    const events: TokenFeedChunk[] = [];
    const result = await runWithTracking(
      userGraph(),
      { topic: 'RAG' },
      {
        ...quiet,
        onEvent: (e) => events.push(e),
      },
    );
    const agentChunks = steps(events);
    // Every task: exactly one started, then one completed, with its own task id.
    const tasks = byTask(agentChunks);
    expect(tasks).toHaveLength(6);
    for (const task of tasks) {
      expect(task.map((c) => c.type)).toEqual(['agent_started', 'agent_completed']);
      expect(task[0]?.taskId).toMatch(/^[0-9a-f-]{36}$/);
      expect(task[1]?.taskId).toBe(task[0]?.taskId);
    }
    const completed = agentChunks.filter((c) => c.type === 'agent_completed');
    expect(completed.map((c) => [c.agent, c.message, c.costUsd, c.tokens])).toEqual([
      ['plan', 'Step completed', cost(1000), tokens(1000)],
      ...[201, 202, 203].map((size) => ['work', 'Step completed', cost(size), tokens(size)]),
      ['team', 'Step completed', cost(300, 400), tokens(300, 400)],
      ['tally', 'Step completed', 0, 0],
    ]);
    expect(new Set(completed.map((c) => c.taskId)).size).toBe(6);
    // The sequential steps in order; a step starts before its first call's llm_call chunk.
    const order = events.map((e) => `${e.type}:${e.agent}`);
    expect(order.slice(0, 3)).toEqual([
      'agent_started:plan',
      'llm_call:plan',
      'agent_completed:plan',
    ]);
    expect(order.slice(-6)).toEqual([
      'agent_started:team',
      'llm_call:team',
      'llm_call:team',
      'agent_completed:team',
      'agent_started:tally',
      'agent_completed:tally',
    ]);
    // The steps add up to the run, exactly.
    const sum = completed.reduce((total, c) => total + (c.costUsd ?? 0), 0);
    expect(sum).toBeCloseTo(result.tokenUsageStats.totalCostUsd, 15);
    expect(completed.reduce((total, c) => total + (c.tokens ?? 0), 0)).toBe(
      result.tokenUsageStats.totalTokens,
    );
  });

  it('names a prebuilt agent and the supervisor by their nodes, one step each time they run', async () => {
    const handoffs = (messages: { getType(): string; name?: string }[]) =>
      messages.filter((m) => m.getType() === 'tool' && String(m.name).startsWith('transfer_'))
        .length;
    const supervisorModel = new ScriptedChatModel({
      model: 'gemini-2.5-pro',
      script: (messages) =>
        handoffs(messages) === 0
          ? { toolCalls: [{ name: 'transfer_to_researcher', args: {} }] }
          : { content: 'Done.' },
    });
    const researcherModel = new ScriptedChatModel({
      model: FLASH,
      script: (messages) =>
        messages.at(-1)?.getType() === 'tool'
          ? { content: 'Summarized.' }
          : { toolCalls: [{ name: 'search', args: { query: 'RAG' } }] },
    });
    const search = tool(async () => 'three papers on RAG', {
      name: 'search',
      description: 'Search the web',
      schema: z.object({ query: z.string() }),
    });
    const researcher = createReactAgent({
      llm: researcherModel,
      tools: [search],
      name: 'researcher',
    });
    const graph = createSupervisor({ agents: [researcher], llm: supervisorModel }).compile();
    const events: TokenFeedChunk[] = [];
    const result = await runWithTracking(
      graph,
      { messages: [{ role: 'user', content: 'RAG' }] },
      { ...quiet, onEvent: (e) => events.push(e) },
    );
    const agentChunks = steps(events);
    expect(agentChunks.map((c) => `${c.type}:${c.agent}`)).toEqual([
      'agent_started:supervisor',
      'agent_completed:supervisor',
      'agent_started:researcher',
      'agent_completed:researcher',
      'agent_started:supervisor',
      'agent_completed:supervisor',
    ]);
    const byAgent = result.tokenUsageStats.byAgent;
    const done = agentChunks.filter((c) => c.type === 'agent_completed');
    // The researcher's step holds both of its agent's calls (tool call, then the summary).
    expect(done[1]).toMatchObject({
      costUsd: byAgent.researcher?.costUsd,
      tokens: byAgent.researcher?.tokens,
    });
    expect((done[0]?.costUsd ?? 0) + (done[2]?.costUsd ?? 0)).toBeCloseTo(
      byAgent.supervisor?.costUsd ?? Number.NaN,
      15,
    );
    expect((done[0]?.tokens ?? 0) + (done[2]?.tokens ?? 0)).toBe(byAgent.supervisor?.tokens);
  });

  it('a prebuilt agent run as the graph itself: its agent and tools nodes are the steps', async () => {
    const model = new ScriptedChatModel({
      model: FLASH,
      script: (messages) =>
        messages.at(-1)?.getType() === 'tool'
          ? { content: 'Answer.', usage: usageOf(500) }
          : { toolCalls: [{ name: 'lookup', args: {} }], usage: usageOf(100) },
    });
    const lookup = tool(async () => 'found', {
      name: 'lookup',
      description: 'Look it up',
      schema: z.object({}),
    });
    const agent = createReactAgent({ llm: model, tools: [lookup] });
    const events: TokenFeedChunk[] = [];
    await runWithTracking(
      agent,
      { messages: [{ role: 'user', content: 'q' }] },
      {
        ...quiet,
        onEvent: (e) => events.push(e),
      },
    );
    expect(
      steps(events)
        .filter((c) => c.type === 'agent_completed')
        .map((c) => [c.agent, c.costUsd, c.tokens]),
    ).toEqual([
      ['agent', cost(100), tokens(100)],
      ['tools', 0, 0],
      ['agent', cost(500), tokens(500)],
    ]);
  });

  it('an explicit agentStarted / agentCompleted replaces the default message, never doubles the pair', async () => {
    const model = sizedModel();
    const graph = new StateGraph(State)
      .addNode('both', async () => {
        agentStarted('planner', 'Planning');
        await model.invoke([['user', 'size=100']]);
        agentCompleted('planner', 'Planned');
        return {};
      })
      .addNode('startOnly', async () => {
        agentStarted('writer', 'Writing');
        await model.invoke([['user', 'size=200']]);
        return {};
      })
      .addNode('endOnly', async () => {
        await model.invoke([['user', 'size=300']]);
        agentCompleted('endOnly', 'Reviewed');
        return {};
      })
      .addNode('noCalls', async () => {
        agentCompleted('noCalls', 'Nothing to do');
        return {};
      })
      .addEdge(START, 'both')
      .addEdge('both', 'startOnly')
      .addEdge('startOnly', 'endOnly')
      .addEdge('endOnly', 'noCalls')
      .compile();
    const events: TokenFeedChunk[] = [];
    await runWithTracking(graph, { topic: 't' }, { ...quiet, onEvent: (e) => events.push(e) });
    expect(steps(events).map(({ taskId: _id, ...rest }) => rest)).toEqual([
      { type: 'agent_started', agent: 'planner', message: 'Planning' },
      {
        type: 'agent_completed',
        agent: 'planner',
        message: 'Planned',
        costUsd: cost(100),
        tokens: tokens(100),
      },
      { type: 'agent_started', agent: 'writer', message: 'Writing' },
      {
        type: 'agent_completed',
        agent: 'writer',
        message: 'Step completed',
        costUsd: cost(200),
        tokens: tokens(200),
      },
      { type: 'agent_started', agent: 'endOnly', message: 'Step started' },
      {
        type: 'agent_completed',
        agent: 'endOnly',
        message: 'Reviewed',
        costUsd: cost(300),
        tokens: tokens(300),
      },
      { type: 'agent_started', agent: 'noCalls', message: 'Step started' },
      {
        type: 'agent_completed',
        agent: 'noCalls',
        message: 'Nothing to do',
        costUsd: 0,
        tokens: 0,
      },
    ]);
    expect(steps(events).every((c) => typeof c.taskId === 'string')).toBe(true);
  });

  it('a failing node ends with a completed chunk marked failed, holding what it spent', async () => {
    const model = sizedModel();
    class ReportFailed extends Error {
      override name = 'ReportFailed';
    }
    const graph = new StateGraph(State)
      .addNode('draft', async () => {
        await model.invoke([['user', 'size=700']]);
        throw new ReportFailed('no sources');
      })
      .addEdge(START, 'draft')
      .compile();
    const events: TokenFeedChunk[] = [];
    const run = runWithTracking(
      graph,
      { topic: 't' },
      { ...quiet, onEvent: (e) => events.push(e) },
    );
    await expect(run).rejects.toBeInstanceOf(ReportFailed);
    expect(steps(events).map(({ taskId: _id, ...rest }) => rest)).toEqual([
      { type: 'agent_started', agent: 'draft', message: 'Step started' },
      {
        type: 'agent_completed',
        agent: 'draft',
        message: 'Step failed: ReportFailed: no sources',
        costUsd: cost(700),
        tokens: tokens(700),
        failed: true,
      },
    ]);
  });

  it('a task paused by interrupt() ends as interrupted; on resume its re-run is a new step', async () => {
    const model = sizedModel();
    const graph = new StateGraph(State)
      .addNode('review', async () => {
        await model.invoke([['user', 'size=600']]);
        const verdict = interrupt('approve?');
        return { notes: [String(verdict)] };
      })
      .addEdge(START, 'review')
      .compile({ checkpointer: new MemorySaver() });
    const events: TokenFeedChunk[] = [];
    const options = {
      ...quiet,
      onEvent: (e: TokenFeedChunk) => events.push(e),
      config: { configurable: { thread_id: `review-${Math.random()}` } },
    };
    const paused = await runWithTracking(graph, { topic: 't' }, options);
    expect(paused.__interrupt__).toHaveLength(1);
    const first = steps(events);
    expect(first.map(({ taskId: _id, ...rest }) => rest)).toEqual([
      { type: 'agent_started', agent: 'review', message: 'Step started' },
      {
        type: 'agent_completed',
        agent: 'review',
        message: 'Step interrupted',
        costUsd: cost(600),
        tokens: tokens(600),
      },
    ]);
    events.length = 0;
    const done = await runWithTracking(graph, new Command({ resume: 'yes' }), options);
    expect(done.notes).toEqual(['yes']);
    expect(steps(events).map((c) => [c.type, c.message, c.costUsd])).toEqual([
      ['agent_started', 'Step started', undefined],
      ['agent_completed', 'Step completed', cost(600)],
    ]);
  });

  it("inside tracker.run, with a budget: every chunk once, from the run's own feed", async () => {
    const session = new TokenTracker();
    const events: TokenFeedChunk[] = [];
    await session.run(() =>
      runWithTracking(
        userGraph(),
        { topic: 'RAG' },
        {
          ...quiet,
          budgetLimitUsd: cost(1000) / 2,
          onEvent: (e) => events.push(e),
        },
      ),
    );
    const count = (type: string) => events.filter((e) => e.type === type).length;
    expect([count('budget_warning'), count('budget_exceeded'), count('llm_call')]).toEqual([
      1, 1, 6,
    ]);
    expect([count('agent_started'), count('agent_completed')]).toEqual([6, 6]);
    expect(session.getStatistics().totalCalls).toBe(0);
  });

  it('agentSteps: false writes only the explicit chunks; a bad value is refused', async () => {
    const events: TokenFeedChunk[] = [];
    await runWithTracking(
      userGraph(),
      { topic: 'RAG' },
      {
        ...quiet,
        agentSteps: false,
        onEvent: (e) => events.push(e),
      },
    );
    expect(steps(events)).toEqual([]);
    expect(events.filter((e) => e.type === 'llm_call')).toHaveLength(6);
    await expect(
      runWithTracking(userGraph(), {}, { ...quiet, agentSteps: 'no' as unknown as boolean }),
    ).rejects.toBeInstanceOf(ConfigurationError);
  });

  it("the caller's stream modes stay its own: graph.stream inside a node sees no tasks chunks", async () => {
    const inner = userGraph();
    const seen: string[] = [];
    const outer = new StateGraph(State)
      .addNode('host', async (_state, config) => {
        for await (const [mode] of await inner.stream(
          { topic: 'x' },
          { ...config, streamMode: ['updates'] },
        )) {
          seen.push(String(mode));
        }
        return {};
      })
      .addEdge(START, 'host')
      .compile();
    await runWithTracking(outer, { topic: 'x' }, quiet);
    expect(new Set(seen)).toEqual(new Set(['updates']));
  });
});

describe('a plain graph.stream carries the feed without any wiring', () => {
  /** The same graph's chunks, without runWithTracking or attachStreamFeed. */
  async function plainRun(tracker: TokenTracker) {
    const handler = new TokenTrackingCallbackHandler({ tracker });
    return tracker.run(() => collect(userGraph(), { topic: 'RAG' }, { callbacks: [handler] }));
  }

  it('inside tracker.run: one agent_started per task with calls, budget chunks, no llm_call', async () => {
    const total = cost(1000, 201, 202, 203, 300, 400);
    // Crossed by the last call of the team: 90% at the `work` tasks, 100% in the team's b.
    const tracker = new TokenTracker({ budgetLimitUsd: total - cost(400) / 2, warnAt: [0.5] });
    const { chunks } = await plainRun(tracker);
    const kinds = chunks.map((c) => `${c.type}:${c.agent}`);
    expect(kinds.filter((k) => k.startsWith('agent_started'))).toEqual([
      'agent_started:plan',
      'agent_started:work',
      'agent_started:work',
      'agent_started:work',
      'agent_started:team',
    ]);
    expect(kinds.filter((k) => !k.startsWith('agent_started'))).toEqual([
      expect.stringMatching(/^budget_warning:(work|plan)$/),
      'budget_exceeded:team',
    ]);
    expect(
      new Set(
        chunks.filter((c) => c.type === 'agent_started' && c.agent === 'work').map((c) => c.taskId),
      ).size,
    ).toBe(3);
    expect(chunks.every((c) => c.type !== 'agent_completed' && c.type !== 'llm_call')).toBe(true);
    const exceeded = chunks.find((c) => c.type === 'budget_exceeded');
    expect(exceeded?.spentUsd).toBeCloseTo(total, 15);
    // The team's started comes before its calls crossed the limit.
    expect(kinds.indexOf('agent_started:team')).toBeLessThan(kinds.indexOf('budget_exceeded:team'));
  });

  it('with the process-wide tracker too', async () => {
    // No session anywhere: the handler records into the process-wide tracker.
    const tracker = getTokenTracker();
    tracker.setBudgetLimit(cost(1000) / 2);
    const handler = new TokenTrackingCallbackHandler();
    expect(handler.tracker).toBe(tracker);
    const { chunks } = await collect(userGraph(), { topic: 'RAG' }, { callbacks: [handler] });
    expect(tracker.getStatistics().totalCalls).toBe(6);
    expect(chunks.map((c) => `${c.type}:${c.agent}`).slice(0, 3)).toEqual([
      'agent_started:plan',
      'budget_warning:plan',
      'budget_exceeded:plan',
    ]);
    expect(chunks.filter((c) => c.type === 'budget_exceeded')).toHaveLength(1);
  });

  it('an agentStarted before the first call replaces the automatic one', async () => {
    const model = sizedModel();
    const graph = new StateGraph(State)
      .addNode('plan', async () => {
        agentStarted('planner', 'Planning');
        await model.invoke([['user', 'size=100']]);
        agentCompleted('planner', 'Planned');
        return {};
      })
      .addEdge(START, 'plan')
      .compile();
    const tracker = new TokenTracker();
    const handler = new TokenTrackingCallbackHandler({ tracker });
    const { chunks } = await tracker.run(() => collect(graph, {}, { callbacks: [handler] }));
    expect(chunks.map((c) => [c.type, c.agent, c.message, c.costUsd])).toEqual([
      ['agent_started', 'planner', 'Planning', undefined],
      ['agent_completed', 'planner', 'Planned', cost(100)],
    ]);
  });

  it('setAutoFeed(false) turns it off; a bad value is refused', async () => {
    setAutoFeed(false);
    const tracker = new TokenTracker({ budgetLimitUsd: cost(100) });
    const { chunks } = await plainRun(tracker);
    expect(chunks).toEqual([]);
    expect(tracker.getStatistics().totalCalls).toBe(6);
    expect(() => setAutoFeed('off' as unknown as boolean)).toThrow(ConfigurationError);
  });

  it('an attached feed is the only feed: every chunk once', async () => {
    const tracker = new TokenTracker({ budgetLimitUsd: cost(1000) / 2 });
    const detach = attachStreamFeed(tracker);
    try {
      const { chunks } = await plainRun(tracker);
      const kinds = chunks.map((c) => c.type);
      expect(kinds.filter((k) => k === 'budget_exceeded')).toHaveLength(1);
      expect(kinds.filter((k) => k === 'budget_warning')).toHaveLength(1);
      expect(kinds.filter((k) => k === 'llm_call')).toHaveLength(6);
      expect(kinds.filter((k) => k.startsWith('agent_'))).toEqual([]);
    } finally {
      detach();
    }
  });

  describe('trackGemini against the stand-in', () => {
    const standIns: GeminiStandIn[] = [];
    afterEach(async () => {
      await Promise.all(standIns.splice(0).map((s) => s.close()));
    });

    /** A tracked @google/genai client against a fresh stand-in. */
    async function trackedClient() {
      const standIn = await startGeminiStandIn();
      standIns.push(standIn);
      const ai = trackGemini(
        new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: standIn.baseUrl } }),
      );
      return { standIn, ai };
    }

    it('writes started and budget chunks from inside the node', async () => {
      const { ai } = await trackedClient();
      const graph = new StateGraph(MessagesAnnotation)
        .addNode('researcher', async () => {
          await ai.models.generateContent({ model: FLASH, contents: 'Research RAG.' });
          await ai.models.generateContent({ model: FLASH, contents: 'Summarize it.' });
          return {};
        })
        .addEdge(START, 'researcher')
        .compile();
      const tracker = new TokenTracker({ budgetLimitUsd: 1e-9 });
      const { chunks } = await tracker.run(() => collect(graph, { messages: [] }));
      expect(chunks.map((c) => `${c.type}:${c.agent}`)).toEqual([
        'agent_started:researcher',
        'budget_warning:researcher',
        'budget_exceeded:researcher',
      ]);
      // Both fire at the first call, which crossed the limit alone.
      expect(chunks[2]?.spentUsd).toBe(tracker.getUsageHistory()[0]?.cost.totalUsd);
      expect(tracker.getStatistics().totalCalls).toBe(2);
    });

    it('through runWithTracking, a step opens before its first request leaves', async () => {
      const { standIn, ai } = await trackedClient();
      const graph = new StateGraph(MessagesAnnotation)
        .addNode('researcher', async () => {
          await ai.models.generateContent({ model: FLASH, contents: 'Research RAG.' });
          return {};
        })
        .addNode('writer', async () => {
          await ai.models.generateContent({ model: FLASH, contents: 'Write it up.' });
          await ai.models.generateContent({ model: FLASH, contents: 'Polish it.' });
          return {};
        })
        .addEdge(START, 'researcher')
        .addEdge('researcher', 'writer')
        .compile();
      const seen: string[] = [];
      const result = await runWithTracking(
        graph,
        { messages: [] },
        {
          ...quiet,
          langchainCallbacks: false,
          onEvent: (e) => seen.push(`${e.type}:${e.agent}@${standIn.requests.length}`),
        },
      );
      expect(seen).toEqual([
        'agent_started:researcher@0',
        'llm_call:researcher@1',
        'agent_completed:researcher@1',
        'agent_started:writer@1',
        'llm_call:writer@2',
        'llm_call:writer@3',
        'agent_completed:writer@3',
      ]);
      expect(result.tokenUsageStats.totalCalls).toBe(3);
    });
  });
});
