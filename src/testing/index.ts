/**
 * `tollgate/testing`: a local Gemini stand-in for tests and offline examples.
 *
 * @example
 * import { startGeminiStandIn } from 'tollgate/testing';
 * const standIn = await startGeminiStandIn();
 * const ai = new GoogleGenAI({ apiKey: 'test', httpOptions: { baseUrl: standIn.baseUrl } });
 * await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hello' });
 * await standIn.close();
 */
export {
  type GeminiStandIn,
  type GeminiStandInOptions,
  startGeminiStandIn,
} from './gemini-stand-in.js';
export { defaultThoughtsTokens, THINKING_MODEL } from './generate.js';
export { loadRecordedResponse, type RecordedResponse, sseEvents } from './replay.js';
export { defaultReply } from './responder.js';
export {
  countPromptTokens,
  countTextTokens,
  MEDIA_PART_TOKENS,
  truncateToTokens,
} from './tokenizer.js';
export type {
  Content,
  FunctionCall,
  GenerateContentBody,
  GenerateContentResponse,
  GenerationConfig,
  ModalityTokenCount,
  Part,
  RecordedRequest,
  ReplaySource,
  StandInFailure,
  StandInReply,
  StandInRequest,
  Tool,
  UsageMetadata,
  WireModality,
} from './types.js';
