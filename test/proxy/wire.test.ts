/**
 * The Gemini wire format and the SSE reader on their own: routes, bodies, upstream URLs, error
 * answers, and event splitting under any chunking (a property, with fast-check).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { geminiAdapter, ProxyRequestError, SseReader } from '../../src/proxy/index.js';
import { wholeElements } from '../../src/proxy/providers/gemini.js';

const encode = (text: string) => new TextEncoder().encode(text);

describe('geminiAdapter.match', () => {
  it.each([
    ['/v1beta/models/gemini-2.5-flash:generateContent', 'generateContent', 'v1beta', true],
    ['/v1/models/gemini-2.5-pro:streamGenerateContent', 'streamGenerateContent', 'v1', true],
    ['/v1beta/models/gemini-2.0-flash:countTokens', 'countTokens', 'v1beta', false],
    ['/v1alpha/models/gemini-3-pro-preview:generateContent', 'generateContent', 'v1alpha', true],
  ])('%s', (path, operation, version, billable) => {
    expect(geminiAdapter.match('POST', path)).toMatchObject({ operation, version, billable });
  });

  it.each([
    ['GET', '/v1beta/models/gemini-2.5-flash:generateContent'],
    ['POST', '/v2/models/gemini-2.5-flash:generateContent'],
    ['POST', '/v1beta/models/:generateContent'],
    ['POST', '/v1beta/models/a/b:generateContent'],
    ['POST', '/v1beta/models/gemini-2.5-flash:embedContent'],
    ['POST', '/v1beta/models/%E0%A4%A:generateContent'],
  ])('%s %s is not served', (method, path) => {
    expect(geminiAdapter.match(method, path)).toBeUndefined();
  });
});

describe('geminiAdapter.prepare', () => {
  const route = geminiAdapter.match('POST', '/v1beta/models/gemini-2.5-flash:generateContent');
  if (!route) throw new Error('no route');

  it('keeps the body as received and estimates from it', () => {
    const text =
      '{ "contents": [{"parts": [{"text": "one two three four"}]}], "generationConfig": {"maxOutputTokens": 99} }';
    const call = geminiAdapter.prepare(route, JSON.parse(text), new URLSearchParams(), text);
    expect(call.upstreamBody).toBe(text);
    expect(call.estimate.maxOutputTokens).toBe(99);
    expect(call.estimate.inputTokens).toBeGreaterThanOrEqual(4);
    expect(call.streamed).toBe(false);
  });

  it('counts the system instruction and tools in the estimate', () => {
    const base = { contents: [{ parts: [{ text: 'hi' }] }] };
    const plain = geminiAdapter.prepare(route, base, new URLSearchParams(), '');
    const long = 'a long system instruction '.repeat(50);
    const withSystem = geminiAdapter.prepare(
      route,
      { ...base, systemInstruction: { parts: [{ text: long }] } },
      new URLSearchParams(),
      '',
    );
    expect(withSystem.estimate.inputTokens).toBeGreaterThan(plain.estimate.inputTokens + 100);
    expect(plain.estimate.maxOutputTokens).toBe(0);
  });

  it.each([
    [[], 'body'],
    [null, 'body'],
    [{}, 'contents'],
    [{ contents: [], generationConfig: { maxOutputTokens: 0 } }, 'maxOutputTokens'],
    [{ contents: [], generationConfig: { maxOutputTokens: 1.5 } }, 'maxOutputTokens'],
  ])('refuses %j with a 400 naming %s', (body, field) => {
    let thrown: unknown;
    try {
      geminiAdapter.prepare(route, body, new URLSearchParams(), '');
    } catch (error) {
      thrown = error;
    }
    expect(ProxyRequestError.isInstance(thrown)).toBe(true);
    expect(thrown).toMatchObject({ status: 400, code: 'INVALID_ARGUMENT' });
    expect((thrown as Error).message).toContain(field);
  });
});

describe('geminiAdapter upstream', () => {
  const route = geminiAdapter.match(
    'POST',
    '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
  );
  if (!route) throw new Error('no route');
  const call = geminiAdapter.prepare(
    route,
    { contents: [] },
    new URLSearchParams(),
    '{"contents":[]}',
  );

  it('builds the URL on the configured base, without the client key', () => {
    const url = geminiAdapter.upstreamUrl(
      'https://generativelanguage.googleapis.com',
      call,
      new URLSearchParams('alt=sse&key=tgp_secret'),
    );
    expect(url).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    );
    const fallback = geminiAdapter.withModel(call, 'models/gemini-2.0-flash-lite');
    expect(geminiAdapter.upstreamUrl('http://up', fallback, new URLSearchParams())).toBe(
      'http://up/v1beta/models/gemini-2.0-flash-lite:streamGenerateContent',
    );
  });

  it('sends the provider key and drops the client credentials', () => {
    const incoming = new Headers({
      'x-goog-api-key': 'tgp_client',
      authorization: 'Bearer tgp_client',
      'x-tollgate-user': 'bob',
      cookie: 'a=b',
      'user-agent': 'google-genai-sdk/1.0',
      'content-type': 'application/json',
    });
    const headers = geminiAdapter.upstreamHeaders('provider-key', incoming);
    expect(Object.fromEntries(headers)).toEqual({
      'x-goog-api-key': 'provider-key',
      'user-agent': 'google-genai-sdk/1.0',
      'content-type': 'application/json',
    });
  });

  it('answers errors in the Gemini shape', () => {
    const answer = geminiAdapter.errorAnswer(429, 'RATE_LIMITED', 'slow down');
    expect(answer.status).toBe(429);
    expect(JSON.parse(answer.body)).toMatchObject({
      error: { code: 429, message: 'slow down', status: 'RESOURCE_EXHAUSTED' },
    });
  });

  it('reads the last usage of a stream, and of a unary body', () => {
    const observer = geminiAdapter.observe(call);
    const events = [1, 2, 3].map(
      (n) =>
        `data: {"candidates":[{"content":{"parts":[{"text":"x"}]}${n === 3 ? ',"finishReason":"STOP"' : ''}}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":${n},"totalTokenCount":${5 + n}}}\n\n`,
    );
    for (const event of events) expect(observer.push(encode(event))).toEqual(encode(event));
    const seen = observer.finish();
    expect(seen.complete).toBe(true);
    expect(geminiAdapter.normalize(seen.raw)).toMatchObject({ inputTokens: 5, outputTokens: 3 });
  });
});

describe('a streamed JSON array (no alt=sse) cut short', () => {
  const element = (n: number, last = false) =>
    `{"candidates":[{"content":{"parts":[{"text":"a \\"quoted\\" } ] piece"}]}${last ? ',"finishReason":"STOP"' : ''}}],"usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":${n},"totalTokenCount":${7 + n}}}`;
  const whole = `[${element(1)},\r\n${element(2)},\r\n${element(3, true)}]`;

  it('counts the usage of its last whole element, at every cut', () => {
    const call = geminiAdapter.prepare(
      geminiAdapter.match(
        'POST',
        '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
      ) as NonNullable<ReturnType<typeof geminiAdapter.match>>,
      { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
      new URLSearchParams(),
      '{}',
    );
    const ends = [1, 2, 3].map(
      (n) => whole.indexOf(element(n, n === 3)) + element(n, n === 3).length,
    );
    for (let cut = 1; cut <= whole.length; cut++) {
      const observer = geminiAdapter.observe(call);
      observer.push(encode(whole.slice(0, cut)));
      const seen = observer.finish();
      const complete = ends.filter((end) => end <= cut).length;
      if (complete === 0) expect(seen.raw).toBeNull();
      else {
        expect(geminiAdapter.normalize(seen.raw)).toMatchObject({
          inputTokens: 7,
          outputTokens: complete,
        });
      }
      expect(seen.complete).toBe(complete === 3);
    }
  });

  it('finds nothing in text that is not an array of objects', () => {
    expect(wholeElements('')).toEqual([]);
    expect(wholeElements('{"a":1}')).toEqual([]);
    expect(wholeElements('[1, 2, 3')).toEqual([]);
    expect(wholeElements('[{"a":"}"},{"b":')).toEqual([{ a: '}' }]);
    expect(wholeElements('[{"a":[1,{"c":2}]}, {')).toEqual([{ a: [1, { c: 2 }] }]);
  });
});

describe('SseReader', () => {
  const event = fc.record({
    name: fc.option(fc.constantFrom('message', 'delta', 'x'), { nil: undefined }),
    data: fc.array(
      fc.string({ unit: 'grapheme' }).filter((s) => !/[\r\n]/.test(s)),
      {
        minLength: 1,
        maxLength: 3,
      },
    ),
  });

  it('reports the same events however the bytes are cut, with any line ending', () => {
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 8 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.array(fc.nat(), { maxLength: 20 }),
        (events, eol, cuts) => {
          const text = events
            .map(
              (e) =>
                `${e.name ? `event: ${e.name}${eol}` : ''}${e.data.map((d) => `data: ${d}${eol}`).join('')}${eol}`,
            )
            .join('');
          const bytes = encode(text);
          const seen: [string, string][] = [];
          const reader = new SseReader((data, name) => seen.push([data, name]));
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort(
            (a, b) => a - b,
          );
          let start = 0;
          for (const point of [...points, bytes.length]) {
            reader.push(bytes.subarray(start, point));
            start = point;
          }
          reader.end();
          expect(seen).toEqual(events.map((e) => [e.data.join('\n'), e.name ?? '']));
        },
      ),
    );
  });

  it('never throws on garbage', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const reader = new SseReader(() => undefined);
        reader.push(bytes);
        reader.end();
      }),
    );
  });
});
