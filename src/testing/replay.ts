import { readFileSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import type { ReplaySource } from './types.js';

/**
 * A recorded response, ready to serve: a JSON body (unary, or an error with its status) or the
 * `data:` payloads of an SSE stream, verbatim.
 */
export type RecordedResponse =
  | { kind: 'json'; status: number; text: string; body: unknown; file?: string }
  | { kind: 'sse'; status: number; events: string[]; file?: string };

/**
 * Reads a recorded response file.
 *
 * - Content starting with `data:` is SSE: events are separated by a blank line (`\n\n` or
 *   `\r\n\r\n`), and each event's `data:` lines (joined by `\n`) are one payload, kept verbatim.
 * - Anything else is a JSON body served as is.
 * - Status: `status` if given, else `.statusNNN.` in the file name, else the body's numeric
 *   `error.code` (Google error bodies), else 200.
 *
 * @example
 * const rec = loadRecordedResponse('fixtures/gemini/generative-ai-js/unary-success-search-grounding.json');
 * rec.kind; // 'json'
 */
export function loadRecordedResponse(path: string, status?: number): RecordedResponse {
  const text = readFileSync(path, 'utf8');
  const fromName = /\.status(\d{3})\./.exec(basename(path))?.[1];
  const named = fromName === undefined ? undefined : Number(fromName);
  if (text.trimStart().startsWith('data:')) {
    return { kind: 'sse', status: status ?? named ?? 200, events: sseEvents(text), file: path };
  }
  const body = parseJson(text);
  return {
    kind: 'json',
    status: status ?? named ?? errorCode(body) ?? 200,
    text,
    body,
    file: path,
  };
}

/**
 * Splits an SSE text into its `data:` payloads.
 *
 * @example
 * sseEvents('data: {"a":1}\r\n\r\ndata: {"a":2}\r\n\r\n'); // ['{"a":1}', '{"a":2}']
 */
export function sseEvents(text: string): string[] {
  const events: string[] = [];
  for (const block of text.split(/\r?\n\r?\n|\r\r/)) {
    const data = block
      .split(/\r?\n|\r/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''));
    if (data.length > 0) events.push(data.join('\n'));
  }
  return events;
}

/** Turns a replay option entry into a response to serve (files resolved against `dir`). */
export function toRecordedResponse(source: ReplaySource, dir?: string): RecordedResponse {
  const at = (file: string) => (isAbsolute(file) || !dir ? resolve(file) : resolve(dir, file));
  if (typeof source === 'string') return loadRecordedResponse(at(source));
  if ('file' in source) return loadRecordedResponse(at(source.file), source.status);
  if ('chunks' in source) {
    const events = source.chunks.map((chunk) => JSON.stringify(chunk));
    return { kind: 'sse', status: source.status ?? 200, events };
  }
  const text = JSON.stringify(source.body);
  return {
    kind: 'json',
    status: source.status ?? errorCode(source.body) ?? 200,
    text,
    body: source.body,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorCode(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const error = (body as { error: unknown }).error;
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === 'number' && code >= 400 && code < 600 ? code : undefined;
}
