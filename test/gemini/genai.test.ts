import {
  ApiError,
  type CallableTool,
  type FunctionCall,
  type GenerateContentResponse,
  GoogleGenAI,
  type Part,
  Type,
} from '@google/genai';
import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { trackGemini } from '../../src/gemini/index.js';
import { BudgetExceededError, TokenTracker } from '../../src/index.js';
import type { GeminiStandInOptions } from '../../src/testing/index.js';
import { closeStandIns, expectRecordOf, standInFor, TINY_BUDGET, type Usage } from './support.js';

closeStandIns();

async function setup(standInOptions: GeminiStandInOptions = {}, tracker = new TokenTracker()) {
  const standIn = await standInFor(standInOptions);
  const raw = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: standIn.baseUrl } });
  const ai = trackGemini(raw, { tracker });
  const history = () => tracker.getUsageHistory();
  return { standIn, raw, ai, tracker, history };
}

const model = 'gemini-2.5-flash';

describe('trackGemini(GoogleGenAI)', () => {
  it('models.generateContent: one record with the usage the SDK returned', async () => {
    const { ai, history, standIn } = await setup();
    const response = await ai.models.generateContent({ model, contents: 'Plan a short trip.' });
    expect(history()).toHaveLength(1);
    expectRecordOf(history()[0], response.usageMetadata);
    expect(response.usageMetadata?.thoughtsTokenCount).toBeGreaterThan(0);
    expect(history()[0]).toMatchObject({
      agent: 'unknown',
      model,
      provider: 'google',
      metadata: { responseId: response.responseId, modelVersion: response.modelVersion },
    });
    expect(standIn.requests).toHaveLength(1);
  });

  it('keeps the type, the prototype and every other module; countTokens is untracked', async () => {
    const { ai, raw, history, standIn } = await setup();
    const typed: GoogleGenAI = trackGemini(raw);
    expectTypeOf(trackGemini(raw)).toEqualTypeOf<GoogleGenAI>();
    expect(typed).toBeInstanceOf(GoogleGenAI);
    expect(ai.caches).toBe(raw.caches);
    expect(ai.vertexai).toBe(false);
    const counted = await ai.models.countTokens({ model, contents: 'Count me.' });
    expect(counted.totalTokens).toBeGreaterThan(0);
    expect(standIn.requests.map((r) => r.action)).toEqual(['countTokens']);
    expect(history()).toHaveLength(0);
    // The original client stays untracked.
    await raw.models.generateContent({ model, contents: 'Not tracked.' });
    expect(history()).toHaveLength(0);
  });

  it('a failed request is not recorded and its error reaches the caller', async () => {
    const { ai, history, standIn } = await setup();
    standIn.failNext({ status: 429, message: 'quota' });
    await expect(ai.models.generateContent({ model, contents: 'Hi' })).rejects.toBeInstanceOf(
      ApiError,
    );
    expect(history()).toHaveLength(0);
  });
});

describe('trackGemini(GoogleGenAI): streams', () => {
  it('fully read: one record with the last chunk usage', async () => {
    const { ai, history } = await setup();
    const stream = await ai.models.generateContentStream({ model, contents: 'Stream it.' });
    const usages: (Usage | undefined)[] = [];
    for await (const chunk of stream) usages.push(chunk.usageMetadata);
    expect(usages).toHaveLength(4);
    expect(history()).toHaveLength(1);
    expectRecordOf(history()[0], usages.at(-1));
    expect(history()[0]?.metadata).toMatchObject({ stream: 'complete' });
  });

  it('abandoned after one chunk: recorded once, at the break, with the usage seen', async () => {
    const { ai, history } = await setup();
    const stream = await ai.models.generateContentStream({ model, contents: 'Stop early.' });
    let first: GenerateContentResponse | undefined;
    for await (const chunk of stream) {
      first = chunk;
      break;
    }
    expect(history()).toHaveLength(1);
    expectRecordOf(history()[0], first?.usageMetadata);
    expect(history()[0]?.metadata).toMatchObject({ stream: 'abandoned' });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(history()).toHaveLength(1);
  });

  it('failing midway: the SDK error reaches the caller, the last usage seen is recorded once', async () => {
    const { ai, history } = await setup({ streamFailAfterChunks: 2 });
    const stream = await ai.models.generateContentStream({ model, contents: 'Cut me.' });
    const usages: (Usage | undefined)[] = [];
    const failure = await (async () => {
      for await (const chunk of stream) usages.push(chunk.usageMetadata);
    })().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(usages).toHaveLength(2);
    expect(history()).toHaveLength(1);
    expectRecordOf(history()[0], usages[1]);
    expect(history()[0]?.metadata).toMatchObject({ stream: 'failed' });
  });

  it('Vertex-style stream: the final counts, once', async () => {
    const { ai, history, standIn } = await setup({ vertexStyle: true });
    const stream = await ai.models.generateContentStream({ model, contents: 'Vertex.' });
    const usages: (Usage | undefined)[] = [];
    for await (const chunk of stream) usages.push(chunk.usageMetadata);
    expect(usages[1]).toEqual({ trafficType: 'ON_DEMAND' });
    expect(history()).toHaveLength(1);
    expectRecordOf(history()[0], standIn.requests[0]?.usageMetadata);
  });
});

