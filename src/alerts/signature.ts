/** Webhook signatures: `X-Tollgate-Signature: sha256=<hex HMAC-SHA256 of the body>`. */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header the signature travels in. */
export const SIGNATURE_HEADER = 'X-Tollgate-Signature';

/** `sha256=<hex>`: the HMAC-SHA256 of the exact body bytes with `secret`. */
export function signBody(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Checks a webhook's signature on the receiving side. Pass the raw body exactly as received
 * (not re-serialized JSON: any byte changed fails). The comparison takes constant time.
 *
 * @example
 * // in a node:http handler, after reading the body into `raw` (a Buffer)
 * if (!verifySignature(raw, req.headers['x-tollgate-signature'], process.env.ALERT_SECRET!)) {
 *   res.writeHead(401).end();
 *   return;
 * }
 */
export function verifySignature(
  body: string | Uint8Array,
  header: string | readonly string[] | null | undefined,
  secret: string,
): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string' || typeof secret !== 'string' || secret === '') return false;
  const expected = Buffer.from(signBody(body, secret));
  const received = Buffer.from(value.trim());
  // Lengths are public (always `sha256=` + 64 hex digits): comparing them leaks nothing.
  return received.length === expected.length && timingSafeEqual(received, expected);
}
