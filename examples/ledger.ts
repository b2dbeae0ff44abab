/**
 * A persistent ledger: every call a tracker records lands in SQLite, and the ledger answers
 * questions across sessions and processes: cost by user, by model, by day.
 * Run: npx tsx examples/ledger.ts (twice: the second run adds nothing, appends are idempotent)
 */
import { femtoToUsd, formatUsd, type SummaryRow, TokenTracker } from 'tollgate';
import { createSqliteStore } from 'tollgate/sqlite';

// Without a path the ledger is TOLLGATE_DB, else outputs/tollgate.db; the demo keeps its own.
const store = createSqliteStore({ path: process.env.TOLLGATE_DB || 'outputs/example-ledger.db' });
const tracker = new TokenTracker({ store, budgetLimitUsd: 5 });

// Three days of calls by three users, with fixed call ids and times so reruns are idempotent.
const users = ['alice', 'bob', 'carol'];
const models = ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.0-flash'];
const firstDay = Date.UTC(2026, 10, 21, 14); // 09:00 in New York
for (let i = 0; i < 90; i++) {
  const prompt = 2_000 + ((i * 379) % 9_000);
  const output = 200 + ((i * 97) % 1_500);
  const thoughts = i % 3 === 0 ? 400 : 0;
  tracker.record({
    callId: `example-call-${i}`,
    agent: ['planner', 'researcher', 'writer'][i % 3],
    model: models[i % models.length] as string,
    userId: users[Math.floor(i / 2) % users.length],
    threadId: `thread-${i % 10}`,
    timestamp: firstDay + Math.floor(i / 30) * 86_400_000 + (i % 30) * 600_000,
    usage: {
      promptTokenCount: prompt,
      candidatesTokenCount: output,
      thoughtsTokenCount: thoughts,
      totalTokenCount: prompt + output + thoughts,
    },
  });
}
// Writes the buffered records (one transaction per batch) and stops the flush timer.
await tracker.close();

const usd = (row: SummaryRow) => formatUsd(femtoToUsd(row.costFemto), 6).padStart(12);
const table = (title: string, rows: SummaryRow[]) => {
  console.log(`\n${title}`);
  for (const row of rows) {
    console.log(`  ${row.key.padEnd(26)} ${String(row.calls).padStart(4)} calls ${usd(row)}`);
  }
};

const window = { from: firstDay - 86_400_000, to: firstDay + 3 * 86_400_000 };
table('Cost by user', await store.summarize({ groupBy: 'user', ...window }));
table('Cost by model', await store.summarize({ groupBy: 'model', ...window }));
table(
  'Cost by day (America/New_York)',
  await store.summarize({ groupBy: 'day', timeZone: 'America/New_York', ...window }),
);
const [total] = await store.summarize({ groupBy: 'none', ...window });
console.log(`\nLedger total: ${total?.calls} calls, ${usd(total as SummaryRow).trim()}`);

// A restarted process picks the session up again with exact totals. On a rerun this session
// wrote nothing: its call ids were already in the ledger, under the first run's session.
const resumed = await TokenTracker.resume(store, tracker.sessionId, { budgetLimitUsd: 5 });
const stats = resumed.getStatistics();
console.log(
  `Resumed session ${resumed.sessionId}: ${stats.totalCalls} new calls, $${stats.totalCostUsdExact}`,
);
await store.close();
