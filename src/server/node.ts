/**
 * The Node adapter: node:http in front of a fetch-style handler. Request bodies and response
 * bodies stream; nothing is buffered here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { ConfigurationError } from '../errors.js';

export interface ServeOptions {
  /** 0 picks a free port (see the returned `url`). */
  port: number;
  /** Default 127.0.0.1: loopback only, unless you say otherwise. */
  host?: string;
}

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
  } catch {
    res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' });
    res.end('{"error":{"code":"invalid_request","message":"url: not a valid request target"}}');
    return;
  }
  const response = await handler(request);
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  if (!response.body || req.method === 'HEAD') {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  // The client left: stop producing.
  res.on('close', () => {
    if (!res.writableFinished) reader.cancel().catch(() => undefined);
  });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!res.write(value)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}

/** The fetch Request of a node request. The URL's origin is ours, never the Host header's. */
function toRequest(req: IncomingMessage, base: string): Request {
  const path = req.url ?? '/';
  if (!path.startsWith('/')) throw new Error('not an origin-form request target');
  const url = new URL(path, base);
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2)
    headers.append(raw[i] as string, raw[i + 1] as string);
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const controller = new AbortController();
  req.once('close', () => {
    if (!req.complete) controller.abort();
  });
  return new Request(url, {
    method,
    headers,
    signal: controller.signal,
    ...(hasBody
      ? { body: Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>, duplex: 'half' }
      : {}),
  } as RequestInit);
}
