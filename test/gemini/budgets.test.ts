import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CallableTool, type FunctionCall, GoogleGenAI, type Part } from '@google/genai';
import { type CachedContent, GoogleGenerativeAI } from '@google/generative-ai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TrackGeminiOptions } from '../../src/gemini/index.js';
import { DEFAULT_MAX_OUTPUT_TOKENS, trackGemini } from '../../src/gemini/index.js';
import {
  type BudgetAlertEvent,
  BudgetExceededError,
  BudgetManager,
  type BudgetRule,
  ConfigurationError,
  estimateCallCost,
  estimatePromptTokens,
  MemoryStore,
  RateLimitExceededError,
  RateLimiter,
  type ReserveInput,
  type Store,
  TokenTracker,
  type UsageRecord,
  usdToFemto,
} from '../../src/index.js';
import { createSqliteStore } from '../../src/sqlite/index.js';
import type { GeminiStandIn, GeminiStandInOptions } from '../../src/testing/index.js';
import { closeStandIns, standInFor } from './support.js';

closeStandIns();

const FLASH = 'gemini-2.5-flash';
const PRO = 'gemini-2.5-pro';
const USER = 'alice';

type Sdk = 'genai' | 'generative-ai';
const SDKS: Sdk[] = ['genai', 'generative-ai'];

interface ClientOptions {
  model?: string;
  /** Sent with every request: genai `config`, generative-ai the model's `generationConfig`. */
  maxOutputTokens?: number;
}

/** One tracked client of either SDK, with the calls the tests make. */
interface Client {
  /** A unary request; resolves to the response's usageMetadata. */
  ask(text: string): Promise<unknown>;
  /**
   * A stream: reads `take` chunks then breaks (all when undefined), and waits for the call to
   * end (generative-ai: its `response`). Resolves to the error the stream failed with, if any.
   */
  stream(text: string, take?: number): Promise<unknown>;
}

function clientOf(
  sdk: Sdk,
  standIn: GeminiStandIn,
  options: TrackGeminiOptions,
  { model = FLASH, maxOutputTokens }: ClientOptions = {},
): Client {
  if (sdk === 'genai') {
    const ai = trackGemini(
      new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: standIn.baseUrl } }),
      options,
    );
    const config = maxOutputTokens === undefined ? {} : { config: { maxOutputTokens } };
    return {
      ask: async (text) =>
        (await ai.models.generateContent({ model, contents: text, ...config })).usageMetadata,
      stream: async (text, take) => {
        try {
          let seen = 0;
          for await (const _ of await ai.models.generateContentStream({
            model,
            contents: text,
            ...config,
          })) {
            seen += 1;
            if (take !== undefined && seen >= take) break;
          }
          return undefined;
        } catch (error) {
          return error;
        }
      },
    };
  }
  const generative = trackGemini(
    new GoogleGenerativeAI('k').getGenerativeModel(
      { model, ...(maxOutputTokens !== undefined && { generationConfig: { maxOutputTokens } }) },
      { baseUrl: standIn.baseUrl },
    ),
    options,
  );
  return {
    ask: async (text) => (await generative.generateContent(text)).response.usageMetadata,
    stream: async (text, take) => {
      let result: Awaited<ReturnType<typeof generative.generateContentStream>>;
      try {
        result = await generative.generateContentStream(text);
      } catch (error) {
        return error;
      }
      let seen = 0;
      try {
        for await (const _ of result.stream) {
          seen += 1;
          if (take !== undefined && seen >= take) break;
        }
      } catch {
        // the same error rejects `response`
      }
      return result.response.then(
        () => undefined,
        (error: unknown) => error,
      );
    },
  };
}

function manager(store: Store = new MemoryStore(), rules: BudgetRule[] = []) {
  return new BudgetManager({ store, defaultDailyUserLimitUsd: null, rules });
}

/** The user's day counter, exactly. */
async function dayCounter(budgets: BudgetManager, userId = USER) {
  const { today } = await budgets.getUserStats(userId);
  const [state] = await budgets.store.counters!([today.key], Date.now());
  return { settled: state?.settledFemto ?? 0n, reserved: state?.reservedFemto ?? 0n };
}

