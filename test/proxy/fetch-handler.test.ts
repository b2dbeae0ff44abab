/**
 * The gateway as a fetch-style function, `proxy(new Request(...))`, with no server of its own
 * (as it runs when mounted in another framework), and its traffic as the API server and
 * dashboard read it from the shared ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/keep/memory.js';
import { createProxy, createProxyKey, type TollgateProxy } from '../../src/proxy/index.js';
import { createApiKey, createHandler } from '../../src/server/index.js';
import { type GeminiStandIn, startGeminiStandIn } from '../../src/testing/index.js';

const PROVIDER_KEY = 'fetch-provider-key';
let standIn: GeminiStandIn;
let proxy: TollgateProxy;
let store: MemoryStore;
const { key, record } = createProxyKey({ userId: 'carol', tenantId: 'initech' });

beforeAll(async () => {
  standIn = await startGeminiStandIn({ apiKey: PROVIDER_KEY, streamChunks: 5, chunkDelayMs: 20 });
  store = new MemoryStore();
  proxy = createProxy({
    store,
    keys: [record],
    upstreams: { gemini: { baseUrl: standIn.url, apiKey: PROVIDER_KEY } },
  });
});
afterAll(async () => {
  await proxy.close();
  await standIn.close();
});

const request = (operation: string, init: { signal?: AbortSignal; query?: string } = {}) =>
  new Request(`http://gateway.test/v1/models/gemini-2.5-flash:${operation}${init.query ?? ''}`, {
    method: 'POST',
    headers: { 'x-goog-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hello gateway' }] }] }),
    ...(init.signal ? { signal: init.signal } : {}),
  });

describe('proxy(request)', () => {
  it('answers unary and streamed calls under /v1, and records each once', async () => {
    const unary = await proxy(request('generateContent'));
    expect(unary.status).toBe(200);
    const body = (await unary.json()) as { usageMetadata: { promptTokenCount: number } };
    const streamed = await proxy(request('streamGenerateContent', { query: '?alt=sse' }));
    const text = await streamed.text();
    expect(text.match(/^data: /gm)).toHaveLength(5);
    await proxy.flush();
    const { records } = await store.query({ limit: 10 });
    expect(records.map((r) => r.metadata?.streamed)).toEqual([false, true]);
    expect(records[0]?.inputTokens).toBe(body.usageMetadata.promptTokenCount);
    expect(standIn.requests.map((r) => r.path.split(':')[0])).toEqual([
      '/v1/models/gemini-2.5-flash',
      '/v1/models/gemini-2.5-flash',
    ]);
  });

  it('a streamed JSON array (no alt=sse) is counted too', async () => {
    const before = (await store.query({ limit: 100 })).records.length;
    const res = await proxy(request('streamGenerateContent'));
    expect(res.status).toBe(200);
    await res.text();
    await proxy.flush();
    const { records } = await store.query({ limit: 100 });
    expect(records.length).toBe(before + 1);
    expect(records.at(-1)?.outputTokens).toBeGreaterThan(0);
  });

  it('a request aborted mid-stream is recorded with what was seen, marked incomplete', async () => {
    const before = (await store.query({ limit: 100 })).records.length;
    const controller = new AbortController();
    const res = await proxy(
      request('streamGenerateContent', { query: '?alt=sse', signal: controller.signal }),
    );
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    controller.abort();
    await reader.cancel();
    await proxy.flush();
    const { records } = await store.query({ limit: 100 });
    expect(records.length).toBe(before + 1);
    expect(records.at(-1)?.metadata).toMatchObject({ complete: false });
    expect(proxy.stats().inFlight).toBe(0);
  });

  it('its traffic shows in the API server reading the same ledger', async () => {
    const admin = createApiKey('admin');
    const api = createHandler({ store, auth: { apiKeys: [admin.record] } });
    const res = await api(
      new Request('http://api.test/api/usage/users/carol?days=1', {
        headers: { authorization: `Bearer ${admin.key}` },
      }),
    );
    expect(res.status).toBe(200);
    const json = JSON.stringify(await res.json());
    expect(json).toContain('gemini-2.5-flash');
    expect(json).toMatch(/"calls":\s*[1-9]/);
  });
});
