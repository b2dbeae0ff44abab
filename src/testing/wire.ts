import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RecordedRequest, UsageMetadata } from './types.js';

/** `/{version}/models/{model}:{action}`, the only routes the stand-in serves. */
const ROUTE =
  /^\/(v1|v1beta|v1alpha)\/((?:models|tunedModels)\/[^/:]+):(generateContent|streamGenerateContent|countTokens)$/;

/** Pause after the last chunk before a deliberate cut, so clients read what was sent first. */
const CUT_GRACE_MS = 60;

const JSON_TYPE = { 'content-type': 'application/json; charset=UTF-8' };

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** A Google API error body: `{ error: { code, message, status, details? } }`. */
export function errorBody(code: number, message: string, details?: unknown[]): string {
  const status = STATUS_NAMES[code] ?? 'UNKNOWN';
  return JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } });
}

export const delay = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}

function parseJson(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a request into a {@link RecordedRequest} (`status` 0 until a reply is sent). */
export async function readRequest(
  req: IncomingMessage,
): Promise<{ record: RecordedRequest; routed: boolean; sse: boolean; text: string }> {
  const url = new URL(req.url ?? '/', 'http://stand-in');
  const route = ROUTE.exec(decodeURIComponent(url.pathname));
  const text = await readBody(req);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const action = route?.[3] ?? '';
  const record: RecordedRequest = {
    method: req.method ?? 'GET',
    path: `${url.pathname}${url.search}`,
    apiVersion: route?.[1] ?? '',
    model: (route?.[2] ?? '').replace(/^models\//, ''),
    action,
    stream: action === 'streamGenerateContent',
    headers,
    apiKey: headers['x-goog-api-key'] ?? url.searchParams.get('key') ?? undefined,
    body: parseJson(text),
    status: 0,
    source: 'generated',
  };
  const routed = route !== null && record.method === 'POST';
  return { record, routed, sse: url.searchParams.get('alt') === 'sse', text };
}

function usageIn(payload: string | undefined): UsageMetadata | undefined {
  const parsed = parseJson(payload ?? '') as { usageMetadata?: UsageMetadata } | null | undefined;
  return parsed?.usageMetadata;
}

/** Sends a JSON reply and notes its status (and usage, for a success) on the record. */
export function sendJson(
  res: ServerResponse,
  record: RecordedRequest,
  status: number,
  text: string,
): void {
  record.status = status;
  if (status < 400) record.usageMetadata = usageIn(text);
  res.writeHead(status, JSON_TYPE);
  res.end(text);
}

function write(res: ServerResponse, text: string): Promise<void> {
  return new Promise((done) => {
    if (res.destroyed) done();
    else res.write(text, () => done());
  });
}

/**
 * Sends stream chunks: as SSE (`data: <json>\r\n\r\n` each) or, without `alt=sse`, as the JSON
 * array the API answers then. With `cutAfter`, the socket is destroyed after that many chunks.
 */
export async function sendEvents(
  res: ServerResponse,
  record: RecordedRequest,
  events: string[],
  how: { sse: boolean; cutAfter?: number; chunkDelayMs?: number },
): Promise<void> {
  record.status = 200;
  record.usageMetadata = usageIn(events.at(-1));
  if (!how.sse) {
    res.writeHead(200, JSON_TYPE);
    res.end(`[${events.join(',\n')}]`);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const [i, event] of events.entries()) {
    if (i === how.cutAfter) break;
    if (i > 0 && how.chunkDelayMs) await delay(how.chunkDelayMs);
    await write(res, `data: ${event}\r\n\r\n`);
  }
  if (how.cutAfter === undefined) {
    res.end();
    return;
  }
  await delay(Math.max(CUT_GRACE_MS, how.chunkDelayMs ?? 0));
  res.destroy();
}