describe('trackGemini(GoogleGenAI): chats', () => {
  it('chats.create: each turn recorded once (the Chat sends through the tracked models)', async () => {
    const { ai, history, standIn } = await setup();
    const chat = ai.chats.create({ model });
    const first = await chat.sendMessage({ message: 'Hello there.' });
    const second = await chat.sendMessage({ message: 'Tell me more.' });
    const stream = await chat.sendMessageStream({ message: 'Stream the rest.' });
    const usages: (Usage | undefined)[] = [];
    for await (const chunk of stream) usages.push(chunk.usageMetadata);
    expect(standIn.requests).toHaveLength(3);
    expect(chat.getHistory(true).at(-1)?.role).toBe('model');
    const sent = standIn.requests[2]?.body as { contents: unknown[] };
    expect(sent.contents).toHaveLength(5); // two earlier turns kept in the chat's history
    const records = history();
    expect(records).toHaveLength(3);
    expectRecordOf(records[0], first.usageMetadata);
    expectRecordOf(records[1], second.usageMetadata);
    expectRecordOf(records[2], usages.at(-1));
    expect(records.map((r) => r.model)).toEqual([model, model, model]);
  });
});

/** A CallableTool answering `lookup_budget`, counting its calls. */
function budgetTool(): CallableTool & { calls: number } {
  const tool = {
    calls: 0,
    tool: async () => ({
      functionDeclarations: [
        {
          name: 'lookup_budget',
          description: 'Budget of a team',
          parameters: { type: Type.OBJECT, properties: { team: { type: Type.STRING } } },
        },
      ],
    }),
    callTool: async (calls: FunctionCall[]): Promise<Part[]> => {
      tool.calls += 1;
      return calls.map((call) => ({
        functionResponse: { name: call.name, response: { budgetUsd: 12 } },
      }));
    },
  };
  return tool;
}

/** Asks for a function call until the last turn holds a function response. */
const callThenAnswer: GeminiStandInOptions['respond'] = ({ contents }) => {
  const last = contents.at(-1);
  if (last?.parts?.some((part) => part.functionResponse !== undefined)) return 'It is $12.';
  return { functionCall: { name: 'lookup_budget', args: { team: 'research' } } };
};

