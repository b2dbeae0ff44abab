import { Annotation, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { describe, expect, it } from 'vitest';
import { TokenTracker, type TokenUsageStats } from '../../src/index.js';
import {
  mergeTokenUsage,
  runWithTracking,
  snapshotTokenUsage,
  TokenTrackingCallbackHandler,
  TokenUsageAnnotation,
  type TokenUsageSnapshot,
  tokenUsageUpdate,
} from '../../src/langgraph/index.js';
import { ScriptedChatModel } from './fake-model.js';
import { stable } from './support.js';

const State = Annotation.Root({ ...MessagesAnnotation.spec, ...TokenUsageAnnotation.spec });
const input = { messages: [{ role: 'user', content: 'go' }] };

function snapshot(sessionId: string, totalCalls: number, capturedAt: number): TokenUsageSnapshot {
  const tracker = new TokenTracker();
  return { ...snapshotTokenUsage(tracker), sessionId, totalCalls, capturedAt };
}

describe('mergeTokenUsage', () => {
  const a3 = snapshot('a', 3, 100);
  const a5 = snapshot('a', 5, 200);
  const a5later = snapshot('a', 5, 300);
  const b1 = snapshot('b', 1, 400);
  const unstamped = {
    ...a3,
    sessionId: undefined,
    capturedAt: undefined,
  } as unknown as TokenUsageStats;

  it.each([
    ['nothing yet', null, a3, a3],
    ['no update', a3, null, a3],
    ['the same snapshot twice', a3, a3, a3],
    ['a later snapshot of the session', a3, a5, a5],
    ['a stale snapshot of the session (subgraph returning old state)', a5, a3, a5],
    ['equal calls: the newer read', a5, a5later, a5later],
    ['equal calls: an older read never wins', a5later, a5, a5later],
    ['a newer session replaces an older one', a5, b1, b1],
    ['an older session never replaces a newer one', b1, a5, b1],
    ['unstamped statistics: the one with more calls', a5, unstamped, a5],
  ] as const)('%s', (_case, current, update, expected) => {
    expect(mergeTokenUsage(current, update)).toBe(expected);
  });
});

describe('TokenUsageAnnotation', () => {
  it('puts the tracker statistics in the final state', async () => {
    const model = new ScriptedChatModel();
    const node = async (state: typeof State.State) => ({
      messages: [await model.invoke(state.messages)],
      ...tokenUsageUpdate(),
    });
    const graph = new StateGraph(State)
      .addNode('planner', node)
      .addNode('writer', node)
      .addEdge(START, 'planner')
      .addEdge('planner', 'writer')
      .compile();
    const tracker = new TokenTracker({ budgetLimitUsd: 1 });
    const state = await tracker.run(() =>
      graph.invoke(input, { callbacks: [new TokenTrackingCallbackHandler({ tracker })] }),
    );
    expect(state.tokenUsageStats).not.toBeNull();
    expect(stable(state.tokenUsageStats as TokenUsageStats)).toEqual(
      stable(tracker.getStatistics()),
    );
    expect(state.tokenUsageStats?.totalCalls).toBe(2);
  });

  it('is needed: an additive channel double counts a subgraph returning its whole state', async () => {
    const Counted = Annotation.Root({
      calls: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }),
    });
    const one = async () => ({ calls: 1 });
    const team = new StateGraph(Counted).addNode('work', one).addEdge(START, 'work').compile();
    const graph = new StateGraph(Counted)
      .addNode('planner', one)
      .addNode('team', team)
      .addEdge(START, 'planner')
      .addEdge('planner', 'team')
      .compile();
    // Two calls made; the subgraph hands back its whole state (2), added to the parent's 1.
    expect((await graph.invoke({})).calls).toBe(3);
  });

  it('does not double count a subgraph that returns its whole state', async () => {
    const model = new ScriptedChatModel();
    const node = async (state: typeof State.State) => ({
      messages: [await model.invoke(state.messages)],
      ...tokenUsageUpdate(),
    });
    const team = new StateGraph(State)
      .addNode('research', node)
      .addNode('draft', node)
      .addEdge(START, 'research')
      .addEdge('research', 'draft')
      .compile();
    const graph = new StateGraph(State)
      .addNode('planner', node)
      .addNode('team', team)
      .addNode('left', node)
      .addNode('right', node)
      .addEdge(START, 'planner')
      .addEdge('planner', 'team')
      .addEdge('team', 'left')
      .addEdge('team', 'right')
      .compile();
    const tracker = new TokenTracker();
    const result = await runWithTracking(graph, input, {
      tracker,
      reportPath: false,
      printReport: false,
    });
    expect(tracker.getStatistics().totalCalls).toBe(5);
    expect(result.tokenUsageStats.totalCalls).toBe(5);
    expect(stable(result.tokenUsageStats)).toEqual(stable(tracker.getStatistics()));
    // The channel itself (runWithTracking replaces it by the final snapshot) agrees.
    const fresh = new TokenTracker();
    const state = await fresh.run(() =>
      graph.invoke(input, { callbacks: [new TokenTrackingCallbackHandler({ tracker: fresh })] }),
    );
    expect(state.tokenUsageStats?.totalCalls).toBe(5);
    expect(stable(state.tokenUsageStats as TokenUsageStats)).toEqual(stable(fresh.getStatistics()));
  });
});
