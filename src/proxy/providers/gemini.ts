/**
 * The Gemini API's wire format (generativelanguage.googleapis.com): `generateContent`,
 * `streamGenerateContent` (SSE with `alt=sse`, else a JSON array) and `countTokens`, under `/v1`
 * and `/v1beta`. The model is in the path, so the body is forwarded exactly as received.
 */
import { countWordTokens, estimatePromptTokens } from '../../react/budgets/estimate.js';
import { normalizeUsage } from '../../usage/normalize.js';
import {
  type ObservedUsage,
  type PreparedCall,
  type ProviderAdapter,
  type ProviderErrorAnswer,
  ProxyRequestError,
  type ProxyRoute,
  type UsageObserver,
} from '../provider.js';
import { SseReader } from '../sse.js';
import { bearerToken, upstreamHeadersFrom, withBodyCap } from './headers.js';
import { isObject } from './side-reader.js';

const PATH =
  /^\/(v1|v1beta|v1alpha)\/models\/([^/:]+):(generateContent|streamGenerateContent|countTokens)$/;

/** Google's `status` names for the HTTP statuses the gateway answers with. */
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  402: 'RESOURCE_EXHAUSTED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** Headers of the client's request that travel upstream (the rest, credentials first, do not). */
const FORWARDED = ['content-type', 'user-agent', 'x-goog-api-client', 'accept'];

/** The output cap a Gemini request sets (`generationConfig.maxOutputTokens`), else 0. */
function outputCap(config: unknown): number {
  if (!isObject(config)) return 0;
  const cap = config.maxOutputTokens ?? config.max_output_tokens;
  if (cap === undefined || cap === null) return 0;
  if (!Number.isSafeInteger(cap) || (cap as number) < 1) {
    throw new ProxyRequestError(
      400,
      'INVALID_ARGUMENT',
      `generationConfig.maxOutputTokens: expected a positive integer, got ${JSON.stringify(cap)}`,
    );
  }
  return cap as number;
}

/** The prompt as the local estimate reads it: contents, system instruction and tools. */
function promptTokens(body: Record<string, unknown>): number {
  const prompt = [body.contents, body.systemInstruction ?? body.system_instruction, body.tools];
  return Math.max(estimatePromptTokens(prompt), countWordTokens(prompt));
}

/**
 * Reads a Gemini answer on the side: the last `usageMetadata` seen. A stream is SSE with
 * `alt=sse`, else one JSON array; which one is told by the answer's first byte.
 */
/**
 * The whole objects at the top of a JSON array cut short (`[{…},{…},{"cand`): the array up to
 * the end of its last complete element, parsed. Empty when none is complete.
 */
