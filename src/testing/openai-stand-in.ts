import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type ChatStandInReply,
  type ChatStandInRequest,
  type ComposedReply,
  composeReply,
  piecesTokens,
  positiveInt,
  requestView,
  toolsOf,
  turnOf,
} from './conversation.js';
import { defaultThoughtsTokens, PrefixCache, splitText } from './generate.js';
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
import { seededRandom, seedOf } from './responder.js';
import { countTextTokens, promptPieces } from './tokenizer.js';
import type { Content, StandInFailure } from './types.js';

/** Options of {@link startOpenAIStandIn}. Every field is optional. */
export interface OpenAIStandInOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind (default `127.0.0.1`). */
  host?: string;
  /** Scripts replies; return `undefined` to fall back to the built-in deterministic text. */
  respond?: (request: ChatStandInRequest) => ChatStandInReply | Promise<ChatStandInReply>;
  /**
   * Which models reason (report `reasoning_tokens`). Default: o-series and GPT-5 models
   * (`o1`, `o3-mini`, `o4-mini`, `gpt-5`, …). `reasoning_effort: 'none'` turns it off.
   */
  reasoning?: boolean | RegExp | ((model: string) => boolean);
  /** Reasoning tokens of a reasoning model; default `16 + ceil(prompt_tokens / 2)`. */
  reasoningTokens?: (info: { model: string; promptTokenCount: number }) => number;
  /**
   * Prompt caching: a prompt sharing a prefix of at least this many tokens with an earlier one to
   * the same model reports it as `cached_tokens`. Default 32 (the real API needs 1024+).
   */
  cacheMinTokens?: number;
  /** Set false to never report cached tokens. Default true. */
  promptCache?: boolean;
  /** How many pieces the reply text is streamed in (default 4). */
  streamChunks?: number;
  /** Pause between SSE events, in ms (default 0). */
  chunkDelayMs?: number;
  /**
   * The `service_tier` to report, or a function of the request. Default: the request's
   * `service_tier` when it is `flex`, `priority` or `scale`, else `default`.
   */
  serviceTier?: string | ((request: ChatStandInRequest) => string);
  /** A failure for the first request(s), as `standIn.failNext(...)`. */
  failNext?: StandInFailure;
  /** When set, requests with another key get the API's 401 `invalid_api_key`. */
  apiKey?: string;
}

/** A running OpenAI stand-in. Pass `baseURL` to the `openai` SDK; call `close()` when done. */
export interface OpenAIStandIn {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** `http://127.0.0.1:<port>/v1`: the value for `new OpenAI({ baseURL })`. */
  readonly baseURL: string;
  readonly port: number;
  /** Every request received, in order (cleared by `reset()`). */
  readonly requests: ProviderRecordedRequest[];
  /** Makes the next request(s) fail (default: HTTP 500). */
  failNext(failure?: StandInFailure): void;
  /** Back to the state right after start: requests, cache and failures cleared. */
  reset(): void;
  /** Stops the server and ends every connection. Idempotent. */
  close(): Promise<void>;
}

const WHO = 'startOpenAIStandIn';
const REASONING_MODEL = /^(?:o\d|gpt-5)/i;
const OPERATIONS: Readonly<Record<string, string>> = {
  '/v1/chat/completions': 'chat.completions',
  '/v1/responses': 'responses',
  '/v1/embeddings': 'embeddings',
};
const TYPE_OF_STATUS: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'invalid_request_error',
  403: 'permission_error',
  404: 'invalid_request_error',
  429: 'rate_limit_exceeded',
};

/**
 * An OpenAI error body: `{ error: { message, type, param, code } }`.
 *
 * @example
 * openAIErrorBody(429, 'Rate limit reached'); // { error: { message: 'Rate limit reached', type: 'rate_limit_exceeded', param: null, code: 'rate_limit_exceeded' } }
 */
