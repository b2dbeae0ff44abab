/**
 * The Node adapter: node:http in front of a fetch-style handler. Request bodies and response
 * bodies stream; nothing is buffered here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ConfigurationError } from '../errors.js';
import { type ErrorCode, HttpError, jsonText } from './errors.js';

/** Where `serve` listens: a port (0 for a free one) and a host (default 127.0.0.1). */
export interface ServeOptions {
  /** 0 picks a free port (see the returned `url`). */
  port: number;
  /** Default 127.0.0.1: loopback only, unless you say otherwise. */
  host?: string;
}

/** A listening server: its URL and a `close()` that stops it. */
export interface RunningServer {
  /** `http://127.0.0.1:8787` */
  url: string;
  port: number;
  server: Server;
  /** Stops accepting, closes idle and open connections, and resolves when done. */
  close(): Promise<void>;
}

/**
 * Serves a fetch-style handler over HTTP.
 *
 * @example
 * const running = await serve(createHandler({ store, auth }), { port: 8787 });
 * console.log(`listening on ${running.url}`);
 * process.on('SIGTERM', () => running.close());
 */
export async function serve(
  handler: (request: Request) => Promise<Response>,
  options: ServeOptions,
): Promise<RunningServer> {
  const { base } = address(options, 'serve');
  // The Host check is ours (a JSON 400), not node's empty one.
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    respond(handler, req, res, base).catch((error) => {
      console.error('[tollgate] response failed:', error);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  answerWhatNodeRefuses(server);
  return listen(server, options);
}

/**
 * The checked host and port of `options`, and the URL base (`http://host`, IPv6 bracketed).
 * @internal
 */
export function address(options: ServeOptions, caller: string): { host: string; base: string } {
  const host = options?.host ?? '127.0.0.1';
  if (!Number.isInteger(options?.port) || options.port < 0 || options.port > 65_535) {
    throw new ConfigurationError(
      `${caller}: port must be an integer in [0, 65535], got ${options?.port}`,
    );
  }
  return { host, base: `http://${host.includes(':') ? `[${host}]` : host}` };
}

/** Starts `server` on the address of `options`; resolves once it listens. @internal */
export async function listen(server: Server, options: ServeOptions): Promise<RunningServer> {
  const { host, base } = address(options, 'serve');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${base}:${port}`;
  return {
    url,
    port,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * Requests node refuses before any handler sees them get the documented error shape too:
 * CONNECT (501), an unknown method (501), malformed HTTP, a bad Content-Length, a body cut
 * short (400), headers over node's 16 KiB (431), an `Expect` other than 100-continue (417), a
 * request too slow to arrive (408). A connection already answering is only closed.
 */
function answerWhatNodeRefuses(server: Server): void {
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    rawAnswer(socket, 501, 'not_implemented', 'CONNECT is not supported by this server');
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const expect = JSON.stringify(req.headers.expect);
    sendError(
      res,
      new HttpError(
        417,
        'expectation_failed',
        `expect: only "100-continue" is supported, got ${expect}`,
      ),
    );
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const [status, code, message] = clientErrorAnswer(error.code);
    const answer = () => {
      if (socket.writable) rawAnswer(socket, status, code, message);
      else socket.destroy();
    };
    const inFlight = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
    if (!inFlight || inFlight.writableFinished) return answer();
    if (!inFlight.req.complete) {
      // The request in flight is the broken one (its body was cut short): answer it now, as
      // node would, unless its answer has begun.
      if (inFlight.headersSent) socket.destroy();
      else answer();
      return;
    }
    // A complete request before the bad one (pipelined) gets its answer first.
    inFlight.once('finish', answer);
    inFlight.once('close', () => {
      if (!inFlight.writableFinished) socket.destroy();
    });
  });
}

/** An error answer made before (or without) the handler, with its length. */
function sendError(res: ServerResponse, error: HttpError): void {
  const body = jsonText({ error: { code: error.code, message: error.message } });
  res.writeHead(error.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** The answer to a request node could not parse, by its parser's error code. */
function clientErrorAnswer(code: string | undefined): [number, ErrorCode, string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'request_header_fields_too_large', 'headers: larger than 16 KiB in total'];
    case 'HPE_INVALID_METHOD':
      return [501, 'not_implemented', 'method: not a method this server supports'];
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return [400, 'invalid_request', 'content-length: not a valid length for this request'];
    case 'HPE_INVALID_EOF_STATE':
      return [400, 'invalid_request', 'body: the request ended before the body was complete'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'payload_too_large', 'body: chunk extensions larger than 16 KiB'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'request_timeout', 'request: not received in time'];
    default:
      return [400, 'invalid_request', `request: malformed HTTP (${code ?? 'unknown error'})`];
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
};

/** Writes a whole HTTP/1.1 error response to a raw socket and closes it. */
function rawAnswer(socket: Duplex, status: number, code: ErrorCode, message: string): void {
  socket.on('error', () => undefined);
  const body = jsonText({ error: { code, message } });
  const head =
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n` +
    'content-type: application/json; charset=utf-8\r\n' +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    'connection: close\r\n\r\n';
  // Closed once written: a request still waiting for its body then sees the connection end.
  socket.end(head + body, () => socket.destroy());
  // A client that never reads must not hold the socket.
  setTimeout(() => socket.destroy(), 5_000).unref();
}

async function respond(
  handler: (request: Request) => Promise<Response>,
  req: IncomingMessage,
  res: ServerResponse,
  base: string,
): Promise<void> {
  let request: Request;
  try {
    if (req.httpVersion === '1.1' && req.headers.host === undefined) {
      throw new HttpError(400, 'invalid_request', 'host: HTTP/1.1 requests need a Host header');
    }
    request = toRequest(req, base);
  } catch (error) {
    const refused =
      error instanceof HttpError
        ? error
        : new HttpError(400, 'invalid_request', 'url: not a valid request target');
    sendError(res, refused);
    return;
  }
  const response = await handler(request);
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  // The client may have left while the handler worked: nobody to answer, and no 'close' to come.
  if (res.destroyed) {
    await response.body?.cancel().catch(() => undefined);
    return;
  }
  res.writeHead(response.status, headers);
  if (!response.body || req.method === 'HEAD') {
    await response.body?.cancel().catch(() => undefined);
    res.end();
    return;
  }
  const reader = response.body.getReader();
  // The client left: stop producing (even while the body is still making its next chunk).
  res.on('close', () => {
    if (!res.writableFinished) reader.cancel().catch(() => undefined);
  });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    // A write to a gone client is refused and never drains: waiting for 'drain' alone would
    // hold this response (and its body) for good.
    if (!res.write(value) && !(await drained(res))) {
      await reader.cancel().catch(() => undefined);
      return;
    }
  }
  res.end();
}

/** True once the response takes writes again; false if the client has left (or leaves). @internal */
export function drained(res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const settle = (ok: boolean) => () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = settle(true);
    const onClose = settle(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/** Methods fetch's Request refuses to carry (`TypeError`): no route could take them anyway. */
const UNSUPPORTED_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** The fetch Request of a node request. The URL's origin is ours, never the Host header's. */
function toRequest(req: IncomingMessage, base: string): Request {
  const path = req.url ?? '/';
  if (!path.startsWith('/')) throw new Error('not an origin-form request target');
  const method = req.method ?? 'GET';
  if (UNSUPPORTED_METHODS.has(method.toUpperCase())) {
    throw new HttpError(501, 'not_implemented', `${method} is not supported by this server`);
  }
  const url = new URL(path, base);
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2)
    headers.append(raw[i] as string, raw[i + 1] as string);
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const controller = new AbortController();
  req.once('close', () => {
    if (!req.complete) controller.abort();
  });
  return new Request(url, {
    method,
    headers,
    signal: controller.signal,
    ...(hasBody ? { body: bodyOf(req), duplex: 'half' } : {}),
  } as RequestInit);
}

/**
 * The request body as a web stream that reads `req` only when a route reads the body. A body
 * no route read (a 401 or 413 answered first) is then discarded by node after the response,
 * as for any node handler, and the connection stays usable. `Readable.toWeb` started reading
 * at once and paused when its buffer filled: the rest of a large body stayed on the wire and
 * the next request on that keep-alive connection waited behind it until the connection timed
 * out (ECONNRESET for the client).
 */
function bodyOf(req: IncomingMessage): ReadableStream<Uint8Array> {
  let chunks: AsyncIterator<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        chunks ??= req.iterator({ destroyOnReturn: false });
        const { done, value } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel() {
        // A route that stopped reading (a body over the limit): the rest is discarded.
        await chunks?.return?.();
        req.resume();
      },
    },
    // Nothing is read ahead of the route: a stream nobody pulls leaves `req` untouched.
    { highWaterMark: 0 },
  );
}
