/**
 * The gateway on node:http, lighter than the API server's adapter: a request body is read whole
 * (it is needed whole to count the prompt anyway) and the answer streams back chunk by chunk; an
 * answer cut short upstream is cut short for the client too (its connection is destroyed), so no
 * client mistakes half an answer for a whole one.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ConfigurationError } from '../errors.js';
import { address, drained, listen, type RunningServer, type ServeOptions } from '../server/node.js';
import { type ProxyAnswer, type ProxyInput, streams } from './answer.js';
import { bodyTooLarge } from './body.js';
import { ANSWER, type TollgateProxy } from './handler.js';

/** Where the gateway listens (`port` 0 picks a free one; host defaults to 127.0.0.1). */
export type ServeProxyOptions = ServeOptions;

/**
 * Serves a gateway over HTTP. The node request goes to the gateway's core as it is (no fetch
 * `Request`, `AbortSignal` or web stream is built per call).
 *
 * @example
 * const running = await serveProxy(createProxy({ store, keys, upstreams }), { port: 8788 });
 * process.on('SIGTERM', () => running.close());
 */
export async function serveProxy(
  proxy: TollgateProxy,
  options: ServeProxyOptions,
): Promise<RunningServer> {
  const answer = proxy?.[ANSWER];
  if (typeof answer !== 'function') {
    throw new ConfigurationError(
      'serveProxy: expected a gateway from createProxy() (serve other fetch handlers with tollgate/server serve())',
    );
  }
  address(options, 'serveProxy');
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    answerDirectly(answer, req, res).catch((error) => {
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
  return listen(server, options);
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
  const listeners: (() => void)[] = [];
  res.once('close', () => {
    if (res.writableFinished) return;
    left = true;
    for (const listener of listeners) listener();
  });
  const input: ProxyInput = {
    method: req.method ?? 'GET',
    target: req.url ?? '/',
    headers,
    text: (max) => readText(req, max),
    onAbort(listener) {
      listeners.push(listener);
    },
    get aborted() {
      return left;
    },
  };
  const { status, headers: out, body } = await answer(input);
  if (res.destroyed) {
    if (streams(body)) body.cancel();
    return;
  }
  if (!streams(body)) {
    // One write: head and body together.
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

/**
 * A request body as text; 413 (a `ProxyRequestError`) past `max` bytes. Read by listeners, not
 * an async iterator: a body is one or two chunks, and an iterator's promises and state cost more
 * than the read.
 */
function readText(req: IncomingMessage, max: number): Promise<string> {
  if (Number(req.headers['content-length'] ?? 0) > max) return Promise.reject(bodyTooLarge(max));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        req.off('end', onEnd);
        // Drained, unread: the answer (413) can still be written on this connection.
        req.resume();
        reject(bodyTooLarge(max));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      req.off('error', reject);
      resolve(
        (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString('utf8'),
      );
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
}
