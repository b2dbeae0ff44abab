import { GoogleGenAI } from '@google/genai';
import { Annotation, START, StateGraph } from '@langchain/langgraph';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { trackGemini } from '../../src/gemini/index.js';
import { BudgetManager, type BudgetRule, MemoryStore, TokenTracker } from '../../src/index.js';
import {
  adaptedMessage,
  alertMessage,
  attachStreamFeed,
  formatFeedChunk,
  runWithTracking,
  type TokenFeedChunk,
} from '../../src/langgraph/index.js';
import { type GeminiStandIn, startGeminiStandIn } from '../../src/testing/index.js';
import { captureLog, collect } from './support.js';

const FLASH = 'gemini-2.5-flash';
const PRO = 'gemini-2.5-pro';
const quiet = { reportPath: false, printReport: false } as const;

const standIns: GeminiStandIn[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(standIns.splice(0).map((s) => s.close()));
});

const State = Annotation.Root({
  topic: Annotation<string>(),
  notes: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

/** The planner's budget runs low at once: its calls switch to Flash with 256 output tokens. */
const plannerLow: BudgetRule = {
  id: 'planner-daily',
  scope: { kind: 'agent', id: 'planner' },
  window: 'day',
  limitUsd: 0.000001,
  mode: 'adaptive',
  alertAt: [],
  adaptive: { fallbackModel: FLASH, minMaxOutputTokens: 256 },
};

/** Every user's soft daily budget, crossed by the first call: one alert at 80%. */
const userSoft: BudgetRule = {
  id: 'user-daily',
  scope: { kind: 'user' },
  window: 'day',
  limitUsd: 0.000001,
  mode: 'soft',
  alertAt: [0.8],
};

function budgetsWith(...rules: BudgetRule[]) {
  return new BudgetManager({ store: new MemoryStore(), defaultDailyUserLimitUsd: null, rules });
}

/** A planner → writer graph calling Gemini through a tracked client (no LangChain model). */
async function pipeline(budgets: BudgetManager, userId = 'alice') {
  const standIn = await startGeminiStandIn();
  standIns.push(standIn);
  const ai = trackGemini(
    new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: standIn.baseUrl } }),
    { budgets, userId },
  );
  const ask = (model: string, contents: string) =>
    ai.models.generateContent({ model, contents, config: { maxOutputTokens: 1024 } });
  const graph = new StateGraph(State)
    .addNode('planner', async ({ topic }) => {
      const reply = await ask(PRO, `Plan a report on ${topic}.`);
      return { notes: [reply.text ?? ''] };
    })
    .addNode('writer', async ({ topic }) => {
      const reply = await ask(FLASH, `Write the report on ${topic}.`);
      return { notes: [reply.text ?? ''] };
    })
    .addEdge(START, 'planner')
    .addEdge('planner', 'writer')
    .compile();
  return { graph, standIn };
}

const kinds = (chunks: TokenFeedChunk[]) => chunks.map((c) => `${c.type}:${c.agent}`);

