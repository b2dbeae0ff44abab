import {
  GoogleGenerativeAI,
  GoogleGenerativeAIError,
  GoogleGenerativeAIFetchError,
  type ModelParams,
  type RequestOptions,
  SchemaType,
} from '@google/generative-ai';
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

async function modelFor(
  params: ModelParams,
  options: GeminiStandInOptions = {},
  requestOptions: RequestOptions = {},
) {
  standIn = await startGeminiStandIn(options);
  return new GoogleGenerativeAI('test-key').getGenerativeModel(params, {
    baseUrl: standIn.baseUrl,
    ...requestOptions,
  });
}

describe('@google/generative-ai against the stand-in', () => {
  it('generateContent: text, usage identity, and the request as the SDK sent it', async () => {
    const model = await modelFor({ model: 'gemini-2.0-flash' });
    const { response } = await model.generateContent('Why is the sky blue?');
    expect(response.text().length).toBeGreaterThan(0);
    expect(response.candidates?.[0]?.finishReason).toBe('STOP');
    expectIdentity(response.usageMetadata);
    expect(response.usageMetadata?.promptTokenCount).toBe(6);
    expect(response.usageMetadata).not.toHaveProperty('thoughtsTokenCount');

    const [request] = standIn?.requests ?? [];
    expect(request).toMatchObject({
      method: 'POST',
      path: '/v1beta/models/gemini-2.0-flash:generateContent',
      apiVersion: 'v1beta',
      model: 'gemini-2.0-flash',
      action: 'generateContent',
      apiKey: 'test-key',
      status: 200,
      source: 'generated',
      usageMetadata: response.usageMetadata,
    });
    expect(request?.headers['x-goog-api-key']).toBe('test-key');
  });

  it('countTokens equals promptTokenCount, system instruction included', async () => {
    const model = await modelFor({
      model: 'gemini-2.0-flash',
      systemInstruction: 'You are a terse accountant who answers in numbers.',
    });
    const prompt = 'How many tokens does this prompt cost, roughly?';
    const counted = await model.countTokens(prompt);
    const { response } = await model.generateContent(prompt);
    expect(counted.totalTokens).toBe(response.usageMetadata?.promptTokenCount);
    expect(counted.totalTokens).toBeGreaterThan(10);
    expect(counted).toMatchObject({
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: counted.totalTokens }],
    });
    expect(standIn?.requests[0]?.body).toHaveProperty('generateContentRequest.systemInstruction');
  });

  it('generateContentStream: cumulative usage on every chunk; aggregate = last chunk', async () => {
    const model = await modelFor({ model: 'gemini-2.0-flash' });
    const result = await model.generateContentStream('Tell me about streaming.');
    const usages = [];
    let text = '';
    for await (const chunk of result.stream) {
      usages.push(chunk.usageMetadata);
      text += chunk.text();
    }
    expect(usages).toHaveLength(4);
    expectCumulative(usages);
    const response = await result.response;
    expect(response.usageMetadata).toEqual(usages.at(-1));
    expect(response.text()).toBe(text);
    expect(standIn?.requests[0]?.path).toBe(
      '/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse',
    );
  });

  it.each([2, 3, 5])(
    'a streamed cache hit: prompt, cache and thoughts on every one of %i chunks, as the API sends them',
    async (streamChunks) => {
      const model = await modelFor({ model: 'gemini-2.5-flash' }, { streamChunks });
      const prefix = Array.from({ length: 300 }, () => 'tok').join(' ');
      await model.generateContent(prefix);
      const result = await model.generateContentStream(`${prefix} ${'new '.repeat(700)}`);
      const usages = [];
      for await (const chunk of result.stream) usages.push(chunk.usageMetadata);
      expect(usages).toHaveLength(streamChunks);
      expectCumulative(usages);
      for (const usage of usages) {
        expect(usage).toMatchObject({
          promptTokenCount: 1000,
          cachedContentTokenCount: 300,
          thoughtsTokenCount: 16 + 500,
        });
      }
    },
  );

  it('a thinking model reports thoughts by the documented rule', async () => {
    const model = await modelFor({ model: 'gemini-2.5-flash' });
    const { response } = await model.generateContent('Think about it.');
    const usage = response.usageMetadata as {
      thoughtsTokenCount?: number;
      promptTokenCount: number;
    };
    expect(usage.thoughtsTokenCount).toBe(16 + Math.ceil(usage.promptTokenCount / 2));
    expectIdentity(response.usageMetadata);
  });

  it('startChat: sendMessage then sendMessageStream carry the history', async () => {
    const model = await modelFor({ model: 'gemini-2.0-flash' });
    const chat = model.startChat();
    const first = await chat.sendMessage('Hello, who are you?');
    expectIdentity(first.response.usageMetadata);

    const second = await chat.sendMessageStream('And what do you do?');
    const usages = [];
    for await (const chunk of second.stream) usages.push(chunk.usageMetadata);
    expectCumulative(usages);
    const aggregated = await second.response;
    expect(aggregated.usageMetadata).toEqual(usages.at(-1));
    expect(aggregated.usageMetadata?.promptTokenCount).toBeGreaterThan(
      first.response.usageMetadata?.promptTokenCount ?? Infinity,
    );
    const body = standIn?.requests[1]?.body as { contents: unknown[] };
    expect(body.contents).toHaveLength(3);
    expect(await chat.getHistory()).toHaveLength(4);
  });

  it('is deterministic: the same request twice gives the same text and usage', async () => {
    const model = await modelFor({ model: 'gemini-2.0-flash' });
    const a = await model.generateContent('Summarise the quarter.');
    const b = await model.generateContent('Summarise the quarter.');
    expect(b.response.text()).toBe(a.response.text());
    expect(b.response.usageMetadata).toEqual(a.response.usageMetadata);
  });

  it('respects maxOutputTokens with finishReason MAX_TOKENS', async () => {
    const model = await modelFor({
      model: 'gemini-2.0-flash',
      generationConfig: { maxOutputTokens: 5 },
    });
    const { response } = await model.generateContent('Write a long essay.');
    expect(response.candidates?.[0]?.finishReason).toBe('MAX_TOKENS');
    expect(response.usageMetadata?.candidatesTokenCount).toBeLessThanOrEqual(5);
    expectIdentity(response.usageMetadata);
  });

  it('vertexStyle: middle chunks carry only trafficType; the aggregate has the counts', async () => {
    const model = await modelFor({ model: 'gemini-2.0-flash' }, { vertexStyle: true });
    const result = await model.generateContentStream('Hello Vertex.');
    const usages = [];
    for await (const chunk of result.stream) usages.push(chunk.usageMetadata);
    expect(usages.length).toBeGreaterThan(2);
    for (const usage of usages.slice(0, -1)) expect(usage).toEqual({ trafficType: 'ON_DEMAND' });
    expect(usages.at(-1)).toMatchObject({ trafficType: 'ON_DEMAND' });
    expectIdentity(usages.at(-1));
    expect((await result.response).usageMetadata).toEqual(usages.at(-1));
  });

  it('failNext: the SDK throws GoogleGenerativeAIFetchError with the status; then it recovers', async () => {
    const model = await modelFor({ model: 'gemini-2.0-flash' });
    standIn?.failNext({ status: 429, message: 'Resource has been exhausted' });
    const error = await model.generateContent('Hi').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoogleGenerativeAIFetchError);
    expect((error as GoogleGenerativeAIFetchError).status).toBe(429);
    expect((error as Error).message).toContain('Resource has been exhausted');
    await expect(model.generateContent('Hi')).resolves.toBeDefined();
    expect(standIn?.requests.map((r) => [r.status, r.source])).toEqual([
      [429, 'failure'],
      [200, 'generated'],
    ]);
  });

  it('failNext from the options, for several requests', async () => {
    const model = await modelFor(
      { model: 'gemini-2.0-flash' },
      { failNext: { status: 503, times: 2 } },
    );
    for (let i = 0; i < 2; i++) {
      await expect(model.generateContent('Hi')).rejects.toMatchObject({ status: 503 });
    }
    await expect(model.generateContent('Hi')).resolves.toBeDefined();
  });

  it('a stream that fails midway: iteration throws after n chunks', async () => {
    const model = await modelFor({ model: 'gemini-2.0-flash' }, { streamFailAfterChunks: 2 });
    const result = await model.generateContentStream('Tell me a long story.');
    const responseFailure = result.response.catch((e: unknown) => e);
    const seen: string[] = [];
    const error = await (async () => {
      for await (const chunk of result.stream) seen.push(chunk.text());
    })().catch((e: unknown) => e);
    expect(seen).toHaveLength(2);
    expect(error).toBeInstanceOf(GoogleGenerativeAIError);
    expect(await responseFailure).toBeInstanceOf(GoogleGenerativeAIError);
  });

  it('a unary request cut before any reply surfaces as a fetch error', async () => {
    const model = await modelFor({ model: 'gemini-2.0-flash' });
    standIn?.failNext({ afterChunks: 0 });
    await expect(model.generateContent('Hi')).rejects.toThrow(/Error fetching from/);
    expect(standIn?.requests[0]?.status).toBe(0);
  });

  it('function calling: a scripted functionCall comes back as a functionCall part', async () => {
    const model = await modelFor(
      {
        model: 'gemini-2.0-flash',
        tools: [
          {
            functionDeclarations: [
              {
                name: 'get_price',
                description: 'Price of a model',
                parameters: {
                  type: SchemaType.OBJECT,
                  properties: { model: { type: SchemaType.STRING } },
                },
              },
            ],
          },
        ],
      },
      {
        respond: ({ text, tools }) =>
          tools && text.includes('price')
            ? { functionCall: { name: 'get_price', args: { model: 'gemini-2.5-pro' } } }
            : 'No call needed.',
      },
    );
    const { response } = await model.generateContent('What is the price of 2.5 Pro?');
    expect(response.functionCalls()).toEqual([
      { name: 'get_price', args: { model: 'gemini-2.5-pro' } },
    ]);
    expectIdentity(response.usageMetadata);
    expect(response.usageMetadata?.candidatesTokenCount).toBeGreaterThan(0);
    const other = await model.generateContent('Hello');
    expect(other.response.text()).toBe('No call needed.');
  });

  it('serves /v1 and /v1alpha too, and checks the API key when asked', async () => {
    const model = await modelFor(
      { model: 'gemini-2.0-flash' },
      { apiKey: 'test-key' },
      { apiVersion: 'v1' },
    );
    await model.generateContent('Hi');
    expect(standIn?.requests[0]?.path).toBe('/v1/models/gemini-2.0-flash:generateContent');

    const alpha = new GoogleGenerativeAI('test-key').getGenerativeModel(
      { model: 'gemini-2.0-flash' },
      { baseUrl: standIn?.baseUrl, apiVersion: 'v1alpha' },
    );
    await alpha.generateContent('Hi');
    expect(standIn?.requests[1]?.apiVersion).toBe('v1alpha');

    const wrongKey = new GoogleGenerativeAI('other-key').getGenerativeModel(
      { model: 'gemini-2.0-flash' },
      { baseUrl: standIn?.baseUrl },
    );
    const error = await wrongKey.generateContent('Hi').catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400 });
    expect((error as Error).message).toContain('API_KEY_INVALID');
  });
});
