import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type ChatStandInReply,
  type ChatStandInRequest,
  composeReply,
  piecesTokens,
  positiveInt,
  requestView,
  toolsOf,
  turnOf,
} from './conversation.js';
import { defaultThoughtsTokens, splitText } from './generate.js';
import {
  checkKind,
  checkOption,
  FailureQueue,
  listen,
  type ProviderRecordedRequest,
  readProviderRequest,
  replyEvents,
  replyJson,
  type StandInEvent,
} from './http.js';
import { seedOf, thoughtSummary } from './responder.js';
import { promptPieces, type TokenPiece, truncateToTokens } from './tokenizer.js';
import type { Content, StandInFailure } from './types.js';

/** Options of {@link startAnthropicStandIn}. Every field is optional. */
export interface AnthropicStandInOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind (default `127.0.0.1`). */
  host?: string;
  /** Scripts replies; return `undefined` to fall back to the built-in deterministic text. */
  respond?: (request: ChatStandInRequest) => ChatStandInReply | Promise<ChatStandInReply>;
  /**
   * Prompt caching: the prompt up to the last `cache_control` breakpoint is written to the cache
   * (`cache_creation_input_tokens`, in the 5-minute or 1-hour bucket by its `ttl`) and read back
   * by later requests with the same prefix (`cache_read_input_tokens`), when it holds at least
   * this many tokens. Default 32 (the real API needs 1024+).
   */
  cacheMinTokens?: number;
  /** How many pieces the reply text is streamed in (default 4). */
  streamChunks?: number;
  /** Pause between SSE events, in ms (default 0). */
  chunkDelayMs?: number;
  /** The `usage.service_tier` to report (default `standard`). */
  serviceTier?: string;
  /** A failure for the first request(s), as `standIn.failNext(...)`. */
  failNext?: StandInFailure;
  /** When set, requests with another key get the API's 401 `authentication_error`. */
  apiKey?: string;
}

/** A running Anthropic stand-in. Pass `baseURL` to `@anthropic-ai/sdk`; `close()` when done. */
export interface AnthropicStandIn {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Same as `url`: the value for `new Anthropic({ baseURL })`. */
  readonly baseURL: string;
  readonly port: number;
  /** Every request received, in order (cleared by `reset()`). */
  readonly requests: ProviderRecordedRequest[];
  /** Makes the next request(s) fail (default: HTTP 500 `api_error`). */
  failNext(failure?: StandInFailure): void;
  /** Back to the state right after start: requests, cache and failures cleared. */
  reset(): void;
  /** Stops the server and ends every connection. Idempotent. */
  close(): Promise<void>;
}

const WHO = 'startAnthropicStandIn';
const TYPE_OF_STATUS: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/**
 * An Anthropic error body: `{ type: 'error', error: { type, message } }`.
 *
 * @example
 * anthropicErrorBody(529, 'Overloaded'); // { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }
 */
export function anthropicErrorBody(
  status: number,
  message: string,
): { type: 'error'; error: { type: string; message: string } } {
  const type = TYPE_OF_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  return { type: 'error', error: { type, message } };
}

interface Breakpoint {
  /** Pieces before the end of the block marked with `cache_control`. */
  end: number;
  ttl: '5m' | '1h';
}

