import { RunnableLambda } from '@langchain/core/runnables';
import {
  Annotation,
  END,
  writer as exportedWriter,
  MessagesAnnotation,
  Send,
  START,
  StateGraph,
} from '@langchain/langgraph';
import { afterEach, describe, expect, it } from 'vitest';
import { getTokenTracker, TokenTracker } from '../../src/index.js';
import { currentNamespace } from '../../src/langgraph/context.js';
import {
  agentCompleted,
  agentStarted,
  attachStreamFeed,
  type TokenFeedChunk,
  TokenTrackingCallbackHandler,
} from '../../src/langgraph/index.js';
import { ScriptedChatModel } from './fake-model.js';
import { collect, costOf, silenceHandlerErrors } from './support.js';

const USAGE = { input_tokens: 100, output_tokens: 20, total_tokens: 120 };
const CALL_COST = costOf('gemini-2.5-flash', USAGE);
const input = { messages: [{ role: 'user', content: 'go' }] };

const detachers: (() => void)[] = [];
afterEach(() => {
  for (const detach of detachers.splice(0)) detach();
});

/** A tracker with the feed attached and a handler for it: what a user wires by hand. */
function tracked(options: ConstructorParameters<typeof TokenTracker>[0] = {}) {
  const tracker = new TokenTracker(options);
  const fallback: TokenFeedChunk[] = [];
  detachers.push(attachStreamFeed(tracker, { fallback: (chunk) => fallback.push(chunk) }));
  const handler = new TokenTrackingCallbackHandler({ tracker });
  return { tracker, handler, fallback, config: { callbacks: [handler] } };
}

const model = () => new ScriptedChatModel({ script: () => ({ content: 'ok', usage: USAGE }) });
/** One `planner` node: agent_started, a model call, agent_completed with these messages. */
function plannerGraph(started: string, completed: string) {
  const llm = model();
  return new StateGraph(MessagesAnnotation)
    .addNode('planner', async (state) => {
      agentStarted('planner', started);
      const reply = await llm.invoke(state.messages);
      agentCompleted('planner', completed);
      return { messages: [reply] };
    })
    .addEdge(START, 'planner')
    .compile();
}

const types = (chunks: TokenFeedChunk[]) => chunks.map((c) => `${c.type}:${c.agent}`);

