import { describe, expect, it, vi } from 'vitest';
import { FRESH_CALL_ID, type RecordInput } from '../../src/account/record.js';
import { getTokenTracker, TokenTracker } from '../../src/account/tracker.js';
import {
  BudgetExceededError,
  ConfigurationError,
  InvalidUsageError,
  TollgateError,
} from '../../src/errors.js';
import { femtoToDecimal, usdToFemto } from '../../src/price/money.js';
import type { BudgetEvent } from '../../src/react/events.js';

// gemini-1.5-flash ≤128k: $0.075 / $0.30 per 1M tokens.
const flash = (prompt: number, candidates: number) => ({
  promptTokenCount: prompt,
  candidatesTokenCount: candidates,
  totalTokenCount: prompt + candidates,
});

describe('TokenTracker.record', () => {
  it('normalizes, prices and stores a call with its cost breakdown', () => {
    const tracker = new TokenTracker();
    const record = tracker.record({
      agent: 'planner',
      model: 'gemini-1.5-flash',
      usage: flash(1_000, 500),
      userId: 'u1',
      threadId: 't1',
      metadata: { step: 1 },
    });
    expect(record?.id).toMatch(/^[0-9a-f]{8}-1$/);
    expect(record?.cost.totalUsd).toBe(0.000225);
    expect(record?.cost.inputUsd).toBe(0.000075);
    expect(record?.cost.outputUsd).toBe(0.00015);
    expect(record?.usage.totalTokens).toBe(1_500);
    expect(record?.provider).toBe('google');
  });

  it('counts a call id once', () => {
    const tracker = new TokenTracker();
    const first = tracker.record({
      agent: 'a',
      model: 'gemini-1.5-flash',
      usage: flash(10, 5),
      callId: 'c1',
    });
    const again = tracker.record({
      agent: 'a',
      model: 'gemini-1.5-flash',
      usage: flash(10, 5),
      callId: 'c1',
    });
    expect(again).toBe(first);
    expect(tracker.getStatistics().totalCalls).toBe(1);
  });

  it('remembers the last dedupeWindow call ids, forgetting the oldest first', () => {
    const tracker = new TokenTracker({ dedupeWindow: 3 });
    const call = (callId: string) =>
      tracker.record({ agent: 'a', model: 'gemini-1.5-flash', usage: flash(10, 5), callId });
    for (const id of ['c1', 'c2', 'c3', 'c4', 'c5']) call(id);
    expect(tracker.getStatistics().totalCalls).toBe(5);
    // c3, c4, c5 are remembered: counted once.
    for (const id of ['c3', 'c4', 'c5']) call(id);
    expect(tracker.getStatistics().totalCalls).toBe(5);
    // c1 and c2 fell out of the window: counted again, and then remembered in turn.
    call('c1');
    call('c1');
    expect(tracker.getStatistics().totalCalls).toBe(6);
    call('c3'); // evicted by c1
    expect(tracker.getStatistics().totalCalls).toBe(7);
    tracker.reset();
    call('c5');
    call('c5');
    expect(tracker.getStatistics().totalCalls).toBe(1);
  });

  it('keeps ids minted by a wrapper out of the dedupe window, but not copies of them', () => {
    const tracker = new TokenTracker({ dedupeWindow: 2 });
    const minted = (callId: string) =>
      tracker.record({
        agent: 'a',
        model: 'gemini-1.5-flash',
        usage: flash(10, 5),
        callId,
        [FRESH_CALL_ID]: true,
      } as RecordInput);
    const fromWrapper = minted('w1');
    minted('w2');
    minted('w3');
    expect(tracker.getStatistics().totalCalls).toBe(3);
    // The window still holds the caller's own ids: two of them, not pushed out by w1..w3.
    tracker.record({ agent: 'a', model: 'gemini-1.5-flash', usage: flash(10, 5), callId: 'c1' });
    tracker.record({ agent: 'a', model: 'gemini-1.5-flash', usage: flash(10, 5), callId: 'c2' });
    minted('w4');
    tracker.record({ agent: 'a', model: 'gemini-1.5-flash', usage: flash(10, 5), callId: 'c1' });
    expect(tracker.getStatistics().totalCalls).toBe(6);
    // A record rebuilt from a minted one carries its id but not the mark: it counts once.
    const copy = { ...fromWrapper, usage: flash(10, 5) } as RecordInput;
    const first = tracker.record(copy);
    expect(tracker.record(copy)).toBe(first);
    expect(tracker.getStatistics().totalCalls).toBe(7);
  });

  it('groups by agent, model, user and thread exactly, however often statistics are read', () => {
    // Records join the per-key groups when statistics are read, or 1,024 at a time.
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const tracker = new TokenTracker({ historyLimit: 10 }); // groups outlive history
    const expected = new Map<string, { calls: number; tokens: number; femto: bigint }>();
    for (let i = 0; i < 3000; i++) {
      const record = tracker.record({
        agent: `agent-${next(5)}`,
        model: next(2) ? 'gemini-1.5-flash' : 'gemini-2.5-flash',
        userId: next(4) ? `user-${next(3)}` : undefined,
        threadId: `t-${next(7)}`,
        usage: flash(1 + next(5000), next(800)),
      });
      if (!record) throw new Error('not recorded');
      for (const key of [
        `agent:${record.agent}`,
        `model:${record.model}`,
        `user:${record.userId}`,
        `thread:${record.threadId}`,
      ]) {
        const group = expected.get(key) ?? { calls: 0, tokens: 0, femto: 0n };
        group.calls += 1;
        group.tokens += record.usage.inputTokens + record.usage.outputTokens;
        group.femto += BigInt(record.cost.totalFemto);
        expected.set(key, group);
      }
      if (next(300) === 0) tracker.getStatistics(); // read now and then, mid-batch
    }
    const stats = tracker.getStatistics();
    const groups = {
      agent: stats.byAgent,
      model: stats.byModel,
      user: stats.byUser,
      thread: stats.byThread,
    };
    for (const [key, want] of expected) {
      const [kind, name] = key.split(/:(.*)/s) as [keyof typeof groups, string];
      if (name === 'undefined') continue; // calls without a user are not grouped by user
      expect(groups[kind][name]).toMatchObject({
        calls: want.calls,
        tokens: want.tokens,
        costUsd: Number(want.femto) / 1e15,
      });
    }
    expect(Object.values(stats.byAgent).reduce((sum, g) => sum + g.calls, 0)).toBe(3000);
    expect(stats.droppedFromHistory).toBe(2990);
  });

  it('aggregates by agent, model, user and thread, sorted by cost', () => {
    const tracker = new TokenTracker();
    tracker.record({
      agent: 'researcher',
      model: 'gemini-1.5-flash',
      usage: flash(1_000, 100),
      userId: 'u1',
    });
    tracker.record({
      agent: 'coder',
      model: 'gemini-1.5-pro',
      usage: flash(1_000, 1_000),
      userId: 'u2',
      threadId: 't',
    });
    tracker.record({
      agent: 'researcher',
      model: 'gemini-1.5-flash',
      usage: flash(2_000, 100),
      userId: 'u1',
    });
    const stats = tracker.getStatistics();
    expect(Object.keys(stats.byAgent)).toEqual(['coder', 'researcher']);
    expect(stats.byAgent.researcher).toMatchObject({
      calls: 2,
      tokens: 3_200,
      inputTokens: 3_000,
      outputTokens: 200,
    });
    expect(stats.byModel['gemini-1.5-pro']?.costUsd).toBe(0.00625);
    expect(stats.byUser.u1?.calls).toBe(2);
    expect(stats.byThread.t?.calls).toBe(1);
    expect(stats.totalCalls).toBe(3);
    expect(stats.totalTokens).toBe(5_200);
    expect(stats.averageTokensPerCall).toBeCloseTo(5_200 / 3, 10);
    const agentSum = Object.values(stats.byAgent).reduce((sum, a) => sum + a.costUsd, 0);
    expect(agentSum).toBeCloseTo(stats.totalCostUsd, 15);
  });

  it('keeps the total of 1,000,000 calls equal to the exact decimal sum', () => {
    const tracker = new TokenTracker({ historyLimit: 1_000 });
    // 1 prompt token on gemini-1.5-flash costs $0.000000075: a float sum drifts, ours must not.
    let expected = 0n;
    for (let i = 0; i < 1_000_000; i++) {
      const prompt = 1 + (i % 7);
      tracker.record({ agent: 'a', model: 'gemini-1.5-flash', usage: flash(prompt, i % 3) });
      expected += BigInt(prompt) * 75_000_000n + BigInt(i % 3) * 300_000_000n;
    }
    const stats = tracker.getStatistics();
    expect(stats.totalCostUsdExact).toBe(femtoToDecimal(expected));
    expect(stats.totalCostUsd).toBe(Number(femtoToDecimal(expected)));
    expect(stats.totalCalls).toBe(1_000_000);
    expect(stats.droppedFromHistory).toBe(999_000);
    expect(tracker.getUsageHistory()).toHaveLength(1_000);
  });

  it('rejects a call without a model with a typed error', () => {
    const tracker = new TokenTracker();
    expect(() => tracker.record({ agent: 'a', model: '', usage: flash(1, 1) })).toThrow(
      TollgateError,
    );
    expect(() =>
      tracker.record({ agent: 'a', model: 'x', usage: flash(1, 1), timestamp: 'never' }),
    ).toThrow(/timestamp/);
  });

  it('rejects a timestamp no Date can hold, and a missing input, with InvalidUsageError', () => {
    const tracker = new TokenTracker();
    for (const timestamp of [1e20, -1e20, 8.64e15 + 1]) {
      expect(() =>
        tracker.record({ agent: 'a', model: 'gemini-2.5-flash', usage: flash(1, 1), timestamp }),
      ).toThrow(InvalidUsageError);
    }
    expect(tracker.getStatistics().totalCalls).toBe(0);
    expect(() => tracker.toJSON()).not.toThrow();
    expect(() => tracker.record(undefined as never)).toThrow(InvalidUsageError);
  });

  it('treats usage with no counts as no call, and says so', () => {
    const tracker = new TokenTracker();
    const anomalies: string[] = [];
    tracker.on('usage_anomaly', (e) => anomalies.push(e.message));
    expect(
      tracker.record({
        agent: 'a',
        model: 'gemini-2.5-flash',
        usage: { trafficType: 'ON_DEMAND' },
      }),
    ).toBeUndefined();
    expect(tracker.getStatistics().totalCalls).toBe(0);
    expect(anomalies).toHaveLength(1);
  });

  it('repairs bad usage, records the call and emits usage_anomaly', () => {
    const tracker = new TokenTracker();
    const anomaly = vi.fn();
    tracker.on('usage_anomaly', anomaly);
    const record = tracker.record({
      agent: 'a',
      model: 'gemini-1.5-flash',
      usage: { promptTokenCount: -5, candidatesTokenCount: Number.NaN, totalTokenCount: 10 },
    });
    expect(record).toBeDefined();
    expect(Number.isFinite(tracker.getStatistics().totalCostUsd)).toBe(true);
    expect(anomaly).toHaveBeenCalledTimes(1);
    expect(anomaly.mock.calls[0]?.[0].repairs.length).toBeGreaterThan(0);
  });

  it('strictUsage throws InvalidUsageError instead of repairing', () => {
    const tracker = new TokenTracker({ strictUsage: true });
    expect(() =>
      tracker.record({ agent: 'a', model: 'gemini-1.5-flash', usage: { promptTokenCount: -5 } }),
    ).toThrow(/promptTokenCount/);
    expect(tracker.getStatistics().totalCalls).toBe(0);
  });
});

