/**
 * `tollgate/gemini`: exact token and cost tracking for both Google Gemini SDKs, in one line.
 *
 * @example
 * import { trackGemini } from 'tollgate/gemini';
 * const ai = trackGemini(new GoogleGenAI({ apiKey }));
 * await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hi' });
 * console.log(getTokenTracker().getCostBreakdownReport());
 */
export { DEFAULT_MAX_OUTPUT_TOKENS } from './budget.js';
export type { TrackGeminiOptions } from './call.js';
export type { GoogleGenAILike } from './genai.js';
export type { GenerativeModelLike } from './generative-ai.js';
export { trackGemini } from './track.js';
