import { describe, expect, it } from 'vitest';
import {
  alertFromBudgetEvent,
  alertFromTrackerEvent,
  type BudgetAlertEventLike,
  createBudgetAlert,
  formatAlertUsd,
  signBody,
  verifySignature,
} from '../../src/alerts/index.js';
import { backoffDelay, resolveBackoff, retryAfterMs } from '../../src/alerts/retry.js';
import type { BudgetEvent } from '../../src/react/events.js';

const trackerEvent = (over: Partial<BudgetEvent> = {}): BudgetEvent => ({
  type: 'budget_warning',
  threshold: 0.9,
  spentUsd: 0.47,
  limitUsd: 0.5,
  remainingUsd: 0.03,
  utilizationPercent: 94,
  agent: 'planner',
  model: 'gemini-2.5-flash',
  callId: 'c1',
  recordId: 's1-3',
  timestamp: Date.parse('2026-11-23T10:00:00Z'),
  ...over,
});

const ruleEvent = (over: Partial<BudgetAlertEventLike> = {}): BudgetAlertEventLike => ({
  ruleId: 'alice-daily',
  key: 'user:alice:day:2026-11-23@UTC',
  threshold: 0.8,
  spentUsd: 4.1,
  limitUsd: 5,
  window: 'day',
  scope: { kind: 'user', id: 'alice' },
  callId: 'call-9',
  resetsAt: Date.parse('2026-11-24T00:00:00Z'),
  ...over,
});

describe('alert text', () => {
  it.each([
    [
      { threshold: 0.9, spentUsd: 0.47, limitUsd: 0.5, scope: 'user:alice', window: 'day' },
      'Budget warning: $0.47 / $0.50 (94.0%) for user:alice (day)',
    ],
    [
      { threshold: 1, spentUsd: 5.2, limitUsd: 5, scope: 'tenant:acme', window: 'month' },
      'Budget exceeded: $5.20 / $5.00 (104.0%) for tenant:acme (month)',
    ],
    [
      { threshold: 0.5, spentUsd: 0.0026, limitUsd: 0.005, scope: 'global', window: 'hour' },
      'Budget warning: $0.0026 / $0.0050 (52.0%) for global (hour)',
    ],
    [
      {
        threshold: 0.9,
        spentUsd: 0.91,
        limitUsd: 1,
        scope: 'session',
        sessionId: 'a1b2c3d4',
        agent: 'coder',
        model: 'gemini-2.5-pro',
      },
      'Budget warning: $0.91 / $1.00 (91.0%) for session a1b2c3d4; last call by coder on gemini-2.5-pro',
    ],
  ])('%o → %s', (input, text) => {
    expect(createBudgetAlert(input).text).toBe(text);
  });

  it('derives kind, utilization and a stable id; keeps a given text', () => {
    const a = createBudgetAlert({ threshold: 1, spentUsd: 2, limitUsd: 2, scope: 'global' });
    expect(a).toMatchObject({ kind: 'exceeded', utilizationPercent: 100 });
    expect(a.id).toMatch(/^[0-9a-f]{32}$/);
    expect(
      createBudgetAlert({ threshold: 1, spentUsd: 2.1, limitUsd: 2, scope: 'global' }).id,
    ).toBe(a.id);
    expect(
      createBudgetAlert({ threshold: 0.9, spentUsd: 1, limitUsd: 2, scope: 'global', text: 'hi' })
        .text,
    ).toBe('hi');
  });

  it.each([
    [0.47, 0.5, '$0.47'],
    [12.345, 100, '$12.35'],
    [0.00049, 0.0005, '$0.00049'],
    [0.1, 0.1, '$0.10'],
  ])('formatAlertUsd(%d, limit %d) = %s', (usd, limit, text) => {
    expect(formatAlertUsd(usd, limit)).toBe(text);
  });
});