describe('unpriced models', () => {
  it('are recorded with their tokens, counted, and announced once per model', () => {
    const tracker = new TokenTracker();
    const unpriced = vi.fn();
    tracker.on('unpriced_model', unpriced);
    tracker.record({ agent: 'a', model: 'acme-llm', usage: flash(100, 10) });
    tracker.record({ agent: 'a', model: 'acme-llm', usage: flash(100, 10) });
    tracker.record({ agent: 'a', model: 'acme-llm-2', usage: flash(100, 10) });
    const stats = tracker.getStatistics();
    expect(stats.unpricedCalls).toBe(3);
    expect(stats.totalTokens).toBe(330);
    expect(stats.totalCostUsd).toBe(0);
    expect(unpriced).toHaveBeenCalledTimes(2);
    expect(tracker.getCostBreakdownReport()).toMatch(/Unpriced calls: +3/);
  });

  it('throw UnknownModelError with strict pricing, after counting the call unpriced', () => {
    const tracker = new TokenTracker({ pricing: { strict: true } });
    expect(() => tracker.record({ agent: 'a', model: 'acme-llm', usage: flash(1, 1) })).toThrow(
      /acme-llm/,
    );
    expect(tracker.getStatistics()).toMatchObject({
      totalCalls: 1,
      unpricedCalls: 1,
      totalTokens: 2,
    });
  });

  it('treat models/x and x as one model', () => {
    const tracker = new TokenTracker();
    tracker.record({ agent: 'a', model: 'models/gemini-2.5-flash', usage: flash(1, 1) });
    tracker.record({ agent: 'a', model: 'gemini-2.5-flash', usage: flash(1, 1) });
    expect(Object.keys(tracker.getStatistics().byModel)).toEqual(['gemini-2.5-flash']);
  });
});

