/**
 * A hard session budget under parallel calls: 20 LangGraph `Send` tasks against a budget that
 * fits five, through the real SDKs and LangChain's ChatGoogleGenerativeAI talking to the Gemini
 * stand-in. The stand-in holds every response until each of the 20 tasks has either reached it
 * or been refused, so every call is in flight before any is recorded: without holds all 20 pass
 * the check.
 */
import { GoogleGenAI } from '@google/genai';
import { GoogleGenerativeAI } from '@google/generative-ai';
import { ChatGoogleGenerativeAI } from '@langchain/google-genai';
import { Annotation, Send, START, StateGraph } from '@langchain/langgraph';
import { describe, expect, it } from 'vitest';
import { trackGemini } from '../../src/gemini/index.js';
import { BudgetExceededError, TokenTracker, type UsageRecord } from '../../src/index.js';
import { runWithTracking, TokenTrackingCallbackHandler } from '../../src/langgraph/index.js';
import { closeStandIns, standInFor } from '../gemini/support.js';
import { silenceHandlerErrors } from './support.js';

closeStandIns();

const TASKS = 20;
const FITS = 5;
const MODEL = 'gemini-2.5-flash';
const CAP = 64;
const topics = Array.from({ length: TASKS }, (_, i) => `t${String(i).padStart(2, '0')}`);
const promptOf = (topic: string) => `Summarize research topic ${topic} in two sentences.`;

const List = () =>
  Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] as string[] });
const State = Annotation.Root({ topics: List(), done: List(), refused: List() });

/** Releases the stand-in's held responses once every task arrived or was refused. */
function barrier() {
  let seen = 0;
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const count = () => {
    seen += 1;
    if (seen === TASKS) open();
  };
  return { count, opened };
}

type Call = (prompt: string) => Promise<unknown>;

/** 20 `Send` tasks, each making one call; a refusal is caught and kept in state. */
function fanOut(call: Call, refusals: BudgetExceededError[], refused: () => void) {
  return new StateGraph(State)
    .addNode('worker', async (state) => {
      const topic = state.topics[0] as string;
      try {
        await call(promptOf(topic));
        return { done: [topic] };
      } catch (error) {
        if (!BudgetExceededError.isInstance(error)) throw error;
        refusals.push(error);
        refused();
        return { refused: [topic] };
      }
    })
    .addConditionalEdges(START, (state) =>
      state.topics.map((t) => new Send('worker', { topics: [t] })),
    )
    .compile();
}

/** The estimate the tracker holds for one call (same prompt rule, same cap, same prices). */
function estimateOf(maxOutputTokens: number | undefined, holdOutputTokens?: number): bigint {
  const probe = new TokenTracker({
    budgetLimitUsd: 1,
    enforce: 'hard',
    ...(holdOutputTokens !== undefined && { holdOutputTokens }),
  });
  const hold = probe.reserve({ model: MODEL, prompt: promptOf('t00'), maxOutputTokens });
  hold.release();
  return hold.estimateFemto;
}

const femto = (record: UsageRecord) => BigInt(record.cost.totalFemto);
const usd = (amount: bigint) => Number(amount) / 1e15;

interface Client {
  name: string;
  /** Makes the calls of one run; `capped` sets `maxOutputTokens`. */
  make(baseUrl: string, tracker: TokenTracker, capped: boolean): Call;
}

/** A tracked @google/generative-ai model on the stand-in, capped at `CAP` when `capped`. */
function generativeModel(baseUrl: string, tracker: TokenTracker, capped: boolean) {
  return trackGemini(
    new GoogleGenerativeAI('k').getGenerativeModel(
      { model: MODEL, ...(capped && { generationConfig: { maxOutputTokens: CAP } }) },
      { baseUrl },
    ),
    { tracker },
  );
}

