/**
 * Shared budgets enforced by the Gemini wrapper: a hard daily limit per user (refused before
 * anything is sent), an adaptive budget that switches the planner to a cheaper model with a
 * smaller output cap, a tenant alert, a rate limit, and the LangGraph feed saying so.
 *
 *   npx tsx examples/budgets-gemini.ts                     # offline, against the stand-in
 *   GEMINI_API_KEY=... npx tsx examples/budgets-gemini.ts  # the real API (well under a cent)
 *
 * Each request: estimate (prompt + maxOutputTokens) → rate limit → atomic reserve → send →
 * settle with the exact recorded cost (or release on failure). Swap the MemoryStore for
 * `createSqliteStore()` (tollgate/sqlite) or `createRedisStore()` (tollgate/redis) to share
 * the same budgets between processes.
 */
import { GoogleGenAI } from '@google/genai';
import { Annotation, START, StateGraph } from '@langchain/langgraph';
import {
  BudgetExceededError,
  BudgetManager,
  MemoryStore,
  RateLimiter,
  TokenTracker,
} from 'tollgate';
import { trackGemini } from 'tollgate/gemini';
import { runWithTracking } from 'tollgate/langgraph';
import { startGeminiStandIn } from 'tollgate/testing';

const apiKey = process.env.GEMINI_API_KEY;
const standIn = apiKey ? undefined : await startGeminiStandIn();
if (standIn) console.log(`No GEMINI_API_KEY: using the local stand-in at ${standIn.baseUrl}\n`);

const budgets = new BudgetManager({
  store: new MemoryStore(),
  defaultDailyUserLimitUsd: null,
  rules: [
    {
      // The planner's daily budget: when less than half would remain, degrade its calls.
      id: 'planner-daily',
      scope: { kind: 'agent', id: 'planner' },
      window: 'day',
      limitUsd: 0.03,
      mode: 'adaptive',
      alertAt: [],
      adaptive: {
        fallbackModel: 'gemini-2.5-flash',
        minMaxOutputTokens: 256,
        lowBudgetFraction: 0.5,
      },
    },
    {
      // A tenant's monthly budget: alerts only.
      id: 'acme-monthly',
      scope: { kind: 'tenant', id: 'acme' },
      window: 'month',
      limitUsd: 0.0002,
      mode: 'soft',
      alertAt: [0.5],
    },
  ],
});
budgets.setUserLimit('alice', 0.004); // hard: $0.004 a day, resetting at midnight UTC
budgets.on('budget_refused', (e) =>
  console.log(`  refused by ${e.key}: $${e.spentUsd.toFixed(5)} used`),
);

const rateLimiter = new RateLimiter({
  limits: [
    { id: 'per-user', scope: { kind: 'user' }, requestsPerMinute: 60, tokensPerMinute: 500_000 },
  ],
});

const client = () =>
  new GoogleGenAI({
    apiKey: apiKey ?? 'offline-key',
    ...(standIn ? { httpOptions: { baseUrl: standIn.baseUrl } } : {}),
  });

try {
  // 1. A hard user limit: alice asks until her day's budget has no room for one more estimate.
  console.log('1. alice, hard limit $0.004 a day, each call capped at 1,024 output tokens:');
  const tracker = new TokenTracker();
  const alice = trackGemini(client(), {
    tracker,
    budgets,
    rateLimiter,
    userId: 'alice',
    agent: 'cli',
  });
  for (let i = 1; i <= 20; i++) {
    try {
      await alice.models.generateContent({
        model: 'gemini-2.5-flash',
        contents: `Question ${i}: one tip to keep LLM costs down?`,
        config: { maxOutputTokens: 1024 },
      });
      const record = tracker.getUsageHistory().at(-1);
      console.log(
        `  call ${i}: $${record?.cost.totalUsd.toFixed(6)} (${record?.usage.totalTokens} tokens)`,
      );
    } catch (error) {
      if (!BudgetExceededError.isInstance(error)) throw error;
      console.log(`  call ${i}: not sent (${error.message})`);
      break;
    }
  }
  const { today } = await budgets.getUserStats('alice');
  console.log(
    `  alice today: $${today.spentUsd.toFixed(6)} spent of $${today.limitUsd}, $${today.reservedUsd} held\n`,
  );

  // 2. An adaptive budget in a LangGraph run: the feed says when the planner is degraded.
  console.log('2. a planner → writer graph for bob (tenant acme), planner on gemini-2.5-pro:');
  const bob = trackGemini(client(), { budgets, rateLimiter, userId: 'bob', tenantId: 'acme' });
  const State = Annotation.Root({
    topic: Annotation<string>(),
    notes: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  });
  const graph = new StateGraph(State)
    .addNode('planner', async ({ topic }) => {
      const reply = await bob.models.generateContent({
        model: 'gemini-2.5-pro',
        contents: `Outline a short report on ${topic}.`,
        config: { maxOutputTokens: 2048 },
      });
      return { notes: [reply.text ?? ''] };
    })
    .addNode('writer', async ({ topic, notes }) => {
      const reply = await bob.models.generateContent({
        model: 'gemini-2.5-flash',
        contents: `Write the report on ${topic} from this outline: ${notes.join(' ')}`,
        config: { maxOutputTokens: 512 },
      });
      return { notes: [reply.text ?? ''] };
    })
    .addEdge(START, 'planner')
    .addEdge('planner', 'writer')
    .compile({ name: 'budgeted-report' });
  const result = await runWithTracking(
    graph,
    { topic: 'token budgets' },
    {
      budgets,
      streamOutput: true,
      printLlmCalls: true,
      printReport: false,
      reportPath: false,
      langchainCallbacks: false,
    },
  );
  console.log(`  models used: ${Object.keys(result.tokenUsageStats.byModel).join(', ')}`);
} finally {
  await standIn?.close();
}
