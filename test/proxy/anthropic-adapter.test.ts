/**
 * The Anthropic adapter on its own: routes, request reading, and the side reader fed real
 * stand-in answers cut at every byte boundary, plus hostile bytes.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PreparedCall, ProxyRequestError } from '../../src/proxy/provider.js';
import { anthropicAdapter } from '../../src/proxy/providers/anthropic.js';
import { type AnthropicStandIn, startAnthropicStandIn } from '../../src/testing/index.js';
import { feed, upstreamAnswer } from './adapter-support.js';

let standIn: AnthropicStandIn;

beforeAll(async () => {
  standIn = await startAnthropicStandIn({ respond: () => 'Ünïcödé 🌍 replies — fine ones.' });
});
afterAll(async () => {
  await standIn.close();
});

const SYSTEM = 'Background on lighthouses, harbours and the ships that pass them. '.repeat(6);

function prepare(body: unknown): PreparedCall {
  const route = anthropicAdapter.match('POST', '/v1/messages');
  if (!route) throw new Error('no route');
  return anthropicAdapter.prepare(route, body, new URLSearchParams(), JSON.stringify(body));
}

const upstream = (call: PreparedCall) => upstreamAnswer(anthropicAdapter, standIn.url, call);
const observe = (call: PreparedCall, bytes: Uint8Array, cuts: number[] = []) =>
  feed(anthropicAdapter, call, bytes, cuts);

const body = (stream: boolean) => ({
  model: 'claude-sonnet-4-5',
  max_tokens: 300,
  stream,
  system: [{ type: 'text', text: SYSTEM, cache_control: { type: 'ephemeral', ttl: '1h' } }],
  messages: [{ role: 'user', content: 'Tell me about lighthouses' }],
});

describe('routes and requests', () => {
  it('serves POST /v1/messages only', () => {
    expect(anthropicAdapter.match('POST', '/v1/messages')).toEqual({
      provider: 'anthropic',
      operation: 'messages',
      version: 'v1',
      billable: true,
    });
    expect(anthropicAdapter.match('GET', '/v1/messages')).toBeUndefined();
    expect(anthropicAdapter.match('POST', '/v1/messages/count_tokens')).toMatchObject({
      operation: 'count_tokens',
      billable: false,
    });
    expect(anthropicAdapter.match('POST', '/v1/messages/batches')).toBeUndefined();
    expect(anthropicAdapter.match('POST', '/v1/chat/completions')).toBeUndefined();
  });

  it('estimates from the prompt and the required max_tokens, forwarding the body as received', () => {
    const call = prepare(body(true));
    expect(call.streamed).toBe(true);
    expect(call.estimate.maxOutputTokens).toBe(300);
    expect(call.estimate.inputTokens).toBeGreaterThan(100);
    expect(call.upstreamBody).toBe(JSON.stringify(body(true)));
  });

  it('refuses bodies Anthropic would refuse, with a typed 400', () => {
    const bad = [
      'text',
      { messages: [], max_tokens: 5 },
      { model: 'claude-sonnet-4-5', max_tokens: 5 },
      { model: 'claude-sonnet-4-5', messages: [] },
      { model: 'claude-sonnet-4-5', messages: [], max_tokens: 0 },
      { model: 'claude-sonnet-4-5', messages: [], max_tokens: '5' },
    ];
    for (const input of bad) {
      let caught: unknown;
      try {
        prepare(input);
      } catch (error) {
        caught = error;
      }
      expect(ProxyRequestError.isInstance(caught), JSON.stringify(input)).toBe(true);
      expect((caught as ProxyRequestError).status).toBe(400);
    }
  });

  it('sends the provider key and the API version headers, never the client key', () => {
    const incoming = new Headers({
      'x-api-key': 'tg_client',
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'prompt-caching-2024-07-31',
      cookie: 'a=b',
    });
    expect(anthropicAdapter.clientKey(incoming, new URLSearchParams())).toBe('tg_client');
    const headers = anthropicAdapter.upstreamHeaders('sk-ant-provider', incoming);
    expect(headers.get('x-api-key')).toBe('sk-ant-provider');
    expect(headers.get('anthropic-beta')).toBe('prompt-caching-2024-07-31');
    expect(headers.get('cookie')).toBeNull();
    expect(anthropicAdapter.upstreamHeaders('k', new Headers()).get('anthropic-version')).toBe(
      '2023-06-01',
    );
    expect(
      anthropicAdapter.clientKey(
        new Headers({ authorization: 'Bearer tg_b' }),
        new URLSearchParams(),
      ),
    ).toBe('tg_b');
  });

  it('switches model for a fallback and builds the upstream URL', () => {
    const call = anthropicAdapter.withModel(prepare(body(false)), 'claude-haiku-4-5');
    expect(JSON.parse(call.upstreamBody).model).toBe('claude-haiku-4-5');
    expect(
      anthropicAdapter.upstreamUrl('https://api.anthropic.com/', call, new URLSearchParams()),
    ).toBe('https://api.anthropic.com/v1/messages');
  });

  it('answers refusals in Anthropic error shape', () => {
    const spent = anthropicAdapter.errorAnswer(402, 'BUDGET_EXCEEDED', 'budget spent');
    expect(JSON.parse(spent.body)).toEqual({
      type: 'error',
      error: { type: 'billing_error', message: 'budget spent' },
    });
    expect(spent.headers['x-should-retry']).toBe('false');
    expect(
      JSON.parse(anthropicAdapter.errorAnswer(429, 'RATE_LIMITED', 'wait').body).error.type,
    ).toBe('rate_limit_error');
    expect(
      JSON.parse(anthropicAdapter.errorAnswer(502, 'UPSTREAM_UNAVAILABLE', 'x').body).error.type,
    ).toBe('api_error');
  });
});

describe('reading answers', () => {
  it('merges message_start and message_delta usage at every byte boundary', async () => {
    standIn.reset();
    const call = prepare(body(true));
    const bytes = await upstream(call);
    const final = standIn.requests.at(-1)?.usage;
    expect(final?.cache_creation_input_tokens).toBeGreaterThan(0);
    let expected: unknown;
    for (let cut = 0; cut <= bytes.length; cut += 2) {
      const { passed, seen } = observe(call, bytes, [cut]);
      expect(Buffer.compare(passed, bytes)).toBe(0);
      expected ??= seen;
      expect(seen).toEqual(expected);
    }
    const { seen } = observe(call, bytes);
    expect(seen.complete).toBe(true);
    expect(seen.modelVersion).toBe('claude-sonnet-4-5');
    const usage = anthropicAdapter.normalize(seen.raw);
    expect(usage).toMatchObject({
      cacheWriteTokens: final?.cache_creation_input_tokens,
      cacheWriteByTtl: { '1h': final?.cache_creation_input_tokens },
      outputTokens: final?.output_tokens,
      serviceTier: 'standard',
    });
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 30 }),
        (cuts) => {
          expect(
            observe(
              call,
              bytes,
              cuts.sort((a, b) => a - b),
            ).seen,
          ).toEqual(expected);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('keeps the input usage of a stream cut after message_start, marked incomplete', async () => {
    const call = prepare(body(true));
    const bytes = await upstream(call);
    const text = new TextDecoder().decode(bytes);
    const cut = text.indexOf('event: content_block_delta');
    const { seen } = observe(call, bytes.slice(0, cut));
    expect(seen.complete).toBe(false);
    expect(seen.raw).toMatchObject({
      output_tokens: 1,
      cache_read_input_tokens: expect.any(Number),
    });
    expect(anthropicAdapter.normalize(seen.raw)?.inputTokens).toBeGreaterThan(100);
  });

  it('reads a unary answer, and nothing from an error body or garbage', async () => {
    const call = prepare(body(false));
    const bytes = await upstream(call);
    const { seen } = observe(call, bytes, [5, 50]);
    expect(seen.complete).toBe(true);
    expect(seen.raw).toEqual(standIn.requests.at(-1)?.usage);
    const error = new TextEncoder().encode(
      JSON.stringify({ type: 'error', error: { type: 'api_error', message: 'x' } }),
    );
    expect(observe(call, error).seen).toEqual({ raw: null, complete: false });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (junk, streamed) => {
        const seen = observe(prepare(body(streamed)), junk, [junk.length >> 1]).seen;
        expect(seen.complete).toBe(false);
      }),
    );
  });

  it('maps Anthropic service tiers and thinking tokens', () => {
    const usage = {
      input_tokens: 10,
      output_tokens: 50,
      output_tokens_details: { thinking_tokens: 30 },
    };
    expect(anthropicAdapter.normalize({ ...usage, service_tier: 'priority' })).toMatchObject({
      serviceTier: 'provisioned',
      reasoningTokens: 30,
      outputTokens: 50,
    });
    expect(anthropicAdapter.normalize({ ...usage, service_tier: 'batch' })?.serviceTier).toBe(
      'batch',
    );
  });
});

describe('anthropicAdapter.withMaxOutputTokens', () => {
  const request = {
    model: 'claude-sonnet-4-5',
    max_tokens: 2048,
    messages: [{ role: 'user', content: 'Hi' }],
  };

  it('lowers max_tokens, and keeps a lower one', () => {
    const call = anthropicAdapter.withMaxOutputTokens(prepare(request), 256);
    expect(JSON.parse(call.upstreamBody)).toEqual({ ...request, max_tokens: 256 });
    expect(call.estimate.maxOutputTokens).toBe(256);
    const low = prepare({ ...request, max_tokens: 100 });
    expect(anthropicAdapter.withMaxOutputTokens(low, 256)).toBe(low);
  });
});
