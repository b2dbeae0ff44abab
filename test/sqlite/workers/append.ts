/**
 * Fault-test child: appends batches of 200 records forever and prints the last call id of each
 * batch once `append` has returned. The parent kills it with SIGKILL mid-stream.
 * Usage: node --import tsx test/sqlite/workers/append.ts <db path>
 */
import { SqliteStore } from '../../../src/sqlite/index.js';

const path = process.argv[2];
if (!path) throw new Error('usage: append.ts <db path>');
const store = new SqliteStore({ path });
const BATCH = 200;

for (let batch = 0; ; batch++) {
  const records = Array.from({ length: BATCH }, (_, i) => ({
    id: `r-${batch}-${i}`,
    callId: `b${batch}-${i}`,
    timestamp: Date.now(),
    sessionId: 'fault',
    agent: 'writer',
    model: 'gemini-2.5-flash',
    userId: `user-${i % 10}`,
    inputTokens: 100,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 10,
    reasoningTokens: 0,
    toolUsePromptTokens: 0,
    totalTokens: 110,
    priced: true,
    costFemto: 123_456_789_012n,
    metadata: { batch, padding: 'x'.repeat(200) },
  }));
  await store.append(records);
  // Pipes are synchronous on POSIX: the line is out before the next batch starts.
  process.stdout.write(`b${batch}-${BATCH - 1}\n`);
}
