import { afterEach, describe, expect, it, vi } from 'vitest';
import { BudgetExceededError, ConfigurationError } from '../../src/errors.js';
import { MemoryStore } from '../../src/keep/memory.js';
import { BudgetManager, estimateCallCost } from '../../src/react/budgets/index.js';
import { DAY, HOUR, managerWithEvents, NOW, rejection, usd } from './support.js';

const call = (n: number | string) => `call-${n}`;

/** The `BudgetExceededError` a reservation rejects with; fails the test when it passes. */
const refusal = (promise: Promise<unknown>) => rejection(promise, BudgetExceededError);

describe('BudgetManager: reserve, settle, release', () => {
  it('holds the estimate, settles to the actual cost, and settling twice counts once', async () => {
    const { manager } = managerWithEvents();
    manager.setUserLimit('alice', 1);
    const { reservation } = await manager.reserve({
      callId: call(1),
      userId: 'alice',
      model: 'gemini-2.5-flash',
      estimateUsd: 0.4,
      now: NOW,
    });
    expect(reservation.enforced).toBe(true);
    expect((await manager.getUserStats('alice', NOW)).today).toMatchObject({
      spentUsd: 0,
      reservedUsd: 0.4,
      limitUsd: 1,
      remainingUsd: 0.6,
    });
    await manager.settle(reservation, usd(0.25), NOW + 1);
    await manager.settle(reservation, usd(0.25), NOW + 2);
    expect((await manager.getUserStats('alice', NOW)).today).toMatchObject({
      spentUsd: 0.25,
      reservedUsd: 0,
      remainingUsd: 0.75,
    });
  });

  it('release drops the hold and is idempotent', async () => {
    const { manager } = managerWithEvents();
    manager.setUserLimit('alice', 1);
    const first = await manager.reserve({
      callId: call(1),
      userId: 'alice',
      model: 'm',
      estimateUsd: 0.9,
      now: NOW,
    });
    await expect(
      manager.reserve({ callId: call(2), userId: 'alice', model: 'm', estimateUsd: 0.2, now: NOW }),
    ).rejects.toThrow(BudgetExceededError);
    await manager.release(first.reservation, NOW);
    await manager.release(first.reservation, NOW);
    await expect(
      manager.reserve({ callId: call(2), userId: 'alice', model: 'm', estimateUsd: 0.2, now: NOW }),
    ).resolves.toMatchObject({ ok: true });
  });

  it('an abandoned reservation stops holding at holdUntil: nothing leaks', async () => {
    const { manager } = managerWithEvents({ holdMs: 60_000 });
    manager.setUserLimit('alice', 1);
    const abandoned = await manager.reserve({
      callId: call(1),
      userId: 'alice',
      model: 'm',
      estimateUsd: 0.6,
      now: NOW,
    });
    expect(abandoned.reservation.holdUntil).toBe(NOW + 60_000);
    const next = (callId: string, now: number) =>
      manager.reserve({ callId, userId: 'alice', model: 'm', estimateUsd: 0.6, now });
    await expect(next(call(2), NOW + 59_999)).rejects.toThrow(BudgetExceededError);
    await expect(next(call(3), NOW + 60_000)).resolves.toMatchObject({ ok: true });
    // The abandoned call settling late still counts what it really spent.
    await manager.settle(abandoned.reservation, usd(0.1), NOW + 60_001);
    expect((await manager.getUserStats('alice', NOW + 60_001)).today).toMatchObject({
      spentUsd: 0.1,
      reservedUsd: 0.6,
    });
  });

  it('reserving the same callId twice holds once', async () => {
    const { manager } = managerWithEvents();
    manager.setUserLimit('alice', 1);
    const input = { callId: call(1), userId: 'alice', model: 'm', estimateUsd: 0.7, now: NOW };
    await manager.reserve(input);
    await manager.reserve(input);
    expect((await manager.getUserStats('alice', NOW)).today.reservedUsd).toBe(0.7);
  });

  it('an actual cost above the estimate is counted in full (the budget may end up over)', async () => {
    const { manager } = managerWithEvents();
    manager.setUserLimit('alice', 1);
    const { reservation } = await manager.reserve({
      callId: call(1),
      userId: 'alice',
      model: 'm',
      estimateUsd: 0.5,
      now: NOW,
    });
    await manager.settle(reservation, usd(1.2), NOW);
    const stats = (await manager.getUserStats('alice', NOW)).today;
    expect(stats).toMatchObject({ spentUsd: 1.2, remainingUsd: 0 });
    const error = await refusal(
      manager.reserve({
        callId: call(2),
        userId: 'alice',
        model: 'm',
        estimateFemto: 0n,
        now: NOW,
      }),
    );
    expect(error.spentUsd).toBe(1.2);
  });
});

