/**
 * The gateway's rules, over loopback against the Gemini stand-in: keys and pass-through,
 * budgets reserved, settled exactly and released, rate limits, the adaptive fallback, refusals
 * in the API's own error shape, and hostile input.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TokenTracker } from '../../src/account/tracker.js';
import { ConfigurationError } from '../../src/errors.js';
import { MemoryStore } from '../../src/keep/memory.js';
import { createProxy, createProxyKey, type ProxyOptions } from '../../src/proxy/index.js';
import { BudgetManager } from '../../src/react/budgets/index.js';
import { createMetrics } from '../../src/server/index.js';
import { type Gateway, ledger, PROVIDER_KEY, startGateway } from './support.js';

let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

const PATH = '/v1beta/models/gemini-2.5-flash:generateContent';
const body = (text = 'Say hello.', maxOutputTokens?: number) =>
  JSON.stringify({
    contents: [{ role: 'user', parts: [{ text }] }],
    ...(maxOutputTokens === undefined ? {} : { generationConfig: { maxOutputTokens } }),
  });

function post(
  g: Gateway,
  init: { key?: string; path?: string; body?: string; headers?: Record<string, string> } = {},
) {
  return fetch(`${g.url}${init.path ?? PATH}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(init.key === undefined
        ? { 'x-goog-api-key': g.key }
        : init.key === ''
          ? {}
          : { 'x-goog-api-key': init.key }),
      ...init.headers,
    },
    body: init.body ?? body(),
  });
}

describe('keys', () => {
  it('takes the key in ?key= too, and never forwards it', async () => {
    gateway = await startGateway();
    const res = await post(gateway, { key: '', path: `${PATH}?key=${gateway.key}` });
    expect(res.status).toBe(200);
    const seen = gateway.standIn.requests.at(-1);
    expect(seen?.apiKey).toBe(PROVIDER_KEY);
    expect(seen?.path).not.toContain(gateway.key);
  });

  it('refuses a missing or unknown key with 401 in the Gemini error shape', async () => {
    gateway = await startGateway();
    for (const key of ['', 'tgp_not-a-key']) {
      const res = await post(gateway, { key });
      expect(res.status).toBe(401);
      const answer = (await res.json()) as { error: { code: number; status: string } };
      expect(answer.error).toMatchObject({ code: 401, status: 'UNAUTHENTICATED' });
    }
    expect(gateway.standIn.requests).toHaveLength(0);
  });

  it('never returns the provider key, even when the upstream refuses it', async () => {
    gateway = await startGateway();
    gateway.standIn.failNext({ status: 400, message: 'API key not valid' });
    const res = await post(gateway);
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text).not.toContain(PROVIDER_KEY);
    for (const [, value] of res.headers) expect(value).not.toContain(PROVIDER_KEY);
  });

  it('pass-through: only when allowed; the client key goes upstream, attribution by headers', async () => {
    gateway = await startGateway({ standIn: { apiKey: 'client-own-key' } });
    const refused = await post(gateway, { key: 'client-own-key' });
    expect(refused.status).toBe(401);
    await gateway.stop();
    gateway = await startGateway({
      standIn: { apiKey: 'client-own-key' },
      proxy: { passThrough: true },
    });
    const res = await post(gateway, {
      key: 'client-own-key',
      headers: { 'x-tollgate-user': 'bob', 'x-tollgate-tenant': 'globex' },
    });
    expect(res.status).toBe(200);
    const [record] = await ledger(gateway);
    expect(record).toMatchObject({ userId: 'bob', tenantId: 'globex' });
    expect(record?.metadata?.key).toMatch(/^passthrough:[0-9a-f]{8}$/);
    expect(JSON.stringify(record, (_, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(
      'client-own-key',
    );
  });

  it('refuses attribution headers past 256 characters', async () => {
    gateway = await startGateway({
      standIn: { apiKey: 'client-own-key' },
      proxy: { passThrough: true },
    });
    const res = await post(gateway, {
      key: 'client-own-key',
      headers: { 'x-tollgate-user': 'u'.repeat(257) },
    });
    expect(res.status).toBe(400);
    expect(gateway.standIn.requests).toHaveLength(0);
  });

  it('a gateway key wins over attribution headers (no spoofing)', async () => {
    gateway = await startGateway({ proxy: { passThrough: true } });
    await post(gateway, { headers: { 'x-tollgate-user': 'mallory' } });
    const [record] = await ledger(gateway);
    expect(record?.userId).toBe('alice');
  });
});

describe('budgets', () => {
  it('reserves, settles the exact cost, and refuses with 402 once spent', async () => {
    const budgets = new BudgetManager({ store: new MemoryStore(), defaultDailyUserLimitUsd: null });
    gateway = await startGateway({
      key: { budgets: [{ window: 'day', limitUsd: 0.0005, mode: 'hard' }] },
      proxy: { budgets },
    });
    const statuses: number[] = [];
    let refusal: { error: { code: number; status: string; message: string } } | undefined;
    for (let i = 0; i < 40 && refusal === undefined; i++) {
      const res = await post(gateway, {
        body: body(`Question number ${i}: why is the sky blue?`, 256),
      });
      statuses.push(res.status);
      if (res.status !== 200) refusal = (await res.json()) as typeof refusal;
      else await res.arrayBuffer();
    }
    expect(statuses.at(-1)).toBe(402);
    expect(refusal?.error).toMatchObject({ code: 402, status: 'RESOURCE_EXHAUSTED' });
    expect(refusal?.error.message).toMatch(/budget/i);
    const records = await ledger(gateway);
    expect(records).toHaveLength(statuses.filter((s) => s === 200).length);
    const spent = records.reduce((sum, r) => sum + r.costFemto, 0n);
    expect(spent).toBeLessThanOrEqual(500_000_000_000n); // $0.0005: every estimate was an upper bound
    const { today } = await budgets.getUserStats('alice');
    const [counter] = (await budgets.store.counters?.([today.key], Date.now())) ?? [];
    expect(counter?.reservedFemto).toBe(0n);
    expect(counter?.settledFemto).toBe(spent);
  });

  it('releases the reservation when the upstream fails, and records nothing', async () => {
    const budgets = new BudgetManager({ store: new MemoryStore(), defaultDailyUserLimitUsd: 1 });
    gateway = await startGateway({ proxy: { budgets } });
    gateway.standIn.failNext({ status: 503, message: 'overloaded' });
    const res = await post(gateway);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe('overloaded');
    const { today } = await budgets.getUserStats('alice');
    expect(today.reservedUsd).toBe(0);
    expect(today.spentUsd).toBe(0);
    expect(await ledger(gateway)).toHaveLength(0);
  });

  it('answers 429 for a spent budget when configured so', async () => {
    gateway = await startGateway({
      key: { budgets: [{ window: 'request', limitUsd: 0.000001, mode: 'hard' }] },
      proxy: { budgetStatus: 429 },
    });
    const res = await post(gateway);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBeNull();
  });

  it('switches to the fallback model when an adaptive budget runs low', async () => {
    const budgets = lowAdaptiveBudget({ fallbackModel: 'gemini-2.0-flash-lite' });
    gateway = await startGateway({ proxy: { budgets } });
    const res = await post(gateway, { body: body('Hi', 64) });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(gateway.standIn.requests.at(-1)?.model).toBe('gemini-2.0-flash-lite');
    const [record] = await ledger(gateway);
    expect(record?.model).toBe('gemini-2.0-flash-lite');
    expect(record?.metadata).toMatchObject({
      adapted: { from: 'gemini-2.5-flash', to: 'gemini-2.0-flash-lite' },
    });
  });
});

/** Alice's adaptive daily budget of $0.01, low from the first call (99% counts as low). */
function lowAdaptiveBudget(adaptive: { fallbackModel?: string; minMaxOutputTokens?: number }) {
  const budgets = new BudgetManager({ store: new MemoryStore(), defaultDailyUserLimitUsd: null });
  budgets.setRule({
    id: 'low',
    scope: { kind: 'user', id: 'alice' },
    window: 'day',
    limitUsd: 0.01,
    mode: 'adaptive',
    adaptive: { ...adaptive, lowBudgetFraction: 0.99 },
  });
  return budgets;
}

