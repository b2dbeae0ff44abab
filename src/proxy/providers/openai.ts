/**
 * OpenAI's wire format (api.openai.com): `POST /v1/chat/completions` (streamed too),
 * `/v1/responses` (streamed too) and `/v1/embeddings`. A streamed chat completion without
 * `stream_options.include_usage` gets it upstream, and the usage-only chunk that then arrives is
 * kept from the client, so every stream is counted and the client sees what it asked for.
 */
import { countWordTokens, estimatePromptTokens } from '../../react/budgets/estimate.js';
import { normalizeUsage } from '../../usage/normalize.js';
import {
  type PreparedCall,
  type ProviderAdapter,
  type ProviderErrorAnswer,
  ProxyRequestError,
  type ProxyRoute,
  type UsageObserver,
} from '../provider.js';
import { bearerToken, withBodyCap } from './headers.js';
import { AnswerObserver, eventType, isObject, SseLineReader } from './side-reader.js';

const OPERATIONS: ReadonlyMap<string, string> = new Map([
  ['chat/completions', 'chat.completions'],
  ['responses', 'responses'],
  ['embeddings', 'embeddings'],
]);

/** Headers of the client's request that never travel upstream (credentials first). */
const DROPPED = new Set([
  'authorization',
  'api-key',
  'x-api-key',
  'x-goog-api-key',
  'openai-organization',
  'openai-project',
  'cookie',
  'host',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
  'accept-encoding',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
  'expect',
]);

/** The error `type` OpenAI answers with, by status. */
const TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'invalid_request_error',
  402: 'insufficient_quota',
  403: 'permission_error',
  404: 'invalid_request_error',
  413: 'invalid_request_error',
  429: 'requests',
};

/** The gateway's refusal codes as OpenAI spells them (`code`, and `type` where it differs). */
const CODES: ReadonlyMap<string, { code: string | null; type?: string }> = new Map([
  ['API_KEY_INVALID', { code: 'invalid_api_key' }],
  ['CREDENTIALS_MISSING', { code: 'missing_api_key' }],
  ['INVALID_ARGUMENT', { code: null }],
  ['BUDGET_EXCEEDED', { code: 'insufficient_quota', type: 'insufficient_quota' }],
  ['RATE_LIMITED', { code: 'rate_limit_exceeded' }],
  ['NOT_FOUND', { code: 'unknown_url' }],
]);

/** A header the OpenAI and Anthropic SDKs read: never retry a spent budget. */
const NO_RETRY = { 'x-should-retry': 'false' };