describe('BudgetManager: atomic enforcement', () => {
  it('200 concurrent $0.01 reserves against a $1.00 hard daily limit: exactly 100 pass', async () => {
    const { manager } = managerWithEvents();
    manager.setUserLimit('alice', 1);
    const attempts = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        manager.reserve({
          callId: call(i),
          userId: 'alice',
          model: 'gemini-2.5-flash',
          estimateUsd: 0.01,
          now: NOW,
        }),
      ),
    );
    const passed = attempts.filter((a) => a.status === 'fulfilled');
    const refused = attempts.filter((a) => a.status === 'rejected');
    expect(passed).toHaveLength(100);
    expect(refused.every((r) => BudgetExceededError.isInstance(r.reason))).toBe(true);
    // Settle each with an actual cost at most its estimate.
    await Promise.all(
      passed.map((p, i) =>
        manager.settle(p.value.reservation, usd(0.01) - BigInt(i % 3) * 1000n, NOW + 1),
      ),
    );
    const today = (await manager.getUserStats('alice', NOW + 1)).today;
    expect(today.reservedUsd).toBe(0);
    expect(today.spentUsd).toBeLessThanOrEqual(1);
    expect(today.spentUsd).toBeGreaterThan(0.99);
  });

  it('two managers (two processes) on one store share the budget', async () => {
    const store = new MemoryStore();
    const a = new BudgetManager({ store, defaultDailyUserLimitUsd: 0.05 });
    const b = new BudgetManager({ store, defaultDailyUserLimitUsd: 0.05 });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? a : b).reserve({
          callId: call(i),
          userId: 'alice',
          model: 'm',
          estimateUsd: 0.01,
          now: NOW,
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
  });
});

