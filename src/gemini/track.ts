import { ConfigurationError, describe } from '../errors.js';
import type { TrackGeminiOptions } from './call.js';
import { type GoogleGenAILike, isGoogleGenAI, trackGoogleGenAI } from './genai.js';
import {
  type GenerativeModelLike,
  isGenerativeModel,
  trackGenerativeModel,
} from './generative-ai.js';

/** The object behind each tracked view, so tracking twice never counts twice. */
const originals = new WeakMap<object, object>();

/**
 * Tracks every Gemini request made through a @google/generative-ai `GenerativeModel` or a
 * @google/genai `GoogleGenAI` client, and returns an object of the same type: one line, the rest
 * of the code unchanged. Each request is recorded once in `options.tracker`, or in
 * `getTokenTracker()` at the time of the call (so `tracker.run(fn)` sessions apply), attributed
 * to the LangGraph agent, node and thread running it unless the options say otherwise (agent
 * `"unknown"` outside a graph).
 *
 * - Hard budget (`enforce: 'hard'`): before each request (each AFC round) the tracker reserves
 *   its estimate (`tracker.reserve`: prompt counted locally, output from `maxOutputTokens`, else
 *   the agent's running average); once the budget is used up, or when the estimate does not
 *   fit beside the spend and the requests in flight, the call rejects with
 *   `BudgetExceededError` and nothing is sent. The hold becomes the exact cost when the
 *   response or stream ends and is released when the request fails.
 * - Streams are recorded once, when they end, with the last usage that has counts (running
 *   totals; Vertex sends counts on the last chunk only). A stream failing midway records the
 *   usage seen so far, then the SDK's error reaches the caller unchanged. A consumer breaking
 *   early: @google/genai records the usage seen so far at the `break`; @google/generative-ai
 *   downloads the whole stream for its `response` anyway, so the full usage is recorded.
 * - Shared budgets and rate limits (`budgets`, `rateLimiter`, see `TrackGeminiOptions`): before
 *   each request, after the guard, the rate limiter is checked (prompt estimate + max output
 *   tokens) and the estimated cost reserved atomically; a refusal (`RateLimitExceededError`,
 *   `BudgetExceededError`) reaches the caller and nothing is sent. Adaptive budgets switch the
 *   request to a fallback model or lower its `maxOutputTokens`. The reservation is settled with
 *   the recorded exact cost when the response (or the stream) ends, or released when the
 *   request fails. Without them, requests take the same path as before, with no extra await.
 * - Tracking never breaks the caller: only errors you opted into (strict usage, strict pricing,
 *   a `fail-closed` budget store) propagate, after the response arrived; other failures are
 *   logged once.
 * - `countTokens`, embeddings and every other method pass through untracked.
 * - @google/genai automatic function calling: see `genai.ts` (unary AFC sees only the last round).
 *
 * `T` is the SDK's own class, constrained by shape only, so this compiles and runs with either
 * SDK installed alone (neither is imported at run time).
 *
 * @example
 * const model = trackGemini(
 *   new GoogleGenerativeAI(key).getGenerativeModel({ model: 'gemini-2.5-flash' }),
 * );
 * await model.generateContent('Hello'); // recorded in getTokenTracker()
 *
 * @example
 * const ai = trackGemini(new GoogleGenAI({ apiKey }), { agent: 'planner', tracker });
 * const chat = ai.chats.create({ model: 'gemini-2.5-flash' });
 * await chat.sendMessage({ message: 'Plan the week.' }); // one record per turn
 *
 * @example
 * const budgets = new BudgetManager({ store: createSqliteStore(), defaultDailyUserLimitUsd: 5 });
 * const ai = trackGemini(new GoogleGenAI({ apiKey }), { budgets, userId: 'alice' });
 * await ai.models.generateContent({ model, contents, config: { maxOutputTokens: 1024 } });
 * // throws BudgetExceededError, sending nothing, once alice's $5 for today is spent
 */
export function trackGemini<T extends GenerativeModelLike | GoogleGenAILike>(
  client: T,
  options: TrackGeminiOptions = {},
): T {
  checkOptions(options);
  const target = (originals.get(client) ?? client) as T;
  let tracked: object;
  if (isGenerativeModel(target)) tracked = trackGenerativeModel(target, { ...options });
  else if (isGoogleGenAI(target)) tracked = trackGoogleGenAI(target, { ...options });
  else {
    throw new ConfigurationError(
      'trackGemini: expected a GenerativeModel from @google/generative-ai ' +
        '(generateContent, generateContentStream, startChat, model) or a GoogleGenAI client ' +
        'from @google/genai (models.generateContent, models.generateContentStream)',
    );
  }
  originals.set(tracked, target);
  return tracked as T;
}

function checkOptions(options: TrackGeminiOptions): void {
  const { estimate, defaultMaxOutputTokens, budgets, rateLimiter } = options;
  if (estimate !== undefined && estimate !== 'local' && estimate !== 'countTokens') {
    throw new ConfigurationError(
      `trackGemini: estimate must be "local" or "countTokens", got ${describe(estimate)}`,
    );
  }
  if (
    defaultMaxOutputTokens !== undefined &&
    !(Number.isSafeInteger(defaultMaxOutputTokens) && defaultMaxOutputTokens > 0)
  ) {
    throw new ConfigurationError(
      `trackGemini: defaultMaxOutputTokens must be a positive integer, got ${describe(defaultMaxOutputTokens)}`,
    );
  }
  if (budgets !== undefined && typeof budgets?.reserve !== 'function') {
    throw new ConfigurationError('trackGemini: budgets must be a BudgetManager');
  }
  if (rateLimiter !== undefined && typeof rateLimiter?.check !== 'function') {
    throw new ConfigurationError('trackGemini: rateLimiter must be a RateLimiter');
  }
}