const femtoOf = (record: UsageRecord | undefined) => BigInt(record?.cost.totalFemto ?? -1);
const sumOf = (records: UsageRecord[]) => records.reduce((sum, r) => sum + femtoOf(r), 0n);

/** The estimate trackGemini makes for a text prompt under the local estimate. */
function localEstimate(model: string, text: string, maxOutputTokens: number) {
  return estimateCallCost({ model, promptTokens: estimatePromptTokens(text), maxOutputTokens })
    .estimateFemto;
}

function spyReserve(budgets: BudgetManager) {
  const inputs: ReserveInput[] = [];
  const original = budgets.reserve.bind(budgets);
  vi.spyOn(budgets, 'reserve').mockImplementation((input) => {
    inputs.push(input);
    return original(input);
  });
  return inputs;
}

const larger = (a: bigint, b: bigint) => {
  if (a > b) return a;
  return b;
};

/** The JSON body a request sent. */
const bodyOf = (request: { body: unknown } | undefined) =>
  (request?.body ?? {}) as { generationConfig?: object; contents?: unknown[] };

const generated = (standIn: GeminiStandIn) =>
  standIn.requests.filter((r) => r.action !== 'countTokens');

describe.each(SDKS)('trackGemini with shared budgets (%s)', (sdk) => {
  async function setup(
    rules: BudgetRule[] = [],
    options: TrackGeminiOptions = {},
    client: ClientOptions = { maxOutputTokens: 512 },
  ) {
    const standIn = await standInFor();
    const tracker = new TokenTracker();
    const budgets = manager(new MemoryStore(), rules);
    const api = clientOf(sdk, standIn, { tracker, budgets, userId: USER, ...options }, client);
    return { standIn, tracker, budgets, api, history: () => tracker.getUsageHistory() };
  }

  it('a hard user limit refuses before sending: nothing reaches the API, nothing is held', async () => {
    const { standIn, budgets, api, history } = await setup();
    const text = 'Plan the quarterly review.';
    const estimate = localEstimate(FLASH, text, 512);
    // Room for one call's estimate, not for a second one on top of the first's actual cost.
    budgets.setUserLimit(USER, Number(estimate + 1000n) / 1e15);
    const refused = vi.fn();
    budgets.on('budget_refused', refused);

    await api.ask(text);
    expect(generated(standIn)).toHaveLength(1);
    await expect(api.ask(text)).rejects.toBeInstanceOf(BudgetExceededError);
    await expect(api.stream(text)).resolves.toBeInstanceOf(BudgetExceededError);
    expect(generated(standIn)).toHaveLength(1);
    expect(history()).toHaveLength(1);
    expect(refused).toHaveBeenCalledTimes(2);
    expect(await dayCounter(budgets)).toEqual({ settled: femtoOf(history()[0]), reserved: 0n });
  });

  it('reserves the local estimate and settles the exact recorded cost (unary and stream)', async () => {
    const { budgets, api, history } = await setup([
      { id: 'daily', scope: { kind: 'user' }, window: 'day', limitUsd: 1, mode: 'hard' },
    ]);
    const inputs = spyReserve(budgets);
    await api.ask('Summarize the meeting notes.');
    expect(inputs[0]).toMatchObject({
      userId: USER,
      model: FLASH,
      provider: 'google',
      agent: 'unknown',
      maxOutputTokens: 512,
      estimateFemto: localEstimate(FLASH, 'Summarize the meeting notes.', 512),
    });
    expect(inputs[0]?.callId).toBe(history()[0]?.callId);
    expect(await dayCounter(budgets)).toEqual({ settled: femtoOf(history()[0]), reserved: 0n });

    await expect(api.stream('Stream the summary.')).resolves.toBeUndefined();
    expect(history()).toHaveLength(2);
    expect(history()[1]?.metadata).toMatchObject({ stream: 'complete' });
    expect(await dayCounter(budgets)).toEqual({ settled: sumOf(history()), reserved: 0n });
    // The actual cost is below the estimate: maxOutputTokens caps output and thinking.
    expect(femtoOf(history()[0])).toBeLessThan(inputs[0]?.estimateFemto as bigint);
  });

  it('an HTTP failure releases the reservation: nothing settled, nothing held', async () => {
    const { standIn, budgets, api, history } = await setup();
    const released = vi.spyOn(budgets, 'release');
    standIn.failNext({ status: 400, message: 'bad request' });
    await expect(api.ask('Fail please.')).rejects.toThrow(/bad request/);
    standIn.failNext({ status: 400, message: 'bad stream' });
    expect(String(await api.stream('Fail the stream.'))).toMatch(/bad stream/);
    expect(generated(standIn)).toHaveLength(2);
    expect(history()).toHaveLength(0);
    expect(released).toHaveBeenCalledTimes(2);
    expect(await dayCounter(budgets)).toEqual({ settled: 0n, reserved: 0n });
  });

  it('a stream cut before any usage releases; cut midway settles the partial cost', async () => {
    const { standIn, budgets, api, history } = await setup();
    standIn.failNext({ afterChunks: 0 });
    expect(await api.stream('Cut before anything.')).toBeInstanceOf(Error);
    expect(history()).toHaveLength(0);
    expect(await dayCounter(budgets)).toEqual({ settled: 0n, reserved: 0n });

    standIn.failNext({ afterChunks: 2 });
    expect(await api.stream('Cut me in the middle, please, after two chunks.')).toBeInstanceOf(
      Error,
    );
    expect(history()).toHaveLength(1);
    expect(history()[0]?.metadata).toMatchObject({ stream: 'failed' });
    expect(femtoOf(history()[0])).toBeGreaterThan(0n);
    expect(await dayCounter(budgets)).toEqual({ settled: femtoOf(history()[0]), reserved: 0n });
  });

  it('a stream abandoned early settles what was recorded', async () => {
    const { budgets, api, history } = await setup();
    await expect(api.stream('Tell me a long story about budgets.', 1)).resolves.toBeUndefined();
    expect(history()).toHaveLength(1);
    // genai records the usage seen at the break; generative-ai downloads the whole stream.
    expect(history()[0]?.metadata).toMatchObject({
      stream: sdk === 'genai' ? 'abandoned' : 'complete',
    });
    expect(await dayCounter(budgets)).toEqual({ settled: femtoOf(history()[0]), reserved: 0n });
  });

  it('adaptive: switches to the fallback model and lowers maxOutputTokens before sending', async () => {
    const { standIn, budgets, api, history } = await setup(
      [
        {
          id: 'low',
          scope: { kind: 'user' },
          window: 'day',
          limitUsd: 0.000001,
          mode: 'adaptive',
          adaptive: { fallbackModel: FLASH, minMaxOutputTokens: 256 },
        },
      ],
      {},
      { model: PRO, maxOutputTokens: 2048 },
    );
    const adaptive = vi.fn();
    budgets.on('adaptive', adaptive);
    await api.ask('Draft the plan.');
    await api.stream('Stream the plan.');
    expect(generated(standIn).map((r) => r.model)).toEqual([FLASH, FLASH]);
    for (const request of generated(standIn)) {
      expect(request.path).toContain(`/models/${FLASH}:`);
      expect(request.body).toMatchObject({ generationConfig: { maxOutputTokens: 256 } });
      // Thinking is capped by the output budget too.
      expect(request.usageMetadata?.thoughtsTokenCount ?? 0).toBeLessThanOrEqual(256);
    }
    expect(adaptive).toHaveBeenCalledTimes(2);
    expect(adaptive.mock.calls[0]?.[0]).toMatchObject({
      model: PRO,
      adapt: { model: FLASH, maxOutputTokens: 256 },
    });
    expect(history().map((r) => r.model)).toEqual([FLASH, FLASH]);
    for (const record of history()) {
      expect(record.metadata?.adapted).toEqual({ from: PRO, to: FLASH, maxOutputTokens: 256 });
    }
    expect(await dayCounter(budgets)).toEqual({ settled: sumOf(history()), reserved: 0n });
  });

  it('adaptive with a cap only: keeps the model, lowers maxOutputTokens', async () => {
    const { standIn, api, history } = await setup(
      [
        {
          id: 'cap',
          scope: { kind: 'user' },
          window: 'day',
          limitUsd: 0.000001,
          mode: 'adaptive',
          adaptive: { minMaxOutputTokens: 64 },
        },
      ],
      {},
      { model: FLASH },
    );
    await api.ask('No cap asked.');
    expect(generated(standIn)[0]?.model).toBe(FLASH);
    expect(generated(standIn)[0]?.body).toMatchObject({
      generationConfig: { maxOutputTokens: 64 },
    });
    expect(history()[0]?.metadata?.adapted).toEqual({
      from: FLASH,
      to: FLASH,
      maxOutputTokens: 64,
    });
  });

  it("estimate 'countTokens': asks the SDK's countTokens and reserves with its number", async () => {
    const { standIn, budgets, api, history } = await setup([], { estimate: 'countTokens' });
    const inputs = spyReserve(budgets);
    // Short words: the local estimate (4 characters a token) would say 6, the count is 11.
    const text = 'a b c d e f g h i j k';
    await api.ask(text);
    expect(standIn.requests.map((r) => r.action)).toEqual(['countTokens', 'generateContent']);
    const counted = (standIn.requests[1]?.usageMetadata?.promptTokenCount ?? 0) as number;
    expect(counted).toBe(11);
    expect(estimatePromptTokens(text)).toBe(6);
    expect(inputs[0]?.estimateFemto).toBe(
      estimateCallCost({ model: FLASH, promptTokens: counted, maxOutputTokens: 512 }).estimateFemto,
    );
    expect(history()).toHaveLength(1);

    // countTokens failing: the local estimate, with a warning once; the call goes on.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    standIn.failNext({ status: 400, message: 'no count' });
    await api.ask(text);
    const warned = warn.mock.calls.length;
    warn.mockRestore();
    // Once per process: the first SDK's run of this test warned.
    expect(warned).toBe(sdk === 'genai' ? 1 : 0);
    expect(inputs[1]?.estimateFemto).toBe(localEstimate(FLASH, text, 512));
    expect(history()).toHaveLength(2);
  });

  it('a rate limiter refusal sends nothing and reserves nothing', async () => {
    const rateLimiter = new RateLimiter({
      limits: [{ id: 'per-user', scope: { kind: 'user' }, requestsPerMinute: 1 }],
    });
    const check = vi.spyOn(rateLimiter, 'check');
    const { standIn, budgets, api, history } = await setup([], { rateLimiter });
    const reserve = vi.spyOn(budgets, 'reserve');
    await api.ask('First.');
    await expect(api.ask('Second.')).rejects.toBeInstanceOf(RateLimitExceededError);
    expect(await api.stream('Third.')).toBeInstanceOf(RateLimitExceededError);
    expect(generated(standIn)).toHaveLength(1);
    expect(history()).toHaveLength(1);
    expect(reserve).toHaveBeenCalledTimes(1);
    expect(check.mock.calls[0]?.[0]).toEqual({
      userId: USER,
      agent: 'unknown',
      model: FLASH,
      tokens: estimatePromptTokens('First.') + 512,
    });
    expect(await dayCounter(budgets)).toEqual({ settled: femtoOf(history()[0]), reserved: 0n });
  });

  it('a rate limiter alone (no budgets) checks tokens per minute before sending', async () => {
    const standIn = await standInFor();
    const rateLimiter = new RateLimiter({
      limits: [{ id: 'tpm', scope: { kind: 'global' }, tokensPerMinute: 1000 }],
    });
    const tracker = new TokenTracker();
    const api = clientOf(sdk, standIn, { tracker, rateLimiter }, { maxOutputTokens: 600 });
    await api.ask('One.');
    // 600 more output tokens do not fit in what is left of 1,000 a minute.
    await expect(api.ask('Two.')).rejects.toBeInstanceOf(RateLimitExceededError);
    expect(generated(standIn)).toHaveLength(1);
    expect(tracker.getUsageHistory()).toHaveLength(1);
  });

  it('without maxOutputTokens the estimate assumes defaultMaxOutputTokens', async () => {
    const { budgets, api } = await setup([], {}, {});
    const inputs = spyReserve(budgets);
    await api.ask('Default cap.');
    expect(inputs[0]?.maxOutputTokens).toBe(DEFAULT_MAX_OUTPUT_TOKENS);
    expect(DEFAULT_MAX_OUTPUT_TOKENS).toBe(8192);
    const standIn = await standInFor();
    const capped = clientOf(sdk, standIn, { budgets, userId: USER, defaultMaxOutputTokens: 1000 });
    await capped.ask('Default cap.');
    expect(inputs[1]?.maxOutputTokens).toBe(1000);
    expect(inputs[1]?.estimateFemto).toBe(localEstimate(FLASH, 'Default cap.', 1000));
  });

  it('tenant budgets: tenantId is reserved against and recorded', async () => {
    const { standIn, budgets, api, history } = await setup([], { tenantId: 'acme' });
    const inputs = spyReserve(budgets);
    await api.ask('For acme.');
    expect(inputs[0]?.tenantId).toBe('acme');
    expect(history()[0]?.tenantId).toBe('acme');
    budgets.setRule({
      id: 'acme',
      scope: { kind: 'tenant', id: 'acme' },
      window: 'month',
      limitUsd: 0.000001,
      mode: 'hard',
    });
    await expect(api.ask('For acme again.')).rejects.toBeInstanceOf(BudgetExceededError);
    expect(generated(standIn)).toHaveLength(1);
  });

  it('an unpriced model settles its estimate (0: no price), a priced override settles exactly', async () => {
    const standIn = await standInFor();
    const budgets = manager();
    const plain = new TokenTracker();
    await clientOf(
      sdk,
      standIn,
      { tracker: plain, budgets, userId: USER },
      {
        model: 'house-model',
        maxOutputTokens: 100,
      },
    ).ask('Unknown model.');
    expect(plain.getUsageHistory()[0]?.cost.priced).toBe(false);
    expect(await dayCounter(budgets)).toEqual({ settled: 0n, reserved: 0n });

    // With the tracker's price overrides, the estimate uses the same prices as the record.
    const priced = new TokenTracker({
      pricing: { overrides: { 'house-model': { input_mtok: 1, output_mtok: 4 } } },
    });
    const inputs = spyReserve(budgets);
    await clientOf(
      sdk,
      standIn,
      { tracker: priced, budgets, userId: USER },
      {
        model: 'house-model',
        maxOutputTokens: 100,
      },
    ).ask('Known model.');
    const record = priced.getUsageHistory()[0];
    expect(record?.cost.priced).toBe(true);
    expect(inputs[0]?.estimateFemto).toBeGreaterThan(femtoOf(record));
    expect(await dayCounter(budgets)).toEqual({ settled: femtoOf(record), reserved: 0n });
  });

  it('budget alerts fire once per threshold as settlements cross them', async () => {
    const { budgets, api } = await setup([
      {
        id: 'soft',
        scope: { kind: 'user' },
        window: 'day',
        limitUsd: 0.000001,
        mode: 'soft',
        alertAt: [0.5, 1],
      },
    ]);
    const alerts: BudgetAlertEvent[] = [];
    budgets.on('budget_alert', (event) => alerts.push(event));
    await api.ask('Alert me.');
    await api.ask('Again.');
    expect(alerts.map((a) => a.threshold)).toEqual([0.5, 1]);
    expect(alerts[0]).toMatchObject({ ruleId: 'soft', scope: { kind: 'user', id: USER } });
  });
});

