import {
  ApiError,
  type GenerateContentResponseUsageMetadata,
  GoogleGenAI,
  Type,
} from '@google/genai';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type GeminiStandIn,
  type GeminiStandInOptions,
  startGeminiStandIn,
} from '../../src/testing/index.js';
import { expectCumulative, expectIdentity } from './support.js';

let standIn: GeminiStandIn | undefined;

afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

async function client(options: GeminiStandInOptions = {}, apiVersion?: string) {
  standIn = await startGeminiStandIn(options);
  return new GoogleGenAI({
    apiKey: 'test-key',
    httpOptions: { baseUrl: standIn.baseUrl, ...(apiVersion ? { apiVersion } : {}) },
  });
}

const LONG_CONTEXT = `Context: ${'Every agent in the graph reports its token spend to the tracker. '.repeat(12)}`;

describe('@google/genai against the stand-in', () => {
  it('models.generateContent and models.countTokens agree on the prompt', async () => {
    const ai = await client();
    const contents = 'How are tokens counted by the stand-in server?';
    const response = await ai.models.generateContent({ model: 'gemini-2.0-flash', contents });
    expect(response.text?.length).toBeGreaterThan(0);
    expectIdentity(response.usageMetadata);
    const counted = await ai.models.countTokens({ model: 'gemini-2.0-flash', contents });
    expect(counted.totalTokens).toBe(response.usageMetadata?.promptTokenCount);
    // (genai keeps only totalTokens of a Developer API countTokens reply.)
    // @google/genai 3 defaults to /v1 (2.x used /v1beta); the stand-in serves both.
    const paths = standIn?.requests.map((r) => r.path) ?? [];
    expect(paths[0]).toMatch(/^\/v1(beta)?\/models\/gemini-2\.0-flash:generateContent$/);
    expect(paths[1]).toMatch(/^\/v1(beta)?\/models\/gemini-2\.0-flash:countTokens$/);
    expect(standIn?.requests[0]?.headers['x-goog-api-key']).toBe('test-key');
  });

  it('models.generateContentStream: cumulative, non-decreasing usage on every chunk', async () => {
    const ai = await client();
    const stream = await ai.models.generateContentStream({
      model: 'gemini-2.0-flash',
      contents: 'Stream me something.',
    });
    const usages: (GenerateContentResponseUsageMetadata | undefined)[] = [];
    for await (const chunk of stream) usages.push(chunk.usageMetadata);
    expect(usages).toHaveLength(4);
    expectCumulative(usages);
    expect(new Set(usages.map((u) => u?.promptTokenCount)).size).toBe(1);
  });

  it('chats: sendMessage and sendMessageStream', async () => {
    const ai = await client();
    const chat = ai.chats.create({ model: 'gemini-2.0-flash' });
    const first = await chat.sendMessage({ message: 'Hello there.' });
    expectIdentity(first.usageMetadata);
    const stream = await chat.sendMessageStream({ message: 'Tell me more.' });
    const usages: (GenerateContentResponseUsageMetadata | undefined)[] = [];
    for await (const chunk of stream) usages.push(chunk.usageMetadata);
    expectCumulative(usages);
    expect(usages.at(-1)?.promptTokenCount).toBeGreaterThan(
      first.usageMetadata?.promptTokenCount ?? Infinity,
    );
    const body = standIn?.requests[1]?.body as { contents: unknown[] };
    expect(body.contents).toHaveLength(3);
  });

  it('thinking: thoughts reported, a thought part with includeThoughts, budget honoured', async () => {
    const ai = await client();
    const model = 'gemini-2.5-flash';
    const withThoughts = await ai.models.generateContent({
      model,
      contents: 'Plan the research.',
      config: { thinkingConfig: { includeThoughts: true } },
    });
    const usage = withThoughts.usageMetadata;
    expect(usage?.thoughtsTokenCount).toBe(16 + Math.ceil((usage?.promptTokenCount ?? 0) / 2));
    expectIdentity(usage);
    const parts = withThoughts.candidates?.[0]?.content?.parts ?? [];
    expect(parts[0]?.thought).toBe(true);
    expect(parts.some((part) => !part.thought && part.text)).toBe(true);

    const off = await ai.models.generateContent({
      model,
      contents: 'Plan the research.',
      config: { thinkingConfig: { thinkingBudget: 0 } },
    });
    expect(off.usageMetadata?.thoughtsTokenCount).toBeUndefined();
    const capped = await ai.models.generateContent({
      model,
      contents: 'Plan the research.',
      config: { thinkingConfig: { thinkingBudget: 3 } },
    });
    expect(capped.usageMetadata?.thoughtsTokenCount).toBe(3);
  });

  it('thinking streams: thoughts on every chunk, candidates absent until text arrives', async () => {
    const ai = await client();
    const stream = await ai.models.generateContentStream({
      model: 'gemini-3-pro-preview',
      contents: 'Think, then answer.',
      config: { thinkingConfig: { includeThoughts: true } },
    });
    const usages: (GenerateContentResponseUsageMetadata | undefined)[] = [];
    for await (const chunk of stream) usages.push(chunk.usageMetadata);
    expectCumulative(usages);
    expect(usages[0]?.candidatesTokenCount).toBeUndefined();
    expect(usages.every((u) => (u?.thoughtsTokenCount ?? 0) > 0)).toBe(true);
  });

  it('the thinking rule is configurable', async () => {
    const ai = await client({ thinking: false });
    const response = await ai.models.generateContent({ model: 'gemini-2.5-pro', contents: 'Hi' });
    expect(response.usageMetadata?.thoughtsTokenCount).toBeUndefined();
  });

  it('implicit cache: a repeated long prefix is reported as cached, within the prompt', async () => {
    const ai = await client();
    const model = 'gemini-2.5-flash';
    const first = await ai.models.generateContent({
      model,
      contents: `${LONG_CONTEXT}\nQ: who spent most?`,
    });
    expect(first.usageMetadata?.cachedContentTokenCount).toBeUndefined();
    const second = await ai.models.generateContent({
      model,
      contents: `${LONG_CONTEXT}\nQ: who spent least?`,
    });
    const usage = second.usageMetadata;
    expect(usage?.cachedContentTokenCount).toBeGreaterThan(0);
    expect(usage?.cachedContentTokenCount).toBeLessThanOrEqual(usage?.promptTokenCount ?? 0);
    expect(usage?.cacheTokensDetails).toEqual([
      { modality: 'TEXT', tokenCount: usage?.cachedContentTokenCount },
    ]);
    expectIdentity(usage);

    // Per model, and only from cacheMinTokens (default 32) shared tokens.
    const other = await ai.models.generateContent({
      model: 'gemini-2.0-flash',
      contents: `${LONG_CONTEXT}\nQ`,
    });
    expect(other.usageMetadata?.cachedContentTokenCount).toBeUndefined();
    await ai.models.generateContent({ model, contents: 'Short question one?' });
    const short = await ai.models.generateContent({ model, contents: 'Short question two?' });
    expect(short.usageMetadata?.cachedContentTokenCount).toBeUndefined();

    standIn?.reset();
    const afterReset = await ai.models.generateContent({
      model,
      contents: `${LONG_CONTEXT}\nQ: again`,
    });
    expect(afterReset.usageMetadata?.cachedContentTokenCount).toBeUndefined();
    expect(standIn?.requests).toHaveLength(1);
  });

  it('is deterministic and respects maxOutputTokens (thinking spends the budget first)', async () => {
    const ai = await client();
    const request = { model: 'gemini-2.0-flash', contents: 'Describe the report.' };
    const a = await ai.models.generateContent(request);
    const b = await ai.models.generateContent(request);
    expect(b.text).toBe(a.text);

    const cut = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Describe the report.',
      config: { maxOutputTokens: 20 },
    });
    const usage = cut.usageMetadata;
    expect(cut.candidates?.[0]?.finishReason).toBe('MAX_TOKENS');
    expect(
      (usage?.candidatesTokenCount ?? 0) + (usage?.thoughtsTokenCount ?? 0),
    ).toBeLessThanOrEqual(20);
    expectIdentity(usage);

    const allThoughts = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Describe the report.',
      config: { maxOutputTokens: 4 },
    });
    expect(allThoughts.usageMetadata?.thoughtsTokenCount).toBe(4);
    expect(allThoughts.usageMetadata?.candidatesTokenCount).toBeUndefined();
    expect(allThoughts.text).toBeUndefined();
  });

  it('vertexStyle streams: only trafficType until the last chunk', async () => {
    const ai = await client({ vertexStyle: true });
    const stream = await ai.models.generateContentStream({
      model: 'gemini-2.0-flash',
      contents: 'Hi there.',
    });
    const usages: (GenerateContentResponseUsageMetadata | undefined)[] = [];
    for await (const chunk of stream) usages.push(chunk.usageMetadata);
    expect(usages.length).toBeGreaterThan(2);
    for (const usage of usages.slice(0, -1))
      expect({ ...usage }).toEqual({ trafficType: 'ON_DEMAND' });
    expectIdentity(usages.at(-1));
  });

  it('failNext: ApiError with the status, for unary and streaming calls', async () => {
    const ai = await client();
    standIn?.failNext({ status: 503, message: 'The model is overloaded.' });
    const error = await ai.models
      .generateContent({ model: 'gemini-2.0-flash', contents: 'Hi' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(503);
    expect((error as ApiError).message).toContain('The model is overloaded.');

    standIn?.failNext({ status: 400 });
    await expect(
      ai.models.generateContentStream({ model: 'gemini-2.0-flash', contents: 'Hi' }),
    ).rejects.toMatchObject({ status: 400 });
    expect(standIn?.requests).toHaveLength(2);
  });

  it('a stream that fails midway: iteration throws after n chunks, no silent retry', async () => {
    const ai = await client();
    standIn?.failNext({ afterChunks: 2 });
    const stream = await ai.models.generateContentStream({
      model: 'gemini-2.0-flash',
      contents: 'A long story, please.',
    });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const chunk of stream) seen.push(chunk.text ?? '');
    })().catch((e: unknown) => e);
    expect(seen).toHaveLength(2);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/terminated/); // undici's premature-close error
    expect(standIn?.requests).toHaveLength(1);
  });

  it('function calling through config.tools', async () => {
    const ai = await client({
      respond: ({ tools }) =>
        tools ? { functionCall: { name: 'lookup_budget', args: { team: 'research' } } } : undefined,
    });
    const response = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'How much budget is left for research?',
      config: {
        tools: [
          {
            functionDeclarations: [
              {
                name: 'lookup_budget',
                parameters: { type: Type.OBJECT, properties: { team: { type: Type.STRING } } },
              },
            ],
          },
        ],
      },
    });
    expect(response.functionCalls).toEqual([{ name: 'lookup_budget', args: { team: 'research' } }]);
    expectIdentity(response.usageMetadata);
  });

  it('respond may be async; a throwing respond becomes an HTTP 500', async () => {
    const ai = await client({
      respond: async ({ text }) => {
        if (text === 'boom') throw new Error('scripted crash');
        return `You said: ${text}`;
      },
    });
    const ok = await ai.models.generateContent({ model: 'gemini-2.0-flash', contents: 'hello' });
    expect(ok.text).toBe('You said: hello');
    expect(ok.usageMetadata?.candidatesTokenCount).toBe(1 + 2 + 2); // You, said:, hello
    await expect(
      ai.models.generateContent({ model: 'gemini-2.0-flash', contents: 'boom' }),
    ).rejects.toMatchObject({ status: 500, message: expect.stringContaining('scripted crash') });
    expect(standIn?.requests[1]).toMatchObject({ status: 500, source: 'error' });
  });

  it('apiVersion v1alpha and v1 paths', async () => {
    const ai = await client({}, 'v1alpha');
    await ai.models.generateContent({ model: 'gemini-2.0-flash', contents: 'Hi' });
    const v1 = new GoogleGenAI({
      apiKey: 'k',
      httpOptions: { baseUrl: standIn?.baseUrl, apiVersion: 'v1' },
    });
    await v1.models.countTokens({ model: 'gemini-2.0-flash', contents: 'Hi' });
    expect(standIn?.requests.map((r) => r.apiVersion)).toEqual(['v1alpha', 'v1']);
  });

  it('unknown routes get a Google-style 404, recorded', async () => {
    standIn = await startGeminiStandIn();
    const response = await fetch(`${standIn.url}/v1beta/models/gemini-2.0-flash:embedContent`, {
      method: 'POST',
      body: '{}',
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    expect(standIn.requests[0]).toMatchObject({ status: 404, source: 'error' });
  });

  it('malformed request bodies get the API 400 INVALID_ARGUMENT, not a 500', async () => {
    standIn = await startGeminiStandIn();
    const malformed: [string, unknown][] = [
      ['generateContent', { contents: 'Hello' }],
      ['generateContent', { contents: [42] }],
      ['generateContent', { contents: [{ role: 'user', parts: 'Hello' }] }],
      ['generateContent', { contents: [{ parts: [null] }] }],
      ['streamGenerateContent', { contents: [], generationConfig: 'fast' }],
      ['generateContent', { contents: [], systemInstruction: 7 }],
      ['countTokens', { generateContentRequest: { contents: { parts: [] } } }],
    ];
    for (const [action, body] of malformed) {
      const response = await fetch(`${standIn.url}/v1beta/models/gemini-2.5-flash:${action}`, {
        method: 'POST',
        body: JSON.stringify(body),
      });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(await response.json()).toMatchObject({
        error: {
          code: 400,
          status: 'INVALID_ARGUMENT',
          message: expect.stringMatching(/^Invalid value at '/),
        },
      });
    }
    expect(standIn.requests.every((request) => request.source === 'error')).toBe(true);
    // A well-formed body after them is still answered.
    const ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: standIn.baseUrl } });
    const ok = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hello' });
    expect(ok.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
  });

  it('rejects bad options when created', async () => {
    await expect(startGeminiStandIn({ streamChunks: 0 })).rejects.toThrow(/streamChunks/);
    await expect(startGeminiStandIn({ cacheMinTokens: -1 })).rejects.toThrow(/cacheMinTokens/);
  });

  it('close() ends keep-alive connections promptly', async () => {
    const ai = await client();
    await ai.models.generateContent({ model: 'gemini-2.0-flash', contents: 'Hi' });
    const started = Date.now();
    await standIn?.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await standIn?.close(); // idempotent
  });
});