describe('BudgetManager: scopes and levels', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('a default daily limit gives each user their own budget; setUserLimit overrides it', async () => {
    const { manager } = managerWithEvents({ defaultDailyUserLimitUsd: 0.1 });
    manager.setUserLimit('carol', 1);
    const reserve = (userId: string, n: number) =>
      manager.reserve({
        callId: `${userId}-${n}`,
        userId,
        model: 'm',
        estimateUsd: 0.06,
        now: NOW,
      });
    await reserve('alice', 1);
    await reserve('bob', 1);
    const error = await refusal(reserve('alice', 2));
    expect(error).toMatchObject({
      limitUsd: 0.1,
      spentUsd: 0.06,
      scope: 'user:alice:day:2026-11-23@UTC',
    });
    // carol's own $1 replaces the $0.10 default for her
    for (let n = 1; n <= 16; n++) await reserve('carol', n);
    await expect(reserve('carol', 17)).rejects.toThrow(BudgetExceededError);
  });

  it('reads the default daily user limit from DEFAULT_DAILY_LIMIT; null disables it', async () => {
    vi.stubEnv('DEFAULT_DAILY_LIMIT', '0.05');
    const fromEnv = new BudgetManager();
    expect(fromEnv.listRules()).toEqual([
      expect.objectContaining({ id: 'default:user:day', limitUsd: 0.05, mode: 'hard' }),
    ]);
    await expect(
      fromEnv.reserve({ callId: 'x', userId: 'u', model: 'm', estimateUsd: 0.06, now: NOW }),
    ).rejects.toThrow(BudgetExceededError);
    expect(new BudgetManager({ defaultDailyUserLimitUsd: null }).listRules()).toEqual([]);
    vi.stubEnv('DEFAULT_DAILY_LIMIT', 'ten dollars');
    expect(() => new BudgetManager()).toThrow(/DEFAULT_DAILY_LIMIT.*"ten dollars"/);
  });

  it('tenant + user + global: the tightest budget refuses, and the error names its counter', async () => {
    const { manager, of } = managerWithEvents({
      rules: [
        { id: 'per-user', scope: { kind: 'user' }, window: 'day', limitUsd: 1, mode: 'hard' },
        {
          id: 'acme',
          scope: { kind: 'tenant', id: 'acme' },
          window: 'month',
          limitUsd: 1.5,
          mode: 'hard',
        },
        { id: 'all', scope: { kind: 'global' }, window: 'day', limitUsd: 2, mode: 'hard' },
      ],
    });
    const reserve = (userId: string, tenantId: string, amount: number, n: number) =>
      manager.reserve({
        callId: `${userId}-${n}`,
        userId,
        tenantId,
        model: 'm',
        estimateUsd: amount,
        now: NOW,
      });
    await reserve('alice', 'acme', 0.9, 1);
    expect((await refusal(reserve('alice', 'acme', 0.2, 2))).scope).toBe(
      'user:alice:day:2026-11-23@UTC',
    );
    await reserve('bob', 'acme', 0.5, 1);
    expect((await refusal(reserve('bob', 'acme', 0.2, 2))).scope).toBe(
      'tenant:acme:month:2026-11@UTC',
    );
    await reserve('carol', 'other', 0.5, 1);
    const global = await refusal(reserve('dave', 'other', 0.2, 1));
    expect(global).toMatchObject({
      scope: 'global:day:2026-11-23@UTC',
      limitUsd: 2,
      spentUsd: 1.9,
    });
    expect(of('budget_refused').map((e) => e.ruleIds)).toEqual([['per-user'], ['acme'], ['all']]);
    // The refused calls hold nothing anywhere.
    expect((await manager.getUserStats('dave', NOW)).today.reservedUsd).toBe(0);
  });

  it('model, provider and agent scopes match cleaned-up names', async () => {
    const { manager } = managerWithEvents({
      rules: [
        {
          id: 'pro',
          scope: { kind: 'model', id: 'models/gemini-2.5-pro' },
          window: 'hour',
          limitUsd: 0.1,
          mode: 'hard',
        },
        {
          id: 'google',
          scope: { kind: 'provider', id: 'google' },
          window: 'day',
          limitUsd: 0.3,
          mode: 'hard',
        },
        {
          id: 'coder',
          scope: { kind: 'agent', id: 'coder' },
          window: 'day',
          limitUsd: 0.05,
          mode: 'hard',
        },
      ],
    });
    const reserve = (n: number, model: string, estimateUsd: number, agent?: string) =>
      manager.reserve({ callId: call(n), model, agent, estimateUsd, now: NOW });
    await reserve(1, 'gemini-2.5-pro', 0.1);
    expect((await refusal(reserve(2, 'Gemini-2.5-Pro', 0.01))).scope).toBe(
      'model:gemini-2.5-pro:hour:2026-11-23T12+0000@UTC',
    );
    // the provider is inferred from the catalog: gemini models are google's
    await reserve(3, 'gemini-2.5-flash', 0.2);
    expect((await refusal(reserve(4, 'gemini-2.5-flash', 0.01))).scope).toBe(
      'provider:google:day:2026-11-23@UTC',
    );
    const coder = await refusal(reserve(5, 'gpt-4o-mini', 0.06, 'coder'));
    expect(coder).toMatchObject({ scope: 'agent:coder:day:2026-11-23@UTC', agent: 'coder' });
  });

  it('a request window caps each single call, with no counter', async () => {
    const { manager } = managerWithEvents({
      rules: [
        {
          id: 'per-call',
          scope: { kind: 'user' },
          window: 'request',
          limitUsd: 0.05,
          mode: 'hard',
        },
      ],
    });
    const reserve = (n: number, estimateUsd: number) =>
      manager.reserve({ callId: call(n), userId: 'alice', model: 'm', estimateUsd, now: NOW });
    for (let n = 0; n < 5; n++) await reserve(n, 0.05);
    const error = await refusal(reserve(9, 0.0500001));
    expect(error).toMatchObject({
      scope: 'user:alice:request',
      limitUsd: 0.05,
      spentUsd: 0.0500001,
    });
  });

  it('windows reset at the calendar boundary of the rule time zone, not 24 h after first use', async () => {
    const { manager } = managerWithEvents({
      rules: [
        {
          id: 'berlin',
          scope: { kind: 'user' },
          window: 'day',
          limitUsd: 1,
          mode: 'hard',
          timeZone: 'Europe/Berlin',
        },
      ],
    });
    const midnight = Date.parse('2026-11-23T23:00:00Z'); // 00:00 in Berlin
    const reserve = (n: number, now: number) =>
      manager.reserve({ callId: call(n), userId: 'alice', model: 'm', estimateUsd: 1, now });
    const first = await reserve(1, midnight - 60_000);
    await manager.settle(first.reservation, usd(1), midnight - 60_000);
    await expect(reserve(2, midnight - 1)).rejects.toThrow(
      /user:alice:day:2026-11-23@Europe\/Berlin/,
    );
    await expect(reserve(3, midnight)).resolves.toMatchObject({ ok: true });
  });
});

