import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StandInFailure } from './types.js';
import { delay } from './wire.js';

/**
 * HTTP plumbing shared by the OpenAI and Anthropic stand-ins: a loopback server, JSON bodies,
 * server-sent events with a scripted cut, and the request log.
 */

/** One request an OpenAI or Anthropic stand-in received. */
export interface ProviderRecordedRequest {
  method: string;
  /** Path and query, e.g. `/v1/chat/completions`. */
  path: string;
  /** `chat.completions`, `responses`, `embeddings` or `messages` (empty for unknown routes). */
  operation: string;
  /** The body's `model` (empty when absent). */
  model: string;
  /** Whether the body asked for a stream. */
  stream: boolean;
  /** Request headers, names in lower case. */
  headers: Record<string, string>;
  /** The key presented (`Authorization: Bearer …` or `x-api-key`). */
  apiKey: string | undefined;
  /** Parsed JSON body (`undefined` when absent or not JSON). */
  body: unknown;
  /** HTTP status sent: 200 for a stream, even one cut midway; 0 when cut before any reply. */
  status: number;
  /** Where the reply came from. */
  source: 'generated' | 'failure' | 'error';
  /** The last `usage` object sent (the final one for a stream), when any. */
  usage?: Record<string, unknown>;
}

/** A running loopback server. */
export interface LoopbackServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts a server whose handler errors end the connection instead of crashing the process. */
export async function listen(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  host: string,
  port: number,
): Promise<LoopbackServer> {
  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  // Longer than any client's idle reuse window: a test that keeps the event loop busy past the
  // default 5 s must not get a pooled connection the server is closing at that very moment.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => done());
  });
  const address = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    port: address.port,
    close: () => {
      closing ??= new Promise<void>((done, fail) => {
        server.close((error) => (error ? fail(error) : done()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Reads a request's headers and JSON body into a record (`status` 0 until a reply is sent). */
export async function readProviderRequest(
  req: IncomingMessage,
  operationOf: (pathname: string) => string,
): Promise<ProviderRecordedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown;
  try {
    body = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    body = undefined;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const url = new URL(req.url ?? '/', 'http://stand-in');
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1];
  return {
    method: req.method ?? 'GET',
    path: `${url.pathname}${url.search}`,
    operation: req.method === 'POST' ? operationOf(url.pathname) : '',
    model: typeof fields.model === 'string' ? fields.model : '',
    stream: fields.stream === true,
    headers,
    apiKey: bearer ?? headers['x-api-key'],
    body,
    status: 0,
    source: 'generated',
  };
}

/** Sends a JSON reply and notes its status (and usage, for a success) on the record. */
export function replyJson(
  res: ServerResponse,
  record: ProviderRecordedRequest,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  record.status = status;
  if (status < 400) {
    const usage = (body as { usage?: unknown } | null)?.usage;
    if (typeof usage === 'object' && usage !== null) {
      record.usage = usage as Record<string, unknown>;
    }
  }
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** One server-sent event: an optional `event:` name and its data (JSON, or a literal). */
export interface StandInEvent {
  event?: string;
  data: unknown;
}

/** Pause after the last event before a deliberate cut, so clients read what was sent first. */
const CUT_GRACE_MS = 60;

function writeText(res: ServerResponse, text: string): Promise<void> {
  return new Promise((done) => {
    if (res.destroyed) done();
    else res.write(text, () => done());
  });
}

/**
 * Sends events as SSE (`event: name\ndata: json\n\n`). With `cutAfter`, the socket is destroyed
 * after that many events (a stream that dies midway).
 */
export async function replyEvents(
  res: ServerResponse,
  record: ProviderRecordedRequest,
  events: readonly StandInEvent[],
  how: { cutAfter?: number; chunkDelayMs?: number; usageOf: (data: unknown) => unknown },
): Promise<void> {
  record.status = 200;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
  });
  for (const [i, { event, data }] of events.entries()) {
    if (i === how.cutAfter) break;
    if (i > 0 && how.chunkDelayMs) await delay(how.chunkDelayMs);
    const usage = how.usageOf(data);
    if (typeof usage === 'object' && usage !== null) {
      record.usage = usage as Record<string, unknown>;
    }
    const line = typeof data === 'string' ? data : JSON.stringify(data);
    await writeText(res, `${event ? `event: ${event}\n` : ''}data: ${line}\n\n`);
  }
  if (how.cutAfter === undefined) {
    res.end();
    return;
  }
  await delay(Math.max(CUT_GRACE_MS, how.chunkDelayMs ?? 0));
  res.destroy();
}

/** Checks a numeric stand-in option. */
export function checkOption(
  who: string,
  name: string,
  value: number | undefined,
  min: number,
): void {
  if (value === undefined || (value >= min && Number.isInteger(value))) return;
  throw new TypeError(`${who}: ${name} must be an integer ≥ ${min}, got ${String(value)}`);
}

/** Checks that an option is absent or of one of the given kinds (`typeof`, or `RegExp`). */
export function checkKind(
  who: string,
  name: string,
  value: unknown,
  kinds: readonly ('string' | 'function' | 'boolean' | 'RegExp')[],
): void {
  if (value === undefined) return;
  const ok = kinds.some((kind) =>
    kind === 'RegExp' ? value instanceof RegExp : typeof value === kind,
  );
  if (!ok) {
    throw new TypeError(`${who}: ${name} must be a ${kinds.join(' or a ')}, got ${String(value)}`);
  }
}

/** Scripted failures of a stand-in, served in order (see `StandInFailure`). */
export class FailureQueue {
  private queue: StandInFailure[] = [];

  constructor(private readonly initial: StandInFailure | undefined) {
    this.reset();
  }

  /** Queues `failure` for the next `failure.times` (default 1) requests. */
  add(failure: StandInFailure = {}): void {
    for (let i = 0; i < (failure.times ?? 1); i++) this.queue.push(failure);
  }

  /** Back to the failures the stand-in started with. */
  reset(): void {
    this.queue = [];
    if (this.initial) this.add(this.initial);
  }

  /**
   * Applies the next failure to a request: answers its error through `fail`, or cuts a unary
   * answer before any byte, and returns `'answered'`; otherwise returns how many events a stream
   * sends before it is cut (undefined: no cut).
   */
  apply(
    res: ServerResponse,
    record: ProviderRecordedRequest,
    fail: (status: number, message: string) => void,
  ): number | undefined | 'answered' {
    const failure = this.queue.shift();
    if (!failure) return undefined;
    record.source = 'failure';
    if (failure.afterChunks === undefined) {
      const status = failure.status ?? 500;
      fail(status, failure.message ?? `stand-in: scripted failure (${status})`);
      return 'answered';
    }
    if (!record.stream) {
      res.destroy();
      return 'answered';
    }
    return failure.afterChunks;
  }
}
