/**
 * Calls to the configured upstreams: the client contract, and the node:http / node:https one
 * with keep-alive agents (far less work a call than fetch: no Request, Response, AbortSignal or
 * web streams to build). undici's pools, cheaper still, are used when installed
 * (upstream-undici.ts).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ProxyBody } from './answer.js';

const agents = {
  http: new HttpAgent({
    keepAlive: true,
    maxSockets: Number.POSITIVE_INFINITY,
    scheduling: 'lifo',
  }),
  https: new HttpsAgent({
    keepAlive: true,
    maxSockets: Number.POSITIVE_INFINITY,
    scheduling: 'lifo',
  }),
};

/** Why an upstream call failed before its answer began. */
export class UpstreamError extends Error {
  constructor(
    readonly kind: 'timeout' | 'unreachable' | 'aborted',
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

/** An upstream answer whose head has arrived. */
export interface UpstreamAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: ProxyBody;
  /** The body's announced length (`content-length`), or -1 when it streams without one. */
  readonly length: number;
  /** `performance.now()` of the body's first chunk, or -1 while none came. */
  firstChunkAt(): number;
}

/** Response headers about the upstream connection, not the body the client receives. */
const HOP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'content-encoding',
  'set-cookie',
  'date',
]);

/** A call on its way: its answer's head, or an `UpstreamError`; `abort()` gives up on it. */
export interface UpstreamCall {
  answer: Promise<UpstreamAnswer>;
  abort(): void;
}

/** How the gateway reaches upstreams (node:http, or undici's pools when installed). */
export interface UpstreamClient {
  /**
   * POSTs `body` to `url`. The answer resolves when its head arrives (its body then streams),
   * or rejects with an `UpstreamError`: no head within `timeoutMs`, a connection that fails,
   * or `abort()` called first. Once the body streams, `idleMs` of silence cuts it.
   */
  post(
    url: string,
    headers: Headers,
    body: string,
    timeoutMs: number,
    idleMs: number,
  ): UpstreamCall;
  /** Closes idle connections. */
  close(): Promise<void>;
}

/** The headers sent upstream: the adapter's, the body's length, no compression. */
export function outgoingHeaders(headers: Headers, body: string): Record<string, string> {
  const outgoing: Record<string, string> = {
    'content-length': String(Buffer.byteLength(body)),
    // Bodies pass through as they are: no compression to undo.
    'accept-encoding': 'identity',
  };
  headers.forEach((value, name) => {
    outgoing[name] = value;
  });
  return outgoing;
}

/** The node:http client, with keep-alive agents. */
export const httpClient: UpstreamClient = {
  post(url, headers, body, timeoutMs, idleMs) {
    const secure = url.charCodeAt(4) === 115; // https:
    const request = (secure ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      headers: outgoingHeaders(headers, body),
      agent: secure ? agents.https : agents.http,
    });
    let settled = false;
    let failure: UpstreamError | undefined;
    const fail = (error: UpstreamError) => {
      failure ??= error;
      request.destroy(failure);
    };
    const timer = setTimeout(
      () =>
        fail(new UpstreamError('timeout', `the upstream did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const answer = new Promise<UpstreamAnswer>((resolve, reject) => {
      request.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        reject(
          failure ??
            new UpstreamError(
              'unreachable',
              `the upstream could not be reached (${error.code ?? error.message})`,
            ),
        );
      });
      request.once('response', (response: IncomingMessage) => {
        settled = true;
        clearTimeout(timer);
        const raw = response.headers;
        const announced = raw['content-length'];
        const length = announced === undefined || raw['content-encoding'] ? -1 : Number(announced);
        resolve(
          answerOf({
            status: response.statusCode ?? 502,
            headers: raw,
            length: Number.isSafeInteger(length) ? length : -1,
            chunks: response[Symbol.asyncIterator]() as AsyncIterator<Buffer>,
            // `aborted`: the socket closed before the body's announced end.
            complete: () => response.complete,
            destroy: (error) => {
              response.destroy(error);
              if (!error) request.destroy();
            },
            idleMs,
          }),
        );
      });
    });
    request.end(body);
    return {
      answer,
      abort: () => fail(new UpstreamError('aborted', 'the client went away')),
    };
  },
  close: async () => undefined,
};

/** An upstream answer's head and body, as either client reads it. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  length: number;
  chunks: AsyncIterator<Buffer>;
  /** Whether the body arrived whole, once its chunks are done. */
  complete(): boolean;
  /** Ends the body: with an error (an idle cut), or because the client left. */
  destroy(error?: Error): void;
  idleMs: number;
}

/** The answer the relay reads: hop headers dropped, chunks pulled on demand, idle cuts. */
export function answerOf(raw: RawAnswer): UpstreamAnswer {
  const { chunks, idleMs } = raw;
  const headers: Record<string, string> = {};
  for (const name in raw.headers) {
    if (HOP_HEADERS.has(name)) continue;
    const value = raw.headers[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  let firstAt = -1;
  let failure: Error | undefined;
  // Pull-based: a chunk is read when the client's side asks for one.
  const idle = setTimeout(() => {
    failure = new Error(`the upstream sent nothing for ${idleMs} ms`);
    raw.destroy(failure);
  }, idleMs);
  let ended = false;
  const body: ProxyBody = {
    async read() {
      if (ended) return null;
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (error) {
        ended = true;
        clearTimeout(idle);
        throw failure ?? error;
      }
      if (next.done) {
        ended = true;
        clearTimeout(idle);
        if (!raw.complete()) throw failure ?? new Error('the upstream answer was cut short');
        return null;
      }
      idle.refresh();
      if (firstAt < 0) firstAt = performance.now();
      return next.value;
    },
    cancel() {
      ended = true;
      clearTimeout(idle);
      raw.destroy();
    },
  };
  return {
    status: raw.status,
    headers,
    body,
    length: raw.length,
    firstChunkAt: () => firstAt,
  };
}
