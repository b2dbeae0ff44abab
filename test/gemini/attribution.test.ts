import { GoogleGenAI } from '@google/genai';
import { GoogleGenerativeAI } from '@google/generative-ai';
import { Annotation, END, MemorySaver, Send, START, StateGraph } from '@langchain/langgraph';
import { describe, expect, it } from 'vitest';
import { attributionFrom } from '../../src/gemini/context.js';
import { trackGemini } from '../../src/gemini/index.js';
import { TokenTracker } from '../../src/index.js';
import { closeStandIns, standInFor } from './support.js';

closeStandIns();

const State = Annotation.Root({
  topic: Annotation<string>(),
  notes: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

async function clients(tracker: TokenTracker, options: Parameters<typeof trackGemini>[1] = {}) {
  const standIn = await standInFor();
  const ai = trackGemini(
    new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: standIn.baseUrl } }),
    { tracker, ...options },
  );
  const model = trackGemini(
    new GoogleGenerativeAI('k').getGenerativeModel(
      { model: 'gemini-2.0-flash' },
      { baseUrl: standIn.baseUrl },
    ),
    { tracker, ...options },
  );
  return { ai, model };
}

const who = (tracker: TokenTracker) =>
  tracker.getUsageHistory().map(({ agent, node, threadId }) => ({ agent, node, threadId }));

describe('attribution', () => {
  it('outside any graph: agent "unknown", or the options', async () => {
    const tracker = new TokenTracker();
    const { ai } = await clients(tracker);
    await ai.models.generateContent({ model: 'gemini-2.0-flash', contents: 'Plain call.' });
    const named = trackGemini(ai, { tracker, agent: 'cli', userId: 'u-7', threadId: 't-9' });
    await named.models.generateContent({ model: 'gemini-2.0-flash', contents: 'Named call.' });
    expect(
      tracker
        .getUsageHistory()
        .map(({ agent, node, userId, threadId }) => ({ agent, node, userId, threadId })),
    ).toEqual([
      { agent: 'unknown', node: undefined, userId: undefined, threadId: undefined },
      { agent: 'cli', node: undefined, userId: 'u-7', threadId: 't-9' },
    ]);
  });

  it('inside StateGraph nodes and a subgraph: agent, node and thread from the graph config', async () => {
    const tracker = new TokenTracker();
    const { ai, model } = await clients(tracker);
    const researcher = new StateGraph(State)
      .addNode('agent', async ({ topic }) => {
        const stream = await ai.models.generateContentStream({
          model: 'gemini-2.5-flash',
          contents: `Research ${topic}.`,
        });
        let text = '';
        for await (const chunk of stream) text += chunk.text ?? '';
        return { notes: [text] };
      })
      .addEdge(START, 'agent')
      .addEdge('agent', END)
      .compile();
    const graph = new StateGraph(State)
      .addNode('planner', async ({ topic }) => {
        const { response } = await model.generateContent(`Plan ${topic}.`);
        return { notes: [response.text()] };
      })
      .addNode('researcher', researcher)
      .addEdge(START, 'planner')
      .addEdge('planner', 'researcher')
      .addEdge('researcher', END)
      .compile({ checkpointer: new MemorySaver() });

    await graph.invoke({ topic: 'budgets' }, { configurable: { thread_id: 'thread-42' } });
    expect(who(tracker)).toEqual([
      { agent: 'planner', node: 'planner', threadId: 'thread-42' },
      { agent: 'researcher', node: 'agent', threadId: 'thread-42' },
    ]);
  });

  it('parallel Send tasks keep their own attribution; explicit options override the graph', async () => {
    const tracker = new TokenTracker();
    const { ai } = await clients(tracker);
    const pinned = trackGemini(ai, { tracker, agent: 'auditor', threadId: 'audit' });
    const graph = new StateGraph(State)
      .addNode('fanout', () => ({}))
      .addNode('writer', async ({ topic }) => {
        await ai.models.generateContent({ model: 'gemini-2.0-flash', contents: topic });
        await pinned.models.generateContent({ model: 'gemini-2.0-flash', contents: topic });
        return { notes: [topic] };
      })
      .addEdge(START, 'fanout')
      .addConditionalEdges('fanout', () => [
        new Send('writer', { topic: 'one' }),
        new Send('writer', { topic: 'two' }),
      ])
      .addEdge('writer', END)
      .compile();
    await graph.invoke({ topic: 'x' });
    const seen = who(tracker);
    expect(seen).toHaveLength(4);
    expect(seen.filter((w) => w.agent === 'writer')).toEqual([
      { agent: 'writer', node: 'writer', threadId: undefined },
      { agent: 'writer', node: 'writer', threadId: undefined },
    ]);
    expect(seen.filter((w) => w.agent === 'auditor')).toEqual([
      { agent: 'auditor', node: 'writer', threadId: 'audit' },
      { agent: 'auditor', node: 'writer', threadId: 'audit' },
    ]);
  });

  it.each([
    [undefined, {}],
    [{}, {}],
    [
      { metadata: { langgraph_node: 'planner', checkpoint_ns: 'planner:1' } },
      { agent: 'planner', node: 'planner' },
    ],
    [
      {
        metadata: { langgraph_node: 'agent', checkpoint_ns: 'researcher:abc|agent:def' },
        configurable: { thread_id: 't-1' },
      },
      { agent: 'researcher', node: 'agent', threadId: 't-1' },
    ],
    [
      { metadata: { langgraph_node: 'tools', thread_id: 7 } },
      { agent: 'tools', node: 'tools', threadId: '7' },
    ],
    [{ configurable: { checkpoint_ns: 'supervisor:1|agent:2' } }, { agent: 'supervisor' }],
    [{ metadata: { checkpoint_ns: '' }, configurable: { thread_id: '' } }, {}],
    // A namespace without ids, or with an empty first segment: the node names the agent.
    [
      { metadata: { langgraph_node: 'n', checkpoint_ns: 'writer' } },
      { agent: 'writer', node: 'n' },
    ],
    [{ metadata: { langgraph_node: 'n', checkpoint_ns: 'a|b:1' } }, { agent: 'a', node: 'n' }],
    [{ metadata: { langgraph_node: 'n', checkpoint_ns: ':1|b:2' } }, { agent: 'n', node: 'n' }],
  ])('attributionFrom(%j) → %j', (config, expected) => {
    expect(attributionFrom(config)).toEqual(expected);
  });
});
