/** Request bodies read whole, within a size limit. */
import { ProxyRequestError } from './provider.js';

/** The body of a fetch `Request` as text; 413 past `max` bytes (announced or streamed). */
export async function readRequestText(request: Request, max: number): Promise<string> {
  const length = request.headers.get('content-length');
  if (length !== null && Number(length) > max) throw bodyTooLarge(max);
  if (!request.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw bodyTooLarge(max);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The refusal of a body over the limit. */
export function bodyTooLarge(max: number): ProxyRequestError {
  return new ProxyRequestError(413, 'REQUEST_TOO_LARGE', `body: larger than ${max} bytes`);
}