describe('@google/generative-ai specifics', () => {
  const lowRule: BudgetRule = {
    id: 'low',
    scope: { kind: 'user' },
    window: 'day',
    limitUsd: 0.000001,
    mode: 'adaptive',
    adaptive: { fallbackModel: FLASH, minMaxOutputTokens: 128 },
  };

  it('the fallback sibling keeps the model’s settings; a request object keeps its own', async () => {
    const standIn = await standInFor();
    const tracker = new TokenTracker();
    const budgets = manager(new MemoryStore(), [lowRule]);
    const raw = new GoogleGenerativeAI('k').getGenerativeModel(
      {
        model: PRO,
        systemInstruction: 'Answer in one line.',
        generationConfig: { maxOutputTokens: 1024, temperature: 0.2 },
      },
      { baseUrl: standIn.baseUrl },
    );
    const model = trackGemini(raw, { tracker, budgets, userId: USER });
    await model.generateContent('Plan.');
    await model.generateContent({
      contents: [{ role: 'user', parts: [{ text: 'Plan with my config.' }] }],
      generationConfig: { maxOutputTokens: 512, topK: 3 },
    });
    const [first, second] = generated(standIn);
    expect(first?.model).toBe(FLASH);
    expect(first?.body).toMatchObject({
      systemInstruction: { parts: [{ text: 'Answer in one line.' }] },
      generationConfig: { maxOutputTokens: 128, temperature: 0.2 },
    });
    expect(second?.model).toBe(FLASH);
    expect(second?.body).toMatchObject({ generationConfig: { maxOutputTokens: 128, topK: 3 } });
    expect(bodyOf(second).generationConfig).not.toHaveProperty('temperature');
    // The caller's model is untouched.
    expect(raw.model).toBe(`models/${PRO}`);
    expect(raw.generationConfig.maxOutputTokens).toBe(1024);
    expect(tracker.getUsageHistory().map((r) => r.model)).toEqual([FLASH, FLASH]);
  });

  it('chat messages are estimated with their history and adapted one message at a time', async () => {
    const standIn = await standInFor();
    const tracker = new TokenTracker();
    const budgets = manager();
    const inputs = spyReserve(budgets);
    const model = trackGemini(
      new GoogleGenerativeAI('k').getGenerativeModel(
        { model: PRO, generationConfig: { maxOutputTokens: 1024 } },
        { baseUrl: standIn.baseUrl },
      ),
      { tracker, budgets, userId: USER },
    );
    const chat = model.startChat();
    await chat.sendMessage('Hello there, planner.');
    budgets.setRule(lowRule);
    await chat.sendMessage('And now?');
    const history = await chat.getHistory();
    expect(history).toHaveLength(4);
    // The second estimate counts the whole history.
    expect(inputs[1]?.estimateFemto).toBe(
      estimateCallCost({
        model: PRO,
        promptTokens: estimatePromptTokens([history.slice(0, 3), undefined]),
        maxOutputTokens: 1024,
      }).estimateFemto,
    );
    const [first, second] = generated(standIn);
    expect(first?.model).toBe(PRO);
    expect(second?.model).toBe(FLASH);
    expect(second?.body).toMatchObject({ generationConfig: { maxOutputTokens: 128 } });
    expect(bodyOf(second).contents).toHaveLength(3);
    expect(tracker.getUsageHistory().map((r) => r.model)).toEqual([PRO, FLASH]);
    expect(chat.model).toBe(`models/${PRO}`);
  });

  it('cached content pins the model: only maxOutputTokens is lowered, with a warning', async () => {
    const standIn = await standInFor();
    const tracker = new TokenTracker();
    const budgets = manager(new MemoryStore(), [lowRule]);
    const cachedContent = { name: 'cachedContents/abc', model: `models/${PRO}` } as CachedContent;
    const model = trackGemini(
      new GoogleGenerativeAI('k').getGenerativeModelFromCachedContent(
        cachedContent,
        { model: PRO, generationConfig: { maxOutputTokens: 1024 } },
        { baseUrl: standIn.baseUrl },
      ),
      { tracker, budgets, userId: USER },
    );
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await model.generateContent('Cached.');
    const warnings = warn.mock.calls.map((args) => String(args[0]));
    warn.mockRestore();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('cached content');
    const [request] = generated(standIn);
    expect(request?.model).toBe(PRO);
    expect(request?.body).toMatchObject({ generationConfig: { maxOutputTokens: 128 } });
    expect(tracker.getUsageHistory()[0]?.metadata?.adapted).toEqual({
      from: PRO,
      to: PRO,
      maxOutputTokens: 128,
    });
  });
});

