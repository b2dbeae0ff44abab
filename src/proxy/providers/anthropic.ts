/**
 * Anthropic's wire format (api.anthropic.com): `POST /v1/messages`, streamed or not, and
 * `/v1/messages/count_tokens` (forwarded, not billed). Streams
 * report the input and cache tokens on `message_start` and cumulative counts on
 * `message_delta`; the observer merges them as the SDK does (later values overwrite).
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
import { bearerToken, upstreamHeadersFrom, withBodyCap } from './headers.js';
import { AnswerObserver, eventType, isObject, SseLineReader } from './side-reader.js';

/** Headers of the client's request that travel upstream. */
const FORWARDED = [
  'content-type',
  'accept',
  'user-agent',
  'anthropic-version',
  'anthropic-beta',
  'anthropic-dangerous-direct-browser-access',
  'x-stainless-retry-count',
  'x-stainless-timeout',
];

/** The paths served (after `/v1`, which a client's base URL may leave out) and their operation. */
const OPERATIONS: ReadonlyMap<string, string> = new Map([
  ['/messages', 'messages'],
  ['/messages/count_tokens', 'count_tokens'],
]);

/** The error `type` Anthropic answers with, by status. */
const TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

/** The SSE events that carry usage or end the answer; the others pass unparsed. */
const USAGE_EVENTS = new Set(['message_start', 'message_delta', 'message_stop']);

function invalid(message: string): ProxyRequestError {
  return new ProxyRequestError(400, 'INVALID_ARGUMENT', message);
}

/** Reads a Messages API answer on the side, unary or streamed. */
class AnthropicObserver extends AnswerObserver {
  constructor(streamed: boolean) {
    super();
    if (streamed) this.sse = new SseLineReader((event, data) => this.event(event, data));
  }

  protected body(body: Record<string, unknown>): void {
    if (body.type === 'error') return;
    this.done = true;
    this.merge(body.usage);
    if (typeof body.model === 'string') this.modelVersion = body.model;
  }

  /** Later counts overwrite earlier ones (they are cumulative); absent or null ones do not. */
  private merge(usage: unknown): void {
    if (!isObject(usage)) return;
    const merged: Record<string, unknown> = isObject(this.raw) ? { ...this.raw } : {};
    for (const [name, value] of Object.entries(usage)) {
      if (value !== null && value !== undefined) merged[name] = value;
    }
    this.raw = merged;
  }

  private event(event: string, data: string): undefined {
    const type = eventType(event, data);
    if (!USAGE_EVENTS.has(type)) return;
    if (type === 'message_stop') {
      this.done = true;
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    if (!isObject(parsed)) return;
    if (type === 'message_start') {
      const message = parsed.message;
      if (!isObject(message)) return;
      this.merge(message.usage);
      if (typeof message.model === 'string') this.modelVersion = message.model;
    } else this.merge(parsed.usage);
  }
}

/**
 * The Anthropic Messages API adapter.
 *
 * @example
 * anthropicAdapter.match('POST', '/v1/messages');
 * // { provider: 'anthropic', operation: 'messages', version: 'v1', billable: true }
 */
export const anthropicAdapter: ProviderAdapter = {
  provider: 'anthropic',

  match(method: string, pathname: string): ProxyRoute | undefined {
    if (method !== 'POST') return undefined;
    const operation = OPERATIONS.get(pathname.startsWith('/v1/') ? pathname.slice(3) : pathname);
    if (operation === undefined) return undefined;
    return { provider: 'anthropic', operation, version: 'v1', billable: operation === 'messages' };
  },

  prepare(route: ProxyRoute, body: unknown, _search: URLSearchParams, text: string): PreparedCall {
    if (!isObject(body)) throw invalid('body: expected a JSON object');
    const model = body.model;
    if (typeof model !== 'string' || model === '') throw invalid('model: Field required');
    if (!Array.isArray(body.messages)) throw invalid('messages: Field required');
    if (!route.billable) {
      // Counting tokens is free: forwarded, never reserved or recorded.
      const estimate = { inputTokens: 0, maxOutputTokens: 0 };
      return {
        route,
        model,
        streamed: false,
        estimate,
        upstreamBody: text,
        clientWantsUsageChunk: false,
      };
    }
    const cap = body.max_tokens;
    // Anthropic requires max_tokens, so the estimate always has the request's own cap.
    if (!Number.isSafeInteger(cap) || (cap as number) < 1) {
      throw invalid(`max_tokens: expected a positive integer, got ${JSON.stringify(cap ?? null)}`);
    }
    const prompt = [body.messages, body.system];
    const tools = Array.isArray(body.tools) ? countWordTokens(JSON.stringify(body.tools)) : 0;
    return {
      route,
      model,
      streamed: body.stream === true,
      estimate: {
        inputTokens: Math.max(estimatePromptTokens(prompt), countWordTokens(prompt)) + tools,
        maxOutputTokens: cap as number,
      },
      upstreamBody: text,
      clientWantsUsageChunk: false,
    };
  },

  withModel(call: PreparedCall, model: string): PreparedCall {
    const body = JSON.parse(call.upstreamBody) as Record<string, unknown>;
    body.model = model;
    return { ...call, model, upstreamBody: JSON.stringify(body) };
  },

  withMaxOutputTokens(call: PreparedCall, tokens: number): PreparedCall {
    if (call.route.operation !== 'messages') return call;
    return withBodyCap(call, tokens, (body) => [body, 'max_tokens']);
  },

  upstreamUrl(baseUrl: string, call: PreparedCall, search: URLSearchParams): string {
    // Both `https://api.anthropic.com` and `…/v1` name the same API.
    const base = baseUrl.replace(/\/+$/, '');
    const path = call.route.operation === 'messages' ? 'messages' : 'messages/count_tokens';
    const query = search.toString();
    return `${base.endsWith('/v1') ? base : `${base}/v1`}/${path}${query === '' ? '' : `?${query}`}`;
  },

  clientKey(headers: Headers): string | undefined {
    const key = headers.get('x-api-key');
    if (key) return key;
    return bearerToken(headers);
  },

  upstreamHeaders(providerKey: string, incoming: Headers): Headers {
    return upstreamHeadersFrom(
      incoming,
      FORWARDED,
      { 'x-api-key': providerKey },
      { 'anthropic-version': '2023-06-01' },
    );
  },

  observe(call: PreparedCall): UsageObserver {
    return new AnthropicObserver(call.streamed);
  },

  normalize(raw: unknown): ReturnType<ProviderAdapter['normalize']> {
    return normalizeUsage(raw, { format: 'anthropic' });
  },

  errorAnswer(status: number, code: string, message: string): ProviderErrorAnswer {
    const type = TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
    return {
      status,
      headers: {
        'content-type': 'application/json',
        ...(code === 'BUDGET_EXCEEDED' && { 'x-should-retry': 'false' }),
      },
      body: JSON.stringify({ type: 'error', error: { type, message } }),
    };
  },
};
