/**
 * The Node adapter: node:http in front of a fetch-style handler. Request bodies and response
 * bodies stream; nothing is buffered here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigurationError } from '../errors.js';
import { HttpError, jsonText } from './errors.js';

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
  const host = options?.host ?? '127.0.0.1';
  if (!Number.isInteger(options?.port) || options.port < 0 || options.port > 65_535) {
    throw new ConfigurationError(
      `serve: port must be an integer in [0, 65535], got ${options?.port}`,
    );
  }
  const base = `http://${host.includes(':') ? `[${host}]` : host}`;
  const server = createServer((req, res) => {
    respond(handler, req, res, base).catch((error) => {
      console.error('[tollgate] response failed:', error);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
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

async function respond(
  handler: (request: Request) => Promise<Response>,
  req: IncomingMessage,
  res: ServerResponse,
  base: string,
): Promise<void> {
  let request: Request;
  try {
    request = toRequest(req, base);
  } catch (error) {
    const refused =
      error instanceof HttpError
        ? error
        : new HttpError(400, 'invalid_request', 'url: not a valid request target');
    res.writeHead(refused.status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(jsonText({ error: { code: refused.code, message: refused.message } }));
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

/** True once the response takes writes again; false if the client has left (or leaves). */
function drained(res: ServerResponse): Promise<boolean> {
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