describe('BudgetManager: soft budgets and alerts', () => {
  it('a soft budget never refuses but alerts at each threshold, once', async () => {
    const { manager, of } = managerWithEvents({
      rules: [
        {
          id: 'soft',
          scope: { kind: 'user' },
          window: 'day',
          limitUsd: 1,
          mode: 'soft',
          alertAt: [0.5, 1],
        },
      ],
    });
    for (let n = 0; n < 15; n++) {
      const { reservation } = await manager.reserve({
        callId: call(n),
        userId: 'alice',
        model: 'm',
        estimateUsd: 0.1,
        now: NOW,
      });
      await manager.settle(reservation, usd(0.1), NOW);
    }
    expect((await manager.getUserStats('alice', NOW)).today.spentUsd).toBe(1.5);
    expect(of('budget_alert')).toEqual([
      {
        type: 'budget_alert',
        ruleId: 'soft',
        key: 'user:alice:day:2026-11-23@UTC',
        threshold: 0.5,
        spentUsd: 0.5,
        limitUsd: 1,
        window: 'day',
        mode: 'soft',
        scope: { kind: 'user', id: 'alice' },
        callId: call(4),
        resetsAt: Date.parse('2026-11-24T00:00:00Z'),
      },
      // $1.00 of $1.00 is 100%, not exceeded: threshold 1 fires once spend passes the limit.
      expect.objectContaining({ threshold: 1, spentUsd: 1.1, callId: call(10) }),
    ]);
  });

  it('fires each threshold once per window, across processes, and again in the next window', async () => {
    const store = new MemoryStore();
    const rules = [
      {
        id: 'daily',
        scope: { kind: 'user' as const },
        window: 'day' as const,
        limitUsd: 1,
        mode: 'hard' as const,
      },
    ];
    const first = managerWithEvents({ store, rules });
    const second = managerWithEvents({ store, rules });
    const spend = async (manager: BudgetManager, n: number, amount: number, now: number) => {
      const { reservation } = await manager.reserve({
        callId: call(n),
        userId: 'alice',
        model: 'm',
        estimateUsd: amount,
        now,
      });
      await manager.settle(reservation, usd(amount), now);
    };
    await spend(first.manager, 1, 0.6, NOW);
    await spend(second.manager, 2, 0.1, NOW);
    await spend(first.manager, 3, 0.15, NOW);
    await spend(second.manager, 4, 0.1, NOW);
    const thresholds = [...first.of('budget_alert'), ...second.of('budget_alert')]
      .map((e) => e.threshold)
      .sort((a, b) => a - b);
    expect(thresholds).toEqual([0.5, 0.8, 0.95]); // the default thresholds, once each
    await spend(first.manager, 5, 0.6, NOW + DAY);
    expect(first.of('budget_alert').at(-1)).toMatchObject({
      threshold: 0.5,
      key: 'user:alice:day:2026-11-24@UTC',
    });
  });

  it('alertAt: [] turns alerts off', async () => {
    const { manager, of } = managerWithEvents({
      rules: [
        {
          id: 'quiet',
          scope: { kind: 'global' },
          window: 'day',
          limitUsd: 1,
          mode: 'soft',
          alertAt: [],
        },
      ],
    });
    const { reservation } = await manager.reserve({
      callId: call(1),
      model: 'm',
      estimateUsd: 2,
      now: NOW,
    });
    await manager.settle(reservation, usd(2), NOW);
    expect(of('budget_alert')).toEqual([]);
  });
});

