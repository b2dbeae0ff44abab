/** What the adapters read from and write into requests: keys, headers, the output cap. */

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
 * The output cap to write: `tokens` when the request asks for more (or sets none), undefined
 * when its own cap is already at or below it (nothing to change).
 *
 * @example
 * lowerCap(4096, 512); // 512
 * lowerCap(256, 512); // undefined
 */
export function lowerCap(current: unknown, tokens: number): number | undefined {
  const cap = Math.max(1, Math.floor(tokens));
  return typeof current === 'number' && current <= cap ? undefined : cap;
}
