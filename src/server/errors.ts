/**
 * HTTP errors with a status and a stable JSON shape, in the spirit of hono's `HTTPException`:
 * `{ "error": { "code": "invalid_request", "message": "days: must be at most 3650" } }`.
 */
import { TollgateError } from '../errors.js';

/** The `code` of every error body the server sends. */
export type ErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'not_implemented'
  | 'request_header_fields_too_large'
  | 'request_timeout'
  | 'expectation_failed'
  | 'rate_limited'
  | 'store_unavailable'
  | 'store_timeout'
  | 'internal';

/**
 * An error that becomes one HTTP response. Throw it from a route; the handler answers with
 * `status` and `{ error: { code, message } }`.
 *
 * @example
 * throw new HttpError(400, 'invalid_request', 'days: must be a positive integer', { cause });
 */
export class HttpError extends TollgateError {
  readonly status: number;
  readonly code: ErrorCode;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
  }

  /** The JSON response for this error. */
  toResponse(): Response {
    return json({ error: { code: this.code, message: this.message } }, this.status, this.headers);
  }
}

/** 400 naming the field: `badRequest('days', 'must be a positive integer')`. */
export function badRequest(field: string, problem: string, cause?: unknown): HttpError {
  return new HttpError(400, 'invalid_request', `${field}: ${problem}`, { cause });
}

export const notFound = (message = 'no such route') => new HttpError(404, 'not_found', message);

export const forbidden = (message: string) => new HttpError(403, 'forbidden', message);

/**
 * A JSON response. Bigints (which a memory store may hold in metadata) become strings, so no
 * ledger content can make serialization throw.
 */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return jsonResponse(jsonText(body), status, headers);
}

/** JSON text of a body, bigints as strings. */
export const jsonText = (body: unknown): string =>
  JSON.stringify(body, (_, value) => (typeof value === 'bigint' ? value.toString() : value));

/** A response of JSON text already serialized (cached answers are kept as text). */
export function jsonResponse(text: string, status = 200, headers: Record<string, string> = {}) {
  return new Response(text, {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

/**
 * Runs a store (or budget manager) operation: a failure there is the server's dependency
 * failing, a 503, not a bug (500) and not the caller's fault (400). With the request's store
 * budget (`signal`), a store that answers too late is a 503 `store_timeout`.
 */
export async function upstream<T>(
  operation: string,
  run: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  try {
    return await within(signal, run());
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(503, 'store_unavailable', `${operation} failed: the store did not answer`, {
      cause: error,
    });
  }
}

/**
 * `promise`, or the signal's reason as soon as it is aborted (the promise then settles unseen).
 */
export function within<T>(signal: AbortSignal | undefined, promise: Promise<T>): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