describe('alerts from events', () => {
  it('a tracker budget_warning', () => {
    const alert = alertFromTrackerEvent(trackerEvent(), 'a1b2c3d4');
    expect(alert).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      kind: 'warning',
      threshold: 0.9,
      spentUsd: 0.47,
      limitUsd: 0.5,
      utilizationPercent: 94,
      scope: 'session',
      agent: 'planner',
      model: 'gemini-2.5-flash',
      sessionId: 'a1b2c3d4',
      timestamp: Date.parse('2026-11-23T10:00:00Z'),
      text: 'Budget warning: $0.47 / $0.50 (94.0%) for session a1b2c3d4; last call by planner on gemini-2.5-flash',
    });
  });

  it('a tracker budget_exceeded has its own id; a raised limit makes new ids', () => {
    const warning = alertFromTrackerEvent(trackerEvent(), 's');
    const exceeded = alertFromTrackerEvent(
      trackerEvent({
        type: 'budget_exceeded',
        threshold: 1,
        spentUsd: 0.51,
        utilizationPercent: 102,
      }),
      's',
    );
    expect(exceeded.kind).toBe('exceeded');
    expect(exceeded.id).not.toBe(warning.id);
    expect(alertFromTrackerEvent(trackerEvent({ spentUsd: 0.48 }), 's').id).toBe(warning.id);
    expect(alertFromTrackerEvent(trackerEvent({ limitUsd: 1 }), 's').id).not.toBe(warning.id);
    expect(alertFromTrackerEvent(trackerEvent(), 'other').id).not.toBe(warning.id);
  });

  it('a BudgetManager budget_alert', () => {
    expect(alertFromBudgetEvent(ruleEvent())).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      kind: 'warning',
      threshold: 0.8,
      spentUsd: 4.1,
      limitUsd: 5,
      utilizationPercent: 82,
      scope: 'user:alice',
      window: 'day',
      ruleId: 'alice-daily',
      resetsAt: Date.parse('2026-11-24T00:00:00Z'),
      timestamp: expect.any(Number),
      text: 'Budget warning: $4.10 / $5.00 (82.0%) for user:alice (day)',
    });
    expect(alertFromBudgetEvent(ruleEvent({ scope: { kind: 'global' } })).scope).toBe('global');
  });

  it('budget_alert ids: one per window and threshold, per call for request rules', () => {
    const id = alertFromBudgetEvent(ruleEvent()).id;
    expect(alertFromBudgetEvent(ruleEvent({ callId: 'other', spentUsd: 4.5 })).id).toBe(id);
    expect(alertFromBudgetEvent(ruleEvent({ key: 'user:alice:day:2026-11-24@UTC' })).id).not.toBe(
      id,
    );
    expect(alertFromBudgetEvent(ruleEvent({ threshold: 0.95 })).id).not.toBe(id);
    const request = ruleEvent({ window: 'request', key: 'user:alice:request' });
    expect(alertFromBudgetEvent({ ...request, callId: 'a' }).id).not.toBe(
      alertFromBudgetEvent({ ...request, callId: 'b' }).id,
    );
  });
});

describe('signatures', () => {
  const body = '{"text":"Budget warning"}';

  it('signs the exact body: known HMAC-SHA256 vector', () => {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
    expect(signBody('what do ya want for nothing?', 'Jefe')).toBe(
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it.each([
    ['the right signature', signBody(body, 's3cret'), true],
    ['an array header', [signBody(body, 's3cret')], true],
    ['another secret', signBody(body, 'other'), false],
    ['another body', signBody(`${body} `, 's3cret'), false],
    ['no prefix', signBody(body, 's3cret').slice(7), false],
    ['a truncated signature', signBody(body, 's3cret').slice(0, -2), false],
    ['no header', undefined, false],
    ['an empty header', '', false],
  ])('verifySignature with %s → %s', (_, header, ok) => {
    expect(verifySignature(body, header, 's3cret')).toBe(ok);
    expect(verifySignature(Buffer.from(body), header, 's3cret')).toBe(ok);
  });

  it('never verifies with an empty secret', () => {
    expect(verifySignature(body, signBody(body, 'x'), '')).toBe(false);
  });
});

describe('backoff', () => {
  const exact = resolveBackoff({ jitter: false });

  it.each([
    [0, 200],
    [1, 400],
    [2, 800],
    [5, 6400],
    [6, 10_000],
    [20, 10_000],
  ])('retry %i waits %i ms without jitter', (retry, ms) => {
    expect(backoffDelay(retry, exact)).toBe(ms);
  });

  it('full jitter spreads the wait over [0, wait]; a fraction keeps the rest', () => {
    const full = resolveBackoff({});
    expect(backoffDelay(2, full, () => 0)).toBe(800);
    expect(backoffDelay(2, full, () => 0.999999)).toBe(0);
    expect(backoffDelay(2, resolveBackoff({ jitter: 0.25 }), () => 1)).toBe(600);
  });

  it.each([
    ['3', 3000],
    [' 0 ', 0],
    ['Mon, 23 Nov 2026 10:00:05 GMT', 5000],
    ['Mon, 23 Nov 2026 09:00:00 GMT', 0],
    ['soon', undefined],
    [null, undefined],
    // Obsolete HTTP-date forms: RFC 850, and asctime (GMT, though it does not say so).
    ['Monday, 23-Nov-26 10:00:05 GMT', 5000],
    ['Mon Nov 23 10:00:05 2026', 5000],
    // Not HTTP dates, though V8's Date.parse reads each as a day of 2001 (so "retry now"):
    // garbage must fall back to the backoff, not turn it off.
    ['1.5', undefined],
    ['-1', undefined],
    ['abc 1', undefined],
    ['2 days', undefined],
  ])('Retry-After %o → %o ms', (header, ms) => {
    expect(retryAfterMs(header, Date.parse('2026-11-23T10:00:00Z'))).toBe(ms);
  });
});