describe('the stream feed', () => {
  it('carries agent and llm_call chunks written from inside a node, in order', async () => {
    const graph = plannerGraph('Breaking down task into subtasks', 'Created 5 subtasks');
    const { tracker, config, fallback } = tracked();
    const { chunks } = await tracker.run(() => collect(graph, input, config));

    expect(types(chunks)).toEqual([
      'agent_started:planner',
      'llm_call:planner',
      'agent_completed:planner',
    ]);
    expect(fallback).toEqual([]);
    const [started, call, completed] = chunks as [TokenFeedChunk, TokenFeedChunk, TokenFeedChunk];
    expect(started.message).toBe('Breaking down task into subtasks');
    expect(call).toMatchObject({ model: 'gemini-2.5-flash', tokens: 120, costUsd: CALL_COST });
    expect(completed).toMatchObject({ tokens: 120, costUsd: CALL_COST, spentUsd: CALL_COST });
    expect(completed.limitUsd).toBeNull();
  });

  it('carries chunks written from a helper function a node calls', async () => {
    const llm = model();
    async function research(topic: string) {
      agentStarted('researcher', `Researching ${topic}`);
      const reply = await llm.invoke(topic);
      agentCompleted('researcher', 'Found 3 sources');
      return reply;
    }
    const graph = new StateGraph(MessagesAnnotation)
      .addNode('researcher', async () => ({ messages: [await research('RAG')] }))
      .addEdge(START, 'researcher')
      .compile();
    const { tracker, config } = tracked();
    const { chunks } = await tracker.run(() => collect(graph, input, config));
    expect(types(chunks)).toEqual([
      'agent_started:researcher',
      'llm_call:researcher',
      'agent_completed:researcher',
    ]);
    expect(chunks[2]?.tokens).toBe(120);
  });

  it('carries chunks from parallel branches, each attributed to its own node', async () => {
    const llm = model();
    const branch = (name: string, calls: number) => async () => {
      agentStarted(name, 'start');
      for (let i = 0; i < calls; i++) await llm.invoke(`${name} ${i}`);
      agentCompleted(name, 'done');
      return {};
    };
    const graph = new StateGraph(MessagesAnnotation)
      .addNode('left', branch('left', 1))
      .addNode('right', branch('right', 2))
      .addEdge(START, 'left')
      .addEdge(START, 'right')
      .compile();
    const { tracker, config } = tracked();
    const { chunks } = await tracker.run(() => collect(graph, input, config));
    const calls = chunks.filter((c) => c.type === 'llm_call');
    expect(calls.filter((c) => c.agent === 'left')).toHaveLength(1);
    expect(calls.filter((c) => c.agent === 'right')).toHaveLength(2);
    const completed = chunks.filter((c) => c.type === 'agent_completed');
    expect(Object.fromEntries(completed.map((c) => [c.agent, c.tokens]))).toEqual({
      left: 120,
      right: 240,
    });
  });

  it('carries chunks from Send fan-out tasks, each step with its own numbers', async () => {
    const llm = model();
    const State = Annotation.Root({
      topics: Annotation<string[]>(),
      notes: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
    });
    const graph = new StateGraph(State)
      .addNode('worker', async (task: { topic: string; calls: number }) => {
        agentStarted('worker', `topic ${task.topic}`);
        for (let i = 0; i < task.calls; i++) {
          await new Promise((r) => setTimeout(r, Math.random() * 3));
          await llm.invoke(task.topic);
        }
        agentCompleted('worker', `topic ${task.topic}`);
        return { notes: [task.topic] };
      })
      .addConditionalEdges(START, (state) =>
        state.topics.map((topic, i) => new Send('worker', { topic, calls: i + 1 })),
      )
      .addEdge('worker', END)
      .compile();
    const { tracker, config } = tracked();
    const { chunks, state } = await tracker.run(() =>
      collect(graph, { topics: ['a', 'b', 'c'] }, config),
    );
    expect(state.notes).toHaveLength(3);
    expect(chunks.filter((c) => c.type === 'llm_call' && c.agent === 'worker')).toHaveLength(6);
    // Three concurrent steps of one agent: each completion reports only its own task's calls.
    const completed = chunks.filter((c) => c.type === 'agent_completed');
    expect(Object.fromEntries(completed.map((c) => [c.message, c.tokens]))).toEqual({
      'topic a': 120,
      'topic b': 240,
      'topic c': 360,
    });
    expect(completed.find((c) => c.message === 'topic c')?.costUsd).toBeCloseTo(3 * CALL_COST, 15);
  });

  it('counts calls recorded inside the node by other captures (wrappers, manual record)', async () => {
    const graph = new StateGraph(MessagesAnnotation)
      .addNode('coder', async () => {
        agentStarted('coder', 'Writing code');
        // What tollgate/gemini's wrapper does: record from inside the node, no LangChain run.
        getTokenTracker().record({
          agent: 'coder',
          model: 'gemini-2.5-flash',
          usage: USAGE,
          usageFormat: 'langchain',
        });
        agentCompleted('coder', 'Wrote code');
        return {};
      })
      .addEdge(START, 'coder')
      .compile();
    const { tracker, config } = tracked();
    const { chunks } = await tracker.run(() => collect(graph, input, config));
    expect(types(chunks)).toEqual([
      'agent_started:coder',
      'llm_call:coder',
      'agent_completed:coder',
    ]);
    expect(chunks[2]).toMatchObject({ tokens: 120, costUsd: CALL_COST });
  });

  it('carries llm_call and budget chunks of model calls in nested subgraphs', async () => {
    const llm = model();
    const inner = new StateGraph(MessagesAnnotation)
      .addNode('draft', async (state) => ({ messages: [await llm.invoke(state.messages)] }))
      .addEdge(START, 'draft')
      .compile();
    const graph = new StateGraph(MessagesAnnotation)
      .addNode('team', inner)
      .addEdge(START, 'team')
      .compile();
    const { tracker, config } = tracked({ budgetLimitUsd: CALL_COST * 1.05, warnAt: [0.5] });
    const { chunks } = await tracker.run(() => collect(graph, input, config));
    expect(types(chunks)).toEqual(['llm_call:team', 'budget_warning:team']);
    expect(chunks[1]).toMatchObject({
      spentUsd: CALL_COST,
      limitUsd: CALL_COST * 1.05,
      message: expect.stringMatching(/^Budget warning: \$0\.0001 \/ \$0\.0001 \(95\.2\d*%\)$/),
    });
  });

  it('delivers a chunk once, to the fallback, when a model runs where no writer is reachable', async () => {
    const llm = model();
    // A RunnableLambda inside a node drops `writer` from the config it runs under.
    const nested = RunnableLambda.from(async (text: string) => llm.invoke(text));
    const graph = new StateGraph(MessagesAnnotation)
      .addNode('wrapped', async () => ({ messages: [await nested.invoke('hi')] }))
      .addEdge(START, 'wrapped')
      .compile();
    const { tracker, config, fallback } = tracked();
    const { chunks } = await tracker.run(() => collect(graph, input, config));
    const all = [...chunks, ...fallback];
    expect(types(all)).toEqual(['llm_call:wrapped']);
  });

  it('sends events fired outside any graph to the fallback sink', () => {
    const { tracker, fallback } = tracked({ budgetLimitUsd: 1 });
    tracker.record({
      agent: 'solo',
      model: 'gemini-2.5-flash',
      usage: USAGE,
      usageFormat: 'langchain',
    });
    agentStarted('solo', 'outside', { tracker });
    expect(types(fallback)).toEqual(['llm_call:solo', 'agent_started:solo']);
    expect(fallback[0]).toMatchObject({ source: 'tollgate', limitUsd: 1 });
  });

  it('subscribes once per tracker, however often it is attached', () => {
    const tracker = new TokenTracker();
    const seen: TokenFeedChunk[] = [];
    const detachA = attachStreamFeed(tracker, { fallback: (chunk) => seen.push(chunk) });
    const detachB = attachStreamFeed(tracker);
    tracker.record({ model: 'gemini-2.5-flash', usage: USAGE, usageFormat: 'langchain' });
    expect(seen).toHaveLength(1);
    detachB();
    tracker.record({ model: 'gemini-2.5-flash', usage: USAGE, usageFormat: 'langchain' });
    expect(seen).toHaveLength(2);
    detachA();
    tracker.record({ model: 'gemini-2.5-flash', usage: USAGE, usageFormat: 'langchain' });
    expect(seen).toHaveLength(2);
  });

  it('delivers to a direct sink instead of the stream while it is attached', async () => {
    const graph = plannerGraph('x', 'y');
    const { tracker, config, fallback } = tracked();
    const direct: { chunk: TokenFeedChunk; inNode: boolean }[] = [];
    const detach = attachStreamFeed(tracker, {
      direct: (chunk) => direct.push({ chunk, inNode: currentNamespace() !== undefined }),
    });
    const first = await tracker.run(() => collect(graph, input, config));
    expect(first.chunks).toEqual([]);
    expect(fallback).toEqual([]);
    expect(direct.map((d) => `${d.chunk.type}:${d.chunk.agent}`)).toEqual([
      'agent_started:planner',
      'llm_call:planner',
      'agent_completed:planner',
    ]);
    // Agent chunks arrive from inside the node (the llm_call one from the callback handler,
    // which LangChain runs outside the node's context).
    expect(direct.filter((d) => d.chunk.type !== 'llm_call').every((d) => d.inNode)).toBe(true);
    expect(direct[2]?.chunk).toMatchObject({ tokens: 120, costUsd: CALL_COST });

    detach();
    const second = await tracker.run(() => collect(graph, input, config));
    expect(types(second.chunks)).toEqual([
      'agent_started:planner',
      'llm_call:planner',
      'agent_completed:planner',
    ]);
    expect(direct).toHaveLength(3);
  });

  it('keeps counting a step when a feed listener throws', () => {
    const errors: unknown[] = [];
    const tracker = new TokenTracker({ onListenerError: (error) => errors.push(error) });
    const detach = attachStreamFeed(tracker, {
      direct: () => {
        throw new Error('consumer bug');
      },
    });
    detachers.push(detach);
    agentStarted('solo', 'go', { tracker });
    tracker.record({
      agent: 'solo',
      model: 'gemini-2.5-flash',
      usage: USAGE,
      usageFormat: 'langchain',
    });
    const done = agentCompleted('solo', 'done', { tracker });
    expect(done).toMatchObject({ tokens: 120, costUsd: CALL_COST });
    expect(tracker.getStatistics().totalCalls).toBe(1);
    // The feed swallows its consumer's errors: a feed never breaks the node that fired it.
    expect(errors).toEqual([]);
  });

  it('does not rely on the exported `writer`, which is a silent no-op in LangGraph 1.7', async () => {
    const graph = new StateGraph(MessagesAnnotation)
      .addNode('n', async () => {
        exportedWriter({ lost: true });
        return {};
      })
      .addEdge(START, 'n')
      .compile();
    const { other } = await collect(graph, input);
    expect(other).toEqual([]);
  });

  it('feeds nothing into a stream without "custom" mode, and breaks nothing', async () => {
    silenceHandlerErrors();
    const llm = model();
    const graph = new StateGraph(MessagesAnnotation)
      .addNode('n', async (state) => {
        agentStarted('n', 'x');
        return { messages: [await llm.invoke(state.messages)] };
      })
      .addEdge(START, 'n')
      .compile();
    const { tracker, config, fallback } = tracked();
    const state = await tracker.run(() => graph.invoke(input, config));
    expect(state.messages).toHaveLength(2);
    expect(tracker.getStatistics().totalCalls).toBe(1);
    expect(fallback).toEqual([]);
  });
});