const clients: Client[] = [
  {
    name: '@google/genai generateContent',
    make: (baseUrl, tracker, capped) => {
      const ai = trackGemini(new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl } }), {
        tracker,
      });
      return (contents) =>
        ai.models.generateContent({
          model: MODEL,
          contents,
          ...(capped && { config: { maxOutputTokens: CAP } }),
        });
    },
  },
  {
    name: '@google/genai generateContentStream',
    make: (baseUrl, tracker, capped) => {
      const ai = trackGemini(new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl } }), {
        tracker,
      });
      return async (contents) => {
        const stream = await ai.models.generateContentStream({
          model: MODEL,
          contents,
          ...(capped && { config: { maxOutputTokens: CAP } }),
        });
        for await (const _ of stream) {
          // drain
        }
      };
    },
  },
  {
    name: '@google/generative-ai generateContent',
    make: (baseUrl, tracker, capped) => {
      const model = generativeModel(baseUrl, tracker, capped);
      return (prompt) => model.generateContent(prompt);
    },
  },
  {
    name: '@google/generative-ai chat stream',
    make: (baseUrl, tracker, capped) => {
      const model = generativeModel(baseUrl, tracker, capped);
      return async (prompt) => {
        const { stream } = await model.startChat().sendMessageStream(prompt);
        for await (const _ of stream) {
          // drain
        }
      };
    },
  },
];

/** Runs the 20 tasks with `call`, under `tracker`, against a stand-in holding responses. */
async function run(
  make: (baseUrl: string) => Call,
  invoke: (graph: ReturnType<typeof fanOut>) => Promise<unknown> = (graph) =>
    graph.invoke({ topics }),
) {
  const gate = barrier();
  const standIn = await standInFor({
    implicitCache: false,
    respond: async () => {
      gate.count();
      await gate.opened;
      return undefined;
    },
  });
  const refusals: BudgetExceededError[] = [];
  const state = (await invoke(fanOut(make(standIn.baseUrl), refusals, gate.count))) as {
    done: string[];
    refused: string[];
  };
  return { state, refusals, requests: standIn.requests.length };
}

function expectRefusals(refusals: BudgetExceededError[], limitUsd: number) {
  expect(refusals).toHaveLength(TASKS - FITS);
  for (const refusal of refusals) {
    expect(refusal).toBeInstanceOf(BudgetExceededError);
    expect(refusal).toMatchObject({ scope: 'session', limitUsd, agent: 'worker', spentUsd: 0 });
    expect(refusal.heldUsd).toBeGreaterThan(0);
    expect(refusal.estimateUsd).toBeGreaterThan(0);
    expect(refusal.message).toMatch(
      /^Budget would be exceeded \(session\): spent \$0\.0000 of \$\d\.\d{4}, \$\S+ held by calls in flight; this call's estimated \$\S+ does not fit; call by "worker" refused$/,
    );
  }
}

/** Five calls made, fifteen refused; every call capped, so each within its estimate. */
function expectCappedRun(
  outcome: Awaited<ReturnType<typeof run>>,
  tracker: TokenTracker,
  estimate: bigint,
  limitUsd: number,
) {
  expect(outcome.requests).toBe(FITS);
  expect(outcome.state.done).toHaveLength(FITS);
  expect(outcome.state.refused).toHaveLength(TASKS - FITS);
  expectRefusals(outcome.refusals, limitUsd);
  const records = tracker.getUsageHistory();
  expect(records).toHaveLength(FITS);
  // Every call capped its output, so every estimate bounds its call: spend ≤ limit.
  for (const record of records) expect(femto(record)).toBeLessThanOrEqual(estimate);
  expect(tracker.spentUsd).toBeLessThanOrEqual(limitUsd);
  expect(tracker.callsInFlight).toBe(0);
  expect(tracker.heldUsd).toBe(0);
}

