import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type BudgetEvent,
  BudgetExceededError,
  ConfigurationError,
  InvalidUsageError,
  NO_HOLD,
  TokenTracker,
} from '../../src/index.js';

// gemini-2.0-flash-lite: $0.075 per million prompt tokens, $0.30 per million output tokens, no
// long-context tier: one prompt token is exactly 75,000,000 femto-dollars, one output token 3e8.
const MODEL = 'gemini-2.0-flash-lite';
const INPUT = 75_000_000n;
const OUTPUT = 300_000_000n;
const flash = (prompt: number, candidates: number) => ({
  promptTokenCount: prompt,
  candidatesTokenCount: candidates,
  totalTokenCount: prompt + candidates,
});
const usdOf = (femto: bigint) => Number(femto) / 1e15;
const spend = (tracker: TokenTracker, promptTokens: number, agent = 'a') =>
  tracker.record({ agent, model: MODEL, usage: flash(promptTokens, 0) });

afterEach(() => {
  vi.useRealTimers();
});

describe('budget events at exact boundaries', () => {
  it('$limit spent of $limit is 100%: warnings fire, budget_exceeded does not', () => {
    const tracker = new TokenTracker({ budgetLimitUsd: 0.075, warnAt: [0.9] });
    const events: BudgetEvent[] = [];
    tracker.on('budget_warning', (e) => events.push(e));
    tracker.on('budget_exceeded', (e) => events.push(e));
    spend(tracker, 900_000); // exactly 90%: the warning fires at it
    expect(events.map((e) => [e.type, e.threshold])).toEqual([['budget_warning', 0.9]]);
    spend(tracker, 100_000); // exactly $0.075 of $0.075
    expect(tracker.getStatistics()).toMatchObject({
      totalCostUsdExact: '0.075',
      budgetUtilizationPercent: 100,
      budgetRemainingUsd: 0,
    });
    expect(events).toHaveLength(1);
    spend(tracker, 1); // one token past it
    expect(events.map((e) => [e.type, e.threshold])).toEqual([
      ['budget_warning', 0.9],
      ['budget_exceeded', 1],
    ]);
    expect(events[1]).toMatchObject({ spentUsd: 0.075000075, limitUsd: 0.075 });
  });

  it('one femto-dollar below 90% fires no warning', () => {
    const tracker = new TokenTracker({ budgetLimitUsd: 0.075, warnAt: [0.9] });
    const warned = vi.fn();
    tracker.on('budget_warning', warned);
    spend(tracker, 899_999);
    expect(warned).not.toHaveBeenCalled();
    spend(tracker, 1);
    expect(warned).toHaveBeenCalledTimes(1);
  });

  it('the hard guard refuses at exactly 100% and says the budget is used up', () => {
    const tracker = new TokenTracker({ budgetLimitUsd: 0.075, enforce: 'hard' });
    spend(tracker, 999_999);
    expect(() => tracker.guard('coder')).not.toThrow();
    spend(tracker, 1);
    let refusal: unknown;
    try {
      tracker.guard('coder');
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(BudgetExceededError);
    expect((refusal as Error).message).toBe(
      'Budget used up (session): spent $0.0750 of $0.0750 (100%); no further call may start; call by "coder" refused',
    );
    spend(tracker, 1_000_000);
    expect(() => tracker.guard()).toThrow(
      /^Budget exceeded \(session\): spent \$0\.1500 of \$0\.0750$/,
    );
  });
});

describe('tracker.reserve: holds for calls in flight', () => {
  // 1,000 prompt tokens + 100 output tokens: 75e9 + 30e9 = 105e9 femto-dollars.
  const request = { model: MODEL, agent: 'researcher', promptTokens: 1000, maxOutputTokens: 100 };
  const ESTIMATE = 1000n * INPUT + 100n * OUTPUT;

  it('admits while spent + held + estimate ≤ limit, to the femto-dollar', () => {
    const tracker = new TokenTracker({ budgetLimitUsd: usdOf(ESTIMATE * 3n), enforce: 'hard' });
    const holds = [tracker.reserve(request), tracker.reserve(request), tracker.reserve(request)];
    expect(holds.map((h) => h.estimateFemto)).toEqual([ESTIMATE, ESTIMATE, ESTIMATE]);
    expect(tracker.callsInFlight).toBe(3);
    expect(tracker.heldUsd).toBe(usdOf(ESTIMATE * 3n));
    let refusal: BudgetExceededError | undefined;
    try {
      tracker.reserve({ ...request, promptTokens: 0, maxOutputTokens: 0 }); // free, still fits
      tracker.reserve({ ...request, promptTokens: 1, maxOutputTokens: 0 }); // one token over
    } catch (error) {
      refusal = error as BudgetExceededError;
    }
    expect(refusal).toBeInstanceOf(BudgetExceededError);
    expect(refusal).toMatchObject({
      spentUsd: 0,
      heldUsd: usdOf(ESTIMATE * 3n),
      estimateUsd: usdOf(INPUT),
      agent: 'researcher',
      scope: 'session',
    });
    expect(refusal?.message).toBe(
      'Budget would be exceeded (session): spent $0.0000 of $0.0003, $0.0003 held by calls in flight; ' +
        'this call\'s estimated $7.50e-8 does not fit; call by "researcher" refused',
    );
    expect(tracker.callsInFlight).toBe(4); // the free call holds nothing but is in flight
  });

  it('settle replaces the estimate by the recorded cost; release frees it; both once', () => {
    const tracker = new TokenTracker({ budgetLimitUsd: usdOf(ESTIMATE * 2n), enforce: 'hard' });
    const first = tracker.reserve(request);
    const second = tracker.reserve(request);
    expect(() => tracker.reserve(request)).toThrow(BudgetExceededError);
    // The first call cost less than its estimate: 1,000 prompt tokens, no output.
    first.settle(spend(tracker, 1000, 'researcher'));
    first.settle(); // again: nothing changes
    first.release();
    expect(tracker.callsInFlight).toBe(1);
    expect(tracker.heldUsd).toBe(usdOf(ESTIMATE));
    // 75e9 spent + 105e9 held + 105e9 > 210e9: still no room for a third …
    expect(() => tracker.reserve(request)).toThrow(BudgetExceededError);
    second.release();
    second.release();
    expect(tracker.heldUsd).toBe(0);
    // … until the second call failed: 75e9 + 105e9 ≤ 210e9.
    const third = tracker.reserve(request);
    third.release();
    expect(tracker.callsInFlight).toBe(0);
  });

  it('estimates uncapped calls from the agent’s running average output, else the session’s', () => {
    const tracker = new TokenTracker({ budgetLimitUsd: 1, enforce: 'hard', holdOutputTokens: 10 });
    const uncapped = (agent: string) =>
      tracker.reserve({ model: MODEL, agent, promptTokens: 0 }).estimateFemto;
    expect(uncapped('a')).toBe(10n * OUTPUT); // cold start
    const hold = tracker.reserve({ model: MODEL, agent: 'a', promptTokens: 0 });
    hold.settle(tracker.record({ agent: 'a', model: MODEL, usage: flash(0, 30) }));
    const again = tracker.reserve({ model: MODEL, agent: 'a', promptTokens: 0 });
    again.settle(tracker.record({ agent: 'a', model: MODEL, usage: flash(0, 41) }));
    expect(uncapped('a')).toBe(36n * OUTPUT); // ceil((30 + 41) / 2)
    expect(uncapped('b')).toBe(36n * OUTPUT); // no call of b yet: the session's average
  });

  it('counts a prompt locally: the larger of 4 characters a token and the word rule', () => {
    const tracker = new TokenTracker({ budgetLimitUsd: 1, enforce: 'hard' });
    // 'a b c d e f g h': 15 characters (4 tokens by characters), 8 words (8 tokens).
    const short = tracker.reserve({ model: MODEL, prompt: 'a b c d e f g h', maxOutputTokens: 0 });
    expect(short.estimateFemto).toBe(8n * INPUT);
    // One 40-character word: 10 tokens either way; LangChain-shaped messages are read too.
    const long = tracker.reserve({
      model: MODEL,
      prompt: [[{ content: 'x'.repeat(40) }]],
      maxOutputTokens: 0,
    });
    expect(long.estimateFemto).toBe(10n * INPUT);
  });

  it('holds nothing without a hard budget, and allocates nothing', () => {
    for (const tracker of [
      new TokenTracker(),
      new TokenTracker({ enforce: 'hard' }),
      new TokenTracker({ budgetLimitUsd: 1 }),
    ]) {
      expect(tracker.reservesCalls).toBe(false);
      expect(tracker.reserve(request)).toBe(NO_HOLD);
      expect(tracker.callsInFlight).toBe(0);
    }
    const warned = new TokenTracker({ budgetLimitUsd: 1 });
    // An integration's own `enforce: 'hard'` holds even when the tracker only warns.
    const held = warned.reserve({ ...request, enforce: 'hard' });
    expect(held.estimateFemto).toBe(ESTIMATE);
    held.release();
  });

  it('a hold never settled ends after holdMs (a stream nobody reads)', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.parse('2026-12-07T12:00:00Z'));
    const tracker = new TokenTracker({
      budgetLimitUsd: usdOf(ESTIMATE),
      enforce: 'hard',
      holdMs: 60_000,
    });
    tracker.reserve(request);
    expect(() => tracker.reserve(request)).toThrow(BudgetExceededError);
    vi.setSystemTime(Date.parse('2026-12-07T12:00:59.999Z'));
    expect(() => tracker.reserve(request)).toThrow(BudgetExceededError);
    vi.setSystemTime(Date.parse('2026-12-07T12:01:00Z'));
    expect(tracker.heldUsd).toBe(0);
    tracker.reserve(request).release();
  });

  it('reset drops every hold; bad input gets a typed error', () => {
    const tracker = new TokenTracker({ budgetLimitUsd: 1, enforce: 'hard' });
    const hold = tracker.reserve(request);
    tracker.reset();
    expect(tracker.callsInFlight).toBe(0);
    hold.release(); // harmless after the reset
    expect(tracker.heldUsd).toBe(0);
    expect(() => tracker.reserve({ model: '' })).toThrow(InvalidUsageError);
    expect(() => tracker.reserve({ model: MODEL, promptTokens: -1 })).toThrow(ConfigurationError);
    expect(() => new TokenTracker({ holdOutputTokens: 0 })).toThrow(ConfigurationError);
    expect(() => new TokenTracker({ holdMs: -5 })).toThrow(ConfigurationError);
  });
});

