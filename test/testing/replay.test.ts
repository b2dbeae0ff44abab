import { join } from 'node:path';
import { GoogleGenAI } from '@google/genai';
import { GoogleGenerativeAI, GoogleGenerativeAIFetchError } from '@google/generative-ai';
import { afterEach, expect, it } from 'vitest';
import {
  type GeminiStandIn,
  loadRecordedResponse,
  type ReplaySource,
  sseEvents,
  startGeminiStandIn,
} from '../../src/testing/index.js';
import { describeWithFixtures, fixtureBodies, GEMINI_FIXTURES } from '../support/fixtures.js';
import { expectIdentity } from './support.js';

const UNARY_CACHED =
  'js-genai/derived/Client_Tests_generateContent_ML_Dev_should_generate_content_with_given_valid_json_schema_in_responseSchema__call0.json';
const UNARY_IMPLICIT_CACHE = 'vertexai-sdk-test-data/vertexai/unary-success-implicit-caching.json';
const SSE_MCP =
  'js-genai/derived/Chats_Tests_sendMessage_multiple_messages_with_server_side_MCP_tools_stream__call1.sse';
const SSE_GROUNDING = 'generative-ai-js/streaming-success-search-grounding.txt';
const SSE_THINKING =
  'vertexai-sdk-test-data/googleai/streaming-success-thinking-reply-thought-summary.txt';
const ERROR_404 =
  'js-genai/derived/Chats_Tests_sendMessage_Send_message_stream_with_error__call0.status404.json';
const ERROR_API_KEY = 'vertexai-sdk-test-data/googleai/unary-failure-api-key.json';

type WithUsage = { usageMetadata?: unknown };
const usageOf = (file: string) => (fixtureBodies(file) as WithUsage[]).map((b) => b.usageMetadata);

let standIn: GeminiStandIn | undefined;

afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

async function start(replay: ReplaySource[]) {
  standIn = await startGeminiStandIn({ replay, replayDir: GEMINI_FIXTURES });
  const legacy = new GoogleGenerativeAI('test-key').getGenerativeModel(
    { model: 'gemini-2.5-flash' },
    { baseUrl: standIn.baseUrl },
  );
  const ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: standIn.baseUrl } });
  return { legacy, ai };
}