describe('@google/genai specifics', () => {
  it('chats are estimated with their history and adapted through the params', async () => {
    const standIn = await standInFor();
    const tracker = new TokenTracker();
    const budgets = manager();
    const ai = trackGemini(
      new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: standIn.baseUrl } }),
      { tracker, budgets, userId: USER },
    );
    const chat = ai.chats.create({ model: PRO, config: { maxOutputTokens: 1024 } });
    await chat.sendMessage({ message: 'Hello there.' });
    budgets.setRule({
      id: 'low',
      scope: { kind: 'user' },
      window: 'day',
      limitUsd: 0.000001,
      mode: 'adaptive',
      adaptive: { fallbackModel: FLASH, minMaxOutputTokens: 100 },
    });
    await chat.sendMessage({ message: 'And now?' });
    const [first, second] = generated(standIn);
    expect(first?.model).toBe(PRO);
    expect(second?.model).toBe(FLASH);
    expect(second?.body).toMatchObject({ generationConfig: { maxOutputTokens: 100 } });
    expect(bodyOf(second).contents).toHaveLength(3);
    expect(tracker.getUsageHistory().map((r) => r.model)).toEqual([PRO, FLASH]);
    expect(await dayCounter(budgets)).toEqual({
      settled: sumOf(tracker.getUsageHistory()),
      reserved: 0n,
    });
  });

  it('countTokens sends the contents only; the system instruction is estimated locally', async () => {
    const standIn = await standInFor();
    const budgets = manager();
    const inputs = spyReserve(budgets);
    const ai = trackGemini(
      new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: standIn.baseUrl } }),
      { budgets, userId: USER, estimate: 'countTokens', tracker: new TokenTracker() },
    );
    const systemInstruction = 'Be brief and precise.';
    await ai.models.generateContent({
      model: FLASH,
      contents: 'a b c d',
      config: { systemInstruction, maxOutputTokens: 100 },
    });
    const [count] = standIn.requests;
    expect(count?.action).toBe('countTokens');
    expect(count?.body).not.toHaveProperty('systemInstruction');
    expect(inputs[0]?.estimateFemto).toBe(
      estimateCallCost({
        model: FLASH,
        promptTokens: 4 + estimatePromptTokens(systemInstruction),
        maxOutputTokens: 100,
      }).estimateFemto,
    );
  });
});

