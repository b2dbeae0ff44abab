/**
 * The OpenAI adapter on its own: routes, request reading, and the side reader fed real stand-in
 * answers cut at every byte boundary, plus hostile bytes.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PreparedCall, ProxyRequestError } from '../../src/proxy/provider.js';
import { openaiAdapter } from '../../src/proxy/providers/openai.js';
import { type OpenAIStandIn, startOpenAIStandIn } from '../../src/testing/index.js';
import { feed, upstreamAnswer } from './adapter-support.js';

let standIn: OpenAIStandIn;

beforeAll(async () => {
  standIn = await startOpenAIStandIn({
    respond: ({ text }) => (text.includes('unicode') ? 'naïve café 🌍 déjà vu — ok' : undefined),
  });
});
afterAll(async () => {
  await standIn.close();
});

function prepare(path: string, body: Record<string, unknown>): PreparedCall {
  const route = openaiAdapter.match('POST', path);
  if (!route) throw new Error(`no route for ${path}`);
  return openaiAdapter.prepare(route, body, new URLSearchParams(), JSON.stringify(body));
}

const upstream = (call: PreparedCall) => upstreamAnswer(openaiAdapter, standIn.url, call);
const observe = (call: PreparedCall, bytes: Uint8Array, cuts: number[] = []) =>
  feed(openaiAdapter, call, bytes, cuts);

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('routes and requests', () => {
  it('serves the three operations, with or without /v1, POST only', () => {
    expect(openaiAdapter.match('POST', '/v1/chat/completions')?.operation).toBe('chat.completions');
    expect(openaiAdapter.match('POST', '/chat/completions')?.operation).toBe('chat.completions');
    expect(openaiAdapter.match('POST', '/v1/responses')?.operation).toBe('responses');
    expect(openaiAdapter.match('POST', '/v1/embeddings')?.operation).toBe('embeddings');
    expect(openaiAdapter.match('GET', '/v1/chat/completions')).toBeUndefined();
    expect(openaiAdapter.match('POST', '/v1/models')).toBeUndefined();
    expect(openaiAdapter.match('POST', '/v1/messages')).toBeUndefined();
  });

  it('asks upstream for stream usage the client did not, keeping its other stream options', () => {
    const call = prepare('/v1/chat/completions', {
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_obfuscation: false },
      messages: [{ role: 'user', content: 'Hello brave new world' }],
      max_tokens: 100,
      n: 2,
    });
    expect(call.streamed).toBe(true);
    expect(call.clientWantsUsageChunk).toBe(false);
    expect(JSON.parse(call.upstreamBody).stream_options).toEqual({
      include_obfuscation: false,
      include_usage: true,
    });
    expect(call.estimate).toEqual({ inputTokens: 7, maxOutputTokens: 200 });
  });

  it('adds stream usage in front of the client bytes, or rewrites a body that has stream_options', () => {
    const route = openaiAdapter.match('POST', '/v1/chat/completions');
    if (!route) throw new Error('no route');
    const cases: [string, unknown][] = [
      [' {"model":"m","messages":[],"stream":true, "x":"ü"}', undefined],
      ['{"model":"m","messages":[],"stream":true,"stream_options":null}', undefined],
      [
        '{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":false}}',
        undefined,
      ],
    ];
    for (const [text] of cases) {
      const body = JSON.parse(text) as Record<string, unknown>;
      const call = openaiAdapter.prepare(route, body, new URLSearchParams(), text);
      const sent = JSON.parse(call.upstreamBody) as Record<string, unknown>;
      expect(sent).toEqual({ ...body, stream_options: { include_usage: true } });
    }
    const [first] = cases[0] as [string, unknown];
    const call = openaiAdapter.prepare(route, JSON.parse(first), new URLSearchParams(), first);
    expect(call.upstreamBody).toBe(
      ' {"stream_options":{"include_usage":true},"model":"m","messages":[],"stream":true, "x":"ü"}',
    );
  });

  it('forwards a body that needs no rewrite exactly as received', () => {
    const text =
      '{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}],  "stream":true,"stream_options":{"include_usage":true}}';
    const route = openaiAdapter.match('POST', '/v1/chat/completions');
    if (!route) throw new Error('no route');
    const call = openaiAdapter.prepare(route, JSON.parse(text), new URLSearchParams(), text);
    expect(call.upstreamBody).toBe(text);
    expect(call.clientWantsUsageChunk).toBe(true);
    expect(call.estimate.maxOutputTokens).toBe(0);
  });

  it('reads the output cap of each operation and counts embeddings inputs', () => {
    expect(
      prepare('/v1/chat/completions', {
        model: 'o4-mini',
        messages: [],
        max_completion_tokens: 64,
        max_tokens: 9,
      }).estimate.maxOutputTokens,
    ).toBe(64);
    expect(
      prepare('/v1/responses', { model: 'gpt-5', input: 'Hi', max_output_tokens: 50 }).estimate,
    ).toEqual({ inputTokens: 1, maxOutputTokens: 50 });
    const embeddings = prepare('/v1/embeddings', {
      model: 'text-embedding-3-small',
      input: [[1, 2, 3]],
    });
    expect(embeddings.estimate).toEqual({ inputTokens: 3, maxOutputTokens: 0 });
    expect(embeddings.streamed).toBe(false);
  });

  it('refuses bodies OpenAI would refuse, with a typed 400', () => {
    const bad: [string, unknown][] = [
      ['/v1/chat/completions', []],
      ['/v1/chat/completions', { messages: [] }],
      ['/v1/chat/completions', { model: 'gpt-4o' }],
      ['/v1/chat/completions', { model: 'gpt-4o', messages: [], max_tokens: -1 }],
      ['/v1/chat/completions', { model: 'gpt-4o', messages: [], max_tokens: 1.5 }],
      ['/v1/chat/completions', { model: 'gpt-4o', messages: [], stream_options: 'yes' }],
      ['/v1/chat/completions', { model: 'gpt-4o', messages: [], n: 0 }],
      ['/v1/chat/completions', { model: 'gpt-4o', messages: [], n: 1e6 }],
      ['/v1/responses', { model: 'gpt-4o' }],
      ['/v1/embeddings', { model: 'text-embedding-3-small' }],
    ];
    for (const [path, body] of bad) {
      const route = openaiAdapter.match('POST', path);
      if (!route) throw new Error('no route');
      let caught: unknown;
      try {
        openaiAdapter.prepare(route, body, new URLSearchParams(), JSON.stringify(body));
      } catch (error) {
        caught = error;
      }
      expect(ProxyRequestError.isInstance(caught), JSON.stringify(body)).toBe(true);
      expect((caught as ProxyRequestError).status).toBe(400);
    }
  });

  it('sends the provider key and never the client credentials upstream', () => {
    const incoming = new Headers({
      authorization: 'Bearer tg_client_key',
      'openai-organization': 'org-client',
      'x-tollgate-user': 'mallory',
      'content-type': 'application/json',
      'x-stainless-lang': 'js',
      'accept-encoding': 'gzip',
    });
    expect(openaiAdapter.clientKey(incoming, new URLSearchParams())).toBe('tg_client_key');
    const headers = openaiAdapter.upstreamHeaders('sk-provider', incoming);
    expect(headers.get('authorization')).toBe('Bearer sk-provider');
    expect(headers.get('openai-organization')).toBeNull();
    expect(headers.get('x-tollgate-user')).toBeNull();
    expect(headers.get('accept-encoding')).toBeNull();
    expect(headers.get('x-stainless-lang')).toBe('js');
    expect(openaiAdapter.clientKey(new Headers(), new URLSearchParams())).toBeUndefined();
  });

  it('builds the upstream URL from a base with or without /v1', () => {
    const call = prepare('/v1/embeddings', { model: 'm', input: 'x' });
    const none = new URLSearchParams();
    expect(openaiAdapter.upstreamUrl('https://api.openai.com', call, none)).toBe(
      'https://api.openai.com/v1/embeddings',
    );
    expect(openaiAdapter.upstreamUrl('https://gw.example/v1/', call, none)).toBe(
      'https://gw.example/v1/embeddings',
    );
  });

  it('switches model for a fallback, keeping the rewrite', () => {
    const call = prepare('/v1/chat/completions', { model: 'gpt-4o', stream: true, messages: [] });
    const fallback = openaiAdapter.withModel(call, 'gpt-4o-mini');
    expect(fallback.model).toBe('gpt-4o-mini');
    expect(JSON.parse(fallback.upstreamBody)).toMatchObject({
      model: 'gpt-4o-mini',
      stream_options: { include_usage: true },
    });
  });

  it('answers refusals in OpenAI error shape', () => {
    const budget = openaiAdapter.errorAnswer(429, 'BUDGET_EXCEEDED', 'budget spent');
    expect(JSON.parse(budget.body)).toEqual({
      error: {
        message: 'budget spent',
        type: 'insufficient_quota',
        param: null,
        code: 'insufficient_quota',
      },
    });
    expect(budget.headers['x-should-retry']).toBe('false');
    const key = JSON.parse(openaiAdapter.errorAnswer(401, 'API_KEY_INVALID', 'no').body);
    expect(key.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key' });
    const timeout = JSON.parse(openaiAdapter.errorAnswer(504, 'UPSTREAM_TIMEOUT', 'slow').body);
    expect(timeout.error).toMatchObject({ type: 'server_error', code: 'upstream_timeout' });
  });
});

describe('reading streamed chat completions', () => {
  const body = {
    model: 'gpt-4o-mini',
    stream: true,
    messages: [{ role: 'user', content: 'Tell a unicode story' }],
  };

  it('drops the added usage chunk at every byte boundary, and nothing else', async () => {
    const call = prepare('/v1/chat/completions', body);
    const bytes = await upstream(call);
    const usage = standIn.requests.at(-1)?.usage;
    const text = decode(bytes);
    const events = text.split('\n\n');
    const usageEvent = events.find((event) => event.includes('"choices":[]'));
    expect(usageEvent).toBeDefined();
    const expected = text.replace(`${usageEvent}\n\n`, '');
    expect(expected).toContain('naïve');
    expect(expected).toContain('🌍');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { passed, seen } = observe(call, bytes, [cut]);
      expect(decode(passed)).toBe(expected);
      expect(seen).toEqual({
        raw: { ...usage, service_tier: 'default' },
        modelVersion: 'gpt-4o-mini',
        complete: true,
      });
    }
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 40 }),
        (cuts) => {
          const { passed, seen } = observe(
            call,
            bytes,
            cuts.sort((a, b) => a - b),
          );
          expect(decode(passed)).toBe(expected);
          expect(seen.complete).toBe(true);
        },
      ),
    );
  });

  it('passes every byte when the client asked for usage itself', async () => {
    const call = prepare('/v1/chat/completions', {
      ...body,
      stream_options: { include_usage: true },
    });
    const bytes = await upstream(call);
    for (let cut = 0; cut <= bytes.length; cut += 7) {
      const { passed, seen } = observe(call, bytes, [cut]);
      expect(Buffer.compare(passed, bytes)).toBe(0);
      expect(seen.raw).toMatchObject({ prompt_tokens: expect.any(Number) });
    }
    const normalized = openaiAdapter.normalize(observe(call, bytes).seen.raw);
    expect(normalized).toMatchObject({ serviceTier: 'standard', format: 'openai' });
  });

  it('estimates a stream cut before its usage: the local prompt count, a token a delta chunk', async () => {
    const call = prepare('/v1/chat/completions', body);
    const bytes = await upstream(call);
    const half = bytes.slice(0, Math.floor(bytes.length / 2));
    const { seen } = observe(call, half);
    // Every data line with a delta counts, the one cut in half too: its token was streamed.
    const text = new TextDecoder().decode(half);
    const deltas = text.split('\n').filter((line) => line.includes('"delta"'));
    expect(deltas.length).toBeGreaterThan(0);
    const input = call.estimate.inputTokens;
    expect(seen).toEqual({
      raw: {
        prompt_tokens: input,
        completion_tokens: deltas.length,
        total_tokens: input + deltas.length,
      },
      modelVersion: 'gpt-4o-mini',
      complete: false,
      estimated: true,
    });
    expect(openaiAdapter.normalize(seen.raw)).toMatchObject({
      inputTokens: input,
      outputTokens: deltas.length,
    });
  });

  it('estimates nothing for a stream cut before any output arrived', () => {
    const call = prepare('/v1/chat/completions', body);
    const { seen } = observe(call, new Uint8Array(0));
    expect(seen).toEqual({ raw: null, complete: false });
  });

  it("drops a compatible server's usage chunk that leaves choices out, keeps one with choices", () => {
    const call = prepare('/v1/chat/completions', body);
    const stream = new TextEncoder().encode(
      [
        'data: {"model":"local","choices":[{"index":0,"delta":{"content":"Hi"}}]}',
        'data: {"model":"local","choices":[{"index":0,"delta":{}}],"usage":{"prompt_tokens":2,"completion_tokens":1,"total_tokens":3}}',
        'data: {"model":"local","usage":{"prompt_tokens":2,"completion_tokens":1,"total_tokens":3}}',
        'data: [DONE]',
        '',
      ].join('\n\n'),
    );
    const { passed, seen } = observe(call, stream);
    const events = decode(passed).split('\n\n');
    expect(events).toHaveLength(4);
    expect(events[1]).toContain('"choices":[{');
    expect(seen).toMatchObject({ raw: { total_tokens: 3 }, complete: true });
  });

  it('survives garbage SSE without throwing or inventing usage', () => {
    const call = prepare('/v1/chat/completions', body);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const { seen } = observe(call, bytes, [Math.floor(bytes.length / 3)]);
        expect(seen.complete).toBe(false);
      }),
    );
    const junk = new TextEncoder().encode(
      'data: {not json\n\ndata: {"usage": {"prompt_tokens": "x"}, "choices": []}\n\ndata: [1,2]\n\n',
    );
    const { passed, seen } = observe(call, junk);
    // A usage-only chunk is dropped even with odd counts; the normalizer repairs those.
    expect(decode(passed)).toBe('data: {not json\n\ndata: [1,2]\n\n');
    expect(seen.raw).toEqual({ prompt_tokens: 'x' });
  });
});

describe('reading other answers', () => {
  it('reads a streamed Responses API answer at every byte boundary', async () => {
    const call = prepare('/v1/responses', {
      model: 'o4-mini',
      input: 'Say unicode things',
      stream: true,
    });
    const bytes = await upstream(call);
    const usage = standIn.requests.at(-1)?.usage;
    for (let cut = 0; cut <= bytes.length; cut += 5) {
      const { passed, seen } = observe(call, bytes, [cut]);
      expect(Buffer.compare(passed, bytes)).toBe(0);
      expect(seen).toEqual({
        raw: { ...usage, service_tier: 'default' },
        modelVersion: 'o4-mini',
        complete: true,
      });
    }
    const normalized = openaiAdapter.normalize(observe(call, bytes).seen.raw);
    expect(normalized?.reasoningTokens).toBeGreaterThan(0);
    // Without `event:` lines the type in the data decides.
    const bare = decode(bytes).replace(/^event: .*\n/gm, '');
    expect(observe(call, new TextEncoder().encode(bare)).seen.complete).toBe(true);
  });

  it('reads unary answers, a huge embeddings body included', async () => {
    const call = prepare('/v1/embeddings', {
      model: 'text-embedding-3-large',
      input: Array.from({ length: 300 }, (_, i) => `input number ${i}`),
      encoding_format: 'float',
    });
    const bytes = await upstream(call);
    expect(bytes.length).toBeGreaterThan(5_000_000);
    const cuts = Array.from(
      { length: Math.floor(bytes.length / 65_536) },
      (_, i) => (i + 1) * 65_536,
    );
    const { passed, seen } = observe(call, bytes, cuts);
    expect(passed.length).toBe(bytes.length);
    expect(seen.raw).toEqual({ prompt_tokens: 1500, total_tokens: 1500 });
    expect(seen.complete).toBe(true);
    const cut = observe(call, bytes.slice(0, bytes.length - 10));
    expect(cut.seen).toEqual({ raw: null, complete: false });
  });

  it('prices the service tier OpenAI reports', () => {
    const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
    expect(openaiAdapter.normalize({ ...usage, service_tier: 'flex' })?.serviceTier).toBe('flex');
    expect(openaiAdapter.normalize({ ...usage, service_tier: 'scale' })?.serviceTier).toBe(
      'provisioned',
    );
    const odd = openaiAdapter.normalize({ ...usage, service_tier: 'turbo' });
    expect(odd?.serviceTier).toBe('standard');
    expect(odd?.repairs?.[0]?.field).toBe('service_tier');
  });
});

describe('openaiAdapter.withMaxOutputTokens', () => {
  const messages = [{ role: 'user', content: 'Hi' }];
  const sent = (call: PreparedCall) => JSON.parse(call.upstreamBody) as Record<string, unknown>;

  it('lowers the field the client used, or sets max_completion_tokens', () => {
    const legacy = openaiAdapter.withMaxOutputTokens(
      prepare('/v1/chat/completions', { model: 'gpt-4o', messages, max_tokens: 1000 }),
      100,
    );
    expect(sent(legacy)).toMatchObject({ max_tokens: 100 });
    expect(sent(legacy)).not.toHaveProperty('max_completion_tokens');
    expect(legacy.estimate.maxOutputTokens).toBe(100);
    const current = openaiAdapter.withMaxOutputTokens(
      prepare('/v1/chat/completions', { model: 'gpt-4o', messages, max_completion_tokens: 900 }),
      100,
    );
    expect(sent(current)).toMatchObject({ max_completion_tokens: 100 });
    const none = openaiAdapter.withMaxOutputTokens(
      prepare('/v1/chat/completions', { model: 'gpt-4o', messages }),
      100,
    );
    expect(sent(none)).toMatchObject({ max_completion_tokens: 100, messages });
    const responses = openaiAdapter.withMaxOutputTokens(
      prepare('/v1/responses', { model: 'gpt-4o', input: 'Hi', max_output_tokens: 500 }),
      50,
    );
    expect(sent(responses)).toMatchObject({ max_output_tokens: 50 });
  });

  it('keeps a lower cap, and leaves calls without output as they are', () => {
    const low = prepare('/v1/chat/completions', { model: 'gpt-4o', messages, max_tokens: 20 });
    expect(openaiAdapter.withMaxOutputTokens(low, 100)).toBe(low);
    const embed = prepare('/v1/embeddings', { model: 'text-embedding-3-small', input: 'Hi' });
    expect(openaiAdapter.withMaxOutputTokens(embed, 100)).toBe(embed);
  });
});
