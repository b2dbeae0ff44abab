/**
 * @google/generative-ai: a `GenerativeModel` and the `ChatSession`s it starts, recognised by
 * shape (the SDK is never imported at run time).
 */

import { openScope, overlay, TrackedCall, type TrackGeminiOptions, trackUnary } from './call.js';
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
  generateContent(...args: never[]): Promise<unknown>;
  generateContentStream(...args: never[]): Promise<unknown>;
  startChat(...args: never[]): unknown;
}

/** The same methods, callable with the caller's own arguments. */
interface Callable {
  model: string;
  generateContent: Send;
  generateContentStream: Send;
  startChat: (...args: unknown[]) => unknown;
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
 */
export function trackGenerativeModel<M extends GenerativeModelLike>(
  target: M,
  options: TrackGeminiOptions,
): M {
  const model = target as unknown as Callable;
  const generateContent: Send = (...args) =>
    trackUnary(options, model.model, () => model.generateContent(...args), responseOf);
  const generateContentStream: Send = (...args) =>
    trackStream(options, model.model, () => model.generateContentStream(...args));
  const startChat = (...args: unknown[]) => trackChatSession(model.startChat(...args), options);
  return overlay(target, (prop, value) => {
    if (prop === 'generateContent') return generateContent;
    if (prop === 'generateContentStream') return generateContentStream;
    if (prop === 'startChat') return startChat;
    return value;
  });
}

interface ChatSessionLike {
  model: string;
  sendMessage: Send;
  sendMessageStream: Send;
}

function trackChatSession(chat: unknown, options: TrackGeminiOptions): unknown {
  const session = chat as ChatSessionLike;
  if (typeof session?.sendMessage !== 'function') return chat;
  const sendMessage: Send = (...args) =>
    trackUnary(options, session.model, () => session.sendMessage(...args), responseOf);
  const sendMessageStream: Send = (...args) =>
    trackStream(options, session.model, () => session.sendMessageStream(...args));
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
): Promise<unknown> {
  const call = new TrackedCall(await openScope(options, model));
  const result = (await send()) as StreamResult;
  const { stream, settled } = readAhead(result.stream, {
    chunk: (chunk) => call.observe(chunk),
    end: (how) => call.finish({ stream: how }, how === 'failed'),
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
