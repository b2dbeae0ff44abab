import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { MemoryStore } from '../../src/keep/memory.js';
import { type RateLimitedEvent, RateLimiter } from '../../src/react/rate-limit.js';
import { NOW, refusal } from './support.js';

function limiter(options: Partial<ConstructorParameters<typeof RateLimiter>[0]> = {}) {
  const limiter = new RateLimiter({
    limits: [
      { id: 'per-user', scope: { kind: 'user' }, requestsPerMinute: 6, tokensPerMinute: 1_000 },
    ],
    ...options,
  });
  const events: RateLimitedEvent[] = [];
  limiter.on('rate_limited', (event) => events.push(event));
  return { limiter, events };
}

describe('RateLimiter', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('requests per minute: a burst of the limit, then one every 60 s / limit, exact retryAfterMs', async () => {
    const { limiter: rpm, events } = limiter();
    for (let i = 0; i < 6; i++) await rpm.check({ userId: 'alice', now: NOW });
    const error = await refusal(rpm.check({ userId: 'alice', now: NOW }));
    expect(error).toMatchObject({
      retryAfterMs: 10_000,
      scope: 'rate:per-user:user:alice:requests',
    });
    expect((await refusal(rpm.check({ userId: 'alice', now: NOW + 9_999 }))).retryAfterMs).toBe(1);
    await expect(rpm.check({ userId: 'alice', now: NOW + 10_000 })).resolves.toEqual({
      ok: true,
      waitedMs: 0,
    });
    // Each user has their own limit.
    await expect(rpm.check({ userId: 'bob', now: NOW })).resolves.toMatchObject({ ok: true });
    expect(events[0]).toEqual({
      type: 'rate_limited',
      limitId: 'per-user',
      key: 'rate:per-user:user:alice:requests',
      dimension: 'requests',
      retryAfterMs: 10_000,
      waiting: false,
    });
  });

  it('tokens per minute: refills at limit / 60 s, exact to the millisecond', async () => {
    const { limiter: tpm } = limiter();
    await tpm.check({ userId: 'alice', tokens: 700, now: NOW });
    // 300 left; 400 more need 100 tokens, i.e. 6,000 ms at 1,000 tokens per minute.
    const error = await refusal(tpm.check({ userId: 'alice', tokens: 400, now: NOW }));
    expect(error).toMatchObject({ retryAfterMs: 6_000, scope: 'rate:per-user:user:alice:tokens' });
    await expect(
      tpm.check({ userId: 'alice', tokens: 400, now: NOW + 6_000 }),
    ).resolves.toMatchObject({ ok: true });
    // 7 tokens take 420 ms: not whole per token at 1,000/min is 60 ms each, and 1 token 60 ms.
    expect(
      (await refusal(tpm.check({ userId: 'alice', tokens: 7, now: NOW + 6_000 }))).retryAfterMs,
    ).toBe(420);
  });

  it('a call with more tokens than the limit per minute can never pass', async () => {
    const { limiter: tpm } = limiter({ wait: true });
    const error = await refusal(tpm.check({ userId: 'alice', tokens: 1_001, now: NOW }));
    expect(error.retryAfterMs).toBe(Number.POSITIVE_INFINITY);
    expect(error.message).toMatch(/1001 tokens is more than the limit of 1000 per minute/);
  });

  it('wait mode sleeps retryAfterMs and retries, within maxWaitMs', async () => {
    vi.useFakeTimers({ now: NOW });
    const { limiter: waiting, events } = limiter({ wait: { maxWaitMs: 25_000 } });
    for (let i = 0; i < 6; i++) await waiting.check({ userId: 'alice' });
    const pending = waiting.check({ userId: 'alice' });
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(pending).resolves.toEqual({ ok: true, waitedMs: 10_000 });
    expect(events.map((e) => [e.retryAfterMs, e.waiting])).toEqual([[10_000, true]]);
    // Three more at once: a refusal consumes nothing, so they retry side by side; one passes
    // per 10 s. The third would need 30 s in all, more than maxWaitMs, and gives up at 20 s.
    const second = waiting.check({ userId: 'alice' });
    const third = waiting.check({ userId: 'alice' });
    const fourth = refusal(waiting.check({ userId: 'alice' }));
    await vi.advanceTimersByTimeAsync(30_000);
    await expect(second).resolves.toEqual({ ok: true, waitedMs: 10_000 });
    await expect(third).resolves.toEqual({ ok: true, waitedMs: 20_000 });
    expect((await fourth).retryAfterMs).toBe(10_000);
    expect(events.at(-1)).toMatchObject({ retryAfterMs: 10_000, waiting: false });
  });

  it('matches users, agents, models and global; an id-specific limit replaces the default', async () => {
    const store = new MemoryStore();
    const limits = new RateLimiter({
      store,
      limits: [
        { id: 'users', scope: { kind: 'user' }, requestsPerMinute: 1 },
        { id: 'vip', scope: { kind: 'user', id: 'vip' }, requestsPerMinute: 3 },
        { id: 'pro', scope: { kind: 'model', id: 'models/gemini-2.5-pro' }, requestsPerMinute: 2 },
        { id: 'coder', scope: { kind: 'agent', id: 'coder' }, tokensPerMinute: 100 },
        { id: 'all', scope: { kind: 'global' }, requestsPerMinute: 100 },
      ],
    });
    for (let i = 0; i < 3; i++) await limits.check({ userId: 'vip', now: NOW });
    expect((await refusal(limits.check({ userId: 'vip', now: NOW }))).scope).toBe(
      'rate:vip:user:vip:requests',
    );
    await limits.check({ model: 'gemini-2.5-pro', now: NOW });
    await limits.check({ model: 'Gemini-2.5-Pro', now: NOW });
    expect((await refusal(limits.check({ model: 'gemini-2.5-pro', now: NOW }))).scope).toBe(
      'rate:pro:model:gemini-2.5-pro:requests',
    );
    await limits.check({ agent: 'coder', tokens: 100, now: NOW });
    expect((await refusal(limits.check({ agent: 'coder', tokens: 1, now: NOW }))).scope).toBe(
      'rate:coder:agent:coder:tokens',
    );
  });

  it('rejects a now that is not an instant instead of skipping the limits as a store failure', async () => {
    const { limiter: limits } = limiter({
      limits: [{ id: 'g', scope: { kind: 'global' }, requestsPerMinute: 1 }],
    });
    const storeErrors: unknown[] = [];
    limits.on('store_error', (event) => storeErrors.push(event));
    for (const now of [Number.NaN, Number.POSITIVE_INFINITY, -1e20]) {
      await expect(limits.check({ now })).rejects.toThrow(ConfigurationError);
      await expect(limits.check({ now })).rejects.toThrow(/now must be a finite epoch-ms time/);
    }
    expect(storeErrors).toEqual([]);
    await limits.check({ now: NOW });
    await refusal(limits.check({ now: NOW }));
  });

  it('validates its limits with errors naming the field', () => {
    const make = (limit: unknown) => () => new RateLimiter({ limits: [limit as never] });
    expect(make({ id: 'x', scope: { kind: 'user' } })).toThrow(
      /needs requestsPerMinute or tokensPerMinute/,
    );
    expect(make({ id: 'x', scope: { kind: 'user' }, requestsPerMinute: 1.5 })).toThrow(
      /requestsPerMinute: .*expected int.*\(got 1\.5\)/,
    );
    expect(make({ id: 'x', scope: { kind: 'tenant' }, requestsPerMinute: 1 })).toThrow(
      /scope\.kind/,
    );
    expect(make({ id: 'x', scope: { kind: 'user' }, requestsPerMinute: 1 })).not.toThrow();
    expect(() => new RateLimiter({ limits: [], wait: { maxWaitMs: -1 } })).toThrow(
      ConfigurationError,
    );
    const twice = { id: 'x', scope: { kind: 'global' as const }, requestsPerMinute: 1 };
    expect(() => new RateLimiter({ limits: [twice, twice] })).toThrow(/used twice/);
  });
});