describe('adaptive output caps', () => {
  it("lowers the request's output cap when an adaptive budget runs low, and records it", async () => {
    const budgets = lowAdaptiveBudget({ minMaxOutputTokens: 16 });
    gateway = await startGateway({ proxy: { budgets } });
    const res = await post(gateway, { body: body('Hi', 4096) });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const sent = gateway.standIn.requests.at(-1)?.body as {
      generationConfig?: { maxOutputTokens?: number };
      contents?: unknown;
    };
    const cap = sent.generationConfig?.maxOutputTokens ?? 0;
    expect(cap).toBeGreaterThanOrEqual(16);
    expect(cap).toBeLessThan(4096);
    expect(sent.contents).toEqual([{ role: 'user', parts: [{ text: 'Hi' }] }]);
    const [record] = await ledger(gateway);
    expect(record?.model).toBe('gemini-2.5-flash');
    expect(record?.metadata).toMatchObject({ adapted: { maxOutputTokens: cap } });
  });

  it("keeps a request's own cap when it is already lower", async () => {
    const budgets = lowAdaptiveBudget({ minMaxOutputTokens: 16 });
    gateway = await startGateway({ proxy: { budgets } });
    const res = await post(gateway, { body: body('Hi', 8) });
    await res.arrayBuffer();
    const sent = gateway.standIn.requests.at(-1)?.body as {
      generationConfig?: { maxOutputTokens?: number };
    };
    expect(sent.generationConfig?.maxOutputTokens).toBe(8);
    const [record] = await ledger(gateway);
    expect(record?.metadata).not.toHaveProperty('adapted');
  });
});