describe('session budget', () => {
  // 1,000,000 prompt tokens of gemini-2.0-flash-lite (no long-context tier) = $0.075 exactly.
  const spend = (tracker: TokenTracker, tokens: number, agent = 'a') =>
    tracker.record({ agent, model: 'gemini-2.0-flash-lite', usage: flash(tokens, 0) });

  it('fires each warning threshold and the exceeded event exactly once', () => {
    const tracker = new TokenTracker({ budgetLimitUsd: 0.075, warnAt: [0.5, 0.9] });
    const events: BudgetEvent[] = [];
    tracker.on('budget_warning', (e) => events.push(e));
    tracker.on('budget_exceeded', (e) => events.push(e));
    spend(tracker, 400_000); // 40%
    expect(events).toHaveLength(0);
    spend(tracker, 100_000); // 50%
    spend(tracker, 100_000); // 60%
    spend(tracker, 300_000); // 90%
    spend(tracker, 50_000); // 95%
    spend(tracker, 50_000); // 100%
    spend(tracker, 500_000); // 150%
    expect(events.map((e) => [e.type, e.threshold])).toEqual([
      ['budget_warning', 0.5],
      ['budget_warning', 0.9],
      ['budget_exceeded', 1],
    ]);
    expect(events[1]).toMatchObject({
      spentUsd: 0.0675,
      limitUsd: 0.075,
      utilizationPercent: 90,
      agent: 'a',
    });
    expect(events[2]?.remainingUsd).toBe(0);
  });

  it('fires every threshold one call jumps over, in order', () => {
    const tracker = new TokenTracker({ budgetLimitUsd: 0.075, warnAt: [0.9, 0.5] });
    const types: string[] = [];
    tracker.on('budget_warning', (e) => types.push(`warning ${e.threshold}`));
    tracker.on('budget_exceeded', () => types.push('exceeded'));
    spend(tracker, 2_000_000);
    expect(types).toEqual(['warning 0.5', 'warning 0.9', 'exceeded']);
  });

  it('reports utilization and remaining budget in statistics', () => {
    const tracker = new TokenTracker({ budgetLimitUsd: 0.5 });
    spend(tracker, 1_000_000);
    const stats = tracker.getStatistics();
    expect(stats.budgetLimitUsd).toBe(0.5);
    expect(stats.budgetUtilizationPercent).toBe(15);
    expect(stats.budgetRemainingUsd).toBe(0.425);
  });

  it('checkBudget throws BudgetExceededError once the limit is spent', () => {
    const tracker = new TokenTracker({ budgetLimitUsd: 0.075 });
    spend(tracker, 999_999);
    expect(() => tracker.checkBudget('coder')).not.toThrow();
    spend(tracker, 1);
    try {
      tracker.checkBudget('coder');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(BudgetExceededError);
      expect(BudgetExceededError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({
        limitUsd: 0.075,
        spentUsd: 0.075,
        agent: 'coder',
        scope: 'session',
      });
    }
  });

  it('guard refuses calls only with enforce: hard', () => {
    const warn = new TokenTracker({ budgetLimitUsd: 0.01 });
    const hard = new TokenTracker({ budgetLimitUsd: 0.01, enforce: 'hard' });
    spend(warn, 1_000_000);
    spend(hard, 1_000_000);
    expect(() => warn.guard('a')).not.toThrow();
    expect(() => hard.guard('a')).toThrow(BudgetExceededError);
  });

  it('raising the limit lets calls through again and warns again above the new spend', () => {
    const tracker = new TokenTracker({ budgetLimitUsd: 0.075, enforce: 'hard' });
    const warnings = vi.fn();
    tracker.on('budget_warning', warnings);
    spend(tracker, 1_000_000);
    expect(() => tracker.guard()).toThrow(BudgetExceededError);
    tracker.setBudgetLimit(0.15);
    expect(() => tracker.guard()).not.toThrow();
    expect(warnings).toHaveBeenCalledTimes(1);
    spend(tracker, 900_000); // $0.1425 of $0.15 = 95%
    expect(warnings).toHaveBeenCalledTimes(2);
  });

  it.each([[0], [-1], [Number.NaN], [Number.POSITIVE_INFINITY]])(
    'rejects a budget of %s',
    (limit) => {
      expect(() => new TokenTracker({ budgetLimitUsd: limit })).toThrow(ConfigurationError);
    },
  );

  it('rejects warning thresholds outside (0, 1)', () => {
    expect(() => new TokenTracker({ budgetLimitUsd: 1, warnAt: [90] })).toThrow(/fractions/);
  });

  it.each([['HARD'], ['strict'], [true]])(
    'rejects enforce: %j instead of silently never enforcing',
    (enforce) => {
      expect(() => new TokenTracker({ budgetLimitUsd: 1, enforce: enforce as never })).toThrow(
        ConfigurationError,
      );
      expect(() => new TokenTracker({ budgetLimitUsd: 1, enforce: enforce as never })).toThrow(
        /enforce must be "warn" or "hard"/,
      );
    },
  );

  it.each([[0.9], ['0.9']])(
    'rejects warnAt %j, which is not an array, with ConfigurationError',
    (warnAt) => {
      expect(() => new TokenTracker({ budgetLimitUsd: 1, warnAt: warnAt as never })).toThrow(
        ConfigurationError,
      );
      expect(() => new TokenTracker({ budgetLimitUsd: 1, warnAt: warnAt as never })).toThrow(
        /warnAt must be an array/,
      );
    },
  );

  it('a tiny warnAt threshold needs some spend: a call that cost nothing does not fire it', () => {
    const tracker = new TokenTracker({ budgetLimitUsd: 1, warnAt: [1e-12] });
    const fired: number[] = [];
    tracker.on('budget_warning', (e) => fired.push(e.threshold));
    tracker.record({ model: 'no-such-model-x', usage: flash(10, 10) }); // unpriced: $0
    expect(fired).toEqual([]);
    spend(tracker, 1);
    expect(fired).toEqual([1e-12]);
  });

  it('keeps the budgets of trackers with the same limit apart (the parse is shared, not the state)', () => {
    const first = new TokenTracker({ budgetLimitUsd: 0.075, warnAt: [0.5] });
    const second = new TokenTracker({ budgetLimitUsd: 0.075, warnAt: [0.5] });
    const fired: string[] = [];
    first.on('budget_warning', () => fired.push('first'));
    second.on('budget_warning', () => fired.push('second'));
    spend(first, 600_000); // $0.045: 60% of the first budget
    expect(fired).toEqual(['first']);
    spend(second, 600_000);
    expect(fired).toEqual(['first', 'second']);
    // A string limit that prints like a valid one is still refused.
    expect(
      () => new TokenTracker({ budgetLimitUsd: '0.075' as unknown as number, warnAt: [0.5] }),
    ).toThrow(ConfigurationError);
  });
});

describe('listeners', () => {
  it('that throw or reject never break tracking, and the others still run', async () => {
    const errors: unknown[] = [];
    const tracker = new TokenTracker({
      budgetLimitUsd: 0.000001,
      onListenerError: (e) => errors.push(e),
    });
    const after = vi.fn();
    tracker.on('usage', () => {
      throw new Error('listener bug');
    });
    tracker.on('usage', async () => {
      throw new Error('async listener bug');
    });
    tracker.on('usage', after);
    tracker.on('budget_exceeded', () => {
      throw new Error('budget listener bug');
    });
    expect(() =>
      tracker.record({ agent: 'a', model: 'gemini-1.5-flash', usage: flash(100, 100) }),
    ).not.toThrow();
    await new Promise((resolve) => setImmediate(resolve));
    expect(after).toHaveBeenCalledTimes(1);
    expect(errors.map((e) => (e as Error).message).sort()).toEqual([
      'async listener bug',
      'budget listener bug',
      'listener bug',
    ]);
    expect(tracker.getStatistics().totalCalls).toBe(1);
  });

  it('once and off work', () => {
    const tracker = new TokenTracker();
    const once = vi.fn();
    const on = vi.fn();
    tracker.once('usage', once);
    tracker.on('usage', on);
    tracker.record({ agent: 'a', model: 'gemini-1.5-flash', usage: flash(1, 1) });
    tracker.off('usage', on);
    tracker.record({ agent: 'a', model: 'gemini-1.5-flash', usage: flash(1, 1) });
    expect(once).toHaveBeenCalledTimes(1);
    expect(on).toHaveBeenCalledTimes(1);
  });
});

describe('record observers (tollgate-internal)', () => {
  it('see every record before the usage event; a throwing one is reported, not fatal', () => {
    const errors: [unknown, string][] = [];
    const tracker = new TokenTracker({ onListenerError: (e, event) => errors.push([e, event]) });
    const order: string[] = [];
    const stopA = tracker.observeRecords((record) => order.push(`a:${record.agent}`));
    tracker.observeRecords(() => {
      throw new Error('observer bug');
    });
    tracker.on('usage', (record) => order.push(`usage:${record.agent}`));
    tracker.record({ agent: 'x', model: 'gemini-1.5-flash', usage: flash(1, 1) });
    stopA();
    tracker.record({ agent: 'y', model: 'gemini-1.5-flash', usage: flash(1, 1) });
    expect(order).toEqual(['a:x', 'usage:x', 'usage:y']);
    expect(errors.map(([e, event]) => `${event}: ${(e as Error).message}`)).toEqual([
      'usage: observer bug',
      'usage: observer bug',
    ]);
    expect(tracker.getStatistics().totalCalls).toBe(2);
  });

  it('may unsubscribe while records are announced', () => {
    const tracker = new TokenTracker();
    const seen: string[] = [];
    const stop = tracker.observeRecords(() => {
      seen.push('first');
      stop();
    });
    tracker.observeRecords(() => seen.push('second'));
    tracker.record({ agent: 'x', model: 'gemini-1.5-flash', usage: flash(1, 1) });
    tracker.record({ agent: 'x', model: 'gemini-1.5-flash', usage: flash(1, 1) });
    expect(seen).toEqual(['first', 'second', 'second']);
  });
});

describe('sessions', () => {
  it('getTokenTracker returns the run tracker inside run(), the process tracker outside', async () => {
    const processWide = getTokenTracker();
    expect(getTokenTracker()).toBe(processWide);
    const session = new TokenTracker();
    await session.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      expect(getTokenTracker()).toBe(session);
    });
    expect(getTokenTracker()).toBe(processWide);
  });

  it('keeps 50 concurrent sessions apart', async () => {
    const trackers = Array.from({ length: 50 }, () => new TokenTracker());
    await Promise.all(
      trackers.map((tracker, index) =>
        tracker.run(async () => {
          for (let call = 0; call <= index; call++) {
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
            getTokenTracker().record({
              agent: `agent-${index}`,
              model: 'gemini-1.5-flash',
              usage: flash(1_000, 0),
            });
          }
        }),
      ),
    );
    trackers.forEach((tracker, index) => {
      const stats = tracker.getStatistics();
      expect(stats.totalCalls).toBe(index + 1);
      expect(Object.keys(stats.byAgent)).toEqual([`agent-${index}`]);
      expect(stats.totalCostUsdExact).toBe(
        femtoToDecimal(BigInt(index + 1) * usdToFemto(0.000075)),
      );
    });
  });

  it('reset starts over', () => {
    const tracker = new TokenTracker({ budgetLimitUsd: 0.0001 });
    const exceeded = vi.fn();
    tracker.on('budget_exceeded', exceeded);
    tracker.record({ agent: 'a', model: 'gemini-1.5-flash', usage: flash(10_000, 0), callId: 'x' });
    tracker.reset();
    expect(tracker.getStatistics()).toMatchObject({ totalCalls: 0, totalCostUsd: 0, byAgent: {} });
    expect(tracker.getUsageHistory()).toEqual([]);
    tracker.record({ agent: 'a', model: 'gemini-1.5-flash', usage: flash(10_000, 0), callId: 'x' });
    expect(tracker.getStatistics().totalCalls).toBe(1);
    expect(exceeded).toHaveBeenCalledTimes(2);
  });
});