describe('BudgetManager: adaptive budgets', () => {
  const adaptive = {
    id: 'adaptive',
    scope: { kind: 'user' as const },
    window: 'day' as const,
    limitUsd: 1,
    mode: 'adaptive' as const,
    adaptive: { fallbackModel: 'gemini-2.5-flash-lite', minMaxOutputTokens: 256 },
  };

  it('returns the fallback model and a lower output cap when the budget runs low', async () => {
    const { manager, of } = managerWithEvents({ rules: [adaptive] });
    const reserve = (n: number, estimateUsd: number, model = 'gemini-2.5-pro') =>
      manager.reserve({
        callId: call(n),
        userId: 'alice',
        model,
        estimateUsd,
        maxOutputTokens: 4096,
        now: NOW,
      });
    const spent = await reserve(1, 0.7);
    expect(spent.adapt).toBeUndefined();
    await manager.settle(spent.reservation, usd(0.7), NOW);
    expect((await reserve(2, 0.05)).adapt).toBeUndefined(); // 0.25 left ≥ 20%
    const low = await reserve(3, 0.15); // 0.10 left: half of the low zone
    expect(low.adapt).toEqual({ model: 'gemini-2.5-flash-lite', maxOutputTokens: 2048 });
    expect(of('adaptive')).toEqual([
      expect.objectContaining({
        ruleId: 'adaptive',
        key: 'user:alice:day:2026-11-23@UTC',
        model: 'gemini-2.5-pro',
        adapt: low.adapt,
        remainingUsd: 0.1,
        limitUsd: 1,
      }),
    ]);
    // Never refuses: past the limit the output cap is at its floor.
    const over = await reserve(4, 0.5);
    expect(over.adapt).toEqual({ model: 'gemini-2.5-flash-lite', maxOutputTokens: 256 });
    // Already on the fallback model: only the output cap changes.
    expect((await reserve(5, 0.01, 'gemini-2.5-flash-lite')).adapt).toEqual({
      maxOutputTokens: 256,
    });
  });

  it('per-call adaptive rules look at the estimate alone; per-call alerts fire once per call', async () => {
    const { manager, of } = managerWithEvents({
      rules: [
        {
          id: 'big-calls',
          scope: { kind: 'global' },
          window: 'request',
          limitUsd: 0.1,
          mode: 'adaptive',
          alertAt: [0.5],
          adaptive: { fallbackModel: 'gemini-2.5-flash', lowBudgetFraction: 0.5 },
        },
      ],
    });
    const small = await manager.reserve({
      callId: 'small',
      model: 'gemini-2.5-pro',
      estimateUsd: 0.04,
      now: NOW,
    });
    expect(small.adapt).toBeUndefined();
    const big = await manager.reserve({
      callId: 'big',
      model: 'gemini-2.5-pro',
      estimateUsd: 0.06,
      now: NOW,
    });
    expect(big.adapt).toEqual({ model: 'gemini-2.5-flash' });
    expect(big.reservation.counters).toEqual([]); // nothing to hold for a per-call rule
    await manager.settle(big.reservation, usd(0.06), NOW);
    await manager.settle(big.reservation, usd(0.06), NOW);
    await manager.settle(small.reservation, usd(0.04), NOW);
    expect(of('budget_alert').map((e) => [e.callId, e.key, e.spentUsd])).toEqual([
      ['big', 'global:request', 0.06],
    ]);
  });

  it('adaptive rules need something to adapt', () => {
    expect(
      () => new BudgetManager({ rules: [{ ...adaptive, adaptive: { lowBudgetFraction: 0.3 } }] }),
    ).toThrow(/adaptive.fallbackModel/);
  });
});

