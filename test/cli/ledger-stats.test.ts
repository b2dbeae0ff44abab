/** The report's statistics rebuilt from the ledger equal the live tracker's, to the femto-dollar. */
import { describe, expect, it } from 'vitest';
import { TokenTracker } from '../../src/account/tracker.js';
import { ledgerStatistics } from '../../src/cli/ledger-stats.js';
import { MemoryStore } from '../../src/keep/memory.js';
import { formatCostReport } from '../../src/show/report.js';

describe('ledgerStatistics', () => {
  it('matches TokenTracker.getStatistics for the same calls', async () => {
    const store = new MemoryStore();
    const tracker = new TokenTracker({ store });
    const models = ['gemini-2.5-flash', 'gemini-2.5-pro', 'no-such-model'];
    for (let i = 0; i < 60; i++) {
      tracker.record({
        agent: ['planner', 'coder', 'critic'][i % 3],
        model: models[i % 3] as string,
        userId: i % 4 ? `user-${i % 5}` : undefined,
        threadId: `thread-${i % 7}`,
        usage: {
          promptTokenCount: 1_000 + i * 3_777,
          candidatesTokenCount: 100 + i * 13,
          cachedContentTokenCount: i * 7,
          thoughtsTokenCount: i,
          totalTokenCount: 1_100 + i * 3_797,
        },
      });
    }
    await tracker.flush();
    const live = tracker.getStatistics();
    const ledger = await ledgerStatistics(store, {});
    const exact = [
      'totalCalls',
      'totalTokens',
      'inputTokens',
      'outputTokens',
      'cachedTokens',
      'reasoningTokens',
      'totalCostUsd',
      'totalCostUsdExact',
      'averageTokensPerCall',
      'averageCostPerCall',
      'unpricedCalls',
      'byAgent',
      'byModel',
      'byUser',
      'byThread',
    ] as const;
    for (const field of exact) expect(ledger[field], field).toEqual(live[field]);
    // Same order of groups (largest cost first), so the same printed sections.
    const sections = (report: string) => report.slice(report.indexOf('Cost by agent'));
    expect(sections(formatCostReport(ledger))).toBe(sections(formatCostReport(live)));
  });

  it('an empty ledger is all zeros', async () => {
    const stats = await ledgerStatistics(new MemoryStore(), { userId: 'nobody' });
    expect(stats).toMatchObject({ totalCalls: 0, totalCostUsd: 0, totalCostUsdExact: '0' });
    expect(stats.sessionDurationSeconds).toBe(0);
  });
});
