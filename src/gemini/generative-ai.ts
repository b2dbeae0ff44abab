/**
 * @google/generative-ai: a `GenerativeModel` and the `ChatSession`s it starts, recognised by
 * shape (the SDK is never imported at run time).
 */

import type { Adaptation } from '../react/budgets/events.js';
import { type PlannedRequest, systemContent } from './budget.js';
import {
  isGated,
  openScope,
  overlay,
  releaseAfter,
  TrackedCall,
  type TrackGeminiOptions,
  trackUnary,
} from './call.js';
import { readAhead } from './stream.js';

type Send = (...args: unknown[]) => Promise<unknown>;

/** `{ stream, response }` of `generateContentStream` / `sendMessageStream`. */
interface StreamResult {
  stream: AsyncIterable<unknown>;
  response: Promise<unknown>;
}

/** What `trackGemini` needs of a @google/generative-ai `GenerativeModel` (checked by shape). */
export interface GenerativeModelLike {
  model: string;
  /** `model.generateContent`: tracked. */
  generateContent(...args: never[]): Promise<unknown>;
  /** `model.generateContentStream`: tracked. */
  generateContentStream(...args: never[]): Promise<unknown>;
  /** `model.startChat`: the chat's `sendMessage` / `sendMessageStream` are tracked. */
  startChat(...args: never[]): unknown;
}

/** The same methods, callable with the caller's own arguments. */
interface Callable {
  model: string;
  generateContent: Send;
  generateContentStream: Send;
  startChat: (...args: unknown[]) => unknown;
  countTokens?: (request: unknown) => Promise<unknown>;
  generationConfig?: GenerationConfig | undefined;
  systemInstruction?: unknown;
}

interface GenerationConfig {
  maxOutputTokens?: number | undefined;
  [key: string]: unknown;
}

export function isGenerativeModel(value: unknown): value is GenerativeModelLike {
  const m = value as Partial<Callable> | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof m.model === 'string' &&
    typeof m.generateContent === 'function' &&
    typeof m.generateContentStream === 'function' &&
    typeof m.startChat === 'function'
  );
}

const responseOf = (result: unknown) => (result as { response?: unknown } | undefined)?.response;

/**
 * A tracked view of a `GenerativeModel`: `generateContent`, `generateContentStream` and
 * `startChat()` (its `sendMessage` / `sendMessageStream`) are recorded; everything else
 * (`countTokens`, `embedContent`, properties) passes through untouched.
 *
 * Budgets that adapt a request: a lower `maxOutputTokens` is sent as the request's own
 * `generationConfig` (the model's, with the cap lowered); a fallback model is a sibling
 * `GenerativeModel` built from this one (see `siblingModel`). A chat message is sent through a
 * view of its `ChatSession` whose `model` and `params.generationConfig` say so, for that
 * message only (history and the session's chaining stay the session's own).
 */
export function trackGenerativeModel<M extends GenerativeModelLike>(
  target: M,
  options: TrackGeminiOptions,
): M {
  const model = target as unknown as Callable;
  const generateContent: Send = (...args) => {
    let via = model;
    return trackUnary(options, model.model, {
      send: () => via.generateContent(...args),
      responseOf,
      plan: () =>
        modelPlan(model, args, (next, request) => {
          via = next;
          args[0] = request;
        }),
    });
  };
  const generateContentStream: Send = (...args) => {
    let via = model;
    return trackStream(
      options,
      model.model,
      () => via.generateContentStream(...args),
      () =>
        modelPlan(model, args, (next, request) => {
          via = next;
          args[0] = request;
        }),
    );
  };
  const startChat = (...args: unknown[]) =>
    trackChatSession(model.startChat(...args), options, model);
  return overlay(target, (prop, value) => {
    if (prop === 'generateContent') return generateContent;
    if (prop === 'generateContentStream') return generateContentStream;
    if (prop === 'startChat') return startChat;
    return value;
  });
}

interface ChatSessionLike {
  model: string;
  params?: { generationConfig?: GenerationConfig; [key: string]: unknown } | undefined;
  sendMessage: Send;
  sendMessageStream: Send;
  getHistory?: () => Promise<unknown[]>;
}

function trackChatSession(chat: unknown, options: TrackGeminiOptions, model: Callable): unknown {
  const session = chat as ChatSessionLike;
  if (typeof session?.sendMessage !== 'function') return chat;
  const sendMessage: Send = (...args) => {
    let via = session;
    return trackUnary(options, session.model, {
      send: () => via.sendMessage(...args),
      responseOf,
      plan: () =>
        chatPlan(session, model, args[0], (next) => {
          via = next;
        }),
    });
  };
  const sendMessageStream: Send = (...args) => {
    let via = session;
    return trackStream(
      options,
      session.model,
      () => via.sendMessageStream(...args),
      () =>
        chatPlan(session, model, args[0], (next) => {
          via = next;
        }),
    );
  };
  return overlay(session, (prop, value) => {
    if (prop === 'sendMessage') return sendMessage;
    if (prop === 'sendMessageStream') return sendMessageStream;
    return value;
  });
}

