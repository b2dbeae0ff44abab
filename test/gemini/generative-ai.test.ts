import {
  type EnhancedGenerateContentResponse,
  GenerativeModel,
  GoogleGenerativeAI,
  GoogleGenerativeAIError,
  GoogleGenerativeAIFetchError,
  type ModelParams,
} from '@google/generative-ai';
import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { trackGemini } from '../../src/gemini/index.js';
import {
  BudgetExceededError,
  TokenTracker,
  UnknownModelError,
  type UsageRecord,
} from '../../src/index.js';
import type { GeminiStandInOptions } from '../../src/testing/index.js';
import { closeStandIns, expectRecordOf, standInFor, TINY_BUDGET, type Usage } from './support.js';

closeStandIns();

async function setup(
  params: ModelParams = { model: 'gemini-2.0-flash' },
  standInOptions: GeminiStandInOptions = {},
  tracker = new TokenTracker(),
) {
  const standIn = await standInFor(standInOptions);
  const raw = new GoogleGenerativeAI('test-key').getGenerativeModel(params, {
    baseUrl: standIn.baseUrl,
  });
  const model = trackGemini(raw, { tracker });
  const history = () => tracker.getUsageHistory();
  return { standIn, raw, model, tracker, history };
}

/** responseId / modelVersion are in the JSON, though 0.24.1's types omit them. */
const idsOf = (response: EnhancedGenerateContentResponse) =>
  response as unknown as { responseId?: string; modelVersion?: string };

describe('trackGemini(GenerativeModel)', () => {
  it('generateContent: one record with the usage the SDK returned', async () => {
    const { model, history, standIn } = await setup();
    const { response } = await model.generateContent('Why is the sky blue?');
    expect(response.text().length).toBeGreaterThan(0);
    const [record] = history();
    expect(history()).toHaveLength(1);
    expectRecordOf(record, response.usageMetadata);
    expect(record).toMatchObject({
      agent: 'unknown',
      model: 'gemini-2.0-flash',
      provider: 'google',
      metadata: { responseId: idsOf(response).responseId },
    });
    expect(record?.cost.priced).toBe(true);
    expect(standIn.requests).toHaveLength(1);
  });

  it('keeps the type, the prototype and every other member; countTokens is untracked', async () => {
    const { model, raw, history, standIn } = await setup({ model: 'gemini-2.5-flash' });
    const typed: GenerativeModel = trackGemini(raw);
    expectTypeOf(trackGemini(raw)).toEqualTypeOf<GenerativeModel>();
    expect(typed).toBeInstanceOf(GenerativeModel);
    expect(model.model).toBe('models/gemini-2.5-flash');
    expect(model.generationConfig).toBe(raw.generationConfig);
    const counted = await model.countTokens('How many tokens is this?');
    expect(counted.totalTokens).toBeGreaterThan(0);
    expect(standIn.requests.map((r) => r.action)).toEqual(['countTokens']);
    expect(history()).toHaveLength(0);
  });

  it('tracking a tracked model replaces its options instead of counting twice', async () => {
    const { model, history } = await setup();
    const tracker = new TokenTracker();
    await trackGemini(model, { tracker }).generateContent('Once.');
    expect(tracker.getUsageHistory()).toHaveLength(1);
    expect(history()).toHaveLength(0);
  });

  it('a failed request is not recorded and its error reaches the caller', async () => {
    const { model, history, standIn } = await setup();
    standIn.failNext({ status: 503, message: 'overloaded' });
    await expect(model.generateContent('Hello')).rejects.toBeInstanceOf(
      GoogleGenerativeAIFetchError,
    );
    expect(history()).toHaveLength(0);
  });
});

