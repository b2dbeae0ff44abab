/**
 * The HTTP API over a ledger: a tracker records calls into a store, the server shows them.
 * Run: npx tsx examples/server.ts          (serves on 127.0.0.1:8787 until Ctrl-C)
 *      npx tsx examples/server.ts --once   (asks its own API once and exits)
 *
 * Swap the MemoryStore for `createSqliteStore()` (tollgate/sqlite) to serve the ledger your
 * workers write; `tollgate serve` does exactly that from the command line.
 */
import { BudgetManager, MemoryStore, TokenTracker } from 'tollgate';
import { createApiKey, createHandler, createMetrics, serve } from 'tollgate/server';

const store = new MemoryStore();
const metrics = createMetrics();
const tracker = new TokenTracker({ store });
tracker.on('usage', metrics.observe);

// A few calls, as an integration would record them.
const calls = [
  { agent: 'planner', userId: 'alice', prompt: 1_200, output: 300 },
  { agent: 'researcher', userId: 'alice', prompt: 8_000, output: 900 },
  { agent: 'coder', userId: 'bob', prompt: 3_500, output: 2_000 },
];
for (const call of calls) {
  tracker.record({
    agent: call.agent,
    model: 'gemini-2.5-flash',
    userId: call.userId,
    tenantId: 'acme',
    threadId: 'thread-1',
    usage: {
      promptTokenCount: call.prompt,
      candidatesTokenCount: call.output,
      totalTokenCount: call.prompt + call.output,
    },
  });
}
await tracker.flush();

const budgets = new BudgetManager({ store, defaultDailyUserLimitUsd: null });
budgets.setUserLimit('alice', 5);

const admin = createApiKey('admin');
const viewer = createApiKey('viewer', 'acme'); // sees tenant acme only
const handler = createHandler({
  store,
  budgets,
  auth: { apiKeys: [admin.record, viewer.record] },
  metrics,
});

const once = process.argv.includes('--once');
const { url, close } = await serve(handler, { port: once ? 0 : 8787 });
console.log(`tollgate API on ${url}`);
console.log(`  curl -H "authorization: Bearer ${viewer.key}" "${url}/api/usage/summary?days=7"`);
console.log(`  curl -H "authorization: Bearer ${admin.key}" "${url}/metrics"`);

const response = await fetch(`${url}/api/usage/summary?days=7`, {
  headers: { authorization: `Bearer ${viewer.key}` },
});
const summary = (await response.json()) as {
  totals: { calls: number; costUsdExact: string };
  topUsers: { userId: string; costUsdExact: string }[];
};
console.log(`summary: ${summary.totals.calls} calls, $${summary.totals.costUsdExact}`);
for (const user of summary.topUsers) console.log(`  ${user.userId}: $${user.costUsdExact}`);

if (once) await close();
else process.once('SIGINT', () => void close());