describeWithFixtures('replay of recorded Gemini responses', () => {
  it('loadRecordedResponse reads JSON, SSE and the status from the name or the body', () => {
    const unary = loadRecordedResponse(join(GEMINI_FIXTURES, UNARY_CACHED));
    expect(unary).toMatchObject({ kind: 'json', status: 200 });
    const sse = loadRecordedResponse(join(GEMINI_FIXTURES, SSE_MCP));
    expect(sse.kind === 'sse' && sse.events.length).toBe(12);
    expect(loadRecordedResponse(join(GEMINI_FIXTURES, ERROR_404)).status).toBe(404);
    expect(loadRecordedResponse(join(GEMINI_FIXTURES, ERROR_API_KEY)).status).toBe(400);
    expect(loadRecordedResponse(join(GEMINI_FIXTURES, ERROR_API_KEY), 418).status).toBe(418);
    expect(sseEvents('data: {"a":1}\n\ndata: {"a":2}\r\n\r\n: comment\n\n')).toEqual([
      '{"a":1}',
      '{"a":2}',
    ]);
  });

  it('a unary recording returns exactly the recorded usageMetadata through both SDKs', async () => {
    const { legacy, ai } = await start([UNARY_CACHED, UNARY_CACHED, UNARY_IMPLICIT_CACHE]);
    const [recorded] = usageOf(UNARY_CACHED);
    expect(recorded).toMatchObject({ cachedContentTokenCount: 3, promptTokenCount: 5 });

    const viaLegacy = await legacy.generateContent('anything');
    expect(viaLegacy.response.usageMetadata).toEqual(recorded);
    const viaGenai = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' });
    expect({ ...viaGenai.usageMetadata }).toEqual(recorded);
    expectIdentity(viaGenai.usageMetadata);

    const implicit = await legacy.generateContent('anything');
    expect(implicit.response.usageMetadata).toEqual(usageOf(UNARY_IMPLICIT_CACHE)[0]);
    expect(standIn?.requests.map((r) => r.source)).toEqual(['replay', 'replay', 'replay']);
  });

  it('an SSE recording is streamed chunk by chunk with the recorded usage on each', async () => {
    const { legacy, ai } = await start([SSE_MCP, SSE_MCP, SSE_GROUNDING]);
    const recorded = usageOf(SSE_MCP);

    const stream = await ai.models.generateContentStream({
      model: 'gemini-2.5-flash',
      contents: 'x',
    });
    const viaGenai: unknown[] = [];
    for await (const chunk of stream) viaGenai.push({ ...chunk.usageMetadata });
    expect(viaGenai).toEqual(recorded);

    const result = await legacy.generateContentStream('x');
    const viaLegacy: unknown[] = [];
    for await (const chunk of result.stream) viaLegacy.push(chunk.usageMetadata);
    expect(viaLegacy).toEqual(recorded);
    const final = (await result.response).usageMetadata;
    expect(final).toEqual(recorded.at(-1));
    expect(final).toMatchObject({
      cachedContentTokenCount: 901,
      toolUsePromptTokenCount: 1934,
      totalTokenCount: 4301,
    });
    expectIdentity(final);

    // generative-ai-js's own mock (LF line endings) is served the same way.
    const grounding = await legacy.generateContentStream('x');
    const groundingUsage: unknown[] = [];
    for await (const chunk of grounding.stream) groundingUsage.push(chunk.usageMetadata);
    expect(groundingUsage).toEqual(usageOf(SSE_GROUNDING));
  });

  it('a recorded thinking stream keeps thoughts and candidates as recorded', async () => {
    const { ai } = await start([SSE_THINKING]);
    const stream = await ai.models.generateContentStream({
      model: 'gemini-2.5-flash',
      contents: 'x',
    });
    const usages: unknown[] = [];
    for await (const chunk of stream) usages.push({ ...chunk.usageMetadata });
    expect(usages).toEqual(usageOf(SSE_THINKING));
    expect(usages.at(-1)).toMatchObject({
      promptTokenCount: 10,
      thoughtsTokenCount: 540,
      totalTokenCount: 598,
    });
  });

  it('recorded errors come back with their status; then generation resumes', async () => {
    const { legacy, ai } = await start([ERROR_404, ERROR_API_KEY]);
    await expect(
      ai.models.generateContentStream({ model: 'custom-gemini-2.0-flash', contents: 'x' }),
    ).rejects.toMatchObject({ status: 404 });
    const error = await legacy.generateContent('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoogleGenerativeAIFetchError);
    expect((error as GoogleGenerativeAIFetchError).status).toBe(400);

    const generated = await legacy.generateContent('x');
    expectIdentity(generated.response.usageMetadata);
    expect(standIn?.requests.map((r) => [r.source, r.status])).toEqual([
      ['replay', 404],
      ['replay', 400],
      ['generated', 200],
    ]);
  });

  it('enqueue, JSON to a stream request, inline bodies, and reset() refilling the replay', async () => {
    const { legacy } = await start([UNARY_CACHED]);
    standIn?.enqueue(UNARY_CACHED, {
      chunks: [{ usageMetadata: { promptTokenCount: 1, totalTokenCount: 1 } }],
    });

    // A unary recording served to a stream request is one SSE chunk.
    const asStream = await legacy.generateContentStream('x');
    for await (const _ of asStream.stream) {
      // drain
    }
    expect((await asStream.response).usageMetadata).toEqual(usageOf(UNARY_CACHED)[0]);
    await legacy.generateContent('x');
    const inline = await legacy.generateContentStream('x');
    expect((await inline.response).usageMetadata).toEqual({
      promptTokenCount: 1,
      totalTokenCount: 1,
    });
    expect(standIn?.requests.map((r) => r.source)).toEqual(['replay', 'replay', 'replay']);

    standIn?.reset();
    const again = await legacy.generateContent('x');
    expect(again.response.usageMetadata).toEqual(usageOf(UNARY_CACHED)[0]);
    expect(standIn?.requests).toHaveLength(1);
  });

  it('a replayed stream can be cut midway too', async () => {
    standIn = await startGeminiStandIn({
      replay: [SSE_MCP],
      replayDir: GEMINI_FIXTURES,
      streamFailAfterChunks: 3,
    });
    const ai = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: standIn.baseUrl } });
    const stream = await ai.models.generateContentStream({
      model: 'gemini-2.5-flash',
      contents: 'x',
    });
    let seen = 0;
    await expect(
      (async () => {
        for await (const _ of stream) seen++;
      })(),
    ).rejects.toBeInstanceOf(Error);
    expect(seen).toBe(3);
  });
});