describe('trackGemini(GenerativeModel): streams', () => {
  it.each([0, 15])(
    'fully read (chunks %i ms apart): one record, the last chunk usage',
    async (chunkDelayMs) => {
      const { model, history } = await setup({ model: 'gemini-2.5-flash' }, { chunkDelayMs });
      const result = await model.generateContentStream('Stream a short answer.');
      const usages: (Usage | undefined)[] = [];
      let text = '';
      for await (const chunk of result.stream) {
        usages.push(chunk.usageMetadata);
        text += chunk.text();
      }
      expect(usages).toHaveLength(4);
      expect(history()).toHaveLength(1); // recorded before the loop ended
      const response = await result.response;
      expect(response.text()).toBe(text);
      expect(response.usageMetadata).toEqual(usages.at(-1));
      expectRecordOf(history()[0], usages.at(-1));
      expect(history()[0]?.metadata).toMatchObject({ stream: 'complete' });
      expect(history()).toHaveLength(1);
    },
  );

  it('abandoned after one chunk: the full usage is recorded once (the SDK still downloads it)', async () => {
    const { model, history, standIn } = await setup();
    const result = await model.generateContentStream('Stream, but I will stop early.');
    let seen = 0;
    for await (const chunk of result.stream) {
      expect(chunk.text().length).toBeGreaterThan(0);
      seen += 1;
      break;
    }
    expect(seen).toBe(1);
    await vi.waitFor(() => expect(history()).toHaveLength(1));
    expectRecordOf(history()[0], standIn.requests[0]?.usageMetadata);
    expect((await result.response).usageMetadata).toEqual(standIn.requests[0]?.usageMetadata);
    expect(history()).toHaveLength(1);
  });

  it('only `response` read: recorded once, before `response` resolves', async () => {
    const { model, history } = await setup();
    const { response } = await model.generateContentStream('Only the aggregate, please.');
    const aggregated = await response;
    expect(history()).toHaveLength(1);
    expectRecordOf(history()[0], aggregated.usageMetadata);
  });

  it('failing midway: the SDK error reaches the caller, the last usage seen is recorded once', async () => {
    const { model, history } = await setup(
      { model: 'gemini-2.0-flash' },
      { streamFailAfterChunks: 2 },
    );
    const result = await model.generateContentStream('This stream will be cut.');
    const usages: (Usage | undefined)[] = [];
    const reading = (async () => {
      for await (const chunk of result.stream) usages.push(chunk.usageMetadata);
    })();
    await expect(reading).rejects.toBeInstanceOf(GoogleGenerativeAIError);
    await expect(result.response).rejects.toBeInstanceOf(GoogleGenerativeAIError);
    expect(usages).toHaveLength(2);
    expect(history()).toHaveLength(1);
    expectRecordOf(history()[0], usages[1]);
    expect(history()[0]?.metadata).toMatchObject({ stream: 'failed' });
  });

  it('failing midway with only `response` read: still recorded once', async () => {
    const { model, history } = await setup(
      { model: 'gemini-2.0-flash' },
      { streamFailAfterChunks: 3 },
    );
    const { response } = await model.generateContentStream('Cut, and nobody iterates.');
    await expect(response).rejects.toBeInstanceOf(GoogleGenerativeAIError);
    expect(history()).toHaveLength(1);
    expect(history()[0]?.usage.totalTokens).toBeGreaterThan(0);
  });

  it('Vertex-style stream: the final counts, once', async () => {
    const { model, history, standIn } = await setup(
      { model: 'gemini-2.0-flash' },
      { vertexStyle: true },
    );
    const result = await model.generateContentStream('Vertex sends counts at the end.');
    const usages: (Usage | undefined)[] = [];
    for await (const chunk of result.stream) usages.push(chunk.usageMetadata);
    expect(usages[0]).toEqual({ trafficType: 'ON_DEMAND' });
    expect(history()).toHaveLength(1);
    expectRecordOf(history()[0], standIn.requests[0]?.usageMetadata);
    expect(history()[0]?.usage.trafficType).toBe('ON_DEMAND');
  });
});

describe('trackGemini(GenerativeModel): chats', () => {
  it('startChat: each turn recorded once with its own usage', async () => {
    const { model, history, standIn } = await setup();
    const chat = model.startChat();
    const first = await chat.sendMessage('Hello there.');
    const second = await chat.sendMessage('Tell me more.');
    const streamed = await chat.sendMessageStream('And stream the rest.');
    for await (const chunk of streamed.stream) expect(chunk).toBeDefined();
    const third = await streamed.response;
    expect(await chat.getHistory()).toHaveLength(6);
    expect(standIn.requests).toHaveLength(3);
    const records = history();
    expect(records).toHaveLength(3);
    expectRecordOf(records[0], first.response.usageMetadata);
    expectRecordOf(records[1], second.response.usageMetadata);
    expectRecordOf(records[2], third.usageMetadata);
    expect(new Set(records.map((r) => r.callId)).size).toBe(3);
  });
});

describe('trackGemini(GenerativeModel): trackers, budgets, strict mode', () => {
  it('resolves the tracker per call: tracker.run() sessions never mix', async () => {
    const standIn = await standInFor();
    const model = trackGemini(
      new GoogleGenerativeAI('k').getGenerativeModel(
        { model: 'gemini-2.0-flash' },
        { baseUrl: standIn.baseUrl },
      ),
    );
    const a = new TokenTracker();
    const b = new TokenTracker();
    await Promise.all([
      a.run(() => model.generateContent('Session A, first.')),
      b.run(async () => {
        await model.generateContent('Session B.');
        const { response } = await model.generateContentStream('Session B streams.');
        await response;
      }),
      a.run(() => model.generateContent('Session A, second.')),
    ]);
    expect(a.getStatistics().totalCalls).toBe(2);
    expect(b.getStatistics().totalCalls).toBe(2);
  });

  it('hard budget: once spent, the next call throws and no request leaves', async () => {
    const tracker = new TokenTracker(TINY_BUDGET);
    const { model, standIn, history } = await setup(undefined, {}, tracker);
    // A call whose estimate exceeds the budget is refused under 'hard': spend it under 'warn'.
    const restore = tracker.overrideLimits({ enforce: 'warn' });
    await model.generateContent('This one spends the budget.');
    restore();
    expect(tracker.getStatistics().budgetRemainingUsd).toBe(0);
    await expect(model.generateContent('Refused.')).rejects.toBeInstanceOf(BudgetExceededError);
    await expect(model.generateContentStream('Refused.')).rejects.toBeInstanceOf(
      BudgetExceededError,
    );
    await expect(model.startChat().sendMessage('Refused.')).rejects.toBeInstanceOf(
      BudgetExceededError,
    );
    expect(standIn.requests).toHaveLength(1);
    expect(history()).toHaveLength(1);
  });

  it('strict pricing: UnknownModelError propagates after the request', async () => {
    const tracker = new TokenTracker({ pricing: { strict: true } });
    const { model, standIn } = await setup({ model: 'in-house-model' }, {}, tracker);
    await expect(model.generateContent('Hi')).rejects.toBeInstanceOf(UnknownModelError);
    const { response } = await model.generateContentStream('Hi');
    await expect(response).rejects.toBeInstanceOf(UnknownModelError);
    expect(standIn.requests).toHaveLength(2);
  });

  it('lenient pricing: an unknown model is recorded unpriced, the call succeeds', async () => {
    const { model, history } = await setup({ model: 'in-house-model' });
    await model.generateContent('Hi');
    const [record] = history() as [UsageRecord];
    expect(record.cost.priced).toBe(false);
    expect(record.model).toBe('in-house-model');
  });
});
