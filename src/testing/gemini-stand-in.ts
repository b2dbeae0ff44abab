import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  defaultThoughtsTokens,
  type GenerateSettings,
  generate,
  PrefixCache,
  THINKING_MODEL,
} from './generate.js';
import { type RecordedResponse, toRecordedResponse } from './replay.js';
import { seedOf } from './responder.js';
import { promptPieces, sumPieces } from './tokenizer.js';
import type {
  GenerateContentBody,
  RecordedRequest,
  ReplaySource,
  StandInFailure,
  StandInReply,
  StandInRequest,
} from './types.js';
import { errorBody, readRequest, sendEvents, sendJson } from './wire.js';

/** Options of {@link startGeminiStandIn}. Every field is optional. */
export interface GeminiStandInOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind (default `127.0.0.1`). */
  host?: string;
  /** Scripts replies; return `undefined` to fall back to the built-in deterministic text. */
  respond?: (request: StandInRequest) => StandInReply | Promise<StandInReply>;
  /**
   * Which models think (report `thoughtsTokenCount`). Default: {@link THINKING_MODEL}, i.e.
   * Gemini 2.5, Gemini 3.x and `…thinking…` models. `thinkingBudget: 0` turns thinking off.
   */
  thinking?: boolean | RegExp | ((model: string) => boolean);
  /** Thoughts of a thinking model; default `16 + ceil(promptTokenCount / 2)`. */
  thoughtsTokens?: (info: { model: string; promptTokenCount: number }) => number;
  /**
   * Implicit cache: a prompt whose prefix matches an earlier prompt to the same model for at
   * least this many tokens reports that prefix as `cachedContentTokenCount`. Default 32 (the
   * real API needs 1024+; lower so tests can hit it cheaply).
   */
  cacheMinTokens?: number;
  /** Set false to never report cache hits. Default true. */
  implicitCache?: boolean;
  /** How many chunks the reply text is split into when streaming (default 4). */
  streamChunks?: number;
  /** Pause between SSE chunks, in ms (default 0). */
  chunkDelayMs?: number;
  /**
   * Vertex-style replies: `usageMetadata.trafficType` on every reply (`ON_DEMAND`, or
   * `ON_DEMAND_FLEX` / `ON_DEMAND_PRIORITY` when the request's `serviceTier` asks for flex or
   * priority), and streams whose middle chunks carry only `{ trafficType }`.
   */
  vertexStyle?: boolean;
  /**
   * The `usageMetadata.serviceTier` to report, as written (e.g. `'flex'`, `'PRIORITY'`), or a
   * function of the request. Default: the request's own `serviceTier` (what @google/genai sends
   * for `config.serviceTier`), echoed on Gemini API-style replies; none on Vertex-style ones.
   */
  serviceTier?: string | ((request: StandInRequest) => string | undefined);
  /**
   * The `usageMetadata.trafficType` to report (e.g. `'PROVISIONED_THROUGHPUT'`), or a function
   * of the request. Default: see `vertexStyle`.
   */
  trafficType?: string | ((request: StandInRequest) => string | undefined);
  /** Recorded responses served, in order, before any generated one. */
  replay?: ReplaySource[];
  /** Folder that relative replay paths are resolved against (default: the working directory). */
  replayDir?: string;
  /** A failure for the first request(s), as `standIn.failNext(...)`. */
  failNext?: StandInFailure;
  /** Cut every stream after this many chunks (the socket is destroyed). */
  streamFailAfterChunks?: number;
  /** When set, requests with another API key get the API's 400 `API_KEY_INVALID`. */
  apiKey?: string;
}

/** A running stand-in. Pass `baseUrl` to the SDKs; call `close()` when done. */
export interface GeminiStandIn {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Same as `url`: the value for `{ baseUrl }` / `httpOptions: { baseUrl }`. */
  readonly baseUrl: string;
  readonly port: number;
  /** Every request received, in order (cleared by `reset()`). */
  readonly requests: RecordedRequest[];
  /** Makes the next request(s) fail (default: HTTP 500). */
  failNext(failure?: StandInFailure): void;
  /** Queues recorded responses for the next requests. */
  enqueue(...sources: ReplaySource[]): void;
  /** Back to the state right after start: requests, cache and failures cleared, replay refilled. */
  reset(): void;
  /** Stops the server and ends every connection, keep-alive ones included. Idempotent. */
  close(): Promise<void>;
}

