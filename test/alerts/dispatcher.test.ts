import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import {
  type AlertChannel,
  AlertDeliveryError,
  type BudgetAlert,
  type BudgetAlertEventLike,
  createAlertDispatcher,
  memoryChannel,
} from '../../src/alerts/index.js';
import { ConfigurationError, TokenTracker } from '../../src/index.js';

/** $0.03 a call on gemini-2.5-flash (100,000 input tokens at $0.30/M). */
const call = (tracker: TokenTracker, agent = 'planner') =>
  tracker.record({
    agent,
    model: 'gemini-2.5-flash',
    usage: { promptTokenCount: 100_000, candidatesTokenCount: 0, totalTokenCount: 100_000 },
  });

/** A BudgetManager stand-in: any emitter of the documented `budget_alert` shape. */
function fakeBudgets() {
  const emitter = new EventEmitter();
  return {
    on: (event: 'budget_alert', listener: (e: BudgetAlertEventLike) => void) =>
      emitter.on(event, listener),
    off: (event: 'budget_alert', listener: (e: BudgetAlertEventLike) => void) =>
      emitter.off(event, listener),
    emit: (event: BudgetAlertEventLike) => emitter.emit('budget_alert', event),
    listeners: () => emitter.listenerCount('budget_alert'),
  };
}

const ruleEvent: BudgetAlertEventLike = {
  ruleId: 'acme-monthly',
  key: 'tenant:acme:month:2026-11@Europe/Berlin',
  threshold: 0.8,
  spentUsd: 400,
  limitUsd: 500,
  window: 'month',
  scope: { kind: 'tenant', id: 'acme' },
};