describe('BudgetManager: getUserStats', () => {
  it('today, this ISO week and this month, with the tightest limit of each window', async () => {
    const { manager } = managerWithEvents({
      rules: [
        { id: 'weekly', scope: { kind: 'user' }, window: 'week', limitUsd: 5, mode: 'hard' },
        { id: 'weekly-soft', scope: { kind: 'user' }, window: 'week', limitUsd: 3, mode: 'soft' },
      ],
    });
    manager.setUserLimit('alice', 2);
    const spend = async (n: number, amount: number, now: number) => {
      const { reservation } = await manager.reserve({
        callId: call(n),
        userId: 'alice',
        model: 'm',
        estimateUsd: amount,
        now,
      });
      await manager.settle(reservation, usd(amount), now);
    };
    await spend(1, 1, NOW - 3 * DAY); // Friday of the week before, same month
    await spend(2, 0.5, NOW - HOUR);
    await spend(3, 0.25, NOW);
    const stats = await manager.getUserStats('alice', NOW);
    expect(stats.today).toEqual({
      spentUsd: 0.75,
      reservedUsd: 0,
      limitUsd: 2,
      remainingUsd: 1.25,
      key: 'user:alice:day:2026-11-23@UTC',
      resetsAt: Date.parse('2026-11-24T00:00:00Z'),
    });
    expect(stats.week).toMatchObject({
      spentUsd: 0.75,
      limitUsd: 3,
      remainingUsd: 2.25,
      key: 'user:alice:week:2026-W48@UTC',
    });
    expect(stats.month).toMatchObject({
      spentUsd: 1.75,
      limitUsd: null,
      remainingUsd: null,
      key: 'user:alice:month:2026-11@UTC',
    });
  });

  it('counts spend without any rule (limit null), and knows nothing of unknown users', async () => {
    const { manager } = managerWithEvents();
    const { reservation } = await manager.reserve({
      callId: call(1),
      userId: 'bob',
      model: 'm',
      estimateUsd: 0.3,
      now: NOW,
    });
    await manager.settle(reservation, usd(0.2), NOW);
    expect((await manager.getUserStats('bob', NOW)).month).toMatchObject({
      spentUsd: 0.2,
      limitUsd: null,
    });
    expect((await manager.getUserStats('nobody', NOW)).today).toMatchObject({
      spentUsd: 0,
      reservedUsd: 0,
    });
  });
});