export function wholeElements(text: string): unknown[] {
  const start = text.indexOf('[');
  if (start < 0) return [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let lastEnd = -1;
  for (let i = start; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (code === 92)
        escaped = true; // backslash
      else if (code === 34) inString = false;
    } else if (code === 34) inString = true;
    else if (code === 123 || code === 91) depth++;
    else if (code === 125 || code === 93) {
      depth--;
      if (depth === 1 && code === 125) lastEnd = i + 1;
      if (depth <= 0) break;
    }
  }
  if (lastEnd < 0) return [];
  try {
    const parsed: unknown = JSON.parse(`${text.slice(start, lastEnd)}]`);
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

class GeminiObserver implements UsageObserver {
  private raw: unknown = null;
  private modelVersion: string | undefined;
  private finished = false;
  private sse: SseReader | undefined;
  private chunks: Uint8Array[] | undefined;

  constructor(private readonly streamed: boolean) {}

  push(chunk: Uint8Array): Uint8Array {
    if (this.sse) this.sse.push(chunk);
    else if (this.chunks) this.chunks.push(chunk);
    else this.start(chunk);
    return chunk;
  }

  /** The first chunk: a JSON body (`{` or `[` first), or server-sent events. */
  private start(chunk: Uint8Array): void {
    let i = 0;
    while (
      i < chunk.length &&
      (chunk[i] === 32 || chunk[i] === 10 || chunk[i] === 13 || chunk[i] === 9)
    )
      i++;
    if (i === chunk.length) {
      // Only whitespace so far: decide on a later chunk.
      if (this.streamed) return;
    }
    const first = chunk[i];
    if (this.streamed && first !== 123 && first !== 91) {
      this.sse = new SseReader((data) => this.event(data));
      this.sse.push(chunk);
    } else {
      this.chunks = [chunk];
    }
  }

  finish(): ObservedUsage {
    if (this.sse) this.sse.end();
    else if (this.chunks && this.chunks.length > 0) {
      const text =
        this.chunks.length === 1
          ? Buffer.from(this.chunks[0] as Uint8Array).toString('utf8')
          : Buffer.concat(this.chunks).toString('utf8');
      this.chunks.length = 0;
      this.body(text);
    }
    return {
      raw: this.raw,
      ...(this.modelVersion !== undefined && { modelVersion: this.modelVersion }),
      complete: this.finished,
    };
  }

  /**
   * A whole unary body: one response object, or the JSON array of a stream without SSE. A
   * stream cut short leaves an array without its end: its whole elements still count.
   */
  private body(text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      if (this.streamed) for (const response of wholeElements(text)) this.response(response);
      return;
    }
    for (const response of Array.isArray(parsed) ? parsed : [parsed]) this.response(response);
  }

  private event(data: string): void {
    // Only chunks that carry usage (or end the answer) are worth a parse.
    if (!data.includes('"usageMetadata"') && !data.includes('"finishReason"')) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    this.response(parsed);
  }

  private response(response: unknown): void {
    if (!isObject(response)) return;
    // Gemini API values are running totals; Vertex middle chunks carry only `trafficType`.
    const usage = response.usageMetadata;
    if (
      isObject(usage) &&
      (this.raw === null || 'promptTokenCount' in usage || 'totalTokenCount' in usage)
    ) {
      this.raw = usage;
    }
    if (typeof response.modelVersion === 'string') this.modelVersion = response.modelVersion;
    const candidates = response.candidates;
    if (Array.isArray(candidates) && candidates.some((c) => isObject(c) && c.finishReason)) {
      this.finished = true;
    }
    // A prompt blocked before any candidate also ends the answer.
    if (isObject(response.promptFeedback) && response.promptFeedback.blockReason) {
      this.finished = true;
    }
  }
}

/**
 * The Gemini API adapter.
 *
 * @example
 * geminiAdapter.match('POST', '/v1beta/models/gemini-2.5-flash:generateContent');
 * // { provider: 'gemini', operation: 'generateContent', pathModel: 'gemini-2.5-flash', version: 'v1beta', billable: true }
 */
export const geminiAdapter: ProviderAdapter = {
  provider: 'gemini',

  match(method: string, pathname: string): ProxyRoute | undefined {
    if (method !== 'POST') return undefined;
    const found = PATH.exec(pathname);
    if (!found) return undefined;
    const operation = found[3] as string;
    let model: string;
    try {
      model = decodeURIComponent(found[2] as string);
    } catch {
      return undefined;
    }
    if (model === '') return undefined;
    return {
      provider: 'gemini',
      operation,
      pathModel: model,
      version: found[1] as string,
      billable: operation !== 'countTokens',
    };
  },

  prepare(route: ProxyRoute, body: unknown, _search: URLSearchParams, text: string): PreparedCall {
    if (!isObject(body)) {
      throw new ProxyRequestError(400, 'INVALID_ARGUMENT', 'body: expected a JSON object');
    }
    const model = route.pathModel as string;
    if (!route.billable) {
      return {
        route,
        model,
        streamed: false,
        estimate: { inputTokens: 0, maxOutputTokens: 0 },
        upstreamBody: text,
        clientWantsUsageChunk: false,
      };
    }
    if (body.contents === undefined) {
      throw new ProxyRequestError(400, 'INVALID_ARGUMENT', 'contents: required');
    }
    return {
      route,
      model,
      streamed: route.operation === 'streamGenerateContent',
      estimate: {
        inputTokens: promptTokens(body),
        maxOutputTokens: outputCap(body.generationConfig ?? body.generation_config),
      },
      upstreamBody: text,
      clientWantsUsageChunk: false,
    };
  },

  withModel(call: PreparedCall, model: string): PreparedCall {
    const name = model.startsWith('models/') ? model.slice(7) : model;
    return { ...call, model: name, route: { ...call.route, pathModel: name } };
  },

  withMaxOutputTokens(call: PreparedCall, tokens: number): PreparedCall {
    if (!call.route.billable) return call;
    return withBodyCap(call, tokens, (body) => {
      const config = isObject(body.generationConfig) ? { ...body.generationConfig } : {};
      body.generationConfig = config;
      return [config, 'maxOutputTokens'];
    });
  },

  upstreamUrl(baseUrl: string, call: PreparedCall, search: URLSearchParams): string {
    const { version, operation } = call.route;
    let url = `${baseUrl}/${version}/models/${encodeURIComponent(call.model)}:${operation}`;
    let query = '';
    for (const [name, value] of search) {
      // The client's key never travels; the gateway's goes in a header.
      if (name === 'key') continue;
      query += `${query === '' ? '?' : '&'}${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
    }
    url += query;
    return url;
  },

  clientKey(headers: Headers, search: URLSearchParams): string | undefined {
    const header = headers.get('x-goog-api-key');
    if (header) return header;
    const query = search.get('key');
    if (query) return query;
    return bearerToken(headers);
  },

  upstreamHeaders(providerKey: string, incoming: Headers): Headers {
    return upstreamHeadersFrom(incoming, FORWARDED, { 'x-goog-api-key': providerKey });
  },

  observe(call: PreparedCall): UsageObserver {
    return new GeminiObserver(call.streamed);
  },

  normalize(raw: unknown): ReturnType<ProviderAdapter['normalize']> {
    return normalizeUsage(raw, { format: 'gemini' });
  },

  errorAnswer(status: number, code: string, message: string): ProviderErrorAnswer {
    const body = JSON.stringify({
      error: {
        code: status,
        message,
        status: STATUS_NAMES[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'),
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: code,
            domain: 'tollgate',
          },
        ],
      },
    });
    return { status, headers: { 'content-type': 'application/json; charset=UTF-8' }, body };
  },
};
