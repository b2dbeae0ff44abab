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
 * that is never iterated at all is never recorded (and its budget reservation is held until the
 * manager's `holdMs` runs out).
 *
 * Budgets adapt a request through its parameters: `model` for a fallback model,
 * `config.maxOutputTokens` for a lower cap. Chats send through the tracked `models`, so every
 * turn is estimated with its whole history and can be adapted the same way. Under automatic
 * function calling, one reservation covers the whole call: a stream settles the sum of its
 * rounds; a unary call settles no less than its estimate (earlier rounds are not visible).
 */

import { estimatePromptTokens } from '../react/budgets/estimate.js';
import type { Adaptation } from '../react/budgets/events.js';
import type { PlannedRequest } from './budget.js';
import {
  isGated,
  openScope,
  overlay,
  releaseAfter,
  TrackedCall,
  type TrackGeminiOptions,
  trackUnary,
} from './call.js';
import { observeStream } from './stream.js';

type Send = (params: unknown, ...rest: unknown[]) => Promise<unknown>;

interface ModelsLike {
  generateContent: Send;
  generateContentStream: Send;
  countTokens?: (params: unknown) => Promise<unknown>;
}

/** What `trackGemini` needs of a @google/genai `GoogleGenAI` client (checked by shape). */
export interface GoogleGenAILike {
  models: {
    /** `ai.models.generateContent`: tracked. */
    generateContent(...args: never[]): Promise<unknown>;
    /** `ai.models.generateContentStream`: tracked. */
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

const itself = (response: unknown) => response;

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null;

function modelOf(params: unknown): string {
  const model = (params as { model?: unknown } | undefined)?.model;
  return typeof model === 'string' ? model : '';
}

function trackModels(models: ModelsLike, options: TrackGeminiOptions): ModelsLike {
  const generateContent: Send = (params, ...rest) => {
    let sent = params;
    return trackUnary(options, modelOf(params), {
      send: () => models.generateContent(sent, ...rest),
      responseOf: itself,
      extra: () => (usesAfc(params) ? afcUnseen() : undefined),
      plan: () =>
        paramsPlan(models, params, (next) => {
          sent = next;
        }),
      atLeastEstimate: () => usesAfc(params),
    });
  };
  const generateContentStream: Send = async (params, ...rest) => {
    const opened = await openScope(options, modelOf(params));
    let call: TrackedCall;
    let source: AsyncIterable<unknown>;
    if (isGated(options, opened)) {
      let sent = params;
      call = await TrackedCall.admit(options, opened, () =>
        paramsPlan(models, params, (next) => {
          sent = next;
        }),
      );
      try {
        source = (await models.generateContentStream(sent, ...rest)) as AsyncIterable<unknown>;
      } catch (error) {
        return releaseAfter(call.gate, error);
      }
    } else {
      call = new TrackedCall(opened);
      source = (await models.generateContentStream(params, ...rest)) as AsyncIterable<unknown>;
    }
    // The adapted scope (the model actually used), shared by every AFC round, as is the gate.
    const { scope, gate } = call;
    let round = 1;
    let boundary = false;
    let answers: unknown;
    const afc = () => (round > 1 || boundary ? { afcRound: round } : {});
    return observeStream(source, {
      chunk(chunk) {
        if (isFunctionResponse(chunk)) {
          // AFC ran the tools; the next pull sends the next round's request.
          boundary = true;
          answers = (chunk as { candidates?: { content?: unknown }[] }).candidates?.[0]?.content;
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
        // A hard session budget holds the next round too (its prompt: this round's, plus).
        gate?.holdNextRound(scope, call.recorded, answers);
        call = new TrackedCall(scope, gate);
      },
      end: (how) => call.end({ stream: how, ...afc() }, how === 'failed', how === 'complete'),
    });
  };
  return overlay(models, (prop, value) => {
    if (prop === 'generateContent') return generateContent;
    if (prop === 'generateContentStream') return generateContentStream;
    return value;
  });
}

interface Params {
  model?: unknown;
  contents?: unknown;
  config?: { maxOutputTokens?: number; systemInstruction?: unknown; [key: string]: unknown };
  [key: string]: unknown;
}

/**
 * A `generateContent` request for budgets: contents and system instruction for the estimate,
 * `countTokens` on the same contents (the Gemini API takes no system instruction there: it is
 * added by the local estimate), and adaptation through the parameters.
 */
function paramsPlan(
  models: ModelsLike,
  params: unknown,
  apply: (next: unknown) => void,
): PlannedRequest {
  const p = (params ?? {}) as Params;
  const system = p.config?.systemInstruction;
  const countTokens = models.countTokens;
  return {
    prompt: [p.contents, system],
    countTokens:
      typeof countTokens === 'function'
        ? async () => {
            const counted = (await countTokens.call(models, {
              model: p.model,
              contents: p.contents,
            })) as { totalTokens?: unknown } | undefined;
            if (typeof counted?.totalTokens !== 'number') {
              throw new Error('countTokens returned no totalTokens');
            }
            return counted.totalTokens + estimatePromptTokens(system);
          }
        : undefined,
    maxOutputTokens: p.config?.maxOutputTokens,
    adapt(adapt) {
      const applied: Adaptation = {};
      const next: Params = { ...p };
      // Cached content belongs to the model it was made for: keep the model then.
      if (adapt.model !== undefined && p.config?.cachedContent === undefined) {
        next.model = adapt.model;
        applied.model = adapt.model;
      }
      if (adapt.maxOutputTokens !== undefined) {
        next.config = { ...p.config, maxOutputTokens: adapt.maxOutputTokens };
        applied.maxOutputTokens = adapt.maxOutputTokens;
      }
      apply(next);
      return applied;
    },
  };
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
