import { TollgateError } from '../errors.js';
import type { TokenUsage } from '../usage/types.js';

/** The wire formats the gateway speaks. */
export type ProxyProvider = 'gemini' | 'openai' | 'anthropic';

/**
 * The price catalog's provider of each wire format: records and estimates are priced under it,
 * so a model name two providers share (or one only one of them lists, such as OpenAI's embedding
 * models) is priced as the provider that served it.
 */
export const CATALOG_PROVIDER: Readonly<Record<ProxyProvider, string>> = {
  gemini: 'google',
  openai: 'openai',
  anthropic: 'anthropic',
};

/** What an adapter learned from the request line alone. */
export interface ProxyRoute {
  readonly provider: ProxyProvider;
  /**
   * The provider's operation, e.g. `generateContent`, `streamGenerateContent`, `countTokens`,
   * `chat.completions`, `responses`, `embeddings`, `messages`.
   */
  readonly operation: string;
  /** The model named in the path (Gemini); body-named models come from {@link ProviderAdapter.prepare}. */
  readonly pathModel?: string;
  /** The path's API version segment, kept when forwarding (`v1beta`, `v1`). */
  readonly version: string;
  /** Whether the call is billed (counting tokens is not). */
  readonly billable: boolean;
}

/** A request the adapter has read and is ready to forward. */
export interface PreparedCall {
  readonly route: ProxyRoute;
  readonly model: string;
  readonly streamed: boolean;
  /**
   * Local estimate used for the budget reservation before forwarding. `maxOutputTokens` is the
   * request's own output cap, or 0 when it sets none (the gateway then assumes its
   * `defaultMaxOutputTokens`).
   */
  readonly estimate: { readonly inputTokens: number; readonly maxOutputTokens: number };
  /** The body sent upstream: the client's, or rewritten (OpenAI `stream_options.include_usage`). */
  readonly upstreamBody: string;
  /** Whether the client itself asked for the usage-only chunk (OpenAI streams). */
  readonly clientWantsUsageChunk: boolean;
}

/** Usage seen in an upstream answer, streamed or not. */
export interface ObservedUsage {
  /** The provider's raw usage object (last one seen), or null when none arrived. */
  readonly raw: unknown;
  /** The model version the provider reported, when it did. */
  readonly modelVersion?: string;
  /** Whether the answer ended normally (false when cut short or aborted). */
  readonly complete: boolean;
  /**
   * True when `raw` is the adapter's estimate, not the provider's count: a stream cut before
   * the provider sent any usage (OpenAI sends it last), estimated from the prompt counted
   * locally and the output pieces that did arrive.
   */
  readonly estimated?: boolean;
}

/**
 * Reads an upstream answer on the side while its bytes pass through to the client.
 * `push` returns the bytes to send on: the same bytes, unless the adapter strips something the
 * client did not ask for (the usage-only chunk it added to an OpenAI stream).
 */
export interface UsageObserver {
  /** Reads one chunk of the answer; returns the bytes to pass on to the client. */
  push(chunk: Uint8Array): Uint8Array;
  /** The answer ended (or was cut, or abandoned): the usage seen so far. */
  finish(): ObservedUsage;
}

/** An error answer in the provider's own shape, so its SDK's error handling works. */
export interface ProviderErrorAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** One provider's wire format, as the gateway needs it. */
export interface ProviderAdapter {
  readonly provider: ProxyProvider;
  /** The route for this method and path, or undefined when this adapter does not serve it. */
  match(method: string, pathname: string): ProxyRoute | undefined;
  /**
   * Reads the parsed request body; throws a typed error for a body the provider would refuse.
   * `text` is the body exactly as received: an adapter that does not rewrite the body returns it
   * as `upstreamBody`, so pass-through bodies are never serialized again.
   */
  prepare(route: ProxyRoute, body: unknown, search: URLSearchParams, text: string): PreparedCall;
  /** The same call sent to another model (the adaptive fallback). */
  withModel(call: PreparedCall, model: string): PreparedCall;
  /**
   * The same call with its output capped at `tokens` (an adaptive budget running low): the
   * request's own cap when lower is kept; a call without output (embeddings, counting) is returned
   * as is.
   */
  withMaxOutputTokens(call: PreparedCall, tokens: number): PreparedCall;
  /** The upstream URL for a configured base URL; the client's key never travels in it. */
  upstreamUrl(baseUrl: string, call: PreparedCall, search: URLSearchParams): string;
  /** The key the client presented (`x-goog-api-key`, `?key=`, `Authorization: Bearer`, `x-api-key`). */
  clientKey(headers: Headers, search: URLSearchParams): string | undefined;
  /** Headers for the upstream request: the provider key set, the client's credentials removed. */
  upstreamHeaders(providerKey: string, incoming: Headers): Headers;
  /** A side reader for the upstream answer (a stream's events, or a unary body). */
  observe(call: PreparedCall): UsageObserver;
  /** The provider's raw usage in tollgate's form, or null when it carries none. */
  normalize(raw: unknown): TokenUsage | null;
  /** An error answer in the provider's shape (status, code, message). */
  errorAnswer(status: number, code: string, message: string): ProviderErrorAnswer;
}

const REQUEST_ERROR = Symbol.for('tollgate.error.ProxyRequestError');

/**
 * A request the gateway refuses before anything is forwarded (a body the provider would refuse,
 * missing credentials): answered with `status` in the provider's own error shape.
 *
 * @example
 * throw new ProxyRequestError(400, 'INVALID_ARGUMENT', 'contents: required');
 */
export class ProxyRequestError extends TollgateError {
  /** The HTTP status of the answer. */
  readonly status: number;
  /** The provider's error code (`INVALID_ARGUMENT`, `invalid_request_error`, …). */
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ProxyRequestError';
    this.status = status;
    this.code = code;
    Object.defineProperty(this, REQUEST_ERROR, { value: true });
  }

  /** True for a `ProxyRequestError` from this copy of tollgate or another. */
  static override isInstance(value: unknown): value is ProxyRequestError {
    return typeof value === 'object' && value !== null && REQUEST_ERROR in value;
  }
}
