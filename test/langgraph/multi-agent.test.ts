import type { BaseMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { createReactAgent } from '@langchain/langgraph/prebuilt';
import { createSupervisor } from '@langchain/langgraph-supervisor';
import { createHandoffTool, createSwarm } from '@langchain/langgraph-swarm';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { TokenUsageStats } from '../../src/index.js';
import { runWithTracking, type TokenFeedChunk } from '../../src/langgraph/index.js';
import { ScriptedChatModel } from './fake-model.js';

const quiet = { reportPath: false, printReport: false } as const;
const input = { messages: [{ role: 'user', content: 'Write about RAG systems' }] };

const handoffs = (messages: BaseMessage[]) =>
  messages.filter((m) => m.getType() === 'tool' && String(m.name).startsWith('transfer_')).length;

/** Per-agent numbers add up to the totals, exactly for tokens and calls. */
function expectAgentsAddUp(stats: TokenUsageStats) {
  const agents = Object.values(stats.byAgent);
  expect(agents.reduce((sum, a) => sum + a.calls, 0)).toBe(stats.totalCalls);
  expect(agents.reduce((sum, a) => sum + a.tokens, 0)).toBe(stats.totalTokens);
  expect(agents.reduce((sum, a) => sum + a.costUsd, 0)).toBeCloseTo(stats.totalCostUsd, 12);
}

describe('prebuilt multi-agent graphs', () => {
  it('attributes a supervisor and its agents by agent name', async () => {
    const supervisorModel = new ScriptedChatModel({
      model: 'gemini-2.5-pro',
      script: (messages) => {
        const n = handoffs(messages);
        if (n === 0) return { toolCalls: [{ name: 'transfer_to_researcher', args: {} }] };
        if (n === 2) return { toolCalls: [{ name: 'transfer_to_writer', args: {} }] };
        return { content: 'The report is done.' };
      },
    });
    const researcherModel = new ScriptedChatModel({
      model: 'gemini-2.5-flash',
      script: (messages) =>
        String(messages.at(-1)?.content).startsWith('three papers')
          ? { content: 'Summarized the search results.' }
          : { toolCalls: [{ name: 'search', args: { query: 'RAG' } }] },
    });
    const writerModel = new ScriptedChatModel({
      model: 'gemini-2.5-flash',
      script: () => ({ content: 'A draft about RAG.' }),
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
    const writer = createReactAgent({ llm: writerModel, tools: [], name: 'writer' });
    const graph = createSupervisor({
      agents: [researcher, writer],
      llm: supervisorModel,
      prompt: 'Route the work.',
    }).compile();

    const events: TokenFeedChunk[] = [];
    const result = await runWithTracking(graph, input, {
      ...quiet,
      onEvent: (e) => events.push(e),
    });
    const stats = result.tokenUsageStats;

    expect(Object.keys(stats.byAgent).sort()).toEqual(['researcher', 'supervisor', 'writer']);
    expect(stats.byAgent.supervisor?.calls).toBe(3);
    expect(stats.byAgent.researcher?.calls).toBe(2); // tool call, then the summary
    expect(stats.byAgent.writer?.calls).toBe(1);
    expect(stats.totalCalls).toBe(
      supervisorModel.calls + researcherModel.calls + writerModel.calls,
    );
    expect(Object.keys(stats.byModel).sort()).toEqual(['gemini-2.5-flash', 'gemini-2.5-pro']);
    expectAgentsAddUp(stats);
    expect(events.filter((e) => e.type === 'llm_call').map((e) => e.agent)).toEqual([
      'supervisor',
      'researcher',
      'researcher',
      'supervisor',
      'writer',
      'supervisor',
    ]);
  });

  it('attributes a swarm by the active agent', async () => {
    const aliceModel = new ScriptedChatModel({
      script: (messages) =>
        handoffs(messages) === 0
          ? { toolCalls: [{ name: 'transfer_to_bob', args: {} }] }
          : { content: 'alice again' },
    });
    const bobModel = new ScriptedChatModel({
      model: 'gemini-2.5-pro',
      script: () => ({ content: 'Bob answers.' }),
    });
    const alice = createReactAgent({
      llm: aliceModel,
      tools: [createHandoffTool({ agentName: 'bob' })],
      name: 'alice',
    });
    const bob = createReactAgent({
      llm: bobModel,
      tools: [createHandoffTool({ agentName: 'alice' })],
      name: 'bob',
    });
    const graph = createSwarm({ agents: [alice, bob], defaultActiveAgent: 'alice' }).compile();
    const result = await runWithTracking(graph, input, quiet);
    const stats = result.tokenUsageStats;
    expect(result.activeAgent).toBe('bob');
    expect(stats.byAgent).toMatchObject({ alice: { calls: 1 }, bob: { calls: 1 } });
    expect(stats.byModel).toMatchObject({
      'gemini-2.5-flash': { calls: 1 },
      'gemini-2.5-pro': { calls: 1 },
    });
    expectAgentsAddUp(stats);
  });

  it('attributes calls in nested subgraphs to the top-level node', async () => {
    const model = new ScriptedChatModel();
    const call = async (state: typeof MessagesAnnotation.State) => ({
      messages: [await model.invoke(state.messages)],
    });
    const innermost = new StateGraph(MessagesAnnotation)
      .addNode('draft', call)
      .addEdge(START, 'draft')
      .compile();
    const team = new StateGraph(MessagesAnnotation)
      .addNode('lead', call)
      .addNode('drafting', innermost)
      .addEdge(START, 'lead')
      .addEdge('lead', 'drafting')
      .compile();
    const graph = new StateGraph(MessagesAnnotation)
      .addNode('planner', call)
      .addNode('team', team)
      .addEdge(START, 'planner')
      .addEdge('planner', 'team')
      .compile();
    const result = await runWithTracking(graph, input, quiet);
    const stats = result.tokenUsageStats;
    expect(stats.byAgent).toMatchObject({ planner: { calls: 1 }, team: { calls: 2 } });
    expect(Object.keys(stats.byAgent)).toHaveLength(2);
    expectAgentsAddUp(stats);
  });
});