/**
 * Both halves of the result keep working: `stream` replays every chunk, `response` resolves to
 * the SDK's aggregate. The call is recorded once, when the download ends (see `readAhead`):
 * before the consumer's loop ends and before `response` settles. A consumer that breaks early
 * still gets the full usage recorded, because the SDK keeps downloading for `response`.
 */
async function trackStream(
  options: TrackGeminiOptions,
  model: string,
  send: () => Promise<unknown>,
  plan: () => PlannedRequest | Promise<PlannedRequest>,
): Promise<unknown> {
  const opened = openScope(options, model);
  const scope = opened instanceof Promise ? await opened : opened;
  let call: TrackedCall;
  let result: StreamResult;
  if (isGated(options, scope)) {
    call = await TrackedCall.admit(options, scope, plan);
    try {
      result = (await send()) as StreamResult;
    } catch (error) {
      return releaseAfter(call.gate, error);
    }
  } else {
    call = new TrackedCall(scope);
    result = (await send()) as StreamResult;
  }
  const { stream, settled } = readAhead(result.stream, {
    chunk: (chunk) => call.observe(chunk),
    end: (how) => call.end({ stream: how }, how === 'failed', how === 'complete'),
  });
  const response = result.response.then(
    async (value) => {
      const end = await settled;
      if (!end.ok && !end.failed) throw end.error; // a strict-mode recording error
      return value;
    },
    async (error: unknown) => {
      await settled;
      throw error;
    },
  );
  // Reading `response` is optional: a rejection nobody awaits must not crash the process.
  response.catch(() => undefined);
  return { ...result, stream, response };
}

/** A request of @google/generative-ai: a string, parts, or a `GenerateContentRequest`. */
interface RequestObject {
  contents: unknown[];
  generationConfig?: GenerationConfig;
  systemInstruction?: unknown;
  [key: string]: unknown;
}

/** As the SDK decides: an object with `contents` is a request, anything else is content. */
function isRequestObject(request: unknown): request is RequestObject {
  return (
    typeof request === 'object' &&
    request !== null &&
    !Array.isArray(request) &&
    Boolean((request as { contents?: unknown }).contents)
  );
}

/** The user turn the SDK makes of a string or parts (`formatNewContent`); undefined if invalid. */
function newContent(request: unknown): { role: string; parts: unknown[] } | undefined {
  if (typeof request === 'string') return { role: 'user', parts: [{ text: request }] };
  if (!Array.isArray(request) || request.length === 0) return undefined;
  const parts = request.map((part: unknown) => (typeof part === 'string' ? { text: part } : part));
  const responses = parts.filter(
    (part) => typeof part === 'object' && part !== null && 'functionResponse' in part,
  ).length;
  if (responses === 0) return { role: 'user', parts };
  return responses === parts.length ? { role: 'function', parts } : undefined;
}

/**
 * The request with its own `generationConfig`, capped at `maxOutputTokens`: the request's
 * config when it has one (the SDK sends it instead of the model's), else the model's.
 * Undefined when the request is not one the SDK would accept.
 */
function withMaxOutputTokens(
  request: unknown,
  modelConfig: GenerationConfig | undefined,
  maxOutputTokens: number,
): RequestObject | undefined {
  if (isRequestObject(request)) {
    const base = request.generationConfig ?? modelConfig;
    return { ...request, generationConfig: { ...base, maxOutputTokens } };
  }
  const content = newContent(request);
  if (!content) return undefined;
  return { contents: [content], generationConfig: { ...modelConfig, maxOutputTokens } };
}

/** A `GenerativeModel` request for budgets: estimate inputs, and how to adapt it. */
function modelPlan(
  model: Callable,
  args: unknown[],
  apply: (via: Callable, request: unknown) => void,
): PlannedRequest {
  const request = args[0];
  const object = isRequestObject(request);
  const config =
    object && request.generationConfig ? request.generationConfig : model.generationConfig;
  const system =
    object && request.systemInstruction ? request.systemInstruction : model.systemInstruction;
  const countTokens = model.countTokens;
  return {
    prompt: [object ? request.contents : request, system],
    countTokens:
      typeof countTokens === 'function'
        ? async () => {
            const counted = object
              ? await countTokens.call(model, {
                  generateContentRequest: defined({
                    ...request,
                    systemInstruction: systemContent(request.systemInstruction),
                  }),
                })
              : await countTokens.call(model, request);
            return totalTokensOf(counted);
          }
        : undefined,
    maxOutputTokens: config?.maxOutputTokens,
    adapt(adapt) {
      const applied: Adaptation = {};
      let via = model;
      let next = request;
      if (adapt.model !== undefined) {
        const sibling = siblingModel(model, adapt.model);
        if (sibling) {
          via = sibling;
          applied.model = adapt.model;
        }
      }
      if (adapt.maxOutputTokens !== undefined) {
        const capped = withMaxOutputTokens(request, model.generationConfig, adapt.maxOutputTokens);
        if (capped) {
          next = capped;
          applied.maxOutputTokens = adapt.maxOutputTokens;
        }
      }
      apply(via, next);
      return applied;
    },
  };
}