export function openAIErrorBody(
  status: number,
  message: string,
  code?: string,
): { error: { message: string; type: string; param: null; code: string | null } } {
  const type = TYPE_OF_STATUS[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
  return { error: { message, type, param: null, code: code ?? (status === 429 ? type : null) } };
}

function ruleOf(option: OpenAIStandInOptions['reasoning']): (model: string) => boolean {
  if (option === undefined) return (model) => REASONING_MODEL.test(model);
  if (typeof option === 'boolean') return () => option;
  if (option instanceof RegExp) {
    const re = new RegExp(option.source, option.flags.replace(/[gy]/g, ''));
    return (model) => re.test(model);
  }
  return option;
}

/** The prompt of a chat completions or responses body as Gemini-style turns. */
function promptOf(
  operation: string,
  body: Record<string, unknown>,
): { system: Content | undefined; turns: Content[] } {
  if (operation === 'chat.completions') {
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const turns = messages.map((message) => {
      const m = (message ?? {}) as Record<string, unknown>;
      const turn = turnOf(m.role, m.content);
      if (m.tool_calls !== undefined) turn.parts?.push({ toolCalls: m.tool_calls });
      return turn;
    });
    return { system: undefined, turns };
  }
  const input = body.input;
  const items = typeof input === 'string' ? [{ role: 'user', content: input }] : input;
  const turns = (Array.isArray(items) ? items : []).map((item) => {
    const i = (item ?? {}) as Record<string, unknown>;
    return i.content === undefined ? turnOf('user', [i]) : turnOf(i.role, i.content);
  });
  const system =
    typeof body.instructions === 'string' ? turnOf('system', body.instructions) : undefined;
  return { system, turns };
}

/** A deterministic unit vector of `dimensions` floats for an input. */
function embeddingOf(model: string, input: string, dimensions: number): number[] {
  const next = seededRandom(seedOf('embedding', model, input));
  const vector = Array.from({ length: dimensions }, () => next() * 2 - 1);
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => Math.fround(value / norm));
}