describe('rate limits', () => {
  it('refuses past the key limit with 429 and Retry-After, before anything is forwarded', async () => {
    gateway = await startGateway({ key: { rateLimit: { requestsPerMinute: 2 } } });
    const first = await post(gateway);
    const second = await post(gateway);
    await Promise.all([first.arrayBuffer(), second.arrayBuffer()]);
    const third = await post(gateway);
    expect([first.status, second.status, third.status]).toEqual([200, 200, 429]);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await third.json()) as { error: { status: string } }).error.status).toBe(
      'RESOURCE_EXHAUSTED',
    );
    expect(gateway.standIn.requests).toHaveLength(2);
  });
});

describe('hostile input', () => {
  it('answers bad bodies with 400 and the Gemini shape, and keeps serving', async () => {
    gateway = await startGateway();
    const bad = [
      '{not json',
      '[]',
      '"text"',
      JSON.stringify({ contents: [], generationConfig: { maxOutputTokens: -1 } }),
      JSON.stringify({ contents: [], generationConfig: { maxOutputTokens: 'many' } }),
      JSON.stringify({ generationConfig: {} }),
    ];
    for (const text of bad) {
      const res = await post(gateway, { body: text });
      expect(res.status, text).toBe(400);
      expect(((await res.json()) as { error: { status: string } }).error.status).toBe(
        'INVALID_ARGUMENT',
      );
    }
    expect(gateway.standIn.requests).toHaveLength(0);
    expect((await post(gateway)).status).toBe(200);
  });

  it('refuses a body over the limit with 413', async () => {
    gateway = await startGateway({ proxy: { maxBodyBytes: 1024 } });
    const res = await post(gateway, { body: body('x'.repeat(5000)) });
    expect(res.status).toBe(413);
  });

  it('answers unknown routes with 404, and serves health', async () => {
    gateway = await startGateway();
    const res = await post(gateway, { path: '/v1beta/models/gemini-2.5-flash:explode' });
    expect(res.status).toBe(404);
    const get = await fetch(`${gateway.url}${PATH}`);
    expect(get.status).toBe(404);
    const health = await fetch(`${gateway.url}/health`);
    expect(await health.json()).toMatchObject({ status: 'ok' });
  });

  it('keeps the upstream fixed: a client cannot choose where the call goes', async () => {
    gateway = await startGateway();
    const res = await post(gateway, {
      path: '/v1beta/models/http%3A%2F%2Fevil.example%2F:generateContent',
    });
    // The model name is encoded into the configured upstream's path, never used as a host.
    await res.arrayBuffer();
    expect(gateway.standIn.requests.at(-1)?.path).toContain('/v1beta/models/http');
  });
});

