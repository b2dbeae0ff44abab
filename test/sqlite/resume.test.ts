import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TokenTracker, type TokenUsageStats } from '../../src/account/tracker.js';
import type { BudgetEvent } from '../../src/react/events.js';
import { SqliteStore } from '../../src/sqlite/index.js';
import { tempDir } from './support.js';

let folder: ReturnType<typeof tempDir>;
beforeEach(() => {
  folder = tempDir();
});
afterEach(() => folder.remove());

const gemini = (prompt: number, output: number, thoughts = 0) => ({
  promptTokenCount: prompt,
  candidatesTokenCount: output,
  thoughtsTokenCount: thoughts,
  cachedContentTokenCount: Math.floor(prompt / 4),
  totalTokenCount: prompt + output + thoughts,
});

function withoutDuration(stats: TokenUsageStats) {
  const { sessionDurationSeconds: _, ...rest } = stats;
  return rest;
}

describe('resuming a session from the SQLite ledger', () => {
  it('rebuilds identical statistics and budget state in a new tracker and store', async () => {
    const path = join(folder.dir, 'ledger.db');
    const first = new SqliteStore({ path });
    const tracker = new TokenTracker({ store: first, budgetLimitUsd: 0.05, warnAt: [0.5, 0.9] });
    const agents = ['planner', 'researcher', 'coder'];
    for (let i = 0; i < 40; i++) {
      tracker.record({
        agent: agents[i % 3],
        model: i % 5 === 0 ? 'gemini-2.5-pro' : 'gemini-2.5-flash',
        usage: gemini(1_000 + i * 97, 200 + i * 13, i % 4 === 0 ? 300 : 0),
        userId: i % 2 ? 'alice' : 'bob',
        threadId: `t-${i % 4}`,
        ...(i % 3 ? { callId: `call-${i}` } : {}), // some calls without a call id
        timestamp: Date.UTC(2026, 10, 23, 9) + i * 60_000,
      });
    }
    tracker.record({ agent: 'coder', model: 'mystery-model-1', usage: gemini(10, 5) });
    expect(await tracker.close()).toBe(true);
    await first.close();

    const second = new SqliteStore({ path });
    const resumed = await TokenTracker.resume(second, tracker.sessionId, {
      budgetLimitUsd: 0.05,
      warnAt: [0.5, 0.9],
    });
    const before = tracker.getStatistics();
    expect(before.budgetUtilizationPercent).toBeGreaterThan(50);
    expect(withoutDuration(resumed.getStatistics())).toEqual(withoutDuration(before));
    expect(resumed.sessionId).toBe(tracker.sessionId);

    // Thresholds crossed before the restart do not fire again; old call ids stay deduplicated.
    const warnings: BudgetEvent[] = [];
    resumed.on('budget_warning', (event) => warnings.push(event));
    resumed.on('unpriced_model', () => warnings.push({} as BudgetEvent));
    expect(
      resumed.record({ model: 'gemini-2.5-flash', usage: gemini(1, 1), callId: 'call-1' }),
    ).toMatchObject({ callId: 'call-1', agent: 'researcher' });
    resumed.record({ model: 'mystery-model-1', usage: gemini(1, 1) });
    const next = resumed.record({ model: 'gemini-2.5-flash', usage: gemini(10, 10) });
    expect(warnings).toEqual([]);
    expect(resumed.getStatistics().totalCalls).toBe(43);
    // New record ids continue the session's sequence: no id collides with the ledger's.
    expect(next?.id).toBe(`${tracker.sessionId}-43`);
    await resumed.close();
    const page = await second.query({ sessionId: tracker.sessionId, limit: 1000 });
    expect(page.records).toHaveLength(43);
    expect(new Set(page.records.map((r) => r.id)).size).toBe(43);
    await second.close();
  });

  it('resumes an unknown session as an empty one', async () => {
    const store = new SqliteStore({ path: join(folder.dir, 'empty.db') });
    const tracker = await TokenTracker.resume(store, 'nobody');
    expect(tracker.getStatistics().totalCalls).toBe(0);
    await store.close();
  });
});