function base64Floats(vector: readonly number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

/**
 * Starts a local HTTP server that speaks the OpenAI API: `POST /v1/chat/completions` (unary and
 * streamed, with the usage-only final chunk exactly when `stream_options.include_usage` asks),
 * `/v1/responses` (unary and streamed, usage on `response.completed`) and `/v1/embeddings`
 * (float or base64). Deterministic replies, realistic usage (`cached_tokens`,
 * `reasoning_tokens`), errors in OpenAI's shape. Prompts are counted by the Gemini stand-in's
 * documented word rule.
 *
 * @example
 * const standIn = await startOpenAIStandIn();
 * const openai = new OpenAI({ apiKey: 'test', baseURL: standIn.baseURL });
 * const reply = await openai.chat.completions.create({
 *   model: 'gpt-4o-mini',
 *   messages: [{ role: 'user', content: 'Hello' }],
 * });
 * reply.usage; // { prompt_tokens: 2, completion_tokens: …, total_tokens: …, … }
 * await standIn.close();
 */
export async function startOpenAIStandIn(
  options: OpenAIStandInOptions = {},
): Promise<OpenAIStandIn> {
  checkOption(WHO, 'port', options.port, 0);
  checkOption(WHO, 'cacheMinTokens', options.cacheMinTokens, 0);
  checkOption(WHO, 'streamChunks', options.streamChunks, 1);
  checkOption(WHO, 'chunkDelayMs', options.chunkDelayMs, 0);
  checkKind(WHO, 'respond', options.respond, ['function']);
  checkKind(WHO, 'reasoning', options.reasoning, ['boolean', 'RegExp', 'function']);
  checkKind(WHO, 'reasoningTokens', options.reasoningTokens, ['function']);
  checkKind(WHO, 'serviceTier', options.serviceTier, ['string', 'function']);
  checkKind(WHO, 'apiKey', options.apiKey, ['string']);
  const reasons = ruleOf(options.reasoning);
  const reasoningTokens = options.reasoningTokens ?? defaultThoughtsTokens;
  const cacheMin = options.promptCache === false ? Infinity : (options.cacheMinTokens ?? 32);
  const streamChunks = options.streamChunks ?? 4;
  const cache = new PrefixCache();
  const requests: ProviderRecordedRequest[] = [];
  const failures = new FailureQueue(options.failNext);
  let serial = 0;

  const reset = () => {
    requests.length = 0;
    cache.clear();
    failures.reset();
  };
  reset();

  const tierOf = (request: ChatStandInRequest): string => {
    const option = options.serviceTier;
    if (typeof option === 'function') return option(request);
    if (typeof option === 'string') return option;
    const asked = request.body.service_tier;
    return asked === 'flex' || asked === 'priority' || asked === 'scale' ? asked : 'default';
  };

  async function generated(
    record: ProviderRecordedRequest,
    body: Record<string, unknown>,
  ): Promise<{
    view: ChatStandInRequest;
    reply: ComposedReply;
    prompt: number;
    cached: number;
    id: string;
  }> {
    const { system, turns } = promptOf(record.operation, body);
    const pieces = promptPieces({
      systemInstruction: system,
      tools: toolsOf(body.tools),
      contents: turns,
    });
    const prompt = piecesTokens(pieces);
    const prefix = piecesTokens(cache.longestPrefix(record.model, pieces));
    const cached = prefix >= cacheMin ? prefix : 0;
    cache.remember(record.model, pieces);
    const view = requestView(record, body, system, turns);
    const effort = body.reasoning_effort ?? (body.reasoning as { effort?: unknown } | null)?.effort;
    const reasoning =
      reasons(record.model) && effort !== 'none'
        ? reasoningTokens({ model: record.model, promptTokenCount: prompt })
        : 0;
    const max =
      record.operation === 'responses'
        ? positiveInt(body.max_output_tokens)
        : (positiveInt(body.max_completion_tokens) ?? positiveInt(body.max_tokens));
    const reply = await composeReply(view, options.respond, reasoning, max);
    serial += 1;
    const id = seedOf(record.model, String(serial), view.promptText).toString(36);
    return { view, reply, prompt, cached, id };
  }

  async function chat(
    res: ServerResponse,
    record: ProviderRecordedRequest,
    body: Record<string, unknown>,
    cutAfter: number | undefined,
  ): Promise<void> {
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return fail(res, record, 400, "Missing required parameter: 'messages'.");
    }
    const { view, reply, prompt, cached, id } = await generated(record, body);
    const completion = reply.textTokens + reply.toolTokens + reply.reasoningTokens;
    const usage = {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: reply.reasoningTokens,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    };
    const finish =
      reply.finishReason ?? (reply.toolCall ? 'tool_calls' : reply.cut ? 'length' : 'stop');
    const call = reply.toolCall && {
      id: `call_${id}`,
      type: 'function',
      function: { name: reply.toolCall.name, arguments: JSON.stringify(reply.toolCall.arguments) },
    };
    const head = {
      id: `chatcmpl-${id}`,
      created: Math.floor(Date.now() / 1000),
      model: record.model,
      service_tier: tierOf(view),
      system_fingerprint: 'fp_standin',
    };
    if (!record.stream) {
      const message = {
        role: 'assistant',
        content: call && !reply.text ? null : reply.text,
        refusal: null,
        annotations: [],
        ...(call && { tool_calls: [call] }),
      };
      const choice = { index: 0, message, logprobs: null, finish_reason: finish };
      return replyJson(res, record, 200, {
        ...head,
        object: 'chat.completion',
        choices: [choice],
        usage,
      });
    }
    const withUsage =
      (body.stream_options as { include_usage?: unknown } | null)?.include_usage === true;
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
      data: {
        ...head,
        object: 'chat.completion.chunk',
        choices,
        ...(withUsage ? { usage: null } : {}),
        ...extra,
      },
    });
    const delta = (content: Record<string, unknown>, finishReason: string | null = null) => ({
      index: 0,
      delta: content,
      logprobs: null,
      finish_reason: finishReason,
    });
    const events: StandInEvent[] = [
      chunk([delta({ role: 'assistant', content: '', refusal: null })]),
      ...splitText(reply.text, streamChunks).map((piece) => chunk([delta({ content: piece })])),
      ...(call
        ? [
            chunk([
              delta({
                tool_calls: [{ index: 0, ...call, function: { ...call.function, arguments: '' } }],
              }),
            ]),
            ...splitText(call.function.arguments, streamChunks).map((piece) =>
              chunk([delta({ tool_calls: [{ index: 0, function: { arguments: piece } }] })]),
            ),
          ]
        : []),
      chunk([delta({}, finish)]),
    ];
    if (withUsage) events.push(chunk([], { usage }));
    events.push({ data: '[DONE]' });
    return send(res, record, events, cutAfter);
  }

  async function responses(
    res: ServerResponse,
    record: ProviderRecordedRequest,
    body: Record<string, unknown>,
    cutAfter: number | undefined,
  ): Promise<void> {
    if (body.input === undefined)
      return fail(res, record, 400, "Missing required parameter: 'input'.");
    const { view, reply, prompt, cached, id } = await generated(record, body);
    const output = reply.textTokens + reply.reasoningTokens;
    const usage = {
      input_tokens: prompt,
      input_tokens_details: { cached_tokens: cached },
      output_tokens: output,
      output_tokens_details: { reasoning_tokens: reply.reasoningTokens },
      total_tokens: prompt + output,
    };
    const part = { type: 'output_text', text: reply.text, annotations: [], logprobs: [] };
    const message = {
      id: `msg_${id}`,
      type: 'message',
      status: 'completed',
      role: 'assistant',
      content: [part],
    };
    const reasoningItem =
      reply.reasoningTokens > 0 ? { id: `rs_${id}`, type: 'reasoning', summary: [] } : undefined;
    const items = reasoningItem ? [reasoningItem, message] : [message];
    const status = reply.cut ? 'incomplete' : 'completed';
    const response = (state: string, out: unknown[], final: unknown) => ({
      id: `resp_${id}`,
      object: 'response',
      created_at: Math.floor(Date.now() / 1000),
      status: state,
      error: null,
      incomplete_details: state === 'incomplete' ? { reason: 'max_output_tokens' } : null,
      instructions: body.instructions ?? null,
      max_output_tokens: body.max_output_tokens ?? null,
      model: record.model,
      output: out,
      parallel_tool_calls: true,
      previous_response_id: null,
      service_tier: tierOf(view),
      store: true,
      temperature: 1,
      text: { format: { type: 'text' } },
      tool_choice: 'auto',
      tools: [],
      top_p: 1,
      truncation: 'disabled',
      usage: final,
      metadata: {},
    });
    if (!record.stream) return replyJson(res, record, 200, response(status, items, usage));
    let sequence = 0;
    const event = (type: string, fields: Record<string, unknown>): StandInEvent => ({
      event: type,
      data: { type, sequence_number: sequence++, ...fields },
    });
    const index = items.length - 1;
    const events: StandInEvent[] = [
      event('response.created', { response: response('in_progress', [], null) }),
      event('response.in_progress', { response: response('in_progress', [], null) }),
    ];
    if (reasoningItem) {
      events.push(event('response.output_item.added', { output_index: 0, item: reasoningItem }));
      events.push(event('response.output_item.done', { output_index: 0, item: reasoningItem }));
    }
    const where = { item_id: message.id, output_index: index, content_index: 0 };
    events.push(
      event('response.output_item.added', {
        output_index: index,
        item: { ...message, status: 'in_progress', content: [] },
      }),
      event('response.content_part.added', { ...where, part: { ...part, text: '' } }),
      ...splitText(reply.text, streamChunks).map((delta) =>
        event('response.output_text.delta', { ...where, delta, logprobs: [] }),
      ),
      event('response.output_text.done', { ...where, text: reply.text, logprobs: [] }),
      event('response.content_part.done', { ...where, part }),
      event('response.output_item.done', { output_index: index, item: message }),
      event(`response.${status}`, { response: response(status, items, usage) }),
    );
    return send(res, record, events, cutAfter);
  }

  function embeddings(
    res: ServerResponse,
    record: ProviderRecordedRequest,
    body: Record<string, unknown>,
  ): void {
    const input = body.input;
    const list: unknown[] =
      typeof input === 'string' || (Array.isArray(input) && typeof input[0] === 'number')
        ? [input]
        : Array.isArray(input)
          ? input
          : [];
    if (list.length === 0) {
      fail(res, record, 400, "'input' : input must be a non-empty string or array");
      return;
    }
    const dimensions = positiveInt(body.dimensions) ?? (/large/.test(record.model) ? 3072 : 1536);
    let tokens = 0;
    const data = list.map((item, index) => {
      const text = typeof item === 'string' ? item : JSON.stringify(item);
      tokens +=
        typeof item === 'string' ? countTextTokens(item) : Array.isArray(item) ? item.length : 1;
      const vector = embeddingOf(record.model, text, dimensions);
      const embedding = body.encoding_format === 'base64' ? base64Floats(vector) : vector;
      return { object: 'embedding', index, embedding };
    });
    replyJson(res, record, 200, {
      object: 'list',
      data,
      model: record.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  function fail(
    res: ServerResponse,
    record: ProviderRecordedRequest,
    status: number,
    message: string,
    code?: string,
  ): void {
    record.source = record.source === 'failure' ? 'failure' : 'error';
    replyJson(res, record, status, openAIErrorBody(status, message, code), {
      'x-request-id': `req_standin${requests.length}`,
    });
  }

  const send = (
    res: ServerResponse,
    record: ProviderRecordedRequest,
    events: StandInEvent[],
    cutAfter: number | undefined,
  ) =>
    replyEvents(res, record, events, {
      cutAfter,
      chunkDelayMs: options.chunkDelayMs,
      usageOf: (data) => {
        const fields = data as { usage?: unknown; response?: { usage?: unknown } } | string;
        return typeof fields === 'string' ? undefined : (fields.usage ?? fields.response?.usage);
      },
    });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record = await readProviderRequest(req, (path) => OPERATIONS[path] ?? '');
    requests.push(record);
    if (!record.operation) {
      return fail(res, record, 404, `Invalid URL (${record.method} ${record.path})`, 'unknown_url');
    }
    if (options.apiKey !== undefined && record.apiKey !== options.apiKey) {
      return fail(res, record, 401, 'Incorrect API key provided.', 'invalid_api_key');
    }
    const body = record.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return fail(res, record, 400, 'We could not parse the JSON body of your request.');
    }
    const fields = body as Record<string, unknown>;
    if (!record.model) return fail(res, record, 400, 'you must provide a model parameter');
    const cutAfter = failures.apply(res, record, (status, message) =>
      fail(res, record, status, message),
    );
    if (cutAfter === 'answered') return;
    if (record.operation === 'chat.completions') return chat(res, record, fields, cutAfter);
    if (record.operation === 'responses') return responses(res, record, fields, cutAfter);
    record.stream = false;
    return embeddings(res, record, fields);
  }

  const server = await listen(handle, options.host ?? '127.0.0.1', options.port ?? 0);
  return {
    url: server.url,
    baseURL: `${server.url}/v1`,
    port: server.port,
    requests,
    failNext: (failure) => failures.add(failure),
    reset,
    close: server.close,
  };
}