describe('createAlertDispatcher', () => {
  it.each([
    [{ channels: [] }, /channels must be a non-empty array/],
    [{ channels: undefined }, /channels must be a non-empty array/],
    [{ channels: [{ name: 'x' }] }, /channels\.0 must have a name and a send\(alert\) method/],
    [{ channels: [memoryChannel()], maxPending: 0 }, /maxPending must be a positive integer/],
  ])('refuses bad options: %o', (options, message) => {
    expect(() => createAlertDispatcher(options as never)).toThrow(ConfigurationError);
    expect(() => createAlertDispatcher(options as never)).toThrow(message);
  });

  it('turns tracker budget events into one alert each, in order, on every channel', async () => {
    const a = memoryChannel('a');
    const b = memoryChannel('b');
    const alerts = createAlertDispatcher({ channels: [a, b] });
    const tracker = new TokenTracker({ budgetLimitUsd: 0.1, sessionId: 'sess-1' });
    alerts.attach(tracker);
    for (let i = 0; i < 5; i++) call(tracker);
    await alerts.flush();
    expect(a.alerts.map((alert) => alert.text)).toEqual([
      'Budget warning: $0.09 / $0.10 (90.0%) for session sess-1; last call by planner on gemini-2.5-flash',
      'Budget exceeded: $0.12 / $0.10 (120.0%) for session sess-1; last call by planner on gemini-2.5-flash',
    ]);
    expect(b.alerts).toEqual(a.alerts);
  });

  it('delivers after the listener returns: record() never waits for a channel', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const received: BudgetAlert[] = [];
    const slow: AlertChannel = {
      name: 'slow',
      async send(alert) {
        await gate;
        received.push(alert);
      },
    };
    const alerts = createAlertDispatcher({ channels: [slow] });
    const tracker = new TokenTracker({ budgetLimitUsd: 0.05 });
    alerts.attach(tracker);
    expect(call(tracker)).toBeDefined();
    expect(call(tracker)).toBeDefined();
    expect(received).toEqual([]);
    release();
    await alerts.flush();
    // $0.06 of $0.05 crosses 90% and 100% on one call: both fire.
    expect(received.map((alert) => alert.kind)).toEqual(['warning', 'exceeded']);
  });

  it('a channel that throws, synchronously or not, reaches onError and never the tracker', async () => {
    const onError = vi.fn();
    const memory = memoryChannel();
    const throwsNow: AlertChannel = {
      name: 'throws-now',
      send() {
        throw new Error('sync boom');
      },
    };
    const rejects: AlertChannel = { name: 'rejects', send: async () => Promise.reject('nope') };
    const alerts = createAlertDispatcher({ channels: [throwsNow, rejects, memory], onError });
    const listenerErrors = vi.fn();
    const tracker = new TokenTracker({ budgetLimitUsd: 0.05, onListenerError: listenerErrors });
    alerts.attach(tracker);
    call(tracker);
    call(tracker);
    await alerts.flush();
    expect(memory.alerts).toHaveLength(2);
    expect(listenerErrors).not.toHaveBeenCalled();
    const reported = onError.mock.calls.map(([error, context]) => [
      context.channel,
      String(error),
      context.alert.kind,
    ]);
    // Channels run independently; within one, alerts keep their order.
    expect(reported.filter(([channel]) => channel === 'throws-now')).toEqual([
      ['throws-now', 'Error: sync boom', 'warning'],
      ['throws-now', 'Error: sync boom', 'exceeded'],
    ]);
    expect(reported.filter(([channel]) => channel === 'rejects')).toEqual([
      ['rejects', 'nope', 'warning'],
      ['rejects', 'nope', 'exceeded'],
    ]);
  });

  it('an onError that throws is swallowed too', async () => {
    const alerts = createAlertDispatcher({
      channels: [{ name: 'bad', send: async () => Promise.reject(new Error('x')) }],
      onError: () => {
        throw new Error('handler broke');
      },
    });
    await expect(
      alerts.send({ threshold: 1, spentUsd: 1, limitUsd: 1, scope: 'global' }),
    ).resolves.toBeUndefined();
  });

  it('the default onError is console.error', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const alerts = createAlertDispatcher({
        channels: [{ name: 'bad', send: async () => Promise.reject(new Error('x')) }],
      });
      await alerts.send({ threshold: 1, spentUsd: 1, limitUsd: 1, scope: 'global' });
      expect(spy).toHaveBeenCalledWith(
        '[tollgate] alert "Budget exceeded: $1.00 / $1.00 (100.0%) for global" not delivered by bad:',
        expect.any(Error),
      );
    } finally {
      spy.mockRestore();
    }
  });

  it('keeps order per channel while one channel is slow, without holding the others', async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow: AlertChannel = {
      name: 'slow',
      async send(alert) {
        if (order.length === 0) await gate;
        order.push(`slow:${alert.threshold}`);
      },
    };
    const fast = memoryChannel('fast');
    const alerts = createAlertDispatcher({ channels: [slow, fast] });
    void alerts.send({ threshold: 0.5, spentUsd: 1, limitUsd: 2, scope: 'global' });
    const second = alerts.send({ threshold: 1, spentUsd: 2, limitUsd: 2, scope: 'global' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fast.alerts.map((alert) => alert.threshold)).toEqual([0.5, 1]);
    expect(order).toEqual([]);
    release();
    await second;
    expect(order).toEqual(['slow:0.5', 'slow:1']);
  });

  it('attaches to a BudgetManager-shaped emitter and detaches', async () => {
    const memory = memoryChannel();
    const alerts = createAlertDispatcher({ channels: [memory] });
    const budgets = fakeBudgets();
    const detach = alerts.attach(budgets);
    budgets.emit(ruleEvent);
    budgets.emit({ ...ruleEvent, threshold: 1, spentUsd: 512.5 });
    detach();
    detach();
    budgets.emit({ ...ruleEvent, threshold: 0.95 });
    expect(budgets.listeners()).toBe(0);
    await alerts.flush();
    expect(memory.alerts.map((alert) => alert.text)).toEqual([
      'Budget warning: $400.00 / $500.00 (80.0%) for tenant:acme (month)',
      'Budget exceeded: $512.50 / $500.00 (102.5%) for tenant:acme (month)',
    ]);
    expect(memory.alerts[0]).toMatchObject({ ruleId: 'acme-monthly', window: 'month' });
  });

  it('a malformed event is reported, not thrown at the emitter', async () => {
    const onError = vi.fn();
    const alerts = createAlertDispatcher({ channels: [memoryChannel()], onError });
    const budgets = fakeBudgets();
    alerts.attach(budgets);
    expect(() => budgets.emit({ ...ruleEvent, scope: undefined } as never)).not.toThrow();
    expect(onError).toHaveBeenCalledWith(expect.any(TypeError), {
      alert: undefined,
      channel: undefined,
    });
  });

  it('attaching the same source twice sends each alert once', async () => {
    const memory = memoryChannel();
    const alerts = createAlertDispatcher({ channels: [memory] });
    const tracker = new TokenTracker({ budgetLimitUsd: 0.05 });
    const budgets = fakeBudgets();
    const detach = alerts.attach(tracker);
    expect(alerts.attach(tracker)).toBe(detach);
    alerts.attach(budgets);
    alerts.attach(budgets);
    expect(budgets.listeners()).toBe(1);
    call(tracker);
    call(tracker);
    budgets.emit(ruleEvent);
    await alerts.flush();
    expect(memory.alerts.map((alert) => alert.kind)).toEqual(['warning', 'exceeded', 'warning']);
    detach();
    // Detached, it can be attached again.
    tracker.setBudgetLimit(0.2);
    alerts.attach(tracker);
    for (let i = 0; i < 5; i++) call(tracker);
    await alerts.flush();
    expect(memory.alerts.map((alert) => alert.kind)).toEqual([
      'warning',
      'exceeded',
      'warning',
      'warning',
      'exceeded',
    ]);
  });

  it('refuses a source that is neither a tracker nor an emitter', () => {
    const alerts = createAlertDispatcher({ channels: [memoryChannel()] });
    expect(() => alerts.attach({} as never)).toThrow(/expected a TokenTracker or a BudgetManager/);
  });

  it('drops (and reports) alerts beyond maxPending', async () => {
    const onError = vi.fn();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const stuck: AlertChannel = { name: 'stuck', send: () => gate };
    const alerts = createAlertDispatcher({ channels: [stuck], onError, maxPending: 2 });
    for (const threshold of [0.5, 0.8, 0.9]) {
      void alerts.send({ threshold, spentUsd: 1, limitUsd: 2, scope: 'global' });
    }
    expect(onError).toHaveBeenCalledTimes(1);
    const [dropped, context] = onError.mock.calls[0] ?? [];
    expect(String(dropped)).toMatch(/2 alert deliveries already pending/);
    expect(AlertDeliveryError.isInstance(dropped)).toBe(true);
    expect(dropped).toMatchObject({ channel: 'stuck', attempts: 0, alertId: context.alert.id });
    release();
    await alerts.flush();
  });

  it('close() detaches, flushes, closes channels once, and reports later sends', async () => {
    const onError = vi.fn();
    const closed = vi.fn(async () => {});
    const memory = { ...memoryChannel(), close: closed };
    const alerts = createAlertDispatcher({ channels: [memory], onError });
    const tracker = new TokenTracker({ budgetLimitUsd: 0.05 });
    alerts.attach(tracker);
    call(tracker);
    call(tracker);
    await Promise.all([alerts.close(), alerts.close()]);
    expect(memory.alerts).toHaveLength(2);
    expect(closed).toHaveBeenCalledTimes(1);
    tracker.setBudgetLimit(0.2);
    for (let i = 0; i < 5; i++) call(tracker);
    expect(memory.alerts).toHaveLength(2);
    await alerts.send({ threshold: 1, spentUsd: 1, limitUsd: 1, scope: 'global' });
    expect(onError).toHaveBeenCalledWith(expect.any(ConfigurationError), {
      alert: undefined,
      channel: undefined,
    });
  });

  it('memoryChannel.reset forgets', async () => {
    const memory = memoryChannel();
    await memory.send({} as BudgetAlert);
    memory.reset();
    expect(memory.alerts).toEqual([]);
  });
});
