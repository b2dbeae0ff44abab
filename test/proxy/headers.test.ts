import { describe, expect, it } from 'vitest';
import { anthropicAdapter } from '../../src/proxy/providers/anthropic.js';
import { geminiAdapter } from '../../src/proxy/providers/gemini.js';
import { bearerToken, upstreamHeadersFrom } from '../../src/proxy/providers/headers.js';
import { openaiAdapter } from '../../src/proxy/providers/openai.js';

describe('bearerToken', () => {
  it('reads the token whatever the case of the scheme, and nothing else', () => {
    expect(bearerToken(new Headers({ authorization: 'Bearer tgp_a' }))).toBe('tgp_a');
    expect(bearerToken(new Headers({ authorization: 'bearer  tgp_b ' }))).toBe('tgp_b');
    expect(bearerToken(new Headers({ authorization: 'BEARER tgp_c' }))).toBe('tgp_c');
    expect(bearerToken(new Headers({ authorization: 'Basic dXNlcjpwYXNz' }))).toBeUndefined();
    expect(bearerToken(new Headers({ authorization: 'Bearer   ' }))).toBeUndefined();
    expect(bearerToken(new Headers())).toBeUndefined();
  });

  it('is how every adapter reads a bearer key', () => {
    const headers = new Headers({ authorization: 'bearer tgp_key' });
    const search = new URLSearchParams();
    for (const adapter of [geminiAdapter, openaiAdapter, anthropicAdapter]) {
      expect(adapter.clientKey(headers, search)).toBe('tgp_key');
    }
  });
});

describe('upstreamHeadersFrom', () => {
  const incoming = new Headers({
    authorization: 'Bearer tgp_client',
    'x-api-key': 'tgp_client',
    'x-goog-api-key': 'tgp_client',
    cookie: 'session=1',
    accept: 'text/event-stream',
    'x-tollgate-user': 'alice',
  });

  it('copies only the named headers, then the defaults, then the provider key', () => {
    const headers = upstreamHeadersFrom(
      incoming,
      ['accept', 'anthropic-version'],
      { 'x-api-key': 'provider-key' },
      { 'anthropic-version': '2023-06-01' },
    );
    expect(Object.fromEntries(headers)).toEqual({
      accept: 'text/event-stream',
      'anthropic-version': '2023-06-01',
      'content-type': 'application/json',
      'x-api-key': 'provider-key',
    });
  });

  it("keeps the client's own value of a forwarded header over the default", () => {
    const headers = upstreamHeadersFrom(
      new Headers({
        'anthropic-version': '2024-01-01',
        'content-type': 'application/json; charset=utf-8',
      }),
      ['anthropic-version', 'content-type'],
      { 'x-api-key': 'k' },
      { 'anthropic-version': '2023-06-01' },
    );
    expect(headers.get('anthropic-version')).toBe('2024-01-01');
    expect(headers.get('content-type')).toBe('application/json; charset=utf-8');
  });

  it("never forwards the client's credentials through any adapter", () => {
    for (const adapter of [geminiAdapter, openaiAdapter, anthropicAdapter]) {
      const headers = adapter.upstreamHeaders('provider-key', incoming);
      const values = [...headers.values()];
      expect(values.join(' ')).not.toContain('tgp_client');
      expect(headers.has('cookie')).toBe(false);
      expect(headers.has('x-tollgate-user')).toBe(false);
    }
  });
});