describe('tracker.overrideLimits', () => {
  it('applies enforce and warnAt until restored, without firing thresholds already passed', () => {
    const tracker = new TokenTracker({ budgetLimitUsd: 0.075, warnAt: [0.9] });
    const warnings: number[] = [];
    tracker.on('budget_warning', (e) => warnings.push(e.threshold));
    spend(tracker, 300_000); // 30%
    const restore = tracker.overrideLimits({ enforce: 'hard', warnAt: [0.25, 0.5] });
    expect(tracker.enforce).toBe('hard');
    expect(tracker.reservesCalls).toBe(true);
    spend(tracker, 300_000); // 60%: 0.5 fires; 0.25 was passed before the override
    expect(warnings).toEqual([0.5]);
    restore();
    restore(); // once only
    expect(tracker.enforce).toBe('warn');
    spend(tracker, 300_000); // 90%: the tracker's own threshold again
    expect(warnings).toEqual([0.5, 0.9]);
  });

  it('nests equal overrides and refuses a different one while one is in force', () => {
    const tracker = new TokenTracker({ budgetLimitUsd: 1 });
    const first = tracker.overrideLimits({ enforce: 'hard' });
    const second = tracker.overrideLimits({ enforce: 'hard' });
    expect(() => tracker.overrideLimits({ enforce: 'warn' })).toThrow(ConfigurationError);
    expect(() => tracker.overrideLimits({ warnAt: [0.5] })).toThrow(
      /already runs with enforce "hard" and warnAt \[0\.9\]/,
    );
    first();
    expect(tracker.enforce).toBe('hard');
    second();
    expect(tracker.enforce).toBe('warn');
    expect(() => tracker.overrideLimits({ enforce: 'strict' as 'hard' })).toThrow(
      ConfigurationError,
    );
    expect(() => tracker.overrideLimits({ warnAt: [1.5] })).toThrow(ConfigurationError);
    expect(tracker.enforce).toBe('warn');
  });
});