/** Where a JSON `"usage"` key holds an object (not `null`): only those chunks are parsed. */
const USAGE_OBJECT = /"usage"\s*:\s*\{/;

function invalid(message: string): ProxyRequestError {
  return new ProxyRequestError(400, 'INVALID_ARGUMENT', message);
}

/** The output cap a request sets in the first of `fields` present, else 0. */
function outputCap(body: Record<string, unknown>, fields: readonly string[]): number {
  for (const field of fields) {
    const cap = body[field];
    if (cap === undefined || cap === null) continue;
    if (!Number.isSafeInteger(cap) || (cap as number) < 1) {
      throw invalid(`${field}: expected a positive integer, got ${JSON.stringify(cap)}`);
    }
    return cap as number;
  }
  return 0;
}

/** Local prompt estimate: the larger of the 4-characters rule and the word rule. */
function promptTokens(prompt: unknown[], tools: unknown): number {
  const text = Math.max(estimatePromptTokens(prompt), countWordTokens(prompt));
  return tools === undefined || tools === null
    ? text
    : text + countWordTokens(JSON.stringify(tools));
}

/** Tokens of an embeddings input: text by the estimate rules, token-id arrays by their length. */
function embeddingTokens(input: unknown): number {
  const items = Array.isArray(input) && typeof input[0] !== 'number' ? input : [input];
  let total = 0;
  for (const item of items) {
    total += Array.isArray(item) ? item.length : promptTokens([item], undefined);
  }
  return total;
}

/** OpenAI reports `service_tier` on the response; it joins the usage so pricing sees it. */
function usageWithTier(usage: unknown, tier: unknown): unknown {
  if (!isObject(usage) || typeof tier !== 'string' || usage.service_tier !== undefined)
    return usage;
  return { ...usage, service_tier: tier };
}

/**
 * Reads an OpenAI answer on the side: a unary body, a chat completions stream (dropping the
 * usage-only chunk the client did not ask for) or a Responses API stream.
 */
class OpenAIObserver extends AnswerObserver {
  /** Output pieces streamed so far: chat chunks with a delta, Responses `*.delta` events. */
  private pieces = 0;

  constructor(private readonly call: PreparedCall) {
    super();
    if (!call.streamed) return;
    if (call.route.operation === 'responses') {
      this.sse = new SseLineReader((event, data) => this.responsesEvent(event, data));
    } else {
      this.sse = new SseLineReader(
        (_event, data) => this.chatEvent(data),
        !call.clientWantsUsageChunk,
      );
    }
  }

  protected body(body: Record<string, unknown>): void {
    this.done = true;
    this.take(body.usage, body.service_tier, body.model);
  }

  /**
   * OpenAI sends a stream's usage last: a stream cut before it (the client left, the upstream
   * broke off) is estimated, as OpenAI still bills it: the prompt as counted locally, and about
   * one output token per piece that arrived (OpenAI streams a token or so per chunk).
   */
  protected override estimateCut(): unknown {
    if (!this.call.streamed || this.pieces === 0) return null;
    const input = this.call.estimate.inputTokens;
    return this.call.route.operation === 'responses'
      ? { input_tokens: input, output_tokens: this.pieces, total_tokens: input + this.pieces }
      : {
          prompt_tokens: input,
          completion_tokens: this.pieces,
          total_tokens: input + this.pieces,
        };
  }

  private take(usage: unknown, tier: unknown, model: unknown): void {
    if (isObject(usage)) this.raw = usageWithTier(usage, tier);
    if (typeof model === 'string' && model !== '') this.modelVersion = model;
  }

  /** One chat completions chunk; true drops it (the usage-only chunk the client did not ask for). */
  private chatEvent(data: string): boolean {
    if (data === '[DONE]') {
      this.done = true;
      return false;
    }
    if (data.includes('"delta"')) this.pieces += 1;
    // Only the first chunk (the model) and a chunk with a usage object are worth a parse.
    if (this.modelVersion !== undefined && !USAGE_OBJECT.test(data)) return false;
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      return false;
    }
    if (!isObject(chunk)) return false;
    this.take(chunk.usage, chunk.service_tier, chunk.model);
    // Compatible servers may leave `choices` out of the usage-only chunk altogether.
    const choices = chunk.choices;
    const usageOnly =
      isObject(chunk.usage) &&
      (choices === undefined || (Array.isArray(choices) && choices.length === 0));
    return usageOnly && !this.call.clientWantsUsageChunk;
  }

  /** One Responses API event: the model from `response.created`, usage from the last one. */
  private responsesEvent(event: string, data: string): undefined {
    const type = eventType(event, data);
    if (type.endsWith('.delta')) this.pieces += 1;
    const final =
      type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed';
    if (!final && (type !== 'response.created' || this.modelVersion !== undefined)) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    const response = isObject(parsed) ? parsed.response : undefined;
    if (!isObject(response)) return;
    this.take(response.usage, response.service_tier, response.model);
    if (type !== 'response.failed' && final) this.done = true;
  }
}

/**
 * The body asking for stream usage. When it has no `stream_options` (the common case), the field
 * goes in front of the client's own bytes, which stay as sent; otherwise the body is rewritten.
 */
function withStreamUsage(text: string, body: Record<string, unknown>): string {
  const options = body.stream_options;
  if (options === undefined) {
    const open = text.indexOf('{');
    const rest = text.slice(open + 1);
    const empty = rest.trimStart().startsWith('}');
    return `${text.slice(0, open + 1)}"stream_options":{"include_usage":true}${empty ? '' : ','}${rest}`;
  }
  return withField(text, 'stream_options', {
    ...(isObject(options) ? options : {}),
    include_usage: true,
  });
}

/** The body with a JSON field set, the rest as the client sent it. */
function withField(text: string, name: string, value: unknown): string {
  const body = JSON.parse(text) as Record<string, unknown>;
  body[name] = value;
  return JSON.stringify(body);
}

/**
 * The OpenAI API adapter.
 *
 * @example
 * openaiAdapter.match('POST', '/v1/chat/completions');
 * // { provider: 'openai', operation: 'chat.completions', version: 'v1', billable: true }
 */
