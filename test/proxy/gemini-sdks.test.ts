/**
 * The official Gemini SDKs, unchanged but for their base URL (and a gateway key in place of the
 * provider's), through the gateway to the stand-in: every call counted, priced and attributed.
 */
import { GoogleGenAI } from '@google/genai';
import { GoogleGenerativeAI } from '@google/generative-ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, ledger, PROVIDER_KEY, startGateway } from './support.js';

let gateway: Gateway;

beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(async () => {
  await gateway.stop();
});

describe('@google/genai through the gateway', () => {
  it('records a unary call with the usage the client saw', async () => {
    const ai = new GoogleGenAI({ apiKey: gateway.key, httpOptions: { baseUrl: gateway.url } });
    const reply = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Name three colours of the rainbow.',
    });
    expect(reply.text).toBeTruthy();
    const records = await ledger(gateway);
    const record = records.at(-1);
    expect(record).toMatchObject({
      model: 'gemini-2.5-flash',
      provider: 'google',
      userId: 'alice',
      tenantId: 'acme',
      agent: 'proxy',
      inputTokens: reply.usageMetadata?.promptTokenCount,
    });
    expect(record?.metadata).toMatchObject({
      source: 'proxy',
      key: gateway.record.id,
      streamed: false,
      operation: 'generateContent',
    });
    expect(record?.costFemto).toBeGreaterThan(0n);
    // The upstream saw the gateway's provider key, never the client's gateway key.
    expect(gateway.standIn.requests.at(-1)?.apiKey).toBe(PROVIDER_KEY);
  });

  it('streams, and records once with the final usage', async () => {
    const ai = new GoogleGenAI({ apiKey: gateway.key, httpOptions: { baseUrl: gateway.url } });
    const before = (await ledger(gateway)).length;
    let chunks = 0;
    let last: { candidatesTokenCount?: number; totalTokenCount?: number } | undefined;
    for await (const chunk of await ai.models.generateContentStream({
      model: 'gemini-2.5-pro',
      contents: 'Tell a short story about a lighthouse.',
    })) {
      chunks += 1;
      last = chunk.usageMetadata ?? last;
    }
    expect(chunks).toBeGreaterThan(1);
    const records = await ledger(gateway);
    expect(records.length).toBe(before + 1);
    const record = records.at(-1);
    expect(record?.model).toBe('gemini-2.5-pro');
    expect(record?.metadata).toMatchObject({ streamed: true, complete: true });
    expect((record?.inputTokens ?? 0) + (record?.outputTokens ?? 0)).toBe(last?.totalTokenCount);
    expect(typeof (record?.metadata as { ttftMs?: unknown } | undefined)?.ttftMs).toBe('number');
  });

  it('forwards countTokens without recording it', async () => {
    const ai = new GoogleGenAI({ apiKey: gateway.key, httpOptions: { baseUrl: gateway.url } });
    const before = (await ledger(gateway)).length;
    const counted = await ai.models.countTokens({
      model: 'gemini-2.5-flash',
      contents: 'Hello there',
    });
    expect(counted.totalTokens).toBeGreaterThan(0);
    expect((await ledger(gateway)).length).toBe(before);
  });

  it('refuses a key the gateway did not issue, in the API error shape', async () => {
    const ai = new GoogleGenAI({ apiKey: PROVIDER_KEY, httpOptions: { baseUrl: gateway.url } });
    await expect(
      ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hi' }),
    ).rejects.toMatchObject({ status: 401 });
  });
});

describe('@google/generative-ai through the gateway', () => {
  it('records unary and streamed calls (v1beta, key in x-goog-api-key)', async () => {
    const model = new GoogleGenerativeAI(gateway.key).getGenerativeModel(
      { model: 'gemini-2.0-flash' },
      { baseUrl: gateway.url },
    );
    const before = (await ledger(gateway)).length;
    const { response } = await model.generateContent('What is the capital of France?');
    const streamed = await model.generateContentStream('Count from one to twenty.');
    for await (const _ of streamed.stream) {
      // read to the end
    }
    const final = await streamed.response;
    const records = (await ledger(gateway)).slice(before);
    expect(records).toHaveLength(2);
    expect(records[0]?.inputTokens).toBe(response.usageMetadata?.promptTokenCount);
    expect(records[1]?.outputTokens).toBe(final.usageMetadata?.candidatesTokenCount);
    expect(records.map((r) => (r.metadata as { streamed: boolean }).streamed)).toEqual([
      false,
      true,
    ]);
  });
});