/** Counts pieces turn by turn, noting where each `cache_control` block ends. */
function piecesWithBreakpoints(body: Record<string, unknown>): {
  pieces: TokenPiece[];
  breakpoints: Breakpoint[];
  system: Content | undefined;
  turns: Content[];
} {
  const systemBlocks =
    typeof body.system === 'string' ? [{ type: 'text', text: body.system }] : body.system;
  const tools = Array.isArray(body.tools) ? body.tools : [];
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const pieces: TokenPiece[] = [];
  const breakpoints: Breakpoint[] = [];
  const mark = (block: unknown) => {
    const control = (block as { cache_control?: { ttl?: unknown } } | null)?.cache_control;
    if (control) breakpoints.push({ end: pieces.length, ttl: control.ttl === '1h' ? '1h' : '5m' });
  };
  // Anthropic's cache prefix order: tools, then system, then messages.
  for (const tool of tools) {
    pieces.push(...promptPieces({ tools: toolsOf([tool]) }));
    mark(tool);
  }
  const system = Array.isArray(systemBlocks) ? turnOf('system', systemBlocks) : undefined;
  for (const block of Array.isArray(systemBlocks) ? systemBlocks : []) {
    pieces.push(...promptPieces({ contents: [turnOf('system', [block])] }).slice(1));
    mark(block);
  }
  const turns: Content[] = [];
  for (const message of messages) {
    const m = (message ?? {}) as Record<string, unknown>;
    turns.push(turnOf(m.role, m.content));
    const blocks = Array.isArray(m.content) ? m.content : [m.content];
    pieces.push(...promptPieces({ contents: [turnOf(m.role, [])] }));
    for (const block of blocks) {
      pieces.push(...promptPieces({ contents: [turnOf(m.role, [block])] }).slice(1));
      mark(block);
    }
  }
  return { pieces, breakpoints, system, turns };
}

/**
 * Starts a local HTTP server that speaks the Anthropic Messages API: `POST /v1/messages`, unary
 * and streamed (`message_start` with the input and cache usage, `content_block_*`, `ping`,
 * `message_delta` with the cumulative usage, `message_stop`), with prompt caching by
 * `cache_control` breakpoints, deterministic replies and errors in Anthropic's shape; and
 * `POST /v1/messages/count_tokens` (`{ input_tokens }`, the same count a message reports).
 *
 * @example
 * const standIn = await startAnthropicStandIn();
 * const anthropic = new Anthropic({ apiKey: 'test', baseURL: standIn.baseURL });
 * const message = await anthropic.messages.create({
 *   model: 'claude-sonnet-4-5',
 *   max_tokens: 256,
 *   messages: [{ role: 'user', content: 'Hello' }],
 * });
 * message.usage; // { input_tokens: 2, cache_creation_input_tokens: 0, …, output_tokens: … }
 * await standIn.close();
 */
