/** What the adapters read from and write into requests: keys, headers, the output cap. */
import type { PreparedCall } from '../provider.js';

/**
 * The token of an `Authorization: Bearer …` header (the scheme in any case), or undefined.
 *
 * @example
 * bearerToken(new Headers({ authorization: 'Bearer tgp_abc' })); // 'tgp_abc'
 */
export function bearerToken(headers: Headers): string | undefined {
  const value = headers.get('authorization');
  if (!value || !/^bearer /i.test(value)) return undefined;
  return value.slice(7).trim() || undefined;
}

/**
 * Headers for an upstream request: only the `forwarded` ones copied from the client's (never its
 * credentials), then `defaults` where the client sent none, then `set` (the provider key).
 *
 * @example
 * upstreamHeadersFrom(incoming, ['content-type', 'accept'], { 'x-goog-api-key': key });
 */
export function upstreamHeadersFrom(
  incoming: Headers,
  forwarded: readonly string[],
  set: Record<string, string>,
  defaults: Record<string, string> = {},
): Headers {
  const headers = new Headers();
  for (const name of forwarded) {
    const value = incoming.get(name);
    if (value !== null) headers.set(name, value);
  }
  if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  for (const [name, value] of Object.entries(defaults)) {
    if (!headers.has(name)) headers.set(name, value);
  }
  for (const [name, value] of Object.entries(set)) headers.set(name, value);
  return headers;
}

/**
 * The call with its output capped at `tokens` in its body, where `locate` says (the object that
 * holds the cap, and the field's name), or the call itself when its own cap is already at or
 * below `tokens`.
 *
 * @example
 * withBodyCap(call, 512, (body) => [body, 'max_tokens']); // { …, "max_tokens": 512 }
 */
export function withBodyCap(
  call: PreparedCall,
  tokens: number,
  locate: (body: Record<string, unknown>) => [Record<string, unknown>, string],
): PreparedCall {
  const body = JSON.parse(call.upstreamBody) as Record<string, unknown>;
  const [holder, field] = locate(body);
  const cap = Math.max(1, Math.floor(tokens));
  const current = holder[field];
  if (typeof current === 'number' && current <= cap) return call;
  holder[field] = cap;
  return {
    ...call,
    upstreamBody: JSON.stringify(body),
    estimate: { ...call.estimate, maxOutputTokens: cap },
  };
}
