/**
 * What the gateway's core reads and answers, free of any HTTP library: the fetch-style handler
 * and the node:http server each translate their own request into a `ProxyInput`, and the
 * `ProxyAnswer` back. The node server thus skips building a fetch `Request`, an `AbortSignal`
 * and a web stream per call.
 */
import { readRequestText } from './body.js';

/** A request as the core reads it. */
export interface ProxyInput {
  readonly method: string;
  /** The path and query, e.g. `/v1beta/models/gemini-2.5-flash:generateContent?alt=sse`. */
  readonly target: string;
  readonly headers: Headers;
  /** The whole body as text, or a `ProxyRequestError` (413) past `max` bytes. */
  text(max: number): Promise<string>;
  /** Calls `listener` once if the client goes away before its answer ends. */
  onAbort(listener: () => void): void;
  /** Whether the client has gone away. */
  readonly aborted: boolean;
}

/** An answer body read chunk by chunk: `null` at its end; a rejection when it was cut short. */
export interface ProxyBody {
  read(): Promise<Uint8Array | null>;
  /** The client left: stop reading (and abort the upstream call). */
  cancel(): void;
}

/** The core's answer: a whole body (text or bytes), or one that streams. */
export interface ProxyAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string | Uint8Array | ProxyBody;
}

/** Whether an answer's body streams (else it is whole). */
export function streams(body: ProxyAnswer['body']): body is ProxyBody {
  return typeof body === 'object' && !(body instanceof Uint8Array);
}

/** A `ProxyInput` of a fetch `Request`. */
export function inputOfRequest(request: Request): ProxyInput {
  const url = request.url;
  const pathStart = url.indexOf('/', url.indexOf('//') + 2);
  const signal = request.signal;
  return {
    method: request.method,
    target: pathStart === -1 ? '/' : url.slice(pathStart),
    headers: request.headers,
    text: (max) => readRequestText(request, max),
    onAbort(listener) {
      signal.addEventListener('abort', listener, { once: true });
    },
    get aborted() {
      return signal.aborted;
    },
  };
}

/** The fetch `Response` of an answer; a streaming body becomes a web stream read on demand. */
export function responseOf(answer: ProxyAnswer): Response {
  const { body } = answer;
  if (!streams(body)) {
    const whole = typeof body === 'string' ? body : new Uint8Array(body);
    return new Response(whole, { status: answer.status, headers: answer.headers });
  }
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const chunk = await body.read();
          if (chunk === null) controller.close();
          else controller.enqueue(chunk);
        } catch (error) {
          controller.error(error);
        }
      },
      cancel() {
        body.cancel();
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(stream, { status: answer.status, headers: answer.headers });
}