export async function startAnthropicStandIn(
  options: AnthropicStandInOptions = {},
): Promise<AnthropicStandIn> {
  checkOption(WHO, 'port', options.port, 0);
  checkOption(WHO, 'cacheMinTokens', options.cacheMinTokens, 0);
  checkOption(WHO, 'streamChunks', options.streamChunks, 1);
  checkOption(WHO, 'chunkDelayMs', options.chunkDelayMs, 0);
  checkKind(WHO, 'respond', options.respond, ['function']);
  checkKind(WHO, 'serviceTier', options.serviceTier, ['string']);
  checkKind(WHO, 'apiKey', options.apiKey, ['string']);
  const cacheMin = options.cacheMinTokens ?? 32;
  const streamChunks = options.streamChunks ?? 4;
  const cached = new Set<string>();
  const requests: ProviderRecordedRequest[] = [];
  const failures = new FailureQueue(options.failNext);
  let serial = 0;

  const reset = () => {
    requests.length = 0;
    cached.clear();
    failures.reset();
  };
  reset();

  function fail(
    res: ServerResponse,
    record: ProviderRecordedRequest,
    status: number,
    message: string,
  ) {
    if (record.source !== 'failure') record.source = 'error';
    const requestId = `req_standin${requests.length}`;
    replyJson(
      res,
      record,
      status,
      { ...anthropicErrorBody(status, message), request_id: requestId },
      {
        'request-id': requestId,
      },
    );
  }

  /** Cache read and write of a prompt: the longest breakpoint prefix already cached is read. */
  function cacheUsage(model: string, pieces: TokenPiece[], breakpoints: Breakpoint[]) {
    let read = 0;
    let readEnd = 0;
    const keys = pieces.map((piece) => piece.key);
    const prefixKey = (end: number) => `${model}\u0000${keys.slice(0, end).join('\u0001')}`;
    for (const point of breakpoints) {
      if (cached.has(prefixKey(point.end))) readEnd = point.end;
    }
    read = piecesTokens(pieces.slice(0, readEnd));
    const written = { '5m': 0, '1h': 0 };
    let writtenEnd = readEnd;
    for (const point of breakpoints) {
      if (point.end <= writtenEnd) continue;
      const tokens = piecesTokens(pieces.slice(writtenEnd, point.end));
      if (piecesTokens(pieces.slice(0, point.end)) < cacheMin) continue;
      written[point.ttl] += tokens;
      writtenEnd = point.end;
      cached.add(prefixKey(point.end));
    }
    if (read < cacheMin) read = 0;
    return { read, written, writtenEnd, readEnd };
  }

  async function messages(
    res: ServerResponse,
    record: ProviderRecordedRequest,
    body: Record<string, unknown>,
    cutAfter: number | undefined,
  ): Promise<void> {
    const maxTokens = positiveInt(body.max_tokens);
    if (maxTokens === undefined) return fail(res, record, 400, 'max_tokens: Field required');
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return fail(res, record, 400, 'messages: Field required');
    }
    const { pieces, breakpoints, system, turns } = piecesWithBreakpoints(body);
    const total = piecesTokens(pieces);
    const cache = cacheUsage(record.model, pieces, breakpoints);
    const creation = cache.written['5m'] + cache.written['1h'];
    const view = requestView(record, body, system, turns);
    // Extended thinking spends its tokens (up to budget_tokens) before the visible text.
    const thinkingConfig = body.thinking as { type?: unknown; budget_tokens?: unknown } | null;
    const budget =
      thinkingConfig?.type === 'enabled' ? positiveInt(thinkingConfig.budget_tokens) : undefined;
    if (thinkingConfig?.type === 'enabled' && (budget === undefined || budget >= maxTokens)) {
      return fail(
        res,
        record,
        400,
        'thinking.budget_tokens: must be a positive integer below max_tokens',
      );
    }
    const thinking =
      budget === undefined
        ? 0
        : Math.min(budget, defaultThoughtsTokens({ promptTokenCount: total }));
    const reply = await composeReply(view, options.respond, thinking, maxTokens);
    const thought =
      reply.reasoningTokens > 0
        ? truncateToTokens(thoughtSummary(record.model, view.promptText), reply.reasoningTokens)
            .text
        : '';
    const signature = Buffer.from(`standin:${seedOf(thought)}`).toString('base64');
    const outputTokens = reply.textTokens + reply.toolTokens + reply.reasoningTokens;
    serial += 1;
    const id = `msg_standin${seedOf(record.model, String(serial), view.promptText).toString(36)}`;
    const stopReason =
      reply.finishReason ?? (reply.toolCall ? 'tool_use' : reply.cut ? 'max_tokens' : 'end_turn');
    const input = {
      input_tokens: total - cache.read - creation,
      cache_creation_input_tokens: creation,
      cache_read_input_tokens: cache.read,
      cache_creation: {
        ephemeral_5m_input_tokens: cache.written['5m'],
        ephemeral_1h_input_tokens: cache.written['1h'],
      },
    };
    const usage = {
      ...input,
      output_tokens: outputTokens,
      ...(budget !== undefined && {
        output_tokens_details: { thinking_tokens: reply.reasoningTokens },
      }),
      service_tier: options.serviceTier ?? 'standard',
    };
    const blocks: {
      start: Record<string, unknown>;
      deltas: Record<string, unknown>[];
      whole: unknown;
    }[] = [];
    if (budget !== undefined) {
      blocks.push({
        start: { type: 'thinking', thinking: '', signature: '' },
        deltas: [
          ...splitText(thought, streamChunks).map((piece) => ({
            type: 'thinking_delta',
            thinking: piece,
          })),
          { type: 'signature_delta', signature },
        ],
        whole: { type: 'thinking', thinking: thought, signature },
      });
    }
    if (reply.text || !reply.toolCall) {
      blocks.push({
        start: { type: 'text', text: '' },
        deltas: splitText(reply.text, streamChunks).map((text) => ({ type: 'text_delta', text })),
        whole: { type: 'text', text: reply.text },
      });
    }
    if (reply.toolCall) {
      const use = { type: 'tool_use', id: `toolu_${id.slice(4)}`, name: reply.toolCall.name };
      blocks.push({
        start: { ...use, input: {} },
        deltas: splitText(JSON.stringify(reply.toolCall.arguments), streamChunks).map(
          (partial_json) => ({ type: 'input_json_delta', partial_json }),
        ),
        whole: { ...use, input: reply.toolCall.arguments },
      });
    }
    const message = (content: unknown[], state: Record<string, unknown>) => ({
      id,
      type: 'message',
      role: 'assistant',
      model: record.model,
      content,
      ...state,
    });
    if (!record.stream) {
      return replyJson(
        res,
        record,
        200,
        message(
          blocks.map((block) => block.whole),
          {
            stop_reason: stopReason,
            stop_sequence: null,
            usage,
          },
        ),
      );
    }
    const events: StandInEvent[] = [
      {
        event: 'message_start',
        data: {
          type: 'message_start',
          message: message([], {
            stop_reason: null,
            stop_sequence: null,
            usage: { ...usage, output_tokens: 1 },
          }),
        },
      },
      ...blocks.flatMap((block, index) => [
        {
          event: 'content_block_start',
          data: { type: 'content_block_start', index, content_block: block.start },
        },
        // As the API does, a ping follows the first block's start.
        ...(index === 0 ? [{ event: 'ping', data: { type: 'ping' } }] : []),
        ...block.deltas.map((delta) => ({
          event: 'content_block_delta',
          data: { type: 'content_block_delta', index, delta },
        })),
        { event: 'content_block_stop', data: { type: 'content_block_stop', index } },
      ]),
      {
        event: 'message_delta',
        data: {
          type: 'message_delta',
          delta: { stop_reason: stopReason, stop_sequence: null },
          usage: {
            input_tokens: input.input_tokens,
            cache_creation_input_tokens: input.cache_creation_input_tokens,
            cache_read_input_tokens: input.cache_read_input_tokens,
            output_tokens: outputTokens,
            ...(budget !== undefined && {
              output_tokens_details: { thinking_tokens: reply.reasoningTokens },
            }),
          },
        },
      },
      { event: 'message_stop', data: { type: 'message_stop' } },
    ];
    return replyEvents(res, record, events, {
      cutAfter,
      chunkDelayMs: options.chunkDelayMs,
      usageOf: (data) => {
        const fields = data as { message?: { usage?: unknown }; usage?: unknown };
        return fields.message?.usage ?? fields.usage;
      },
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record = await readProviderRequest(req, (path) =>
      path === '/v1/messages'
        ? 'messages'
        : path === '/v1/messages/count_tokens'
          ? 'count_tokens'
          : '',
    );
    requests.push(record);
    if (!record.operation)
      return fail(res, record, 404, `Not found: ${record.method} ${record.path}`);
    if (options.apiKey !== undefined && record.apiKey !== options.apiKey) {
      return fail(res, record, 401, 'invalid x-api-key');
    }
    const body = record.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return fail(res, record, 400, 'The request body is not valid JSON.');
    }
    if (!record.model) return fail(res, record, 400, 'model: Field required');
    const cutAfter = failures.apply(res, record, (status, message) =>
      fail(res, record, status, message),
    );
    if (cutAfter === 'answered') return;
    const fields = body as Record<string, unknown>;
    if (record.operation === 'count_tokens') {
      record.stream = false;
      if (!Array.isArray(fields.messages))
        return fail(res, record, 400, 'messages: Field required');
      const counted = piecesTokens(piecesWithBreakpoints(fields).pieces);
      return replyJson(res, record, 200, { input_tokens: counted });
    }
    return messages(res, record, fields, cutAfter);
  }

  const server = await listen(handle, options.host ?? '127.0.0.1', options.port ?? 0);
  return {
    url: server.url,
    baseURL: server.url,
    port: server.port,
    requests,
    failNext: (failure) => failures.add(failure),
    reset,
    close: server.close,
  };
}