function check(name: string, value: number | undefined, min: number, integer: boolean): void {
  if (value === undefined || (value >= min && (!integer || Number.isInteger(value)))) return;
  const kind = integer ? 'an integer' : 'a number';
  throw new TypeError(`startGeminiStandIn: ${name} must be ${kind} ≥ ${min}, got ${String(value)}`);
}

/** A `serviceTier` / `trafficType` option as a function of the request. */
function tierOption(
  name: string,
  value: GeminiStandInOptions['serviceTier'],
): ((request: StandInRequest) => string | undefined) | undefined {
  if (value === undefined || typeof value === 'function') return value;
  if (typeof value === 'string') return () => value;
  throw new TypeError(
    `startGeminiStandIn: ${name} must be a string or a function, got ${String(value)}`,
  );
}

function thinkingRule(option: GeminiStandInOptions['thinking']): (model: string) => boolean {
  if (option === undefined) return (model) => THINKING_MODEL.test(model);
  if (typeof option === 'boolean') return () => option;
  if (option instanceof RegExp) {
    const re = new RegExp(option.source, option.flags.replace(/[gy]/g, ''));
    return (model) => re.test(model);
  }
  return option;
}

const API_KEY_INVALID = errorBody(400, 'API key not valid. Please pass a valid API key.', [
  {
    '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
    reason: 'API_KEY_INVALID',
    domain: 'googleapis.com',
  },
]);

/**
 * Starts a local HTTP server that speaks the Gemini REST API (`generateContent`,
 * `streamGenerateContent?alt=sse`, `countTokens`; paths under `/v1`, `/v1beta` and `/v1alpha`),
 * with deterministic replies and realistic `usageMetadata`. No network, no key.
 *
 * @example
 * const standIn = await startGeminiStandIn();
 * const model = new GoogleGenerativeAI('test-key').getGenerativeModel(
 *   { model: 'gemini-2.5-flash' },
 *   { baseUrl: standIn.baseUrl },
 * );
 * const { response } = await model.generateContent('Hello');
 * response.usageMetadata; // { promptTokenCount: 2, candidatesTokenCount: …, thoughtsTokenCount: 17, … }
 * await standIn.close();
 */
