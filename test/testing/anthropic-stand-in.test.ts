/**
 * The Anthropic stand-in driven by the official `@anthropic-ai/sdk`, unchanged but for its base
 * URL.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AnthropicStandIn, startAnthropicStandIn } from '../../src/testing/index.js';
import { normalizeUsage } from '../../src/usage/index.js';

let standIn: AnthropicStandIn;
let anthropic: Anthropic;

beforeAll(async () => {
  standIn = await startAnthropicStandIn({ apiKey: 'sk-ant-test' });
  anthropic = new Anthropic({ apiKey: 'sk-ant-test', baseURL: standIn.baseURL, maxRetries: 0 });
});
afterAll(async () => {
  await standIn.close();
});
beforeEach(() => standIn.reset());

const CONTEXT =
  'Background on lighthouses, harbours and the ships that pass them at night. '.repeat(6);

describe('messages', () => {
  it('answers unary calls with usage in Anthropic terms', async () => {
    const message = await anthropic.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Hello brave new world' }],
    });
    expect(message.usage).toMatchObject({
      input_tokens: 7,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      service_tier: 'standard',
    });
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    expect(message.stop_reason).toBe('end_turn');
    const text = message.content[0]?.type === 'text' ? message.content[0].text : '';
    expect(text).toBeTruthy();
  });

  it('writes the prompt up to a cache_control breakpoint, then reads it back', async () => {
    const ask = (question: string, ttl?: '1h') =>
      anthropic.messages.create({
        model: 'claude-haiku-4-5',
        max_tokens: 128,
        system: [
          {
            type: 'text',
            text: CONTEXT,
            cache_control: ttl ? { type: 'ephemeral', ttl } : { type: 'ephemeral' },
          },
        ],
        messages: [{ role: 'user', content: question }],
      });
    const first = await ask('What is a lighthouse?');
    const written = first.usage.cache_creation_input_tokens ?? 0;
    expect(written).toBeGreaterThanOrEqual(32);
    expect(first.usage.cache_creation?.ephemeral_5m_input_tokens).toBe(written);
    expect(first.usage.cache_read_input_tokens).toBe(0);
    const second = await ask('Who keeps it?');
    expect(second.usage.cache_read_input_tokens).toBe(written);
    expect(second.usage.cache_creation_input_tokens).toBe(0);
    const usage = normalizeUsage(second.usage);
    expect(usage?.inputTokens).toBe(second.usage.input_tokens + written);
    expect(usage?.cacheReadTokens).toBe(written);

    standIn.reset();
    const hour = await ask('Again', '1h');
    expect(hour.usage.cache_creation?.ephemeral_1h_input_tokens).toBe(written);
    expect(normalizeUsage(hour.usage)?.cacheWriteByTtl).toMatchObject({ '1h': written });
  });

  it('counts tokens as a message reports them', async () => {
    const params = {
      model: 'claude-sonnet-4-5',
      system: 'You are terse.',
      messages: [{ role: 'user' as const, content: 'Count these few words' }],
    };
    const counted = await anthropic.messages.countTokens(params);
    const message = await anthropic.messages.create({ ...params, max_tokens: 50 });
    expect(counted.input_tokens).toBe(message.usage.input_tokens);
    expect(counted.input_tokens).toBeGreaterThan(5);
  });

  it('cuts at max_tokens with stop_reason max_tokens', async () => {
    const message = await anthropic.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 3,
      messages: [{ role: 'user', content: 'Write a long essay' }],
    });
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.usage.output_tokens).toBeLessThanOrEqual(3);
  });

  it('streams the event sequence, and the SDK aggregates the same usage', async () => {
    const params = {
      model: 'claude-sonnet-4-5',
      max_tokens: 256,
      messages: [{ role: 'user' as const, content: 'Tell me a story' }],
    };
    const unary = await anthropic.messages.create(params);
    standIn.reset();
    const raw = await anthropic.messages.create({ ...params, stream: true });
    const types: string[] = [];
    for await (const event of raw) {
      types.push(event.type);
      if (event.type === 'message_start') expect(event.message.usage.input_tokens).toBe(5);
      if (event.type === 'message_delta') {
        expect(event.usage.output_tokens).toBe(unary.usage.output_tokens);
      }
    }
    expect(types[0]).toBe('message_start');
    expect(types.at(-2)).toBe('message_delta');
    expect(types.at(-1)).toBe('message_stop');
    expect(types).toContain('content_block_delta');
    standIn.reset();
    const final = await anthropic.messages.stream(params).finalMessage();
    expect(final.usage.output_tokens).toBe(unary.usage.output_tokens);
    expect(final.content).toEqual(unary.content);
  });
});

describe('extended thinking', () => {
  it('thinks first, within budget_tokens, and reports thinking_tokens inside output_tokens', async () => {
    const params = {
      model: 'claude-sonnet-4-5',
      max_tokens: 2048,
      thinking: { type: 'enabled' as const, budget_tokens: 1024 },
      messages: [{ role: 'user' as const, content: 'Think about lighthouses' }],
    };
    const message = await anthropic.messages.create(params);
    const [thinking, text] = message.content;
    expect(thinking?.type).toBe('thinking');
    expect(text?.type).toBe('text');
    const details = message.usage.output_tokens_details;
    expect(details?.thinking_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(details?.thinking_tokens ?? 0);
    expect(normalizeUsage(message.usage)).toMatchObject({
      reasoningTokens: details?.thinking_tokens,
      outputTokens: message.usage.output_tokens,
    });

    standIn.reset();
    const streamed = await anthropic.messages.stream(params).finalMessage();
    expect(streamed.content).toEqual(message.content);
    expect(streamed.usage.output_tokens).toBe(message.usage.output_tokens);
    expect(streamed.usage.output_tokens_details).toEqual(details);
  });

  it('refuses a budget at or above max_tokens', async () => {
    await expect(
      anthropic.messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 1024,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.BadRequestError);
  });
});

describe('tool use', () => {
  it('answers a tool_use block, unary and streamed', async () => {
    const caller = await startAnthropicStandIn({
      respond: () => ({ toolCall: { name: 'get_weather', arguments: { city: 'Oslo' } } }),
    });
    const client = new Anthropic({ apiKey: 'k', baseURL: caller.baseURL, maxRetries: 0 });
    const params = {
      model: 'claude-sonnet-4-5',
      max_tokens: 200,
      tools: [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: {} } }],
      messages: [{ role: 'user' as const, content: 'Weather in Oslo?' }],
    };
    const unary = await client.messages.create(params);
    expect(unary.stop_reason).toBe('tool_use');
    expect(unary.content).toEqual([
      { type: 'tool_use', id: expect.any(String), name: 'get_weather', input: { city: 'Oslo' } },
    ]);
    const streamed = await client.messages.stream(params).finalMessage();
    expect(streamed.content[0]).toMatchObject({ type: 'tool_use', input: { city: 'Oslo' } });
    expect(streamed.usage.output_tokens).toBe(unary.usage.output_tokens);
    await caller.close();
  });
});

describe('failures', () => {
  it('answers errors in Anthropic shape, which the SDK maps to its error classes', async () => {
    standIn.failNext({ status: 529, message: 'Overloaded' });
    const error = await anthropic.messages
      .create({
        model: 'claude-sonnet-4-5',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'Hi' }],
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.InternalServerError);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    const wrongKey = new Anthropic({ apiKey: 'nope', baseURL: standIn.baseURL, maxRetries: 0 });
    await expect(
      wrongKey.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [] }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    const missingMax = await fetch(`${standIn.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'sk-ant-test', 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5',
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    });
    expect(missingMax.status).toBe(400);
    expect(await missingMax.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
    });
  });

  it('cuts a stream after the scripted number of events', async () => {
    standIn.failNext({ afterChunks: 3 });
    const stream = await anthropic.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      stream: true,
      messages: [{ role: 'user', content: 'Tell me a story' }],
    });
    let seen = 0;
    const outcome = await (async () => {
      for await (const _event of stream) seen += 1;
    })().catch((error: unknown) => error);
    // message_start, content_block_start, then ping, which the SDK does not yield.
    expect(seen).toBe(2);
    expect(outcome).toBeInstanceOf(Error);
  });
});
