/** Helpers of the adapter tests: an upstream's raw answer, and an observer fed it in pieces. */
import type { PreparedCall, ProviderAdapter } from '../../src/proxy/provider.js';

/** The upstream's raw answer to `call`, sent as the adapter would forward it. */
export async function upstreamAnswer(
  adapter: ProviderAdapter,
  baseUrl: string,
  call: PreparedCall,
): Promise<Uint8Array> {
  const response = await fetch(adapter.upstreamUrl(baseUrl, call, new URLSearchParams()), {
    method: 'POST',
    headers: adapter.upstreamHeaders('provider-key', new Headers()),
    body: call.upstreamBody,
  });
  return new Uint8Array(await response.arrayBuffer());
}

/** Feeds `bytes` to a fresh observer, cut at `cuts` (ascending); what passed on and what it saw. */
export function feed(
  adapter: ProviderAdapter,
  call: PreparedCall,
  bytes: Uint8Array,
  cuts: readonly number[] = [],
) {
  const observer = adapter.observe(call);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(observer.push(bytes.slice(from, cut)));
    from = cut;
  }
  return { passed: Buffer.concat(out), seen: observer.finish() };
}
