/**
 * The gateway on node:http. Lighter than the API server's adapter: a request body is read whole
 * (it is needed whole to count the prompt anyway) and the answer streams back chunk by chunk; an
 * answer cut short upstream is cut short for the client too (its connection is destroyed), so no
 * client mistakes half an answer for a whole one.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigurationError } from '../errors.js';
import type { RunningServer, ServeOptions } from '../server/node.js';
import type { ProxyAnswer, ProxyInput } from './answer.js';
import { bodyTooLarge } from './body.js';
import { ANSWER, type TollgateProxy } from './handler.js';

/** Where the gateway listens (`port` 0 picks a free one; host defaults to 127.0.0.1). */
export interface ServeProxyOptions extends ServeOptions {
  /** The largest request body read, in bytes (default 32 MiB); more is a 413. */
  maxBodyBytes?: number;
}

/**
 * Serves a gateway (or any fetch-style handler) over HTTP.
 *
 * @example
 * const running = await serveProxy(createProxy({ store, keys, upstreams }), { port: 8788 });
 * process.on('SIGTERM', () => running.close());
 */
export async function serveProxy(
  handler: TollgateProxy | ((request: Request) => Promise<Response>),
  options: ServeProxyOptions,
): Promise<RunningServer> {
  const direct = (handler as Partial<TollgateProxy>)[ANSWER];
  const host = options?.host ?? '127.0.0.1';
  if (!Number.isInteger(options?.port) || options.port < 0 || options.port > 65_535) {
    throw new ConfigurationError(
      `serveProxy: port must be an integer in [0, 65535], got ${options?.port}`,
    );
  }
  const maxBody = options.maxBodyBytes ?? 32 * 1024 * 1024;
  const base = `http://${host.includes(':') ? `[${host}]` : host}`;
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const answered = direct
      ? answerDirectly(direct, req, res)
      : respond(handler, req, res, base, maxBody);
    answered.catch((error) => {
      console.error(
        '[tollgate proxy] response failed:',
        error instanceof Error ? error.message : error,
      );
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
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
    server: server as Server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function refuse(res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ error: { code: status, message, status: 'INVALID_ARGUMENT' } });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
  res.end(body);
}

/** The whole request body, or undefined once it passed `max` (answered 413 then). */
async function readAll(
  req: IncomingMessage,
  res: ServerResponse,
  max: number,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      refuse(res, 413, `body: larger than ${max} bytes`);
      req.resume();
      return undefined;
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

async function respond(
  handler: (request: Request) => Promise<Response>,
  req: IncomingMessage,
  res: ServerResponse,
  base: string,
  maxBody: number,
): Promise<void> {
  const path = req.url ?? '/';
  if (!path.startsWith('/')) return refuse(res, 400, 'url: not a valid request target');
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const announced = Number(req.headers['content-length'] ?? 0);
  if (announced > maxBody) return refuse(res, 413, `body: larger than ${maxBody} bytes`);
  const body = hasBody ? await readAll(req, res, maxBody) : undefined;
  if (hasBody && body === undefined) return;
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    // The body is read already: its framing is ours to set.
    if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') continue;
    headers.append(name, raw[i + 1] as string);
  }
  const controller = new AbortController();
  // The client left before its answer ended: the upstream call is aborted.
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  let request: Request;
  try {
    request = new Request(base + path, {
      method,
      headers,
      signal: controller.signal,
      ...(body ? { body } : {}),
    });
  } catch {
    return refuse(res, 400, 'request: not a valid request');
  }
  const response = await handler(request);
  if (res.destroyed) {
    await response.body?.cancel().catch(() => undefined);
    return;
  }
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    out[name] = value;
  });
  res.writeHead(response.status, out);
  if (!response.body || method === 'HEAD') {
    await response.body?.cancel().catch(() => undefined);
    res.end();
    return;
  }
  const reader = response.body.getReader();
  res.once('close', () => {
    if (!res.writableFinished) reader.cancel().catch(() => undefined);
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value) && !(await drained(res))) {
        await reader.cancel().catch(() => undefined);
        return;
      }
    }
  } catch {
    // The upstream's answer broke off: so does the client's.
    res.destroy();
    return;
  }
  res.end();
}

function drained(res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onDrain = () => {
      res.off('close', onClose);
      resolve(true);
    };
    const onClose = () => {
      res.off('drain', onDrain);
      resolve(false);
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/** The gateway's own entry point: no fetch `Request`, signal or web stream built per call. */
async function answerDirectly(
  answer: (input: ProxyInput) => Promise<ProxyAnswer>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2)
    headers.append(raw[i] as string, raw[i + 1] as string);
  let left = false;
  let listeners: (() => void)[] | undefined;
  res.once('close', () => {
    if (res.writableFinished) return;
    left = true;
    for (const listener of listeners ?? []) listener();
  });
  const input: ProxyInput = {
    method: req.method ?? 'GET',
    target: req.url ?? '/',
    headers,
    text: (max) => readText(req, max),
    onAbort(listener) {
      (listeners ??= []).push(listener);
    },
    get aborted() {
      return left;
    },
  };
  const { status, headers: out, body } = await answer(input);
  if (res.destroyed) {
    if (typeof body !== 'string') body.cancel();
    return;
  }
  if (typeof body === 'string') {
    out['content-length'] = String(Buffer.byteLength(body));
    res.writeHead(status, out);
    res.end(body);
    return;
  }
  res.writeHead(status, out);
  try {
    for (;;) {
      const chunk = await body.read();
      if (chunk === null) break;
      if (!res.write(chunk) && !(await drained(res))) {
        body.cancel();
        return;
      }
    }
  } catch {
    // The upstream's answer broke off: so does the client's.
    res.destroy();
    return;
  }
  res.end();
}

/** A request body as text; 413 (a `ProxyRequestError`) past `max` bytes. */
async function readText(req: IncomingMessage, max: number): Promise<string> {
  if (Number(req.headers['content-length'] ?? 0) > max) throw bodyTooLarge(max);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      req.resume();
      throw bodyTooLarge(max);
    }
    chunks.push(chunk);
  }
  return (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString('utf8');
}