/** A CallableTool answering `lookup_budget`. */
function budgetTool(): CallableTool {
  return {
    tool: async () => ({
      functionDeclarations: [{ name: 'lookup_budget', description: 'Budget of a team' }],
    }),
    callTool: async (calls: FunctionCall[]): Promise<Part[]> =>
      calls.map((call) => ({ functionResponse: { name: call.name, response: { usd: 12 } } })),
  };
}

/** Asks for a function call until the last turn holds a function response. */
const callThenAnswer: GeminiStandInOptions['respond'] = ({ contents }) => {
  const last = contents.at(-1);
  if (last?.parts?.some((part) => part.functionResponse !== undefined)) return 'It is $12.';
  return { functionCall: { name: 'lookup_budget', args: {} } };
};

describe('@google/genai automatic function calling: one reservation per call', () => {
  async function setup() {
    const standIn = await standInFor({ respond: callThenAnswer });
    const tracker = new TokenTracker();
    const budgets = manager();
    const inputs = spyReserve(budgets);
    const ai = trackGemini(
      new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: standIn.baseUrl } }),
      { tracker, budgets, userId: USER },
    );
    const params = {
      model: FLASH,
      contents: 'What is the research budget?',
      config: { tools: [budgetTool()], maxOutputTokens: 200 },
    };
    return { standIn, tracker, budgets, inputs, ai, params };
  }

  it('a stream settles the sum of its rounds', async () => {
    const { standIn, tracker, budgets, inputs, ai, params } = await setup();
    for await (const _ of await ai.models.generateContentStream(params));
    expect(generated(standIn)).toHaveLength(2);
    expect(inputs).toHaveLength(1);
    const records = tracker.getUsageHistory();
    expect(records.map((r) => r.metadata?.afcRound)).toEqual([1, 2]);
    expect(await dayCounter(budgets)).toEqual({ settled: sumOf(records), reserved: 0n });
  });

  it('a unary call settles no less than its estimate (earlier rounds are invisible)', async () => {
    const { standIn, tracker, budgets, inputs, ai, params } = await setup();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await ai.models.generateContent(params);
    warn.mockRestore();
    expect(generated(standIn)).toHaveLength(2);
    const [record] = tracker.getUsageHistory();
    const estimate = inputs[0]?.estimateFemto as bigint;
    const seen = femtoOf(record);
    expect(await dayCounter(budgets)).toEqual({
      settled: larger(seen, estimate),
      reserved: 0n,
    });
  });
});