describe('BudgetManager: configuration', () => {
  it.each<[string, unknown, RegExp]>([
    ['a negative limit', { limitUsd: -1 }, /limitUsd: .*\(got -1\)/],
    ['an unknown window', { window: 'fortnight' }, /window: .*"fortnight"/],
    ['a threshold above 1', { alertAt: [0.5, 1.5] }, /alertAt\.1: .*\(got 1\.5\)/],
    ['a bad time zone', { timeZone: 'Mars/Olympus' }, /"Mars\/Olympus" is not an IANA time zone/],
    [
      'a global scope with an id',
      { scope: { kind: 'global', id: 'x' } },
      /scope: a global scope takes no id/,
    ],
    ['an unknown field', { limit: 5 }, /Unrecognized key.*limit/],
  ])('rejects %s with ConfigurationError naming the field', (_, change, message) => {
    const rule = {
      id: 'r',
      scope: { kind: 'user' },
      window: 'day',
      limitUsd: 1,
      mode: 'hard',
      ...(change as object),
    };
    const manager = new BudgetManager({ defaultDailyUserLimitUsd: null });
    expect(() => manager.setRule(rule as never)).toThrow(ConfigurationError);
    expect(() => manager.setRule(rule as never)).toThrow(message);
  });

  it.each([[1e-30], [4e-16]])(
    'refuses a limitUsd of %s, below one femto-dollar, instead of rounding it to a zero limit',
    async (limitUsd) => {
      const manager = new BudgetManager({ defaultDailyUserLimitUsd: null });
      const rule = {
        id: 'r',
        scope: { kind: 'user' as const },
        window: 'day' as const,
        mode: 'hard' as const,
      };
      expect(() => manager.setRule({ ...rule, limitUsd })).toThrow(ConfigurationError);
      expect(() => manager.setRule({ ...rule, limitUsd })).toThrow(
        /limitUsd: below one femto-dollar/,
      );
      expect(() => new BudgetManager({ defaultDailyUserLimitUsd: limitUsd })).toThrow(
        /limitUsd: below one femto-dollar/,
      );
      // The smallest limit that rounds to one femto-dollar is kept.
      expect(manager.setRule({ ...rule, limitUsd: 5e-16 }).limitUsd).toBe(5e-16);
    },
  );

  it('rejects a now that is not an instant with ConfigurationError, not a RangeError', async () => {
    const { manager } = managerWithEvents();
    manager.setUserLimit('alice', 1);
    for (const now of [Number.NaN, Number.POSITIVE_INFINITY, 1e20]) {
      await expect(
        manager.reserve({ callId: 'c', userId: 'alice', estimateUsd: 0.1, now }),
      ).rejects.toThrow(ConfigurationError);
      await expect(manager.getUserStats('alice', now)).rejects.toThrow(/getUserStats: now/);
    }
    const { reservation } = await manager.reserve({
      callId: 'c',
      userId: 'alice',
      estimateUsd: 0.1,
      now: NOW,
    });
    await expect(manager.settle(reservation, 1, Number.NaN)).rejects.toThrow(/settle: now/);
    await expect(manager.release(reservation, Number.NaN)).rejects.toThrow(/release: now/);
  });

  it('a tiny alertAt threshold needs some spend: a call that cost nothing fires no alert', async () => {
    const { manager, of } = managerWithEvents();
    manager.setRule({
      id: 'tiny',
      scope: { kind: 'user' },
      window: 'day',
      limitUsd: 1,
      mode: 'soft',
      alertAt: [1e-9],
    });
    const first = await manager.reserve({
      callId: 'c1',
      userId: 'alice',
      estimateUsd: 0,
      now: NOW,
    });
    await manager.settle(first.reservation, 0, NOW);
    expect(of('budget_alert')).toEqual([]);
    const second = await manager.reserve({
      callId: 'c2',
      userId: 'alice',
      estimateUsd: 0,
      now: NOW,
    });
    await manager.settle(second.reservation, 1_000_000, NOW); // 10^-9 of $1
    expect(of('budget_alert').map((e) => e.threshold)).toEqual([1e-9]);
  });

  it('setRule replaces by id, removeRule removes, listRules returns copies', () => {
    const manager = new BudgetManager({ defaultDailyUserLimitUsd: null });
    manager.setRule({
      id: 'g',
      scope: { kind: 'global' },
      window: 'day',
      limitUsd: 1,
      mode: 'soft',
    });
    manager.setRule({
      id: 'g',
      scope: { kind: 'global' },
      window: 'day',
      limitUsd: 2,
      mode: 'soft',
    });
    const rules = manager.listRules();
    expect(rules).toEqual([
      expect.objectContaining({ id: 'g', limitUsd: 2, alertAt: [0.5, 0.8, 0.95] }),
    ]);
    (rules[0] as { limitUsd: number }).limitUsd = 100;
    expect(manager.listRules()[0]?.limitUsd).toBe(2);
    expect(manager.removeRule('g')).toBe(true);
    expect(manager.removeRule('g')).toBe(false);
  });

  it('requires an estimate, and a store with the budgets capability', async () => {
    const manager = new BudgetManager({ defaultDailyUserLimitUsd: null });
    await expect(manager.reserve({ callId: 'c', model: 'm' })).rejects.toThrow(/estimateUsd/);
    await expect(manager.reserve({ callId: '', model: 'm', estimateUsd: 1 })).rejects.toThrow(
      /callId/,
    );
    const ledgerOnly = { ...new MemoryStore(), name: 'ledger-only', reserve: undefined };
    expect(() => new BudgetManager({ store: ledgerOnly as never })).toThrow(/budgets capability/);
  });

  it('takes an estimate from estimateCallCost as is', async () => {
    const { manager } = managerWithEvents();
    manager.setUserLimit('alice', 0.01);
    const estimate = estimateCallCost({
      model: 'gemini-2.5-flash',
      promptTokens: 1000,
      maxOutputTokens: 1000,
    });
    const { reservation } = await manager.reserve({
      callId: 'c',
      userId: 'alice',
      model: 'gemini-2.5-flash',
      ...estimate,
      now: NOW,
    });
    expect(reservation.amountFemto).toBe(estimate.estimateFemto);
  });
});