export const openaiAdapter: ProviderAdapter = {
  provider: 'openai',

  match(method: string, pathname: string): ProxyRoute | undefined {
    if (method !== 'POST') return undefined;
    // `/v1/…` as the SDKs send it; without `/v1` for a client whose base URL omits it.
    const versioned = pathname.startsWith('/v1/');
    const operation = OPERATIONS.get(pathname.slice(versioned ? 4 : 1));
    if (operation === undefined) return undefined;
    return { provider: 'openai', operation, version: 'v1', billable: true };
  },

  prepare(route: ProxyRoute, body: unknown, _search: URLSearchParams, text: string): PreparedCall {
    if (!isObject(body)) throw invalid('body: expected a JSON object');
    const model = body.model;
    if (typeof model !== 'string' || model === '') {
      throw invalid('model: you must provide a model parameter');
    }
    const { operation } = route;
    if (operation === 'embeddings') {
      if (body.input === undefined || body.input === null) throw invalid('input: required');
      return {
        route,
        model,
        streamed: false,
        estimate: { inputTokens: embeddingTokens(body.input), maxOutputTokens: 0 },
        upstreamBody: text,
        clientWantsUsageChunk: false,
      };
    }
    const streamed = body.stream === true;
    if (operation === 'responses') {
      if (body.input === undefined && body.previous_response_id === undefined) {
        throw invalid('input: required');
      }
      return {
        route,
        model,
        streamed,
        estimate: {
          inputTokens: promptTokens([body.input, body.instructions], body.tools),
          maxOutputTokens: outputCap(body, ['max_output_tokens']),
        },
        upstreamBody: text,
        clientWantsUsageChunk: false,
      };
    }
    if (!Array.isArray(body.messages)) throw invalid('messages: required');
    const options = body.stream_options;
    if (options !== undefined && options !== null && !isObject(options)) {
      throw invalid('stream_options: expected an object');
    }
    const wants = isObject(options) && options.include_usage === true;
    const choices = body.n ?? 1;
    if (!Number.isSafeInteger(choices) || (choices as number) < 1 || (choices as number) > 128) {
      throw invalid(`n: expected an integer from 1 to 128, got ${JSON.stringify(body.n)}`);
    }
    return {
      route,
      model,
      streamed,
      estimate: {
        inputTokens: promptTokens([body.messages], body.tools ?? body.functions),
        maxOutputTokens: Math.min(
          outputCap(body, ['max_completion_tokens', 'max_tokens']) * (choices as number),
          Number.MAX_SAFE_INTEGER,
        ),
      },
      upstreamBody: streamed && !wants ? withStreamUsage(text, body) : text,
      clientWantsUsageChunk: wants,
    };
  },

  withModel(call: PreparedCall, model: string): PreparedCall {
    return { ...call, model, upstreamBody: withField(call.upstreamBody, 'model', model) };
  },

  withMaxOutputTokens(call: PreparedCall, tokens: number): PreparedCall {
    const { operation } = call.route;
    if (operation === 'responses')
      return withBodyCap(call, tokens, (b) => [b, 'max_output_tokens']);
    if (operation !== 'chat.completions') return call;
    // The field the client used; else the current one (`max_tokens` is deprecated for chat).
    return withBodyCap(call, tokens, (b) => [
      b,
      b.max_completion_tokens === undefined && b.max_tokens !== undefined
        ? 'max_tokens'
        : 'max_completion_tokens',
    ]);
  },

  upstreamUrl(baseUrl: string, call: PreparedCall, search: URLSearchParams): string {
    // Both `https://api.openai.com` and `https://api.openai.com/v1` name the same API.
    const base = baseUrl.replace(/\/+$/, '');
    const root = base.endsWith('/v1') ? base : `${base}/v1`;
    const path =
      call.route.operation === 'chat.completions' ? 'chat/completions' : call.route.operation;
    const query = search.toString();
    return `${root}/${path}${query === '' ? '' : `?${query}`}`;
  },

  clientKey(headers: Headers): string | undefined {
    return bearerToken(headers) ?? (headers.get('api-key') || undefined);
  },

  upstreamHeaders(providerKey: string, incoming: Headers): Headers {
    const headers = new Headers();
    incoming.forEach((value, name) => {
      if (!DROPPED.has(name) && !name.startsWith('x-tollgate-')) headers.set(name, value);
    });
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    headers.set('authorization', `Bearer ${providerKey}`);
    return headers;
  },

  observe(call: PreparedCall): UsageObserver {
    return new OpenAIObserver(call);
  },

  normalize(raw: unknown): ReturnType<ProviderAdapter['normalize']> {
    return normalizeUsage(raw, { format: 'openai' });
  },

  errorAnswer(status: number, code: string, message: string): ProviderErrorAnswer {
    const known = CODES.get(code);
    const type =
      known?.type ?? TYPES[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
    const error = { message, type, param: null, code: known ? known.code : code.toLowerCase() };
    return {
      status,
      headers: {
        'content-type': 'application/json',
        ...(code === 'BUDGET_EXCEEDED' && NO_RETRY),
      },
      body: JSON.stringify({ error }),
    };
  },
};