describe('trackGemini options', () => {
  it('rejects a bad estimate mode or default cap', async () => {
    const standIn = await standInFor();
    const ai = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: standIn.baseUrl } });
    expect(() => trackGemini(ai, { estimate: 'exact' as 'local' })).toThrow(ConfigurationError);
    expect(() => trackGemini(ai, { defaultMaxOutputTokens: 0 })).toThrow(/positive integer/);
    expect(() => trackGemini(ai, { budgets: {} as BudgetManager })).toThrow(ConfigurationError);
  });
});

describe('exactness under concurrency: 40 calls, one hard daily user limit', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const cases: { name: string; sdk: Sdk; store: () => Store }[] = [
    { name: 'MemoryStore, @google/genai', sdk: 'genai', store: () => new MemoryStore() },
    {
      name: 'MemoryStore, @google/generative-ai',
      sdk: 'generative-ai',
      store: () => new MemoryStore(),
    },
    {
      name: 'SqliteStore, @google/genai',
      sdk: 'genai',
      store: () => {
        const dir = mkdtempSync(join(tmpdir(), 'tollgate-gemini-budgets-'));
        dirs.push(dir);
        return createSqliteStore({ path: join(dir, 'ledger.db') });
      },
    },
  ];

  it.each(cases)(
    '$name: granted spend ≤ limit, refused calls never sent',
    async ({ sdk, store: makeStore }) => {
      const standIn = await standInFor();
      const store = makeStore();
      try {
        const tracker = new TokenTracker();
        const budgets = manager(store);
        const api = clientOf(
          sdk,
          standIn,
          { tracker, budgets, userId: USER },
          {
            maxOutputTokens: 256,
          },
        );
        const prompt = (i: number) => `Call number ${i}: give the budget status.`;
        const estimate = localEstimate(FLASH, prompt(10), 256);
        const limitFemto = estimate * 10n + estimate / 2n;
        budgets.setUserLimit(USER, Number(limitFemto) / 1e15);
        const { today } = await budgets.getUserStats(USER);
        const limit = usdToFemto(today.limitUsd ?? 0);
        expect(limit).toBeGreaterThan(estimate * 10n);

        const outcomes = await Promise.allSettled(
          Array.from({ length: 40 }, (_, i) => api.ask(prompt(i + 10))),
        );
        const granted = outcomes.filter((o) => o.status === 'fulfilled').length;
        const refused = outcomes.filter(
          (o) => o.status === 'rejected' && BudgetExceededError.isInstance(o.reason),
        ).length;
        expect(granted + refused).toBe(40);
        expect(granted).toBeGreaterThanOrEqual(10);
        expect(refused).toBeGreaterThan(0);

        const records = tracker.getUsageHistory();
        expect(records).toHaveLength(granted);
        expect(generated(standIn)).toHaveLength(granted);
        for (const record of records) expect(femtoOf(record)).toBeLessThanOrEqual(estimate);
        const counter = await dayCounter(budgets);
        expect(counter.reserved).toBe(0n);
        expect(counter.settled).toBe(sumOf(records));
        expect(counter.settled).toBeLessThanOrEqual(limit);
      } finally {
        await store.close();
      }
    },
  );
});