describe('a tracker of your own', () => {
  it('records through it: its events and statistics see every call', async () => {
    const tracker = new TokenTracker({ store: new MemoryStore() });
    const seen: string[] = [];
    tracker.on('usage', (record) => seen.push(record.model));
    gateway = await startGateway({ proxy: { tracker } });
    await (await post(gateway)).arrayBuffer();
    await gateway.proxy.flush();
    expect(seen).toEqual(['gemini-2.5-flash']);
    expect(tracker.getStatistics().totalCalls).toBe(1);
    // Not written to the gateway's store: the tracker has its own.
    expect(await ledger(gateway)).toHaveLength(0);
  });
});

describe('metrics', () => {
  it('counts recorded calls and rate-limit refusals on /metrics', async () => {
    gateway = await startGateway({
      proxy: { metrics: createMetrics({ public: true }) },
      key: { rateLimit: { requestsPerMinute: 1 } },
    });
    await (await post(gateway)).arrayBuffer();
    await (await post(gateway)).arrayBuffer();
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(text).toMatch(
      /tollgate_tokens_total\{model="gemini-2.5-flash",agent="proxy",type="input"\} \d+/,
    );
    expect(text).toMatch(/tollgate_rate_limit_rejections_total\{scope="key:[^"]+"\} 1/);
  });
});

describe('configuration', () => {
  const store = new MemoryStore();
  const { record } = createProxyKey({ userId: 'alice' });
  it.each([
    [{}, /upstreams/],
    [{ upstreams: {} }, /upstreams/],
    [{ upstreams: { gemini: { apiKey: 'k' } } }, /keys, or allow passThrough/],
    [{ upstreams: { gemini: {} }, keys: [record] }, /upstreams.gemini.apiKey/],
    [{ upstreams: { gemini: { apiKey: 'k', baseUrl: 'ftp://x' } }, keys: [record] }, /baseUrl/],
    [{ upstreams: { bard: { apiKey: 'k' } }, keys: [record] }, /no adapter/],
    [{ upstreams: { gemini: { apiKey: 'k' } }, keys: [{ ...record, hash: 'nope' }] }, /hash/],
    [{ upstreams: { gemini: { apiKey: 'k' } }, keys: [record, record] }, /used twice/],
    [{ upstreams: { gemini: { apiKey: 'k' } }, keys: [record], budgetStatus: 500 }, /budgetStatus/],
    [{ upstreams: { gemini: { apiKey: 'k' } }, keys: [record], maxBodyBytes: 0 }, /maxBodyBytes/],
    [
      { upstreams: { gemini: { apiKey: 'k' } }, keys: [record], upstreamClient: 'fetch' },
      /upstreamClient/,
    ],
  ])('refuses %j with a ConfigurationError', (options, message) => {
    let thrown: unknown;
    try {
      createProxy({ store, ...(options as Partial<ProxyOptions>) } as ProxyOptions);
    } catch (error) {
      thrown = error;
    }
    expect(ConfigurationError.isInstance(thrown)).toBe(true);
    expect((thrown as Error).message).toMatch(message);
  });
});
