/**
 * The OpenAI stand-in driven by the official `openai` SDK, unchanged but for its base URL.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type OpenAIStandIn, startOpenAIStandIn } from '../../src/testing/index.js';
import { normalizeUsage } from '../../src/usage/index.js';

let standIn: OpenAIStandIn;
let openai: OpenAI;

beforeAll(async () => {
  standIn = await startOpenAIStandIn({ apiKey: 'sk-test' });
  openai = new OpenAI({ apiKey: 'sk-test', baseURL: standIn.baseURL, maxRetries: 0 });
});
afterAll(async () => {
  await standIn.close();
});
beforeEach(() => standIn.reset());

const LONG = 'Shared context about lighthouses, harbours and the ships that pass them. '.repeat(6);

describe('chat completions', () => {
  it('answers unary calls with consistent usage and deterministic text', async () => {
    const ask = () =>
      openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hello brave new world' }],
      });
    const first = await ask();
    const usage = first.usage;
    expect(usage?.prompt_tokens).toBe(7);
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0));
    expect(usage?.completion_tokens_details?.reasoning_tokens).toBe(0);
    expect(first.choices[0]?.message.content).toBeTruthy();
    expect(first.choices[0]?.finish_reason).toBe('stop');
    expect(first.service_tier).toBe('default');
    standIn.reset();
    expect((await ask()).choices[0]?.message.content).toBe(first.choices[0]?.message.content);
  });

  it('reports reasoning tokens for reasoning models, inside completion_tokens', async () => {
    const reply = await openai.chat.completions.create({
      model: 'o4-mini',
      messages: [{ role: 'user', content: 'Think about it' }],
    });
    const reasoning = reply.usage?.completion_tokens_details?.reasoning_tokens ?? 0;
    expect(reasoning).toBeGreaterThan(0);
    expect(reply.usage?.completion_tokens).toBeGreaterThan(reasoning);
  });

  it('reports a shared prefix as cached_tokens', async () => {
    const ask = (question: string) =>
      openai.chat.completions.create({
        model: 'gpt-4o',
        messages: [
          { role: 'system', content: LONG },
          { role: 'user', content: question },
        ],
      });
    const first = await ask('What is a lighthouse?');
    const second = await ask('Who keeps it?');
    expect(first.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    const cached = second.usage?.prompt_tokens_details?.cached_tokens ?? 0;
    expect(cached).toBeGreaterThanOrEqual(32);
    expect(cached).toBeLessThan(second.usage?.prompt_tokens ?? 0);
  });

  it('cuts at max_completion_tokens with finish_reason length', async () => {
    const reply = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      max_completion_tokens: 5,
      messages: [{ role: 'user', content: 'Write a long essay' }],
    });
    expect(reply.choices[0]?.finish_reason).toBe('length');
    expect(reply.usage?.completion_tokens).toBeLessThanOrEqual(5);
  });

  it('streams without usage unless stream_options.include_usage asks for it', async () => {
    const plain = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'Tell me a story' }],
    });
    let text = '';
    for await (const chunk of plain) {
      expect(chunk.usage).toBeUndefined();
      expect(chunk.choices).toHaveLength(1);
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBeTruthy();

    const counted = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Tell me a story' }],
    });
    const chunks = [];
    for await (const chunk of counted) chunks.push(chunk);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.total_tokens).toBeGreaterThan(0);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
    const streamed = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(streamed).toBe(text);
  });

  it('aggregates through the SDK stream helper', async () => {
    const stream = openai.chat.completions.stream({
      model: 'gpt-4o-mini',
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Hello' }],
    });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBeTruthy();
    expect(final.usage?.prompt_tokens).toBe(2);
  });
});

describe('responses', () => {
  it('answers unary with usage that normalizes', async () => {
    const reply = await openai.responses.create({
      model: 'gpt-5-mini',
      instructions: 'Be brief.',
      input: 'What is a token?',
    });
    expect(reply.output_text).toBeTruthy();
    expect(reply.usage?.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
    const usage = normalizeUsage(reply.usage);
    expect(usage?.totalTokens).toBe(reply.usage?.total_tokens);
    expect(usage?.reasoningTokens).toBe(reply.usage?.output_tokens_details.reasoning_tokens);
  });

  it('streams the event types, with usage on response.completed only', async () => {
    const stream = await openai.responses.create({
      model: 'gpt-4.1-mini',
      input: [{ role: 'user', content: 'Say something' }],
      stream: true,
    });
    const types: string[] = [];
    let text = '';
    let usage: unknown;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.created') expect(event.response.usage).toBeNull();
      if (event.type === 'response.completed') usage = event.response.usage;
    }
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(types).toContain('response.output_text.done');
    expect(text).toBeTruthy();
    expect(usage).toMatchObject({ input_tokens: 4, total_tokens: expect.any(Number) });
  });

  it('ends with response.incomplete at max_output_tokens', async () => {
    const reply = await openai.responses.create({
      model: 'gpt-4.1-mini',
      input: 'Write a very long essay please',
      max_output_tokens: 4,
    });
    expect(reply.status).toBe('incomplete');
    expect(reply.incomplete_details?.reason).toBe('max_output_tokens');
  });
});

describe('embeddings', () => {
  it('answers float and base64 (the SDK default) alike, with prompt_tokens usage', async () => {
    const decoded = await openai.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['Hello world', 'Goodbye'],
      dimensions: 8,
    });
    expect(decoded.data).toHaveLength(2);
    expect(decoded.data[0]?.embedding).toHaveLength(8);
    expect(decoded.usage).toEqual({ prompt_tokens: 6, total_tokens: 6 });
    const floats = await openai.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['Hello world', 'Goodbye'],
      dimensions: 8,
      encoding_format: 'float',
    });
    expect(floats.data[0]?.embedding).toEqual(decoded.data[0]?.embedding);
    expect(normalizeUsage(floats.usage)).toMatchObject({ inputTokens: 6, outputTokens: 0 });
  });
});

describe('options', () => {
  it('refuses options of the wrong kind instead of ignoring them', async () => {
    await expect(startOpenAIStandIn({ streamChunks: 0 })).rejects.toThrow(/streamChunks/);
    await expect(startOpenAIStandIn({ serviceTier: 5 as unknown as string })).rejects.toThrow(
      /serviceTier must be a string or a function/,
    );
    await expect(startOpenAIStandIn({ reasoning: 'yes' as unknown as boolean })).rejects.toThrow(
      /reasoning/,
    );
  });

  it('scripts the tier and the reply', async () => {
    const scripted = await startOpenAIStandIn({
      serviceTier: 'flex',
      respond: ({ text }) => ({ text: `Echo: ${text}`, finishReason: 'content_filter' }),
    });
    const client = new OpenAI({ apiKey: 'k', baseURL: scripted.baseURL, maxRetries: 0 });
    const reply = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(reply.choices[0]?.message.content).toBe('Echo: ping');
    expect(reply.choices[0]?.finish_reason).toBe('content_filter');
    expect(reply.service_tier).toBe('flex');
    await scripted.close();
  });
});

describe('tool calls', () => {
  it('calls a declared tool, unary and streamed, billing its arguments as output', async () => {
    const caller = await startOpenAIStandIn({
      respond: ({ body }) =>
        body.tools ? { toolCall: { name: 'get_weather', arguments: { city: 'Oslo' } } } : undefined,
    });
    const client = new OpenAI({ apiKey: 'k', baseURL: caller.baseURL, maxRetries: 0 });
    const params = {
      model: 'gpt-4o',
      messages: [{ role: 'user' as const, content: 'Weather in Oslo?' }],
      tools: [
        {
          type: 'function' as const,
          function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
        },
      ],
    };
    const unary = await client.chat.completions.create(params);
    const choice = unary.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({
      city: 'Oslo',
    });
    expect(unary.usage?.completion_tokens).toBeGreaterThan(0);
    const streamed = await client.chat.completions
      .stream({ ...params, stream_options: { include_usage: true } })
      .finalChatCompletion();
    const [streamedCall] = streamed.choices[0]?.message.tool_calls ?? [];
    expect(streamedCall).toMatchObject({ type: 'function', id: expect.stringMatching(/^call_/) });
    expect(streamedCall?.type === 'function' && streamedCall.function).toEqual(
      call?.type === 'function' && call.function,
    );
    expect(streamed.usage?.completion_tokens).toBe(unary.usage?.completion_tokens);
    // Without declared tools the call is not honoured: a plain reply.
    const plain = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: params.messages,
    });
    expect(plain.choices[0]?.finish_reason).toBe('stop');
    await caller.close();
  });
});

describe('failures', () => {
  it('answers errors in OpenAI shape, which the SDK maps to its error classes', async () => {
    standIn.failNext({ status: 429, message: 'slow down' });
    const error = await openai.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).error).toMatchObject({
      message: 'slow down',
      type: 'rate_limit_exceeded',
    });
    const wrongKey = new OpenAI({ apiKey: 'sk-wrong', baseURL: standIn.baseURL, maxRetries: 0 });
    await expect(
      wrongKey.chat.completions.create({ model: 'gpt-4o', messages: [] }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(
      openai.chat.completions.create({ model: 'gpt-4o', messages: [] }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('cuts a stream after the scripted number of chunks', async () => {
    standIn.failNext({ afterChunks: 2 });
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Tell me a story' }],
    });
    let seen = 0;
    const outcome = await (async () => {
      for await (const _chunk of stream) seen += 1;
    })().catch((error: unknown) => error);
    expect(seen).toBe(2);
    expect(outcome).toBeInstanceOf(Error);
    expect(standIn.requests.at(-1)?.source).toBe('failure');
  });
});
