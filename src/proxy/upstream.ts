/**
 * Calls to the configured upstreams over node:http / node:https with keep-alive agents: far
 * less work a call than fetch (no Request, Response, AbortSignal or web streams to build), which
 * is most of what a gateway adds to a request.
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

/**
 * POSTs `body` to `url`. Resolves when the answer's head arrives (its body then streams), or
 * rejects with an `UpstreamError`: no head within `timeoutMs`, a connection that fails, or
 * `abort()` called first. Once the body streams, `idleMs` of silence cuts it.
 */
export function postUpstream(
  url: string,
  headers: Headers,
  body: string,
  timeoutMs: number,
  idleMs: number,
): { answer: Promise<UpstreamAnswer>; abort(): void } {
  const secure = url.charCodeAt(4) === 115; // https:
  const outgoing: Record<string, string> = {
    'content-length': String(Buffer.byteLength(body)),
    // Bodies pass through as they are: no compression to undo.
    'accept-encoding': 'identity',
  };
  headers.forEach((value, name) => {
    outgoing[name] = value;
  });
  const request = (secure ? httpsRequest : httpRequest)(url, {
    method: 'POST',
    headers: outgoing,
    agent: secure ? agents.https : agents.http,
  });
  let settled = false;
  let failure: UpstreamError | undefined;
  const fail = (error: UpstreamError) => {
    failure ??= error;
    request.destroy(failure);
  };
  const timer = setTimeout(
    () => fail(new UpstreamError('timeout', `the upstream did not answer within ${timeoutMs} ms`)),
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
      resolve(answerOf(response, idleMs, () => request.destroy()));
    });
  });
  request.end(body);
  return {
    answer,
    abort: () => fail(new UpstreamError('aborted', 'the client went away')),
  };
}

function answerOf(response: IncomingMessage, idleMs: number, destroy: () => void): UpstreamAnswer {
  const headers: Record<string, string> = {};
  const raw = response.headers;
  for (const name in raw) {
    if (HOP_HEADERS.has(name)) continue;
    const value = raw[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  let firstAt = -1;
  let failure: Error | undefined;
  // Pull-based: a chunk is read when the client's side asks for one.
  const chunks = response[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const idle = setTimeout(() => {
    failure = new Error(`the upstream sent nothing for ${idleMs} ms`);
    response.destroy(failure);
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
        // `aborted`: the socket closed before the body's announced end.
        if (!response.complete) throw failure ?? new Error('the upstream answer was cut short');
        return null;
      }
      idle.refresh();
      if (firstAt < 0) firstAt = performance.now();
      return next.value;
    },
    cancel() {
      ended = true;
      clearTimeout(idle);
      response.destroy();
      destroy();
    },
  };
  const announced = raw['content-length'];
  const length = announced === undefined || raw['content-encoding'] ? -1 : Number(announced);
  return {
    status: response.statusCode ?? 502,
    headers,
    body,
    length: Number.isSafeInteger(length) ? length : -1,
    firstChunkAt: () => firstAt,
  };
}