describe('trackGemini(GoogleGenAI): automatic function calling', () => {
  it('unary AFC: only the last round is visible (documented limitation)', async () => {
    const { ai, history, standIn } = await setup({ respond: callThenAnswer });
    const tool = budgetTool();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const response = await ai.models.generateContent({
      model,
      contents: 'What is the research budget?',
      config: { tools: [tool] },
    });
    const warnings = warn.mock.calls.map((args) => String(args[0]));
    warn.mockRestore();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('automaticFunctionCalling.disable');
    expect(tool.calls).toBe(1);
    expect(standIn.requests).toHaveLength(2);
    expect(history()).toHaveLength(1);
    expectRecordOf(history()[0], response.usageMetadata);
    expect(history()[0]?.metadata).toMatchObject({ automaticFunctionCalling: true });
  });

  it('AFC disabled: each request is the caller’s, each recorded', async () => {
    const { ai, history, standIn } = await setup({ respond: callThenAnswer });
    const tool = budgetTool();
    const config = { tools: [tool], automaticFunctionCalling: { disable: true } };
    const asked = await ai.models.generateContent({ model, contents: 'Budget?', config });
    expect(asked.functionCalls?.[0]?.name).toBe('lookup_budget');
    expect(standIn.requests).toHaveLength(1);
    expect(history()).toHaveLength(1);
    expect(history()[0]?.metadata ?? {}).not.toHaveProperty('automaticFunctionCalling');
  });

  it('streamed AFC: every round recorded once, budget checked between rounds', async () => {
    const { ai, history, standIn } = await setup({ respond: callThenAnswer });
    const stream = await ai.models.generateContentStream({
      model,
      contents: 'What is the research budget?',
      config: { tools: [budgetTool()] },
    });
    const roundUsages: Usage[] = [];
    for await (const chunk of stream)
      if (chunk.usageMetadata) roundUsages.push(chunk.usageMetadata);
    expect(standIn.requests).toHaveLength(2);
    const records = history();
    expect(records).toHaveLength(2);
    expectRecordOf(records[0], standIn.requests[0]?.usageMetadata);
    expectRecordOf(records[1], standIn.requests[1]?.usageMetadata);
    expect(records.map((r) => r.metadata?.afcRound)).toEqual([1, 2]);

    // Round 1 fits (its estimate, without the tools' declarations and with 1 output token, is
    // below its cost) and spends the budget: round 2 is refused.
    const tracker = new TokenTracker({
      budgetLimitUsd: records[0]?.cost.totalUsd as number,
      enforce: 'hard',
      holdOutputTokens: 1,
    });
    const limited = trackGemini(ai, { tracker });
    const refused = await limited.models.generateContentStream({
      model,
      contents: 'What is the research budget?',
      config: { tools: [budgetTool()] },
    });
    await expect(
      (async () => {
        for await (const _ of refused);
      })(),
    ).rejects.toBeInstanceOf(BudgetExceededError);
    expect(standIn.requests).toHaveLength(3); // the second round never left
    expect(tracker.getUsageHistory()).toHaveLength(1);
  });

  it('streamed AFC under a hard budget: each round holds its own estimate', async () => {
    const { ai, standIn } = await setup({ respond: callThenAnswer });
    // Fresh each time: the SDK's AFC extends the request it is given.
    const params = () => ({
      model,
      contents: 'What is the research budget?',
      config: { tools: [budgetTool()] },
    });
    const probe = new TokenTracker();
    for await (const _ of await trackGemini(ai, { tracker: probe }).models.generateContentStream(
      params(),
    ));
    const firstRound = probe.getUsageHistory()[0]?.cost.totalUsd as number;
    // Round 1 fits (estimated at 1 output token, without the tools' declarations); round 2's
    // prompt is round 1's prompt and output plus the tools' answers: it cannot fit in 1% more.
    const tracker = new TokenTracker({
      budgetLimitUsd: firstRound * 1.01,
      enforce: 'hard',
      holdOutputTokens: 1,
    });
    const stream = await trackGemini(ai, { tracker }).models.generateContentStream(params());
    const refusal = await (async () => {
      for await (const _ of stream);
    })().catch((error: unknown) => error as BudgetExceededError);
    expect(refusal).toBeInstanceOf(BudgetExceededError);
    expect(refusal?.message).toMatch(/^Budget would be exceeded \(session\)/);
    expect(refusal?.estimateUsd).toBeGreaterThan(firstRound);
    expect(standIn.requests).toHaveLength(3); // the probe's two rounds, then round 1 only
    expect(tracker.getUsageHistory()).toHaveLength(1);
    expect(tracker.callsInFlight).toBe(0);
  });
});

describe('trackGemini(GoogleGenAI): trackers and budgets', () => {
  it('resolves the tracker per call: tracker.run() sessions never mix', async () => {
    const standIn = await standInFor();
    const ai = trackGemini(
      new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: standIn.baseUrl } }),
    );
    const a = new TokenTracker();
    const b = new TokenTracker();
    const chat = (tracker: TokenTracker) =>
      tracker.run(async () => {
        const session = ai.chats.create({ model });
        await session.sendMessage({ message: 'One.' });
        await session.sendMessage({ message: 'Two.' });
      });
    await Promise.all([
      chat(a),
      chat(b),
      a.run(() => ai.models.generateContent({ model, contents: 'x' })),
    ]);
    expect(a.getStatistics().totalCalls).toBe(3);
    expect(b.getStatistics().totalCalls).toBe(2);
  });

  it('hard budget: once spent, the next call throws and no request leaves', async () => {
    const tracker = new TokenTracker(TINY_BUDGET);
    const { ai, standIn, history } = await setup({}, tracker);
    // A call whose estimate exceeds the budget is refused under 'hard': spend it under 'warn'.
    const restore = tracker.overrideLimits({ enforce: 'warn' });
    await ai.models.generateContent({ model, contents: 'Spend it.' });
    restore();
    const refused = (p: Promise<unknown>) => expect(p).rejects.toBeInstanceOf(BudgetExceededError);
    await refused(ai.models.generateContent({ model, contents: 'No.' }));
    await refused(ai.models.generateContentStream({ model, contents: 'No.' }));
    await refused(ai.chats.create({ model }).sendMessage({ message: 'No.' }));
    await refused(ai.chats.create({ model }).sendMessageStream({ message: 'No.' }));
    expect(standIn.requests).toHaveLength(1);
    expect(history()).toHaveLength(1);
  });
});
