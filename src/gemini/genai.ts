/**
 * @google/genai: a `GoogleGenAI` client, recognised by shape (never imported at run time).
 *
 * `ai.models.generateContent` / `generateContentStream` are recorded. Chats need no wrapper of
 * their own: a `Chat` sends through the `Models` instance it was created with, so `ai.chats` is
 * given the tracked `models` in place of the original and each turn is recorded exactly once.
 *
 * Automatic function calling (AFC, with `CallableTool`s in `config.tools`) makes one request per
 * round. Streams yield every round's chunks, so each round is recorded (metadata `afcRound`) and
 * the budget is checked again before the next round's request. A unary `generateContent`
 * returns only the last round's response: earlier rounds' usage is not visible and is not
 * recorded (the record carries `automaticFunctionCalling: true`). For exact numbers, disable AFC
 * (`config: { automaticFunctionCalling: { disable: true } }`) and run the tools yourself, or
 * stream. Automatic continuation hops are merged into one usage by the SDK and recorded once.
 *
 * A stream is recorded when the consumer finishes, breaks out of, or fails reading it; a stream
 * that is never iterated at all is never recorded.
 */

import { openScope, overlay, TrackedCall, type TrackGeminiOptions, trackUnary } from './call.js';
import { observeStream } from './stream.js';

type Send = (params: unknown, ...rest: unknown[]) => Promise<unknown>;

interface ModelsLike {
  generateContent: Send;
  generateContentStream: Send;
}

/** What `trackGemini` needs of a @google/genai `GoogleGenAI` client (checked by shape). */
export interface GoogleGenAILike {
  models: {
    generateContent(...args: never[]): Promise<unknown>;
    generateContentStream(...args: never[]): Promise<unknown>;
  };
}

export function isGoogleGenAI(value: unknown): value is GoogleGenAILike {
  const models = (value as { models?: Partial<ModelsLike> } | null)?.models;
  return (
    typeof models?.generateContent === 'function' &&
    typeof models.generateContentStream === 'function'
  );
}

/**
 * A tracked view of a `GoogleGenAI` client: `models` and `chats` are tracked views, every other
 * module (`caches`, `files`, `live`, `batches`, …) passes through untracked.
 */
export function trackGoogleGenAI<C extends GoogleGenAILike>(ai: C, options: TrackGeminiOptions): C {
  const original = ai.models as unknown as ModelsLike;
  const models = trackModels(original, options);
  // Whatever holds the original `Models` (Chats.create, then each Chat) now holds the tracked one.
  const swap = (_prop: PropertyKey, value: unknown) => (value === original ? models : value);
  const originalChats: unknown = (ai as { chats?: unknown }).chats;
  const chats = isObject(originalChats) ? overlay(originalChats, swap) : originalChats;
  return overlay(ai, (prop, value) => {
    if (prop === 'models' && value === original) return models;
    if (prop === 'chats' && value === originalChats) return chats;
    return value;
  });
}

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null;

function modelOf(params: unknown): string {
  const model = (params as { model?: unknown } | undefined)?.model;
  return typeof model === 'string' ? model : '';
}

function trackModels(models: ModelsLike, options: TrackGeminiOptions): ModelsLike {
  const generateContent: Send = (params, ...rest) =>
    trackUnary(
      options,
      modelOf(params),
      () => models.generateContent(params, ...rest),
      (response) => response,
      () => (usesAfc(params) ? afcUnseen() : undefined),
    );
  const generateContentStream: Send = async (params, ...rest) => {
    const scope = await openScope(options, modelOf(params));
    const source = (await models.generateContentStream(params, ...rest)) as AsyncIterable<unknown>;
    let round = 1;
    let call = new TrackedCall(scope);
    let boundary = false;
    const afc = () => (round > 1 || boundary ? { afcRound: round } : {});
    return observeStream(source, {
      chunk(chunk) {
        if (isFunctionResponse(chunk)) {
          // AFC ran the tools; the next pull sends the next round's request.
          boundary = true;
          call.finish({ stream: 'complete', ...afc() });
        } else {
          call.observe(chunk);
        }
      },
      resume() {
        if (!boundary) return;
        boundary = false;
        round += 1;
        scope.tracker.guard(scope.agent);
        call = new TrackedCall(scope);
      },
      end: (how) => call.finish({ stream: how, ...afc() }, how === 'failed'),
    });
  };
  return overlay(models, (prop, value) => {
    if (prop === 'generateContent') return generateContent;
    if (prop === 'generateContentStream') return generateContentStream;
    return value;
  });
}

/** The chunk @google/genai's AFC stream inserts between rounds: the tools' answers, no usage. */
function isFunctionResponse(chunk: unknown): boolean {
  const c = chunk as { usageMetadata?: unknown; candidates?: { content?: Content }[] } | undefined;
  const content = c?.candidates?.[0]?.content;
  return (
    c?.usageMetadata === undefined &&
    content?.role === 'user' &&
    (content.parts ?? []).some((part) => part.functionResponse !== undefined)
  );
}

interface Content {
  role?: string;
  parts?: { functionResponse?: unknown }[];
}

/** True when @google/genai will run AFC: a `CallableTool` in `config.tools`, AFC not disabled. */
function usesAfc(params: unknown): boolean {
  const config = (params as { config?: Record<string, unknown> } | undefined)?.config;
  const tools = config?.tools;
  const afc = config?.automaticFunctionCalling as { disable?: unknown } | undefined;
  return (
    Array.isArray(tools) &&
    afc?.disable !== true &&
    tools.some((tool) => typeof (tool as { callTool?: unknown })?.callTool === 'function')
  );
}

let afcWarned = false;

function afcUnseen(): Record<string, unknown> {
  if (!afcWarned) {
    afcWarned = true;
    console.warn(
      '[tollgate] @google/genai automatic function calling returns only the last round: earlier ' +
        'rounds are not recorded. Stream, or set config.automaticFunctionCalling.disable = true, ' +
        'for exact numbers.',
    );
  }
  return { automaticFunctionCalling: true };
}