describe('a hard budget under 20 parallel Send tasks that fit five', () => {
  describe.each(clients)('$name', (client) => {
    it('capped calls: five are admitted and the spend stays within the limit', async () => {
      const estimate = estimateOf(CAP);
      const limitUsd = usd((estimate * 11n) / 2n); // 5.5 estimates: five fit, a sixth does not
      const tracker = new TokenTracker({ budgetLimitUsd: limitUsd, enforce: 'hard' });
      const { state, refusals, requests } = await run((url) => client.make(url, tracker, true));

      expectCappedRun({ state, refusals, requests }, tracker, estimate, limitUsd);
    });

    it('uncapped calls: spend ≤ limit + Σ (actual − estimate)⁺ of the calls in flight', async () => {
      // Estimated at 8 output tokens each (the cold-start default, before any record); the
      // stand-in's replies think and write more, so each call overshoots its estimate.
      const estimate = estimateOf(undefined, 8);
      const limitUsd = usd((estimate * 11n) / 2n);
      const tracker = new TokenTracker({
        budgetLimitUsd: limitUsd,
        enforce: 'hard',
        holdOutputTokens: 8,
      });
      const { refusals, requests } = await run((url) => client.make(url, tracker, false));

      expect(requests).toBe(FITS);
      expectRefusals(refusals, limitUsd);
      const records = tracker.getUsageHistory();
      expect(records).toHaveLength(FITS);
      let overshoot = 0n;
      for (const record of records) {
        if (femto(record) > estimate) overshoot += femto(record) - estimate;
      }
      expect(overshoot).toBeGreaterThan(0n);
      const spent = records.reduce((sum, record) => sum + femto(record), 0n);
      expect(spent).toBeGreaterThan(BigInt(Math.round(limitUsd * 1e15))); // past the limit …
      expect(spent).toBeLessThanOrEqual(BigInt(Math.round(limitUsd * 1e15)) + overshoot); // … within the bound
      expect(tracker.callsInFlight).toBe(0);
      expect(tracker.heldUsd).toBe(0);
      // The running average now sizes the next uncapped call: it fits no more.
      expect(() => tracker.reserve({ model: MODEL, prompt: promptOf('t99') })).toThrow(
        BudgetExceededError,
      );
    });
  });

  it('LangChain ChatGoogleGenerativeAI through runWithTracking({ tracker, enforce: "hard" })', async () => {
    silenceHandlerErrors();
    const estimate = estimateOf(CAP);
    const limitUsd = usd((estimate * 11n) / 2n);
    // A tracker that only warns: the run's `enforce: 'hard'` applies to it for the run.
    const tracker = new TokenTracker({ budgetLimitUsd: limitUsd });
    let chat: ChatGoogleGenerativeAI | undefined;
    const { state, refusals, requests } = await run(
      (baseUrl) => {
        chat = new ChatGoogleGenerativeAI({
          model: MODEL,
          apiKey: 'k',
          baseUrl,
          maxOutputTokens: CAP,
          maxRetries: 0,
        });
        return (prompt) => (chat as ChatGoogleGenerativeAI).invoke(prompt);
      },
      (graph) =>
        runWithTracking(
          graph,
          { topics },
          {
            tracker,
            enforce: 'hard',
            reportPath: false,
            printReport: false,
          },
        ),
    );
    expectCappedRun({ state, refusals, requests }, tracker, estimate, limitUsd);
    expect(tracker.enforce).toBe('warn'); // the tracker's own, back after the run
  });

  it('LangChain handler: the hold lives while the call runs; a failed call releases it', async () => {
    silenceHandlerErrors();
    const tracker = new TokenTracker({ budgetLimitUsd: 1, enforce: 'hard' });
    const inFlight: number[] = [];
    const standIn = await standInFor({
      respond: () => {
        inFlight.push(tracker.callsInFlight);
        return undefined;
      },
    });
    standIn.failNext({ status: 400, message: 'bad request' });
    const chat = new ChatGoogleGenerativeAI({
      model: MODEL,
      apiKey: 'k',
      baseUrl: standIn.baseUrl,
      maxOutputTokens: CAP,
      maxRetries: 0,
      callbacks: [new TokenTrackingCallbackHandler({ tracker })],
    });
    await expect(chat.invoke('Hello')).rejects.toThrow();
    expect(tracker.callsInFlight).toBe(0);
    await chat.invoke('Hello');
    expect(inFlight).toEqual([1]); // held while the stand-in answered
    expect(tracker.callsInFlight).toBe(0);
    expect(tracker.heldUsd).toBe(0);
    expect(tracker.getStatistics().totalCalls).toBe(1);
  });
});