export async function startGeminiStandIn(
  options: GeminiStandInOptions = {},
): Promise<GeminiStandIn> {
  check('port', options.port, 0, true);
  check('cacheMinTokens', options.cacheMinTokens, 0, false);
  check('streamChunks', options.streamChunks, 1, true);
  check('chunkDelayMs', options.chunkDelayMs, 0, false);
  check('streamFailAfterChunks', options.streamFailAfterChunks, 0, true);

  const settings: GenerateSettings = {
    isThinking: thinkingRule(options.thinking),
    thoughtsTokens: options.thoughtsTokens ?? defaultThoughtsTokens,
    cacheMinTokens: options.implicitCache === false ? Infinity : (options.cacheMinTokens ?? 32),
    streamChunks: options.streamChunks ?? 4,
    vertexStyle: options.vertexStyle ?? false,
    respond: options.respond,
  };
  const serviceTier = tierOption('serviceTier', options.serviceTier);
  if (serviceTier) settings.serviceTier = serviceTier;
  const trafficType = tierOption('trafficType', options.trafficType);
  if (trafficType) settings.trafficType = trafficType;
  const load = (sources: ReplaySource[]) =>
    sources.map((source) => toRecordedResponse(source, options.replayDir));
  const initialReplay = load(options.replay ?? []);
  const cache = new PrefixCache();
  const requests: RecordedRequest[] = [];
  let replay: RecordedResponse[] = [];
  let failures: StandInFailure[] = [];

  const failNext = (failure: StandInFailure = {}) => {
    for (let i = 0; i < (failure.times ?? 1); i++) failures.push(failure);
  };
  const reset = () => {
    requests.length = 0;
    cache.clear();
    replay = [...initialReplay];
    failures = [];
    if (options.failNext) failNext(options.failNext);
  };
  reset();

  function serveReplay(
    res: ServerResponse,
    record: RecordedRequest,
    recorded: RecordedResponse,
    how: { sse: boolean; cutAfter?: number },
  ): Promise<void> | void {
    record.source = 'replay';
    const stream = { ...how, chunkDelayMs: options.chunkDelayMs };
    if (recorded.kind === 'sse') {
      if (record.stream) return sendEvents(res, record, recorded.events, stream);
      const message = `stand-in: replay ${recorded.file ?? 'entry'} is a stream but ${record.action} is unary`;
      return sendJson(res, record, 500, errorBody(500, message));
    }
    if (record.stream && recorded.status < 400) {
      // A unary recording answers a stream request as a single chunk.
      const event =
        recorded.body === undefined
          ? recorded.text.replace(/\r?\n/g, ' ')
          : JSON.stringify(recorded.body);
      return sendEvents(res, record, [event], stream);
    }
    sendJson(res, record, recorded.status, recorded.text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { record, routed, sse, text } = await readRequest(req);
    requests.push(record);
    if (!routed) {
      record.source = 'error';
      return sendJson(
        res,
        record,
        404,
        errorBody(404, `stand-in: no route for ${record.method} ${record.path}`),
      );
    }
    if (options.apiKey !== undefined && record.apiKey !== options.apiKey) {
      record.source = 'error';
      return sendJson(res, record, 400, API_KEY_INVALID);
    }
    const failure = failures.shift();
    const cutAfter = record.stream
      ? (failure?.afterChunks ?? options.streamFailAfterChunks)
      : undefined;
    if (failure) {
      record.source = 'failure';
      if (failure.afterChunks === undefined) {
        const status = failure.status ?? 500;
        const message = failure.message ?? `stand-in: scripted failure (${status})`;
        return sendJson(res, record, status, errorBody(status, message));
      }
      if (!record.stream) return void res.destroy();
    }
    const recorded = replay.shift();
    if (recorded) return serveReplay(res, record, recorded, { sse, cutAfter });

    const body = record.body as GenerateContentBody | undefined;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      record.source = 'error';
      return sendJson(res, record, 400, errorBody(400, 'stand-in: the body must be a JSON object'));
    }
    // @google/generative-ai wraps a countTokens prompt in generateContentRequest; @google/genai does not.
    const inner =
      record.action === 'countTokens'
        ? (body as { generateContentRequest?: GenerateContentBody }).generateContentRequest
        : undefined;
    const invalid = invalidRequest(inner ?? body);
    if (invalid) {
      record.source = 'error';
      return sendJson(res, record, 400, errorBody(400, invalid));
    }
    if (record.action === 'countTokens') {
      const counted = sumPieces(promptPieces(inner ?? body));
      const reply = { totalTokens: counted.total, promptTokensDetails: counted.details };
      return sendJson(res, record, 200, JSON.stringify(reply));
    }
    const responseId = `standin${seedOf(record.model, String(requests.length), text).toString(36)}`;
    const chunks = await generate(
      record.model,
      body,
      record.stream,
      settings,
      cache,
      responseId,
    ).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    if (chunks instanceof Error) {
      record.source = 'error';
      return sendJson(
        res,
        record,
        500,
        errorBody(500, `stand-in: could not answer: ${chunks.message}`),
      );
    }
    const events = chunks.map((chunk) => JSON.stringify(chunk));
    if (!record.stream) return sendJson(res, record, 200, events[0] ?? '{}');
    return sendEvents(res, record, events, { sse, cutAfter, chunkDelayMs: options.chunkDelayMs });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, host, () => done());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;

  return {
    url,
    baseUrl: url,
    port,
    requests,
    failNext,
    enqueue: (...sources) => {
      replay.push(...load(sources));
    },
    reset,
    close: () => {
      closing ??= new Promise<void>((done, fail) => {
        server.close((error) => (error ? fail(error) : done()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Why the API would refuse this request body with a 400, as Google words it, or undefined:
 * `contents` must be a list of `Content` objects whose `parts` are lists of objects, and
 * `generationConfig` an object. The stand-in answers such bodies as the API does instead of
 * failing inside its generator.
 */
function invalidRequest(body: GenerateContentBody): string | undefined {
  const { contents, generationConfig, systemInstruction } = body as Record<string, unknown>;
  const at = (field: string, value: unknown) =>
    `Invalid value at '${field}', ${JSON.stringify(value)?.slice(0, 60) ?? String(value)}`;
  if (contents !== undefined) {
    if (!Array.isArray(contents)) return at('contents', contents);
    for (const [i, content] of contents.entries()) {
      if (!isObject(content)) return at(`contents[${i}]`, content);
      const { parts } = content;
      if (parts === undefined) continue;
      if (!Array.isArray(parts)) return at(`contents[${i}].parts`, parts);
      const bad = parts.findIndex((part) => !isObject(part));
      if (bad >= 0) return at(`contents[${i}].parts[${bad}]`, parts[bad]);
    }
  }
  if (generationConfig !== undefined && !isObject(generationConfig)) {
    return at('generation_config', generationConfig);
  }
  if (
    systemInstruction !== undefined &&
    typeof systemInstruction !== 'string' &&
    !isObject(systemInstruction)
  ) {
    return at('system_instruction', systemInstruction);
  }
  return undefined;
}