describe('the feed carries shared budget events', () => {
  it('runWithTracking: budget_adapted and budget_alert chunks, in order, with console lines', async () => {
    const budgets = budgetsWith(plannerLow, userSoft);
    const { graph, standIn } = await pipeline(budgets);
    const chunks: TokenFeedChunk[] = [];
    const log = captureLog();
    try {
      await runWithTracking(
        graph,
        { topic: 'RAG' },
        {
          ...quiet,
          budgets,
          langchainCallbacks: false,
          streamOutput: true,
          onEvent: (chunk) => chunks.push(chunk),
        },
      );
    } finally {
      log.restore();
    }
    // Each node's step opens before anything its calls fire (the adaptation comes first).
    expect(kinds(chunks)).toEqual([
      'agent_started:planner',
      'budget_adapted:planner',
      'llm_call:planner',
      'budget_alert:planner',
      'agent_completed:planner',
      'agent_started:writer',
      'llm_call:writer',
      'agent_completed:writer',
    ]);
    const [, adapted, plannerCall, alert] = chunks;
    expect(adapted).toMatchObject({
      source: 'tollgate',
      model: PRO,
      limitUsd: 0.000001,
      budget: {
        ruleId: 'planner-daily',
        key: expect.stringMatching(/^agent:planner:day:/),
        scope: { kind: 'agent', id: 'planner' },
        adapt: { from: PRO, to: FLASH, maxOutputTokens: 256 },
      },
      message: `Budget low: switching planner from ${PRO} to ${FLASH}, maxOutputTokens 256`,
    });
    expect(plannerCall?.model).toBe(FLASH);
    expect(alert).toMatchObject({
      limitUsd: 0.000001,
      budget: { ruleId: 'user-daily', window: 'day', threshold: 0.8 },
      message: expect.stringMatching(/^Budget alert: user alice daily budget at 80% \(\$/),
    });
    expect(alert?.spentUsd).toBeGreaterThan(0.000001);
    expect(standIn.requests.map((r) => r.model)).toEqual([FLASH, FLASH]);
    expect(log.lines).toContain(
      `[budget_adapted] Budget low: switching planner from ${PRO} to ${FLASH}, maxOutputTokens 256`,
    );
    expect(
      log.lines.some((line) => line.startsWith('[budget_alert] Budget alert: user alice')),
    ).toBe(true);
    expect(log.lines.some((line) => line.startsWith('[llm_call]'))).toBe(false);
  });

  it('the chunks travel through the node’s stream writer, not the fallback', async () => {
    const budgets = budgetsWith(plannerLow, userSoft);
    const { graph } = await pipeline(budgets);
    const tracker = new TokenTracker();
    const fallback: TokenFeedChunk[] = [];
    const detach = attachStreamFeed(tracker, { budgets, fallback: (c) => fallback.push(c) });
    try {
      const { chunks } = await tracker.run(() => collect(graph, { topic: 'agents' }));
      expect(kinds(chunks)).toEqual([
        'budget_adapted:planner',
        'llm_call:planner',
        'budget_alert:planner',
        'llm_call:writer',
      ]);
      expect(fallback).toEqual([]);
    } finally {
      detach();
    }
  });

  it('concurrent runs sharing one manager each get their own events, once', async () => {
    const budgets = budgetsWith(plannerLow, userSoft);
    const a = await pipeline(budgets, 'ann');
    const b = await pipeline(budgets, 'bob');
    const chunksA: TokenFeedChunk[] = [];
    const chunksB: TokenFeedChunk[] = [];
    const run = (graph: typeof a.graph, sink: TokenFeedChunk[]) =>
      runWithTracking(
        graph,
        { topic: 'shared budgets' },
        { ...quiet, budgets, langchainCallbacks: false, onEvent: (c) => sink.push(c) },
      );
    await Promise.all([run(a.graph, chunksA), run(b.graph, chunksB)]);
    for (const [chunks, user] of [
      [chunksA, 'ann'],
      [chunksB, 'bob'],
    ] as const) {
      expect(chunks.filter((c) => c.type === 'budget_adapted')).toHaveLength(1);
      const alerts = chunks.filter((c) => c.type === 'budget_alert');
      expect(alerts).toHaveLength(1);
      expect(alerts[0]?.message).toContain(`user ${user} daily`);
    }
  });

  it('outside a graph the chunks go to the fallback; detaching stops them', async () => {
    const budgets = budgetsWith(plannerLow);
    const tracker = new TokenTracker();
    const fallback: TokenFeedChunk[] = [];
    const detach = attachStreamFeed(tracker, { budgets, fallback: (c) => fallback.push(c) });
    const reserve = () =>
      budgets.reserve({
        callId: `c-${Math.random()}`,
        agent: 'planner',
        model: PRO,
        estimateUsd: 0.01,
        maxOutputTokens: 1000,
      });
    await reserve();
    expect(fallback.map((c) => `${c.type}:${c.agent}`)).toEqual(['budget_adapted:unknown']);
    expect(fallback[0]?.message).toBe(
      `Budget low: switching unknown from ${PRO} to ${FLASH}, maxOutputTokens 256`,
    );
    detach();
    detach(); // idempotent
    await reserve();
    expect(fallback).toHaveLength(1);
  });
});

describe('budget feed lines', () => {
  it('adaptedMessage names what changes', () => {
    expect(adaptedMessage('planner', PRO, { model: FLASH, maxOutputTokens: 1024 })).toBe(
      `Budget low: switching planner from ${PRO} to ${FLASH}, maxOutputTokens 1024`,
    );
    expect(adaptedMessage('planner', PRO, { model: FLASH })).toBe(
      `Budget low: switching planner from ${PRO} to ${FLASH}`,
    );
    expect(adaptedMessage('writer', FLASH, { maxOutputTokens: 256 })).toBe(
      `Budget low: writer keeps ${FLASH}, maxOutputTokens 256`,
    );
  });

  it('alertMessage names the scope, the window and the threshold', () => {
    expect(
      alertMessage({
        scope: { kind: 'user', id: 'alice' },
        window: 'day',
        threshold: 0.8,
        spentUsd: 4.02,
        limitUsd: 5,
      }),
    ).toBe('Budget alert: user alice daily budget at 80% ($4.02 / $5.00)');
    expect(
      alertMessage({
        scope: { kind: 'global' },
        window: 'month',
        threshold: 0.95,
        spentUsd: 0.0096,
        limitUsd: 0.01,
      }),
    ).toBe('Budget alert: global monthly budget at 95% ($0.0096 / $0.0100)');
  });

  it('formatFeedChunk prints budget chunks as their sentence', () => {
    const base = { source: 'tollgate', agent: 'planner', spentUsd: 1, limitUsd: 2 } as const;
    expect(
      formatFeedChunk({
        ...base,
        type: 'budget_adapted',
        utilizationPercent: 50,
        message: 'Budget low: planner keeps x, maxOutputTokens 5',
        timestamp: 0,
      }),
    ).toBe('[budget_adapted] Budget low: planner keeps x, maxOutputTokens 5');
    expect(
      formatFeedChunk({
        ...base,
        type: 'budget_alert',
        utilizationPercent: 50,
        message: 'Budget alert: global daily budget at 50% ($1.00 / $2.00)',
        timestamp: 0,
      }),
    ).toBe('[budget_alert] Budget alert: global daily budget at 50% ($1.00 / $2.00)');
  });
});