/** A chat message for budgets: the history plus the message, and how to adapt it. */
async function chatPlan(
  session: ChatSessionLike,
  model: Callable,
  message: unknown,
  apply: (via: ChatSessionLike) => void,
): Promise<PlannedRequest> {
  // The public history waits for the message in flight, as the session's own send does.
  const history =
    typeof session.getHistory === 'function'
      ? await session.getHistory().catch(() => [] as unknown[])
      : [];
  const params = session.params ?? {};
  const content = newContent(message) ?? { role: 'user', parts: [] };
  const contents = [...history, content];
  const countTokens = model.countTokens;
  return {
    prompt: [contents, params.systemInstruction],
    countTokens:
      typeof countTokens === 'function'
        ? async () =>
            totalTokensOf(
              await countTokens.call(model, {
                generateContentRequest: defined({
                  contents,
                  systemInstruction: systemContent(params.systemInstruction),
                  tools: params.tools,
                  toolConfig: params.toolConfig,
                }),
              }),
            )
        : undefined,
    maxOutputTokens: params.generationConfig?.maxOutputTokens,
    adapt(adapt) {
      const applied: Adaptation = {};
      let switched: string | undefined;
      let adaptedParams = params;
      // Cached content belongs to the model it was made for.
      if (adapt.model !== undefined && params.cachedContent === undefined) {
        switched = adapt.model.includes('/') ? adapt.model : `models/${adapt.model}`;
        applied.model = adapt.model;
      }
      if (adapt.maxOutputTokens !== undefined) {
        const generationConfig = {
          ...params.generationConfig,
          maxOutputTokens: adapt.maxOutputTokens,
        };
        adaptedParams = { ...params, generationConfig };
        applied.maxOutputTokens = adapt.maxOutputTokens;
      }
      // A view for this message only: reads of `model` and `params` answer the adapted values;
      // every write (history, the send chain) still lands on the session itself.
      apply(
        overlay(session, (prop, value) => {
          if (prop === 'model' && switched !== undefined) return switched;
          if (prop === 'params' && adaptedParams !== params) return adaptedParams;
          return value;
        }),
      );
      return applied;
    },
  };
}

function totalTokensOf(counted: unknown): number {
  const total = (counted as { totalTokens?: unknown } | undefined)?.totalTokens;
  if (typeof total !== 'number') throw new Error('countTokens returned no totalTokens');
  return total;
}

function defined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

let siblingWarned = false;

/**
 * A `GenerativeModel` for `fallback` with everything else of `model`: its class, called as the
 * SDK's `getGenerativeModel` does (`new GenerativeModel(apiKey, modelParams, requestOptions)`,
 * @google/generative-ai 0.21 to 0.24), from the instance's own fields (`apiKey`,
 * `generationConfig`, `safetySettings`, `tools`, `toolConfig`, `systemInstruction` (already
 * formatted, which the constructor keeps as is), `_requestOptions`). Checked after
 * construction: it must be a `GenerativeModel` of `models/<fallback>` with the same key.
 * Undefined, with a warning once, when that fails or the model uses cached content (a cache
 * belongs to one model): then only `maxOutputTokens` is lowered.
 */
function siblingModel(model: Callable, fallback: string): Callable | undefined {
  const source = model as unknown as Record<string, unknown>;
  const expected = fallback.includes('/') ? fallback : `models/${fallback}`;
  const Model = (Object.getPrototypeOf(model) as { constructor?: unknown } | null)?.constructor;
  if (source.cachedContent === undefined && typeof Model === 'function') {
    try {
      const sibling: unknown = Reflect.construct(Model, [
        source.apiKey,
        {
          model: fallback,
          generationConfig: source.generationConfig,
          safetySettings: source.safetySettings,
          tools: source.tools,
          toolConfig: source.toolConfig,
          systemInstruction: source.systemInstruction,
        },
        source._requestOptions ?? source.requestOptions ?? {},
      ]);
      if (
        isGenerativeModel(sibling) &&
        sibling.model === expected &&
        (sibling as unknown as Record<string, unknown>).apiKey === source.apiKey
      ) {
        return sibling as unknown as Callable;
      }
    } catch {
      // reported below
    }
  }
  if (!siblingWarned) {
    siblingWarned = true;
    console.warn(
      `[tollgate] a budget asked for fallback model ${fallback}, but no GenerativeModel could be built for it${source.cachedContent === undefined ? '' : ' (the model uses cached content)'}; only maxOutputTokens is lowered.`,
    );
  }
  return undefined;
}
